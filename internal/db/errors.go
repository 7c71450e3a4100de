package db

import (
	"errors"
	"fmt"

	"strata/internal/apperr"
)

// Error, Kind and their values are apperr's, re-exported for callers of db.
type (
	Error = apperr.Error
	Kind  = apperr.Kind
)

// Error kinds.
const (
	KindInternal  = apperr.Internal
	KindInvalid   = apperr.Invalid
	KindNotFound  = apperr.NotFound
	KindForbidden = apperr.Forbidden
)

var (
	invalidf  = apperr.Invalidf
	notFoundf = apperr.NotFoundf
	// KindOf returns the kind of err (KindInternal for foreign errors).
	KindOf = apperr.KindOf
)

// ErrClassNotFound is wrapped by errors about a missing class.
var ErrClassNotFound = errors.New("class not found")

// ErrShardNotLocal is wrapped by errors about a shard this node does not
// hold open (yet: the schema change that places it here may still be on
// its way).
var ErrShardNotLocal = errors.New("shard not held by this node")

// ErrObjectNotFound is wrapped by errors about a missing object.
var ErrObjectNotFound = errors.New("object not found")

func classNotFound(name string) error {
	return &Error{Kind: KindNotFound, Msg: fmt.Sprintf("class %q not found", name), Err: ErrClassNotFound}
}
