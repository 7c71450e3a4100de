// Package blob defines Store, the bucket-like object store that the backup
// engine writes backups to and reads them from, together with the key rules
// and error values every provider shares.
//
// The package owns the contract only: the interface, key validation, the
// sentinel errors and small decorators (Prefixed). Providers live in
// subpackages (mem, fs, and later s3, gcs, azure) and are all checked by the
// one acceptance suite in blobtest. This package knows nothing of backups:
// it must not name backup files or interpret their contents. Retries and
// throttling belong in decorators, not in providers.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// Store is a bucket-like object store.
//
// Keys are slash-separated relative paths ("a/b/c"); see ValidateKey for the
// exact rules. Every method rejects a bad key with an error wrapping
// ErrInvalidKey before doing any I/O. There are no directories: "a" and
// "a/b" are unrelated keys, and a key is only visible once an object was Put
// under it. A provider may be unable to hold both "a" and "a/b" at once (a
// filesystem cannot); Put then fails, so callers should not rely on it.
//
// Implementations are safe for concurrent use.
type Store interface {
	// Put stores the object all-or-nothing: readers see the whole new
	// object or the previous state, never a partial one. If r fails, ctx is
	// cancelled before the object is committed, or r yields a different
	// number of bytes than a non-negative size, nothing is stored and an
	// error is returned; a failure of r is wrapped so that errors.Is finds
	// it, as is ctx.Err(). size is the length if known, or -1.
	Put(ctx context.Context, key string, r io.Reader, size int64) error

	// Get streams an object. Errors wrap ErrNotFound when it is missing.
	// The caller must Close the stream. Once ctx is cancelled, reads from
	// the stream may fail with ctx's error.
	Get(ctx context.Context, key string) (io.ReadCloser, error)

	// GetRange streams length bytes starting at offset; length -1 means to
	// the end. The stream ends early at the end of the object if
	// offset+length exceeds its size, and is empty when offset equals the
	// size. offset beyond the size, a negative offset, or length < -1 is
	// an error wrapping ErrInvalidRange. Errors wrap ErrNotFound when the
	// object is missing.
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)

	// Stat returns the key, size and modification time of an object.
	// Errors wrap ErrNotFound when it is missing.
	Stat(ctx context.Context, key string) (Attrs, error)

	// List calls fn for every object whose key starts with prefix, in
	// lexical (byte-wise) key order. The prefix is a plain string prefix,
	// so "a/b" matches "a/b/c", "a/b.txt" and "a/bc/x"; "" matches
	// everything. See ValidatePrefix for the prefixes accepted. If fn
	// returns an error, List stops and returns that error unchanged.
	// Objects put or deleted while List runs may or may not be reported.
	List(ctx context.Context, prefix string, fn func(Attrs) error) error

	// ListDirs calls fn, in lexical order, once for each name n such that
	// some object's key starts with dir+n+"/": the "directories" right
	// under dir, which is "" or a valid key followed by "/" (see
	// ValidateDir). Object stores answer it with one delimiter listing, so
	// it never walks the objects below. If fn returns an error, ListDirs
	// stops and returns that error unchanged.
	ListDirs(ctx context.Context, dir string, fn func(name string) error) error

	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error

	// String describes the store for messages, e.g.
	// "filesystem /var/backups".
	String() string

	// Close releases what the store holds (its client's connections);
	// the store is not used after it. Calling it again does nothing.
	Close() error
}

// Attrs describes a stored object.
type Attrs struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Errors that Store methods wrap, to be tested with errors.Is.
var (
	// ErrNotFound means the object does not exist.
	ErrNotFound = errors.New("blob: object not found")
	// ErrPermission means the store refused the operation: access was
	// denied, or the key would leave the store (e.g. through a symlink).
	ErrPermission = errors.New("blob: permission denied")
	// ErrInvalidKey means a key or prefix breaks the rules of ValidateKey
	// or ValidatePrefix.
	ErrInvalidKey = errors.New("blob: invalid key")
	// ErrInvalidRange means a GetRange offset or length is out of bounds.
	ErrInvalidRange = errors.New("blob: invalid range")
)

// IsNotFound reports whether err wraps ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
