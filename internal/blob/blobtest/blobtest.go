// Package blobtest is the acceptance suite for blob.Store: every provider
// (mem, fs, and the cloud ones) runs Run and must pass it unchanged. The
// suite checks only the contract documented on blob.Store, so it must stay
// provider-neutral: no paths, no provider-specific errors, no timing
// assertions, and no key pairs a filesystem cannot hold at once (such as
// "a" and "a/b").
//
// Contract choices the suite pins down:
//   - GetRange with offset == size yields an empty stream; offset > size is
//     an error wrapping blob.ErrInvalidRange; a length running past the end
//     is cut at the end.
//   - Put with size >= 0 fails, storing nothing, if the reader yields a
//     different number of bytes.
//   - A failing reader's error and ctx's error are visible with errors.Is
//     in the error Put returns.
//   - List's fn error is returned unchanged, and fn may call the store
//     (e.g. Delete what it is given).
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"strata/internal/blob"
)

// Run runs the acceptance suite. newStore must return an empty store; it is
// called once per subtest, and may register cleanups on t.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"UnusualKeys", testUnusualKeys},
		{"Overwrite", testOverwrite},
		{"SizeMismatch", testSizeMismatch},
		{"FailingReader", testFailingReader},
		{"CancelDuringPut", testCancelDuringPut},
		{"GetRange", testGetRange},
		{"GetRangeEmptyObject", testGetRangeEmptyObject},
		{"Stat", testStat},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"List", testList},
		{"ListStops", testListStops},
		{"ListDeleteFromCallback", testListDeleteFromCallback},
		{"ListDirs", testListDirs},
		{"InvalidKeys", testInvalidKeys},
		{"InvalidPrefixes", testInvalidPrefixes},
		{"ConcurrentPuts", testConcurrentPuts},
		{"ConcurrentOverwrite", testConcurrentOverwrite},
		{"ConcurrentPutDelete", testConcurrentPutDelete},
		{"String", testString},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

const mib = 1 << 20

// data returns n pseudo-random bytes, the same for the same seed.
func data(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	_, _ = r.Read(b)
	return b
}

func put(t testing.TB, s blob.Store, key string, b []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(b), err)
	}
}

func readAll(t testing.TB, rc io.ReadCloser, what string) []byte {
	t.Helper()
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("%s: reading: %v", what, err)
	}
	return b
}

func get(t testing.TB, s blob.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return readAll(t, rc, "Get("+key+")")
}

// wantContent checks that key holds exactly want, via Get and Stat.
func wantContent(t testing.TB, s blob.Store, key string, want []byte) {
	t.Helper()
	if got := get(t, s, key); !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %d bytes, want %d identical bytes", key, len(got), len(want))
	}
	a, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	if a.Key != key || a.Size != int64(len(want)) || a.ModTime.IsZero() {
		t.Fatalf("Stat(%q) = %+v, want key %q, size %d and a modification time", key, a, key, len(want))
	}
}

// wantNotFound checks that Get, GetRange and Stat of key fail with
// blob.ErrNotFound.
func wantNotFound(t testing.TB, s blob.Store, key string) {
	t.Helper()
	ctx := t.Context()
	rc, err := s.Get(ctx, key)
	checkNotFound(t, "Get", key, rc, err)
	rc, err = s.GetRange(ctx, key, 0, 1)
	checkNotFound(t, "GetRange", key, rc, err)
	_, err = s.Stat(ctx, key)
	checkNotFound(t, "Stat", key, nil, err)
}

func checkNotFound(t testing.TB, op, key string, rc io.ReadCloser, err error) {
	t.Helper()
	if err == nil {
		rc.Close()
		t.Fatalf("%s(%q) succeeded, want an error wrapping ErrNotFound", op, key)
	}
	if !errors.Is(err, blob.ErrNotFound) || !blob.IsNotFound(err) {
		t.Fatalf("%s(%q) = %v, want an error wrapping ErrNotFound", op, key, err)
	}
}

func list(t testing.TB, s blob.Store, prefix string) []blob.Attrs {
	t.Helper()
	var out []blob.Attrs
	err := s.List(t.Context(), prefix, func(a blob.Attrs) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return out
}

func listKeys(t testing.TB, s blob.Store, prefix string) []string {
	t.Helper()
	var keys []string
	for _, a := range list(t, s, prefix) {
		keys = append(keys, a.Key)
	}
	return keys
}

func wantKeys(t testing.TB, s blob.Store, prefix string, want []string) {
	t.Helper()
	if got := listKeys(t, s, prefix); !slices.Equal(got, want) {
		t.Fatalf("List(%q) = %q, want %q", prefix, got, want)
	}
}

// failingReader yields data, then fails with err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// cancelingReader calls cancel after its first Read and keeps yielding data.
type cancelingReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.cancel()
	return n, err
}

// onlyReader hides every method but Read (e.g. io.WriterTo, Len), so that
// a provider cannot learn the size from the reader.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func testString(t *testing.T, s blob.Store) {
	if s.String() == "" {
		t.Fatal("String() is empty")
	}
}

// testClose: Close releases the store, and a second Close does nothing.
func testClose(t *testing.T, s blob.Store) {
	put(t, s, "k", []byte("v"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
