package graphql

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"strata/internal/schema"
)

// get runs Get.<Class> as planned and writes its results, one object at
// a time. A search error is returned before anything is written; an
// object that cannot be rendered is written as null and reported with its
// index in the path.
func (x *execution) get(out *bodyWriter, f *field, path []any) error {
	p := x.gets[f]
	if p.err != nil {
		return p.err
	}
	var results []Result
	if p.q.Limit > 0 {
		var err error
		if results, err = x.backend.Search(x.ctx, p.q); err != nil {
			return err
		}
		results = results[:min(len(results), p.q.Limit)]
	}
	out.raw("[")
	for i := range results {
		if i > 0 {
			out.raw(",")
		}
		obj, err := renderObject(f.def.class, f.children, &results[i])
		if err == nil {
			err = out.encode(obj)
		}
		if err != nil {
			x.errs = append(x.errs, newError(append(slices.Clone(path), i), err.Error(), f.pos))
			out.raw("null")
		}
	}
	out.raw("]")
	return nil
}

// getQuery turns the arguments and selection of Get.<Class> into a Query.
func (x *execution) getQuery(class *schema.Class, f *field) (Query, error) {
	args := x.args(f)
	q := Query{Class: class.Class}
	var err error

	limit := -1 // not set
	if v, ok := args["limit"]; ok {
		if limit, err = intArg("limit", v); err != nil {
			return q, err
		}
	}
	if v, ok := args["offset"]; ok {
		if q.Offset, err = intArg("offset", v); err != nil {
			return q, err
		}
		if q.Offset < 0 {
			return q, fmt.Errorf("invalid value for argument \"offset\": must not be negative, found %d", q.Offset)
		}
	}
	if v, ok := args["tenant"]; ok {
		if q.Tenant, err = stringArg("tenant", v); err != nil {
			return q, err
		}
	}
	if v, ok := args["after"]; ok {
		after, err := stringArg("after", v)
		if err != nil {
			return q, err
		}
		if err := validateCursor(args, q.Offset, after); err != nil {
			return q, err
		}
		if after != "" {
			id := uuid.MustParse(after) // validated above
			q.After = &id
		}
	}
	if v, ok := args["where"]; ok {
		if q.Where, err = whereArg(v); err != nil {
			return q, err
		}
	}
	for _, name := range []string{"bm25", "hybrid", "sort", "group", "groupBy", "autocut"} {
		if _, ok := args[name]; ok {
			return q, fmt.Errorf("the %s argument is not supported yet", name)
		}
	}
	if err := unsupported(f.children); err != nil {
		return q, err
	}
	nv, hasNearVector := args["nearVector"]
	no, hasNearObject := args["nearObject"]
	switch {
	case hasNearVector && hasNearObject:
		return q, errors.New("found more than one search operator: nearVector and nearObject cannot be combined")
	case hasNearVector:
		if err := nearVector(class, nv, &q); err != nil {
			return q, err
		}
	case hasNearObject:
		if err := nearObject(class, no, &q); err != nil {
			return q, err
		}
	}

	certainty, withVector := additionalWanted(f.children)
	q.WithVector = withVector
	if certainty {
		name := q.VectorName
		if q.Vector == nil && q.NearObject == nil {
			// No search: certainty will be null, but Weaviate still refuses it
			// on a non-cosine index. Skip when the vector is ambiguous.
			name, err = targetVector(class, nil)
		}
		if err == nil {
			if err := certaintyCompatible(class, name); err != nil {
				return q, err
			}
		}
	}

	// With a distance or certainty and no limit, Weaviate searches by
	// distance without a limit; Strata bounds that by maxResults.
	if limit < 0 && (q.Vector != nil || q.NearObject != nil) && q.MaxDistance != nil {
		q.Limit = max(x.limits.MaxResults-q.Offset, 0)
		return q, nil
	}
	q.Limit = limit
	if limit < 0 {
		q.Limit = x.limits.DefaultLimit
	}
	if q.Offset+q.Limit > x.limits.MaxResults {
		return q, errors.New("query maximum results exceeded")
	}
	return q, nil
}

// validateCursor applies Weaviate's rules for the cursor API (after).
func validateCursor(args map[string]any, offset int, after string) error {
	const prefix = "cursor api: invalid 'after' parameter: "
	for _, name := range []string{"nearVector", "nearObject", "bm25", "hybrid", "group", "groupBy"} {
		if _, ok := args[name]; ok {
			return errors.New(prefix + "other params cannot be set with after and limit parameters")
		}
	}
	var params []string
	if offset > 0 {
		params = append(params, "offset")
	}
	if _, ok := args["where"]; ok {
		params = append(params, "where")
	}
	if _, ok := args["sort"]; ok {
		params = append(params, "sort")
	}
	if len(params) > 0 {
		return errors.New(prefix + strings.Join(params, ",") + " cannot be set with after and limit parameters")
	}
	if after != "" {
		if _, err := uuid.Parse(after); err != nil {
			return fmt.Errorf("%safter parameter '%s' is not a valid uuid: %v", prefix, after, err)
		}
	}
	return nil
}

// additionalWanted reports whether _additional asks for certainty, and for
// vectors (vector or vectors).
func additionalWanted(fields []*field) (certainty, vectors bool) {
	for _, f := range fields {
		if f.name != "_additional" {
			continue
		}
		for _, c := range f.children {
			switch c.name {
			case "certainty":
				certainty = true
			case "vector", "vectors":
				vectors = true
			}
		}
	}
	return certainty, vectors
}
