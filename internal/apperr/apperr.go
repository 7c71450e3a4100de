// Package apperr classifies errors for the API layer: an error carries a
// user-facing message and a Kind, and the API maps kinds to HTTP statuses
// in one place. Lower layers (db, backup) create these errors; this package
// knows nothing of HTTP.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error.
type Kind int

// Error kinds.
const (
	Internal  Kind = iota // a server fault (5xx)
	Invalid               // bad input (422)
	NotFound              // the addressed thing does not exist (404)
	Forbidden             // not allowed (403)
)

// Error is an error with a user-facing message and a kind.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // optional cause
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Invalidf returns an Invalid error.
func Invalidf(format string, args ...any) error {
	return &Error{Kind: Invalid, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a NotFound error.
func NotFoundf(format string, args ...any) error {
	return &Error{Kind: NotFound, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err (Internal for errors of other types).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
