// Package mem is an in-memory blob.Store for unit tests. It keeps whole
// objects in memory and must not be used for real backups.
package mem

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

// Store is an in-memory blob.Store, safe for concurrent use. The zero value
// is not usable; call New.
type Store struct {
	mu      sync.RWMutex
	objects map[string]object
}

// object is immutable once stored: Put replaces it, never modifies it.
type object struct {
	data    []byte
	modTime time.Time
}

var _ blob.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{objects: make(map[string]object)}
}

// maxPrealloc caps the buffer Put allocates up front from a declared size.
const maxPrealloc = 64 << 20

// Put reads r completely, then stores the object, so a failure of r or a
// cancelled ctx leaves the previous state untouched.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: put %q: %w", key, err)
	}
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(min(size, maxPrealloc)))
	}
	if _, err := buf.ReadFrom(blobio.ContextReader(ctx, blobio.ExactSize(r, size))); err != nil {
		return fmt.Errorf("mem: put %q: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: put %q: %w", key, err)
	}
	obj := object{data: buf.Bytes(), modTime: time.Now()}
	s.mu.Lock()
	s.objects[key] = obj
	s.mu.Unlock()
	return nil
}

func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	obj, err := s.lookup(ctx, "get", key)
	if err != nil {
		return nil, err
	}
	n, err := blobio.RangeLen(offset, length, int64(len(obj.data)))
	if err != nil {
		return nil, fmt.Errorf("mem: get %q: %w", key, err)
	}
	r := bytes.NewReader(obj.data[offset : offset+n])
	return blobio.ContextReadCloser(ctx, io.NopCloser(r)), nil
}

func (s *Store) Stat(ctx context.Context, key string) (blob.Attrs, error) {
	obj, err := s.lookup(ctx, "stat", key)
	if err != nil {
		return blob.Attrs{}, err
	}
	return blob.Attrs{Key: key, Size: int64(len(obj.data)), ModTime: obj.modTime}, nil
}

func (s *Store) lookup(ctx context.Context, op, key string) (object, error) {
	if err := blob.ValidateKey(key); err != nil {
		return object{}, err
	}
	if err := ctx.Err(); err != nil {
		return object{}, fmt.Errorf("mem: %s %q: %w", op, key, err)
	}
	s.mu.RLock()
	obj, ok := s.objects[key]
	s.mu.RUnlock()
	if !ok {
		return object{}, fmt.Errorf("mem: %s %q: %w", op, key, blob.ErrNotFound)
	}
	return obj, nil
}

// List works on a snapshot taken when it starts, and calls fn without
// holding a lock, so fn may use the store.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Attrs) error) error {
	if err := blob.ValidatePrefix(prefix); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: list %q: %w", prefix, err)
	}
	var found []blob.Attrs
	s.mu.RLock()
	for k, obj := range s.objects {
		if strings.HasPrefix(k, prefix) {
			found = append(found, blob.Attrs{Key: k, Size: int64(len(obj.data)), ModTime: obj.modTime})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(found, func(a, b blob.Attrs) int { return strings.Compare(a.Key, b.Key) })
	for _, a := range found {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mem: list %q: %w", prefix, err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: delete %q: %w", key, err)
	}
	s.mu.Lock()
	delete(s.objects, key)
	s.mu.Unlock()
	return nil
}

func (s *Store) String() string { return "mem" }

// ListDirs implements blob.Store.
func (s *Store) ListDirs(ctx context.Context, dir string, fn func(string) error) error {
	if err := blob.ValidateDir(dir); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: list %q: %w", dir, err)
	}
	var names []string
	s.mu.RLock()
	for k := range s.objects {
		if name, ok := blob.DirOf(dir, k); ok {
			names = append(names, name)
		}
	}
	s.mu.RUnlock()
	return blob.EmitDirs(names, fn)
}

// Close implements blob.Store: a memory store holds nothing to release.
func (s *Store) Close() error { return nil }
