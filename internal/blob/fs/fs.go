// Package fs is the blob.Store on a local directory, used by the
// backup-filesystem backend.
//
// Key "a/b/c" is the file <root>/a/b/c. The package owns how objects are laid
// out on disk and how they are written durably (temp file, fsync, rename,
// fsync of the directory). It must never read or write outside root: every
// operation goes through an os.Root, and symbolic links anywhere below root
// are refused (blob.ErrPermission) rather than followed, even when they point
// back inside root. Files whose name starts with ".tmp-" are in-flight (or
// abandoned) writes; List ignores them and keys may not use such names.
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
	"strata/internal/fsutil"
)

// Modes for created directories and files, before the umask (as in
// Weaviate's backup-filesystem module and os.Create).
const (
	dirMode  = 0o777
	fileMode = 0o666
)

// Store is a blob.Store keeping each object as a file below a root directory.
// It is safe for concurrent use, also by several processes sharing root.
type Store struct {
	root string // absolute, cleaned
}

var _ blob.Store = (*Store)(nil)

// New returns a Store on the directory root, made absolute and created
// (with parents) if missing.
func New(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("filesystem blob store: empty root directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("filesystem blob store %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, dirMode); err != nil {
		return nil, fmt.Errorf("filesystem blob store: create root: %w", mapErr(err))
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("filesystem blob store: %w", mapErr(err))
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("filesystem blob store: %s is not a directory", abs)
	}
	return &Store{root: abs}, nil
}

// Root returns the absolute root directory.
func (s *Store) Root() string { return s.root }

func (s *Store) String() string { return "filesystem " + s.root }

// Put writes r to a temp file next to the object, syncs it and renames it
// into place, so readers and crashes see the old object or the new one.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	err := s.do(ctx, key, func(root *os.Root) error {
		return put(ctx, root, key, r, size)
	})
	return s.wrap("put", key, err)
}

func put(ctx context.Context, root *os.Root, key string, r io.Reader, size int64) (err error) {
	dir := parent(key)
	tmp, tmpName, err := createTemp(root, dir)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			root.Remove(tmpName)
		}
	}()

	if _, err := io.Copy(fsutil.NewPacedWriter(tmp), blobio.ContextReader(ctx, blobio.ExactSize(r, size))); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := tmp.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Refuse to replace a symlink or a directory. (Renaming over a symlink
	// would replace the link, not write through it, but we treat any
	// symlink below root alike.)
	switch fi, err := root.Lstat(key); {
	case errors.Is(err, iofs.ErrNotExist):
	case err != nil:
		return err
	case fi.Mode()&iofs.ModeSymlink != 0:
		return symlinkErr(key)
	case fi.IsDir():
		return fmt.Errorf("%q is a directory", key)
	}
	if err := root.Rename(tmpName, key); err != nil {
		return err
	}
	return syncDir(root, dir)
}

func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	var rc io.ReadCloser
	err := s.do(ctx, key, func(root *os.Root) error {
		if _, err := lstatObject(root, key); err != nil {
			return err
		}
		f, err := root.Open(key)
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err == nil && !fi.Mode().IsRegular() {
			err = blob.ErrNotFound // replaced by a directory since lstatObject
		}
		var n int64
		if err == nil {
			n, err = blobio.RangeLen(offset, length, fi.Size())
		}
		if err == nil && offset > 0 {
			_, err = f.Seek(offset, io.SeekStart)
		}
		if err != nil {
			f.Close()
			return err
		}
		rc = blobio.ContextReadCloser(ctx, blobio.LimitReadCloser(f, n))
		return nil
	})
	return rc, s.wrap("get", key, err)
}

func (s *Store) Stat(ctx context.Context, key string) (blob.Attrs, error) {
	var a blob.Attrs
	err := s.do(ctx, key, func(root *os.Root) error {
		fi, err := lstatObject(root, key)
		if err != nil {
			return err
		}
		a = blob.Attrs{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}
		return nil
	})
	return a, s.wrap("stat", key, err)
}

// Delete removes the object's file, then every directory on its path that
// became empty, up to (not including) root.
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.do(ctx, key, func(root *os.Root) error {
		_, err := lstatObject(root, key)
		if errors.Is(err, blob.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := root.Remove(key); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
		dir := parent(key)
		if err := syncDir(root, dir); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
		for ; dir != ""; dir = parent(dir) {
			if root.Remove(dir) != nil {
				break // not empty, or gone: either way we are done
			}
		}
		return nil
	})
	return s.wrap("delete", key, err)
}

// do validates key, checks ctx, and runs fn on a freshly opened root.
func (s *Store) do(ctx context.Context, key string, fn func(*os.Root) error) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	root, err := s.openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	return fn(root)
}

func (s *Store) openRoot() (*os.Root, error) {
	root, err := os.OpenRoot(s.root)
	if err != nil {
		// A missing root is a configuration problem, not a missing object.
		if errors.Is(err, iofs.ErrPermission) {
			return nil, fmt.Errorf("open root: %w: %w", blob.ErrPermission, err)
		}
		return nil, fmt.Errorf("open root: %w", err)
	}
	return root, nil
}

// wrap adds the store, operation and key to err, mapping os errors to the
// blob ones. Invalid keys are returned as they are.
func (s *Store) wrap(op, key string, err error) error {
	if err == nil || errors.Is(err, blob.ErrInvalidKey) {
		return err
	}
	return fmt.Errorf("%s: %s %q: %w", s, op, key, mapErr(err))
}

// mapErr maps os.ErrNotExist to blob.ErrNotFound and os.ErrPermission to
// blob.ErrPermission, keeping the original error in the chain for the
// latter.
func mapErr(err error) error {
	switch {
	case errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrPermission):
		return err
	case errors.Is(err, iofs.ErrNotExist):
		return blob.ErrNotFound
	case errors.Is(err, iofs.ErrPermission):
		return fmt.Errorf("%w: %w", blob.ErrPermission, err)
	}
	return err
}

// Close implements blob.Store: the store keeps no file open between calls.
func (s *Store) Close() error { return nil }
