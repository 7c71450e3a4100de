// Package retry is a blob.Store decorator that retries transient failures
// with exponential backoff and jitter. It owns the retry policy only: which
// errors are permanent (not found, permission, invalid key or range,
// cancellation) and how long to wait. Providers keep their SDK's own
// per-request retries; this layer retries whole operations.
package retry

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"time"

	"strata/internal/blob"
	"strata/internal/metrics"
)

// Policy says how often and how patiently to retry.
type Policy struct {
	Attempts int           // total attempts, including the first (default 5)
	Base     time.Duration // first backoff (default 100 ms)
	Max      time.Duration // backoff cap (default 5 s)
}

func (p Policy) withDefaults() Policy {
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.Base <= 0 {
		p.Base = 100 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 5 * time.Second
	}
	return p
}

// Store retries the operations of the store it wraps.
type Store struct {
	s blob.Store
	p Policy
}

var _ blob.Store = (*Store)(nil)

// Wrap returns s with retries.
func Wrap(s blob.Store, p Policy) *Store { return &Store{s: s, p: p.withDefaults()} }

// Permanent reports whether an error will not go away by retrying.
func Permanent(err error) bool {
	return errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrPermission) ||
		errors.Is(err, blob.ErrInvalidKey) || errors.Is(err, blob.ErrInvalidRange) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// do runs op (named name, for the retry count) until it succeeds, fails
// permanently, runs out of attempts or ctx ends. The wait before attempt n
// is a random duration in [0, min(Max, Base·2ⁿ)] ("full jitter").
func (s *Store) do(ctx context.Context, name string, op func() error) error {
	var err error
	for attempt := 0; attempt < s.p.Attempts; attempt++ {
		if attempt > 0 {
			metrics.BackendRetries.WithLabelValues(name).Inc()
			backoff := min(s.p.Max, s.p.Base<<min(attempt-1, 20))
			t := time.NewTimer(rand.N(backoff + 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return errors.Join(err, ctx.Err())
			case <-t.C:
			}
		}
		err = op()
		var st stop
		if errors.As(err, &st) {
			return st.err
		}
		if err == nil || Permanent(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// Put retries only when the reader can be rewound (an io.Seeker); a
// streamed upload is attempted once, relying on the provider's per-part
// retries, because its bytes cannot be read again.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	seeker, ok := r.(io.Seeker)
	if !ok {
		return s.s.Put(ctx, key, r, size)
	}
	start, err := seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		return s.s.Put(ctx, key, r, size)
	}
	first := true
	return s.do(ctx, "put", func() error {
		if !first {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return err
			}
		}
		first = false
		return s.s.Put(ctx, key, r, size)
	})
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	var rc io.ReadCloser
	err := s.do(ctx, "get", func() (err error) { rc, err = s.s.Get(ctx, key); return err })
	return rc, err
}

// GetRange implements blob.Store.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	var rc io.ReadCloser
	err := s.do(ctx, "get", func() (err error) { rc, err = s.s.GetRange(ctx, key, offset, length); return err })
	return rc, err
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Attrs, error) {
	var a blob.Attrs
	err := s.do(ctx, "stat", func() (err error) { a, err = s.s.Stat(ctx, key); return err })
	return a, err
}

// List implements blob.Store. A listing that fails midway is restarted
// only if fn has not been called yet, so fn never sees a key twice; fn's
// own errors are returned as they are.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Attrs) error) error {
	return listing(s, ctx, fn, func(emit func(blob.Attrs) error) error { return s.s.List(ctx, prefix, emit) })
}

// ListDirs retries like List.
func (s *Store) ListDirs(ctx context.Context, dir string, fn func(string) error) error {
	return listing(s, ctx, fn, func(emit func(string) error) error { return s.s.ListDirs(ctx, dir, emit) })
}

// listing runs a listing with retries, but none once fn was called (it
// would see entries again); fn's own error stops it unchanged.
func listing[T any](s *Store, ctx context.Context, fn func(T) error, list func(emit func(T) error) error) error {
	called := false
	return s.do(ctx, "list", func() error {
		err := list(func(v T) error {
			called = true
			if err := fn(v); err != nil {
				return stop{err}
			}
			return nil
		})
		var st stop
		if errors.As(err, &st) {
			return st
		}
		if err != nil && called {
			return stop{err}
		}
		return err
	})
}

// stop carries an error that must not be retried.
type stop struct{ err error }

func (s stop) Error() string { return s.err.Error() }
func (s stop) Unwrap() error { return s.err }

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.do(ctx, "delete", func() error { return s.s.Delete(ctx, key) })
}

// String implements blob.Store.
func (s *Store) String() string { return s.s.String() }

// Close closes the wrapped store.
func (s *Store) Close() error { return s.s.Close() }
