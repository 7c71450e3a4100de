// Package faulty is a blob.Store decorator for tests that injects faults:
// failing or slow operations and truncated reads, chosen per operation and
// key by a rule function. It never changes stored data by itself.
package faulty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"strata/internal/blob"
)

// Op names an operation.
type Op string

// Operations.
const (
	OpPut    Op = "put"
	OpGet    Op = "get"
	OpStat   Op = "stat"
	OpList   Op = "list"
	OpDelete Op = "delete"
)

// Fault says what happens to one call.
type Fault struct {
	Err error // fail the call with this error (Put: after FailAfter bytes were read)
	// FailAfter makes a Put fail after reading this many bytes of its stream.
	FailAfter int64
	// Truncate makes a Get stream end (without error) after this many bytes; 0 = off.
	Truncate int64
	// BreakAfter makes a Get stream fail with Err after this many bytes; 0 = off.
	BreakAfter int64
	// Delay waits before the call (honouring ctx).
	Delay time.Duration
}

// Rule decides the fault for a call; nil = no fault.
type Rule func(op Op, key string) *Fault

// Store injects faults into the store it wraps.
type Store struct {
	s    blob.Store
	rule Rule
}

var _ blob.Store = (*Store)(nil)

// Wrap returns s with faults chosen by rule.
func Wrap(s blob.Store, rule Rule) *Store { return &Store{s: s, rule: rule} }

// ErrInjected is the default injected error.
var ErrInjected = errors.New("injected fault")

func (s *Store) fault(ctx context.Context, op Op, key string) (*Fault, error) {
	f := s.rule(op, key)
	if f == nil {
		return nil, nil
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return f, ctx.Err()
		case <-t.C:
		}
	}
	if f.Err != nil && (op != OpPut || f.FailAfter == 0) && (op != OpGet || f.BreakAfter == 0) {
		return f, fmt.Errorf("%s %s: %w", op, key, f.Err)
	}
	return f, nil
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	f, err := s.fault(ctx, OpPut, key)
	if err != nil {
		return err
	}
	if f != nil && f.Err != nil && f.FailAfter > 0 {
		r = &failingReader{r: r, left: f.FailAfter, err: fmt.Errorf("put %s: %w", key, f.Err)}
	}
	return s.s.Put(ctx, key, r, size)
}

type failingReader struct {
	r    io.Reader
	left int64
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, f.err
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	f.left -= int64(n)
	return n, err
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	f, err := s.fault(ctx, OpGet, key)
	if err != nil {
		return nil, err
	}
	rc, err := s.s.Get(ctx, key)
	if err != nil || f == nil {
		return rc, err
	}
	switch {
	case f.BreakAfter > 0:
		return struct {
			io.Reader
			io.Closer
		}{&failingReader{r: rc, left: f.BreakAfter, err: fmt.Errorf("get %s: %w", key, f.Err)}, rc}, nil
	case f.Truncate > 0:
		return struct {
			io.Reader
			io.Closer
		}{io.LimitReader(rc, f.Truncate), rc}, nil
	}
	return rc, nil
}

// GetRange implements blob.Store (faults of OpGet apply).
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if _, err := s.fault(ctx, OpGet, key); err != nil {
		return nil, err
	}
	return s.s.GetRange(ctx, key, offset, length)
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Attrs, error) {
	if _, err := s.fault(ctx, OpStat, key); err != nil {
		return blob.Attrs{}, err
	}
	return s.s.Stat(ctx, key)
}

// List implements blob.Store.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Attrs) error) error {
	if _, err := s.fault(ctx, OpList, prefix); err != nil {
		return err
	}
	return s.s.List(ctx, prefix, fn)
}

// ListDirs implements blob.Store.
func (s *Store) ListDirs(ctx context.Context, dir string, fn func(string) error) error {
	if _, err := s.fault(ctx, OpList, dir); err != nil {
		return err
	}
	return s.s.ListDirs(ctx, dir, fn)
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.fault(ctx, OpDelete, key); err != nil {
		return err
	}
	return s.s.Delete(ctx, key)
}

// String implements blob.Store.
func (s *Store) String() string { return "faulty " + s.s.String() }

// Close closes the wrapped store.
func (s *Store) Close() error { return s.s.Close() }
