package graphql

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"strata/internal/filter"
	"strata/internal/schema"
)

// Request is the body of POST /v1/graphql.
type Request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
}

// Backend is what the executor needs from the database. Defined here,
// implemented by internal/db.
type Backend interface {
	// Class returns the class with exactly this name (GraphQL names are exact), or nil.
	Class(name string) *schema.Class
	// Search returns objects of one class: a vector search when q.Vector or
	// q.NearObject is set
	// (ascending distance, only results within q.MaxDistance when set), otherwise
	// objects in ascending UUID order (honouring After); only objects matching
	// q.Where when set. The error text is user-facing (e.g. tenant missing,
	// vector dimension mismatch, invalid filter); it is put in the GraphQL
	// errors array.
	Search(ctx context.Context, q Query) ([]Result, error)
	// Count returns the number of objects in the class (tenant for
	// multi-tenant classes) that match where (nil: all of them).
	Count(ctx context.Context, class, tenant string, where *filter.Clause) (int64, error)
}

// Query is one Get.<Class> request, validated and resolved against the class.
type Query struct {
	Class  string
	Tenant string
	// Vector is nearVector.vector; nil = no vector search (unless NearObject).
	Vector []float32
	// NearObject is nearObject's id: search with that object's vector.
	NearObject *uuid.UUID
	// VectorName is "" for the legacy unnamed vector. For classes with named
	// vectors it is nearVector's targetVectors entry, or the class's only
	// named vector when none was given.
	VectorName string
	// MaxDistance keeps results with distance <= *MaxDistance: nearVector's
	// distance, or its certainty converted (cosine only: 2*(1-certainty)).
	MaxDistance *float32
	// Limit is the number of results wanted after skipping Offset; always > 0.
	// Offset+Limit never exceeds the executor's maxResults.
	Limit  int
	Offset int
	// After is the cursor: return objects with a UUID greater than it. Only set
	// without Vector and with Offset 0.
	After *uuid.UUID
	// WithVector asks for Result.Vector / Result.Vectors to be filled
	// (_additional { vector } or _additional { vectors { … } } was selected).
	WithVector bool
	// Where restricts the results to objects matching the filter (nil: all).
	// It is parsed but not yet checked against the class.
	Where *filter.Clause
}

// Result is one object found by Search.
type Result struct {
	ID                 uuid.UUID
	Properties         json.RawMessage // a JSON object (may be empty/nil)
	Vector             []float32
	Vectors            map[string][]float32
	CreationTimeUnix   int64    // ms
	LastUpdateTimeUnix int64    // ms
	Distance           *float32 // set for vector searches
}

// Executor runs GraphQL requests against a Backend.
type Executor struct {
	backend Backend
	limits  Limits
}

// NewExecutor returns an executor bounded by limits.
func NewExecutor(b Backend, limits Limits) *Executor {
	return &Executor{backend: b, limits: limits}
}

// Execute runs the request and writes the response body to send with HTTP
// 200 ({"data":...} and/or {"errors":[...]}) to w, result object by result
// object: the response is never held in memory as a whole. The error is
// w's (nothing else fails); the body is then incomplete.
//
// Syntax and validation errors (unknown class or field, unknown argument,
// undefined variable, a limit exceeded...) yield only "errors", each with
// "path": null, and run no search. Execution errors null the class's entry
// under data and add an error whose path is e.g. ["Get","Article"]; an
// object that cannot be rendered is null in its list, with the path
// ["Get","Article",index].
func (e *Executor) Execute(ctx context.Context, req Request, w io.Writer) error {
	out := newBodyWriter(w)
	x, fields, errs := e.prepare(ctx, req)
	if len(errs) > 0 {
		out.errorsOnly(errs)
		return out.err
	}
	x.write(out, fields)
	return out.err
}

// prepare parses and validates the request and plans its Get fields,
// enforcing the limits. It returns the request errors when it must not run.
func (e *Executor) prepare(ctx context.Context, req Request) (*execution, []*field, []*Error) {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: req.Query}, e.limits.MaxTokens)
	if err != nil {
		return nil, nil, []*Error{e.parseError(err)}
	}
	op, opErr := selectOperation(doc, req.OperationName)
	if opErr != nil {
		return nil, nil, []*Error{opErr}
	}
	vars, errs := coerceVariables(op, req.Variables)
	errs = append(errs, undefinedVariables(doc, op)...)
	if len(errs) > 0 {
		return nil, nil, errs
	}
	if op.Operation != ast.Query {
		msg := fmt.Sprintf("Schema is not configured for %ss", op.Operation)
		return nil, nil, []*Error{newError(nil, msg, op.Position)}
	}

	v := &validator{doc: doc, vars: vars, limits: e.limits}
	fields := v.selection([]ast.SelectionSet{op.SelectionSet}, e.rootType(), 1)
	if v.overLimit != nil {
		return nil, nil, []*Error{v.overLimit}
	}
	if len(v.errs) > 0 {
		return nil, nil, v.errs
	}
	if n := countQueries(fields); n > e.limits.MaxQueries {
		return nil, nil, []*Error{{Message: tooManyQueries(n, e.limits.MaxQueries)}}
	}
	x := &execution{Executor: e, ctx: ctx, vars: vars, gets: map[*field]getPlan{}}
	if err := x.plan(fields); err != nil {
		return nil, nil, []*Error{err}
	}
	return x, fields, nil
}

// parseError converts a parser error; the token limit names its variable.
func (e *Executor) parseError(err error) *Error {
	out := syntaxError(err)
	if strings.HasPrefix(out.Message, "exceeded token limit") {
		out.Message = tooManyTokens(e.limits.MaxTokens)
	}
	return out
}

// countQueries counts the class fields under Get and Aggregate.
func countQueries(fields []*field) int {
	n := 0
	for _, f := range fields {
		if f.name != "Get" && f.name != "Aggregate" {
			continue
		}
		for _, c := range f.children {
			if c.name != "__typename" {
				n++
			}
		}
	}
	return n
}

// execution is the state of one request's execution phase.
type execution struct {
	*Executor
	ctx  context.Context
	vars map[string]any
	errs []*Error
	gets map[*field]getPlan // by Get class field
}

// getPlan is the Query of one Get class field, or why it cannot run.
type getPlan struct {
	q   Query
	err error
}

// plan builds the Query of every Get class field and checks that together
// they stay within MaxResultsPerRequest.
func (x *execution) plan(fields []*field) *Error {
	total := 0
	for _, root := range fields {
		if root.name != "Get" {
			continue
		}
		for _, f := range root.children {
			if f.name == "__typename" {
				continue
			}
			q, err := x.getQuery(f.def.class, f)
			x.gets[f] = getPlan{q: q, err: err}
			if err == nil && q.Limit > 0 {
				total += q.Offset + q.Limit
			}
		}
	}
	if total > x.limits.MaxResultsPerRequest {
		return &Error{Message: tooManyResults(total, x.limits.MaxResultsPerRequest)}
	}
	return nil
}

// write streams {"data":{…},"errors":[…]}. Keys are written in sorted
// order at every level, as encoding/json writes maps.
func (x *execution) write(out *bodyWriter, fields []*field) {
	out.raw(`{"data":{`)
	for i, f := range byKey(fields) {
		if i > 0 {
			out.raw(",")
		}
		out.key(f.key)
		switch f.name {
		case "__typename":
			out.value("WeaviateObj")
		case "Get":
			x.classes(out, f, x.get)
		case "Aggregate":
			x.classes(out, f, x.aggregate)
		}
	}
	out.raw("}")
	if len(x.errs) > 0 {
		out.raw(`,"errors":`)
		out.value(x.errs)
	}
	out.raw("}")
}

// classes writes each class field under Get or Aggregate. A failing class
// is null in the data and reported with its path; the others still run.
func (x *execution) classes(out *bodyWriter, root *field, run func(*bodyWriter, *field, []any) error) {
	out.raw("{")
	for i, f := range byKey(root.children) {
		if i > 0 {
			out.raw(",")
		}
		out.key(f.key)
		if f.name == "__typename" {
			out.value(root.def.obj.name)
			continue
		}
		path := []any{root.key, f.key}
		if err := run(out, f, path); err != nil {
			x.errs = append(x.errs, newError(path, err.Error(), f.pos))
			out.raw("null")
		}
	}
	out.raw("}")
}

// args resolves a field's arguments; arguments that are null or refer to an
// unset variable are left out.
func (x *execution) args(f *field) map[string]any {
	out := map[string]any{}
	for _, a := range f.args {
		if v, ok := resolveValue(a.Value, x.vars); ok && v != nil {
			out[a.Name] = v
		}
	}
	return out
}

// unsupported returns the error of the first selected field that is
// recognised but not implemented.
func unsupported(fields []*field) error {
	for _, f := range fields {
		if f.def.unsupported != "" {
			return fmt.Errorf("%s", f.def.unsupported)
		}
		if err := unsupported(f.children); err != nil {
			return err
		}
	}
	return nil
}
