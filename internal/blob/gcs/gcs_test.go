package gcs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/storage"

	"strata/internal/blob"
	"strata/internal/blob/blobtest"
	"strata/internal/blob/gcs"
)

const mib = 1 << 20

func TestAcceptance(t *testing.T) {
	needEmulator(t)
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t, 0) })
}

func TestAcceptancePrefixed(t *testing.T) {
	needEmulator(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return blob.Prefixed(newStore(t, 0), "backups/strata")
	})
}

// needEmulator skips the test unless STORAGE_EMULATOR_HOST points at a
// running fake-gcs-server; under CI=true a missing emulator is a failure.
func needEmulator(t *testing.T) {
	t.Helper()
	if os.Getenv("STORAGE_EMULATOR_HOST") != "" {
		return
	}
	const msg = "GCS emulator not running: run ./scripts/test.sh, which starts it"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (STORAGE_EMULATOR_HOST is unset and CI=true)")
	}
	t.Skip(msg)
}

// uniqueBucket returns a fresh valid bucket name.
func uniqueBucket(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "strata-test-" + hex.EncodeToString(b)
}

// newStore returns a store on a new, empty bucket of the emulator, whose
// objects are deleted when the test ends.
func newStore(t *testing.T, chunkSize int) *gcs.Store {
	t.Helper()
	needEmulator(t)
	s, err := gcs.New(t.Context(), gcs.Config{Bucket: uniqueBucket(t), ProjectID: "strata-test", ChunkSize: chunkSize})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background() // t.Context() is already cancelled here
		err := s.List(ctx, "", func(a blob.Attrs) error { return s.Delete(ctx, a.Key) })
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return s
}

func data(n int, seed byte) []byte {
	b := make([]byte, n)
	_, _ = mrand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func get(t *testing.T, s blob.Store, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := s.GetRange(t.Context(), key, offset, length)
	if err != nil {
		t.Fatalf("GetRange(%q, %d, %d): %v", key, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	return b
}

// wantNothing checks that key does not exist and that List reports only
// the keys in want.
func wantNothing(t *testing.T, s blob.Store, key string, want ...string) {
	t.Helper()
	if _, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat(%q) after a failed Put = %v, want ErrNotFound", key, err)
	}
	var keys []string
	err := s.List(t.Context(), "", func(a blob.Attrs) error {
		keys = append(keys, a.Key)
		return nil
	})
	if err != nil || !slices.Equal(keys, want) {
		t.Fatalf("List = %q, %v; want %q", keys, err, want)
	}
}

// onlyReader hides everything but Read, so that the size stays unknown.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestLargeUnknownSize(t *testing.T) {
	s := newStore(t, 8*mib)
	b := data(40*mib+123, 1)
	if err := s.Put(t.Context(), "big", onlyReader{bytes.NewReader(b)}, -1); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "big", 0, -1); !bytes.Equal(got, b) {
		t.Fatalf("Get = %d bytes, want %d identical bytes", len(got), len(b))
	}
	// A range spanning the first chunk boundary.
	if got := get(t, s, "big", 8*mib-10, 20); !bytes.Equal(got, b[8*mib-10:8*mib+10]) {
		t.Fatalf("GetRange across chunks = %x", got)
	}
	a, err := s.Stat(t.Context(), "big")
	if err != nil || a.Size != int64(len(b)) {
		t.Fatalf("Stat = %+v, %v; want size %d", a, err, len(b))
	}
}

var errBoom = errors.New("boom")

// failAfter yields n bytes, then fails with errBoom.
type failAfter struct{ r io.Reader }

func (f failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errBoom
	}
	return n, err
}

func TestFailingReaderMidUpload(t *testing.T) {
	s := newStore(t, 8*mib)
	old := data(1000, 2)
	if err := s.Put(t.Context(), "old", bytes.NewReader(old), int64(len(old))); err != nil {
		t.Fatal(err)
	}
	// 12 MiB: one chunk uploaded, then a failure mid-chunk; 16 MiB: two
	// whole chunks uploaded and the input fails exactly at a boundary.
	for _, n := range []int{12 * mib, 16 * mib} {
		for _, key := range []string{"new", "old"} {
			for _, size := range []int64{-1, 40 * mib} {
				err := s.Put(t.Context(), key, failAfter{bytes.NewReader(data(n, 3))}, size)
				if !errors.Is(err, errBoom) {
					t.Fatalf("Put(%q, size %d) failing after %d bytes = %v, want errBoom", key, size, n, err)
				}
			}
		}
	}
	wantNothing(t, s, "new", "old")
	if got := get(t, s, "old", 0, -1); !bytes.Equal(got, old) {
		t.Fatalf("old object changed to %d bytes", len(got))
	}
}

// cancelAfter calls cancel once it has yielded n bytes, and keeps yielding.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestCancelMidUpload(t *testing.T) {
	s := newStore(t, 8*mib)
	old := data(1000, 2)
	if err := s.Put(t.Context(), "old", bytes.NewReader(old), int64(len(old))); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"new", "old"} {
		for _, size := range []int64{-1, 40 * mib} {
			ctx, cancel := context.WithCancel(t.Context())
			r := &cancelAfter{r: bytes.NewReader(data(40*mib, 4)), n: 12 * mib, cancel: cancel}
			err := s.Put(ctx, key, onlyReader{r}, size)
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put(%q, size %d) cancelled after 12 MiB = %v, want context.Canceled", key, size, err)
			}
		}
	}
	wantNothing(t, s, "new", "old")
	if got := get(t, s, "old", 0, -1); !bytes.Equal(got, old) {
		t.Fatalf("old object changed to %d bytes", len(got))
	}
}

func TestFolderPlaceholdersSkipped(t *testing.T) {
	s := newStore(t, 0)
	ctx := t.Context()
	raw, err := storage.NewClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	bucket := strings.TrimPrefix(s.String(), "gs://")
	for _, name := range []string{"dir/", "dir/sub/"} {
		w := raw.Bucket(bucket).Object(name).NewWriter(ctx)
		if err := w.Close(); err != nil {
			t.Fatalf("creating placeholder %q: %v", name, err)
		}
	}
	if err := s.Put(ctx, "dir/x", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	var keys []string
	err = s.List(ctx, "dir", func(a blob.Attrs) error {
		keys = append(keys, a.Key)
		return nil
	})
	if err != nil || !slices.Equal(keys, []string{"dir/x"}) {
		t.Fatalf("List = %q, %v; want only dir/x", keys, err)
	}
	for _, name := range []string{"dir/", "dir/sub/"} {
		if err := raw.Bucket(bucket).Object(name).Delete(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMissingBucket(t *testing.T) {
	needEmulator(t)
	s, err := gcs.New(t.Context(), gcs.Config{Bucket: uniqueBucket(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if _, err := s.Stat(ctx, "k"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat in a missing bucket = %v, want ErrNotFound", err)
	}
	if rc, err := s.Get(ctx, "k"); !errors.Is(err, blob.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Get in a missing bucket = %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, "k", strings.NewReader("x"), 1); err == nil {
		t.Error("Put in a missing bucket succeeded")
	}
	if err := s.List(ctx, "", func(blob.Attrs) error { return nil }); err == nil {
		t.Error("List of a missing bucket succeeded")
	}
}

func TestCreateBucketTwice(t *testing.T) {
	s := newStore(t, 0)
	if err := s.CreateBucket(t.Context()); err != nil {
		t.Fatalf("CreateBucket of an existing bucket = %v, want nil", err)
	}
}

func TestNew(t *testing.T) {
	if _, err := gcs.New(t.Context(), gcs.Config{}); err == nil || err.Error() != "bucket must not be empty" {
		t.Fatalf("New without a bucket = %v, want \"bucket must not be empty\"", err)
	}
	if _, err := gcs.New(t.Context(), gcs.Config{Bucket: "b", ChunkSize: -1}); err == nil {
		t.Fatal("New with a negative chunk size succeeded")
	}
	s, err := gcs.New(t.Context(), gcs.Config{Bucket: "my-bucket"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.String(); got != "gs://my-bucket" {
		t.Fatalf("String() = %q, want gs://my-bucket", got)
	}
}
