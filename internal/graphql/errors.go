package graphql

import (
	"errors"
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error is one entry of the response's "errors" array. Path is null for
// errors found before execution (syntax, validation) and names the response
// keys (e.g. ["Get","Article"]) for execution errors.
type Error struct {
	Locations []Location `json:"locations,omitempty"`
	Message   string     `json:"message"`
	Path      []any      `json:"path"`
}

// Location is a 1-based position in the query text.
type Location struct {
	Column int `json:"column"`
	Line   int `json:"line"`
}

// newError builds an error located at the given AST positions (nil ones are skipped).
func newError(path []any, msg string, positions ...*ast.Position) *Error {
	e := &Error{Message: msg, Path: path}
	for _, p := range positions {
		if p != nil {
			e.Locations = append(e.Locations, Location{Column: p.Column, Line: p.Line})
		}
	}
	return e
}

// validationError is an error found before execution: no data is returned.
func validationError(pos *ast.Position, format string, args ...any) *Error {
	return newError(nil, fmt.Sprintf(format, args...), pos)
}

// syntaxError converts a gqlparser error, keeping its message and location.
func syntaxError(err error) *Error {
	var gerr *gqlerror.Error
	if !errors.As(err, &gerr) {
		return &Error{Message: err.Error()}
	}
	e := &Error{Message: gerr.Message}
	for _, l := range gerr.Locations {
		e.Locations = append(e.Locations, Location{Column: l.Column, Line: l.Line})
	}
	return e
}

// response assembles the body: "data" only when execution ran, "errors" only
// when there are some.
func response(data map[string]any, errs []*Error) map[string]any {
	out := map[string]any{}
	if data != nil {
		out["data"] = data
	}
	if len(errs) > 0 {
		out["errors"] = errs
	}
	return out
}
