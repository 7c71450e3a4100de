package graphql

import (
	"context"
	"encoding/json"
	"fmt"

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
	backend      Backend
	defaultLimit int // QUERY_DEFAULTS_LIMIT_GRAPHQL
	maxResults   int // QUERY_MAXIMUM_RESULTS
}

// NewExecutor returns an executor. defaultLimit is the Get limit when the
// query gives none (QUERY_DEFAULTS_LIMIT_GRAPHQL, 100); maxResults bounds
// offset+limit (QUERY_MAXIMUM_RESULTS, 10000).
func NewExecutor(b Backend, defaultLimit, maxResults int) *Executor {
	return &Executor{backend: b, defaultLimit: defaultLimit, maxResults: maxResults}
}

// Execute runs the request and returns the response body to send with HTTP 200
// ({"data":...} and/or {"errors":[...]}), built to marshal with encoding/json.
// Syntax and validation errors (unknown class or field, unknown argument,
// undefined variable...) yield only "errors", each with "path": null.
// Execution errors null the class's entry under data and add an error whose
// path is e.g. ["Get","Article"].
func (e *Executor) Execute(ctx context.Context, req Request) map[string]any {
	doc, err := parser.ParseQuery(&ast.Source{Input: req.Query})
	if err != nil {
		return response(nil, []*Error{syntaxError(err)})
	}
	op, opErr := selectOperation(doc, req.OperationName)
	if opErr != nil {
		return response(nil, []*Error{opErr})
	}
	vars, errs := coerceVariables(op, req.Variables)
	errs = append(errs, undefinedVariables(doc, op)...)
	if len(errs) > 0 {
		return response(nil, errs)
	}
	if op.Operation != ast.Query {
		msg := fmt.Sprintf("Schema is not configured for %ss", op.Operation)
		return response(nil, []*Error{newError(nil, msg, op.Position)})
	}

	v := &validator{doc: doc, vars: vars}
	fields := v.selection([]ast.SelectionSet{op.SelectionSet}, e.rootType())
	if len(v.errs) > 0 {
		return response(nil, v.errs)
	}

	x := &execution{Executor: e, ctx: ctx, vars: vars}
	data := map[string]any{}
	for _, f := range fields {
		switch f.name {
		case "__typename":
			data[f.key] = "WeaviateObj"
		case "Get":
			data[f.key] = x.classes(f, x.get)
		case "Aggregate":
			data[f.key] = x.classes(f, x.aggregate)
		}
	}
	return response(data, x.errs)
}

// execution is the state of one request's execution phase.
type execution struct {
	*Executor
	ctx  context.Context
	vars map[string]any
	errs []*Error
}

// classes runs each class field under Get or Aggregate. A failing class is
// null in the data and reported with its path; the others still run.
func (x *execution) classes(root *field, run func(*field) (any, error)) map[string]any {
	out := map[string]any{}
	for _, f := range root.children {
		if f.name == "__typename" {
			out[f.key] = root.def.obj.name
			continue
		}
		v, err := run(f)
		if err != nil {
			x.errs = append(x.errs, newError([]any{root.key, f.key}, err.Error(), f.pos))
			v = nil
		}
		out[f.key] = v
	}
	return out
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
