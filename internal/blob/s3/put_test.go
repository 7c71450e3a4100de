package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"strata/internal/blob"
)

const mib = 1 << 20

// small makes a store use the smallest parts S3 allows.
func small(c *Config) { c.PartSize = MinPartSize }

// stream returns n pseudo-random bytes, generated while read, as a reader
// with no method but Read.
func stream(n int64, seed byte) io.Reader {
	return struct{ io.Reader }{io.LimitReader(rand.NewChaCha8([32]byte{seed}), n)}
}

func streamBytes(n int64, seed byte) []byte {
	b, _ := io.ReadAll(stream(n, seed))
	return b
}

// hook calls fn once, after the reader has yielded at least after bytes
// (or at EOF if after is beyond the end), and keeps reading.
type hook struct {
	r     io.Reader
	after int64
	fn    func() error // its error, if any, is returned by that Read
	got   int64
	done  bool
}

func (h *hook) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.got += int64(n)
	if !h.done && (h.got >= h.after || err == io.EOF) {
		h.done = true
		if ferr := h.fn(); ferr != nil {
			return n, ferr
		}
	}
	return n, err
}

// wantNothingStored checks that key does not exist and no multipart upload
// is pending.
func wantNothingStored(t *testing.T, s *Store, key string) {
	t.Helper()
	if _, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat(%q) after a failed Put = %v, want ErrNotFound", key, err)
	}
	if ups := pendingUploads(t, t.Context(), s); len(ups) != 0 {
		t.Fatalf("%d multipart uploads left pending, for %q", len(ups), aws.ToString(ups[0].Key))
	}
}

func TestMultipartRoundTrip(t *testing.T) {
	s := newTestStore(t, small)
	ctx := t.Context()
	const size = 40*mib + 123
	want := streamBytes(size, 1)
	for _, declared := range []int64{-1, size} {
		if err := s.Put(ctx, "mp/k", stream(size, 1), declared); err != nil {
			t.Fatalf("Put of %d bytes, declared %d: %v", size, declared, err)
		}
		rc, err := s.Get(ctx, "mp/k")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Get after a multipart Put (declared %d) = %d bytes, %v; want %d identical bytes", declared, len(got), err, size)
		}
		head, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String("mp/k")})
		if err != nil {
			t.Fatal(err)
		}
		if etag := aws.ToString(head.ETag); !strings.HasSuffix(strings.Trim(etag, `"`), "-9") {
			t.Errorf("ETag %s, want the one of a multipart upload of 9 parts", etag)
		}
	}
	// A range across the boundary of parts 1 and 2.
	rc, err := s.GetRange(ctx, "mp/k", 5*mib-10, 20)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, want[5*mib-10:5*mib+10]) {
		t.Fatalf("GetRange across parts = %x, %v", got, err)
	}
	// Exactly one part: a single PutObject, whatever the declared size.
	for _, declared := range []int64{-1, 5 * mib} {
		if err := s.Put(ctx, "mp/one", stream(5*mib, 2), declared); err != nil {
			t.Fatal(err)
		}
		if a, err := s.Stat(ctx, "mp/one"); err != nil || a.Size != 5*mib {
			t.Fatalf("Stat = %+v, %v", a, err)
		}
	}
	if ups := pendingUploads(t, ctx, s); len(ups) != 0 {
		t.Fatalf("%d multipart uploads left pending", len(ups))
	}
}

// TestPutsShareBudget runs multipart Puts side by side on a one-slot
// blob.Budget, and on a larger one: all complete with their data.
func TestPutsShareBudget(t *testing.T) {
	s := newTestStore(t, small)
	const size = 3*MinPartSize + 7
	for _, slots := range []int{1, 4} {
		ctx := blob.WithBudget(t.Context(), blob.NewBudget(slots))
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				if err := s.Put(ctx, fmt.Sprintf("budget/%d", i), stream(size, byte(i)), -1); err != nil {
					t.Errorf("Put %d on a budget of %d: %v", i, slots, err)
				}
			})
		}
		wg.Wait()
		for i := range 3 {
			rc, err := s.Get(t.Context(), fmt.Sprintf("budget/%d", i))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, streamBytes(size, byte(i))) {
				t.Fatalf("object %d put on a budget of %d: %d bytes, %v; want %d identical bytes", i, slots, len(got), err, size)
			}
		}
	}
}

func TestMultipartFailingReader(t *testing.T) {
	s := newTestStore(t, small)
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name       string
		failAfter  int64
		size, decl int64
	}{
		{"unknownSize", 12 * mib, 40 * mib, -1},
		{"knownSize", 12 * mib, 40 * mib, 40 * mib},
		{"atPartBoundary", 10 * mib, 40 * mib, -1},
		{"atEOF", 40 * mib, 12 * mib, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &hook{r: stream(tc.size, 3), after: tc.failAfter, fn: func() error { return errBoom }}
			err := s.Put(t.Context(), "fail/k", r, tc.decl)
			if !errors.Is(err, errBoom) {
				t.Fatalf("Put with a reader failing after %d bytes = %v, want an error wrapping the reader's", tc.failAfter, err)
			}
			wantNothingStored(t, s, "fail/k")
		})
	}
	// A reader yielding less or more than declared.
	for _, n := range []int64{12 * mib, 11*mib - 1} {
		if err := s.Put(t.Context(), "fail/k", stream(n, 3), 11*mib); err == nil {
			t.Fatalf("Put of %d bytes declared as %d succeeded", n, 11*mib)
		}
		wantNothingStored(t, s, "fail/k")
	}
}

func TestMultipartCancel(t *testing.T) {
	s := newTestStore(t, small)
	for _, tc := range []struct {
		name        string
		cancelAfter int64
	}{
		{"firstPart", 1 * mib},
		{"atPartBoundary", 5 * mib},
		{"midUpload", 12 * mib},
		{"afterLastByte", 40 * mib}, // cancelled when the reader returns EOF: must not commit
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := &hook{r: stream(20*mib, 4), after: tc.cancelAfter, fn: func() error { cancel(); return nil }}
			err := s.Put(ctx, "cancel/k", r, -1)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put cancelled after %d bytes = %v, want an error wrapping context.Canceled", tc.cancelAfter, err)
			}
			wantNothingStored(t, s, "cancel/k")
		})
	}
	t.Run("whileSending", func(t *testing.T) {
		// Cancel from outside while parts are in flight.
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		started := make(chan struct{})
		r := &hook{r: stream(40*mib, 5), after: 11 * mib, fn: func() error { close(started); return nil }}
		go func() {
			<-started
			time.Sleep(5 * time.Millisecond)
			cancel()
		}()
		err := s.Put(ctx, "cancel/k", r, -1)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put cancelled while sending = %v, want an error wrapping context.Canceled", err)
		}
		wantNothingStored(t, s, "cancel/k")
	})
}

// TestMemoryBounded reports how much a streaming 64 MiB Put allocates and
// the peak of the heap meanwhile (about PartSize × Concurrency is expected).
// It asserts only that the object is not buffered whole.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	s := newTestStore(t, small)
	const size = 64 * mib
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	err := s.Put(t.Context(), "mem/k", stream(size, 6), -1)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	growth := int64(peak) - int64(before.HeapInuse)
	t.Logf("Put of %d MiB in parts of %d MiB × %d: allocated %.1f MiB in total, heap peak +%.1f MiB",
		size/mib, s.partSize/mib, s.concurrency, float64(alloc)/mib, float64(growth)/mib)
	if growth >= size || alloc >= size {
		t.Errorf("heap grew by %d bytes and %d were allocated during a Put of %d: the object seems to be buffered whole", growth, alloc, size)
	}
}
