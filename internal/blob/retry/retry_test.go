package retry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"time"

	"strata/internal/blob"
	"strata/internal/blob/blobtest"
	"strata/internal/blob/mem"
	"strata/internal/metrics"
)

// flaky fails the first n calls of every operation with a transient error.
type flaky struct {
	blob.Store
	n     int
	calls map[string]int
}

var errTransient = errors.New("503 slow down")

func (f *flaky) fail(op string) error {
	f.calls[op]++
	if f.calls[op] <= f.n {
		return errTransient
	}
	return nil
}

func (f *flaky) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := f.fail("put"); err != nil {
		io.CopyN(io.Discard, r, 3) // consume part of the stream, as a failed upload would
		return err
	}
	return f.Store.Put(ctx, key, r, size)
}

func (f *flaky) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := f.fail("get"); err != nil {
		return nil, err
	}
	return f.Store.Get(ctx, key)
}

func fast() Policy { return Policy{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond} }

func TestContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return Wrap(mem.New(), fast()) })
}

func TestRetriesTransientErrors(t *testing.T) {
	ctx := context.Background()
	f := &flaky{Store: mem.New(), n: 2, calls: map[string]int{}}
	s := Wrap(f, fast())
	puts := testutil.ToFloat64(metrics.BackendRetries.WithLabelValues("put"))
	if err := s.Put(ctx, "k", bytes.NewReader([]byte("hello")), 5); err != nil {
		t.Fatalf("put: %v", err)
	}
	rc, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello" || f.calls["put"] != 3 || f.calls["get"] != 3 {
		t.Fatalf("got %q after %v calls", b, f.calls)
	}
	if retried := testutil.ToFloat64(metrics.BackendRetries.WithLabelValues("put")) - puts; retried != 2 {
		t.Fatalf("strata_backup_backend_retries_total{op=put} grew by %v, want 2", retried)
	}
}

func TestGivesUpAndKeepsPermanentErrors(t *testing.T) {
	ctx := context.Background()
	f := &flaky{Store: mem.New(), n: 100, calls: map[string]int{}}
	s := Wrap(f, fast())
	if _, err := s.Get(ctx, "k"); !errors.Is(err, errTransient) || f.calls["get"] != 4 {
		t.Fatalf("get: %v after %d calls", err, f.calls["get"])
	}
	// A stream that cannot be rewound is attempted once.
	if err := s.Put(ctx, "k", strings.NewReader("x"), 1); err == nil {
		t.Fatal("put succeeded")
	}
	if err := s.Put(ctx, "k", io.MultiReader(strings.NewReader("x")), 1); !errors.Is(err, errTransient) || f.calls["put"] != 5 {
		t.Fatalf("streamed put: %v after %d calls", err, f.calls["put"])
	}
	m := Wrap(mem.New(), fast())
	if _, err := m.Get(ctx, "missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("not found: %v", err)
	}
}

func TestStopsWhenContextEnds(t *testing.T) {
	f := &flaky{Store: mem.New(), n: 100, calls: map[string]int{}}
	s := Wrap(f, Policy{Attempts: 100, Base: time.Second, Max: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Get(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 900*time.Millisecond {
		t.Fatal("retry did not stop when the context ended")
	}
}
