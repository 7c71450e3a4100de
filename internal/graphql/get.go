package graphql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"strata/internal/schema"
)

var errWhere = errors.New("where filters are not supported yet")

// get runs Get.<Class>: it builds the Query, searches and renders the results.
func (x *execution) get(f *field) (any, error) {
	class := f.def.class
	q, err := x.getQuery(class, f)
	if err != nil {
		return nil, err
	}
	out := []any{}
	if q.Limit <= 0 {
		return out, nil
	}
	results, err := x.backend.Search(x.ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range results {
		obj, err := renderObject(class, f.children, &results[i])
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
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
	if _, ok := args["where"]; ok {
		return q, errWhere
	}
	for _, name := range []string{"nearObject", "bm25", "hybrid", "sort", "group", "groupBy", "autocut"} {
		if _, ok := args[name]; ok {
			return q, fmt.Errorf("the %s argument is not supported yet", name)
		}
	}
	if err := unsupported(f.children); err != nil {
		return q, err
	}
	if v, ok := args["nearVector"]; ok {
		if err := nearVector(class, v, &q); err != nil {
			return q, err
		}
	}

	certainty, withVector := additionalWanted(f.children)
	q.WithVector = withVector
	if certainty {
		name := q.VectorName
		if q.Vector == nil {
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
	if limit < 0 && q.Vector != nil && q.MaxDistance != nil {
		q.Limit = max(x.maxResults-q.Offset, 0)
		return q, nil
	}
	q.Limit = limit
	if limit < 0 {
		q.Limit = x.defaultLimit
	}
	if q.Offset+q.Limit > x.maxResults {
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

// nearVector fills the vector search fields of q from the nearVector argument.
func nearVector(class *schema.Class, v any, q *Query) error {
	in, ok := v.(map[string]any)
	if !ok {
		return badValue("nearVector", "an input object", v)
	}
	m := map[string]any{}
	for k, val := range in {
		if val != nil {
			m[k] = val
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch k {
		case "vector", "distance", "certainty", "targetVectors":
		case "targets", "vectorPerTarget", "vectors":
			return fmt.Errorf("nearVector: %s is not supported yet", k)
		default:
			return fmt.Errorf("unknown field %q in argument \"nearVector\"", k)
		}
	}

	raw, ok := m["vector"]
	if !ok {
		return errors.New("nearVector: field \"vector\" is required")
	}
	vec, err := vectorArg("nearVector.vector", raw)
	if err != nil {
		return err
	}
	if len(vec) == 0 {
		return errors.New("nearVector: vector must not be empty")
	}
	var targets []string
	if t, ok := m["targetVectors"]; ok {
		if targets, err = stringListArg("nearVector.targetVectors", t); err != nil {
			return err
		}
	}
	name, err := targetVector(class, targets)
	if err != nil {
		return err
	}

	d, hasDistance := m["distance"]
	c, hasCertainty := m["certainty"]
	switch {
	case hasDistance && hasCertainty:
		return errors.New("cannot provide distance and certainty")
	case hasDistance:
		dist, err := floatArg("nearVector.distance", d)
		if err != nil {
			return err
		}
		maxDist := float32(dist)
		q.MaxDistance = &maxDist
	case hasCertainty:
		cert, err := floatArg("nearVector.certainty", c)
		if err != nil {
			return err
		}
		if err := certaintyCompatible(class, name); err != nil {
			return err
		}
		maxDist := float32(2 * (1 - cert))
		q.MaxDistance = &maxDist
	}
	q.Vector, q.VectorName = vec, name
	return nil
}

// targetVector picks the vector to search: the one named (at most one), the
// only named vector of the class, or the legacy unnamed vector ("").
func targetVector(class *schema.Class, targets []string) (string, error) {
	if len(targets) > 1 {
		return "", errors.New("multiple target vectors are not supported yet")
	}
	if len(targets) == 1 {
		if _, ok := class.VectorConfig[targets[0]]; !ok {
			return "", fmt.Errorf("class %s does not have named vector %v configured. Available named vectors %v",
				class.Class, targets[0], vectorNames(class))
		}
		return targets[0], nil
	}
	switch len(class.VectorConfig) {
	case 0:
		return "", nil
	case 1:
		return vectorNames(class)[0], nil
	default:
		return "", fmt.Errorf("class %s has multiple vectors, but no target vectors were provided", class.Class)
	}
}

func vectorNames(class *schema.Class) []string {
	names := make([]string, 0, len(class.VectorConfig))
	for n := range class.VectorConfig {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// certaintyCompatible rejects certainty on a vector index that is not cosine.
func certaintyCompatible(class *schema.Class, vectorName string) error {
	if d := class.Distance(vectorName); d != schema.DistanceCosine {
		return fmt.Errorf("can't compute and return certainty when vector index is configured with %s distance", d)
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

// renderObject shapes one result according to the selection.
func renderObject(class *schema.Class, fields []*field, r *Result) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	var props map[string]any
	decoded := false
	for _, f := range fields {
		switch f.name {
		case "__typename":
			out[f.key] = class.Class
		case "_additional":
			out[f.key] = renderAdditional(f, r)
		default:
			if !decoded {
				var err error
				if props, err = decodeProperties(r.Properties); err != nil {
					return nil, fmt.Errorf("object %s: decode properties: %w", r.ID, err)
				}
				decoded = true
			}
			out[f.key] = project(props[f.name], f)
		}
	}
	return out, nil
}

// decodeProperties decodes stored properties, keeping numbers as json.Number
// so integers stay integers.
func decodeProperties(raw json.RawMessage) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var props map[string]any
	if err := dec.Decode(&props); err != nil {
		return nil, err
	}
	return props, nil
}

// project applies a field's sub-selection to a stored value: objects keep the
// selected keys, lists are projected element by element, leaves pass through.
func project(v any, f *field) any {
	if f.def.obj == nil || v == nil {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(f.children))
		for _, c := range f.children {
			if c.name == "__typename" {
				out[c.key] = f.def.obj.name
				continue
			}
			out[c.key] = project(x[c.name], c)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = project(e, f)
		}
		return out
	default:
		return nil
	}
}

// renderAdditional renders _additional { … } for one result.
func renderAdditional(f *field, r *Result) map[string]any {
	out := make(map[string]any, len(f.children))
	for _, c := range f.children {
		switch c.name {
		case "__typename":
			out[c.key] = f.def.obj.name
		case "id":
			out[c.key] = r.ID.String()
		case "distance":
			if r.Distance != nil {
				out[c.key] = *r.Distance // float32: printed at float32 precision
			} else {
				out[c.key] = nil
			}
		case "certainty":
			if r.Distance != nil {
				// From the float32 distance, in float64, as Weaviate does.
				out[c.key] = 1 - float64(*r.Distance)/2
			} else {
				out[c.key] = nil
			}
		case "vector":
			out[c.key] = vectorValue(r.Vector)
		case "vectors":
			vectors := make(map[string]any, len(c.children))
			for _, n := range c.children {
				if n.name == "__typename" {
					vectors[n.key] = c.def.obj.name
					continue
				}
				vectors[n.key] = vectorValue(r.Vectors[n.name])
			}
			out[c.key] = vectors
		case "creationTimeUnix":
			out[c.key] = fmt.Sprint(r.CreationTimeUnix)
		case "lastUpdateTimeUnix":
			out[c.key] = fmt.Sprint(r.LastUpdateTimeUnix)
		default: // score, explainScore: only set by keyword searches
			out[c.key] = nil
		}
	}
	return out
}

func vectorValue(v []float32) any {
	if v == nil {
		return nil
	}
	return v
}
