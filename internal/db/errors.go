package db

import (
	"errors"
	"fmt"
)

// Kind classifies a database error for the API layer, which maps kinds to
// HTTP statuses in one place.
type Kind int

// Error kinds.
const (
	KindInternal Kind = iota // a server fault (5xx)
	KindInvalid              // bad input (422)
	KindNotFound             // the addressed class, tenant or object does not exist (404)
	KindForbidden
)

// Error is a database error with a user-facing message and a kind.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // optional cause
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

func invalidf(format string, args ...any) error {
	return &Error{Kind: KindInvalid, Msg: fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) error {
	return &Error{Kind: KindNotFound, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err (KindInternal for foreign errors).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrClassNotFound is wrapped by errors about a missing class.
var ErrClassNotFound = errors.New("class not found")

// ErrObjectNotFound is wrapped by errors about a missing object.
var ErrObjectNotFound = errors.New("object not found")

func classNotFound(name string) error {
	return &Error{Kind: KindNotFound, Msg: fmt.Sprintf("class %q not found", name), Err: ErrClassNotFound}
}
