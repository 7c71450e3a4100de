package azure_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"strata/internal/blob"
	"strata/internal/blob/azure"
	"strata/internal/blob/blobtest"
)

const mib = 1 << 20

// connString returns the emulator's connection string, skipping the test
// if there is none (failing it on CI, where the emulator must run).
func connString(t *testing.T) string {
	t.Helper()
	cs := os.Getenv("AZURE_STORAGE_CONNECTION_STRING")
	if cs == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("AZURE_STORAGE_CONNECTION_STRING is not set, but CI=true: the Azure emulator must run")
		}
		t.Skip("Azure emulator not running: run ./scripts/test.sh, which starts it")
	}
	return cs
}

// newStore returns a store on a fresh container, deleted after the test.
func newStore(t *testing.T, tune func(*azure.Config)) (*azure.Store, azure.Config) {
	t.Helper()
	cfg := azure.Config{ConnectionString: connString(t), Container: uniqueContainer(t)}
	if tune != nil {
		tune(&cfg)
	}
	s, err := azure.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateContainer(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateContainer(t.Context()); err != nil {
		t.Fatalf("CreateContainer again: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := sdkClient(t, cfg).DeleteContainer(ctx, cfg.Container, nil); err != nil {
			t.Errorf("delete container %s: %v", cfg.Container, err)
		}
	})
	return s, cfg
}

func uniqueContainer(t *testing.T) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "strata-test-" + hex.EncodeToString(b)
}

// sdkClient is a client beside the store, to look behind its back.
func sdkClient(t *testing.T, cfg azure.Config) *azblob.Client {
	t.Helper()
	c, err := azblob.NewClientFromConnectionString(cfg.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAcceptance(t *testing.T) {
	connString(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _ := newStore(t, nil)
		return s
	})
}

func TestAcceptancePrefixed(t *testing.T) {
	connString(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _ := newStore(t, nil)
		return blob.Prefixed(s, "backups/strata")
	})
}

// TestAcceptanceSmallBlocks runs the suite with 256 KiB blocks, so that
// its multi-megabyte objects are staged and committed in blocks rather than
// sent in one request.
//
// ConcurrentOverwrite is skipped: with objects larger than a block, a
// commit discards the blocks that concurrent Puts of the same key staged,
// and those Puts fail (see Store.Put).
func TestAcceptanceSmallBlocks(t *testing.T) {
	connString(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		if strings.HasSuffix(t.Name(), "/ConcurrentOverwrite") {
			t.Skip("concurrent multi-block Puts of one key conflict by design of block blobs")
		}
		s, _ := newStore(t, func(c *azure.Config) { c.BlockSize, c.Concurrency = 256<<10, 3 })
		return s
	})
}

func data(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func wantContent(t *testing.T, s blob.Store, key string, want []byte) {
	t.Helper()
	rc, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatalf("Get(%q): reading: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %d bytes, want %d identical bytes", key, len(got), len(want))
	}
}

func wantNotFound(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if _, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Stat(%q) = %v, want ErrNotFound", key, err)
	}
}

// onlyReader hides everything but Read, so that the size stays unknown.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestLargeObjectInBlocks(t *testing.T) {
	s, cfg := newStore(t, func(c *azure.Config) { c.BlockSize = 4 * mib })
	want := data(40*mib + 123)
	if err := s.Put(t.Context(), "big/obj", onlyReader{bytes.NewReader(want)}, -1); err != nil {
		t.Fatal(err)
	}
	wantContent(t, s, "big/obj", want)

	bl, err := sdkClient(t, cfg).ServiceClient().NewContainerClient(cfg.Container).
		NewBlockBlobClient("big/obj").GetBlockList(t.Context(), blockblob.BlockListTypeAll, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(bl.CommittedBlocks); n != 11 {
		t.Fatalf("object has %d committed blocks, want 11 of at most 4 MiB", n)
	}
	for i, b := range bl.CommittedBlocks {
		if *b.Size > 4*mib || (i < 10 && *b.Size != 4*mib) {
			t.Fatalf("block %d has %d bytes", i, *b.Size)
		}
	}

	rc, err := s.GetRange(t.Context(), "big/obj", 10*mib-5, 2*mib)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, want[10*mib-5:12*mib-5]) {
		t.Fatalf("GetRange across blocks: %d bytes, %v", len(got), err)
	}
}

// failAfter yields n bytes, then fails with err, or, if cancel is set,
// calls it and keeps yielding bytes: Put must notice by itself.
type failAfter struct {
	n      int
	err    error
	cancel context.CancelFunc
	read   int
}

func (f *failAfter) Read(p []byte) (int, error) {
	left := f.n - f.read
	if left <= 0 {
		if f.cancel == nil {
			return 0, f.err
		}
		f.cancel()
		left = len(p)
	}
	m := min(len(p), left)
	f.read += m
	return m, nil
}

func TestFailureAfterStagedBlocks(t *testing.T) {
	s, cfg := newStore(t, func(c *azure.Config) { c.BlockSize = 4 * mib })
	old := data(1000)
	if err := s.Put(t.Context(), "k/old", bytes.NewReader(old), int64(len(old))); err != nil {
		t.Fatal(err)
	}
	errBoom := errors.New("boom")
	for _, key := range []string{"k/old", "k/new"} {
		for _, size := range []int64{20 * mib, -1} {
			err := s.Put(t.Context(), key, &failAfter{n: 12 * mib, err: errBoom}, size)
			if !errors.Is(err, errBoom) {
				t.Fatalf("Put(%q, size %d) failing after 12 MiB = %v, want the reader's error", key, size, err)
			}

			ctx, cancel := context.WithCancel(t.Context())
			err = s.Put(ctx, key, &failAfter{n: 12 * mib, cancel: cancel}, size)
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put(%q, size %d) cancelled after 12 MiB = %v, want context.Canceled", key, size, err)
			}
		}
	}
	wantContent(t, s, "k/old", old)
	wantNotFound(t, s, "k/new")

	var keys []string
	if err := s.List(t.Context(), "", func(a blob.Attrs) error { keys = append(keys, a.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "k/old" {
		t.Fatalf("List = %q, want only k/old", keys)
	}

	// Blocks were staged under k/new, but never committed.
	bl, err := sdkClient(t, cfg).ServiceClient().NewContainerClient(cfg.Container).
		NewBlockBlobClient("k/new").GetBlockList(t.Context(), blockblob.BlockListTypeAll, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(bl.CommittedBlocks) != 0 || len(bl.UncommittedBlocks) == 0 {
		t.Fatalf("k/new has %d committed and %d uncommitted blocks, want only uncommitted ones",
			len(bl.CommittedBlocks), len(bl.UncommittedBlocks))
	}
}

func TestWrongAccountKey(t *testing.T) {
	_, cfg := newStore(t, nil)
	s, err := azure.New(t.Context(), azure.Config{Container: cfg.Container, ConnectionString: withKey(t, cfg.ConnectionString)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, blob.ErrPermission) {
			t.Errorf("%s with a wrong key = %v, want an error wrapping ErrPermission", op, err)
		}
	}
	check("Put", s.Put(ctx, "k", strings.NewReader("x"), 1))
	_, err = s.Get(ctx, "k")
	check("Get", err)
	_, err = s.GetRange(ctx, "k", 1, 1)
	check("GetRange", err)
	_, err = s.Stat(ctx, "k")
	check("Stat", err)
	check("List", s.List(ctx, "", func(blob.Attrs) error { return nil }))
	check("Delete", s.Delete(ctx, "k"))
	check("CreateContainer", s.CreateContainer(ctx))
}

// withKey replaces the AccountKey of a connection string by a random one.
func withKey(t *testing.T, cs string) string {
	t.Helper()
	re := regexp.MustCompile(`AccountKey=[^;]*`)
	if !re.MatchString(cs) {
		t.Skip("connection string has no AccountKey")
	}
	return re.ReplaceAllString(cs, "AccountKey="+base64.StdEncoding.EncodeToString(data(64)))
}

func TestMissingContainer(t *testing.T) {
	s, err := azure.New(t.Context(), azure.Config{ConnectionString: connString(t), Container: uniqueContainer(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := s.Get(ctx, "k"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete = %v, want nil", err)
	}
	if err := s.Put(ctx, "k", strings.NewReader("x"), 1); err == nil {
		t.Fatal("Put into a missing container succeeded")
	}
	if err := s.List(ctx, "", func(blob.Attrs) error { return nil }); err == nil {
		t.Fatal("List of a missing container succeeded")
	}
}

func TestServiceURL(t *testing.T) {
	cs := connString(t)
	s, err := azure.New(t.Context(), azure.Config{ConnectionString: cs, Container: "c"})
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`BlobEndpoint=([^;]*)`).FindStringSubmatch(cs)
	if m == nil {
		t.Skip("connection string has no BlobEndpoint")
	}
	if want := strings.TrimSuffix(m[1], "/") + "/"; s.ServiceURL() != want {
		t.Fatalf("ServiceURL() = %q, want %q", s.ServiceURL(), want)
	}
}

// TestNew needs no emulator: New does no I/O.
func TestNew(t *testing.T) {
	ctx := t.Context()
	s, err := azure.New(ctx, azure.Config{Container: "backups", AccountName: "acct"})
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "azure://backups" || s.ServiceURL() != "https://acct.blob.core.windows.net/" {
		t.Fatalf("String() = %q, ServiceURL() = %q", s.String(), s.ServiceURL())
	}
	key := base64.StdEncoding.EncodeToString([]byte("secret"))
	if _, err := azure.New(ctx, azure.Config{Container: "c", AccountName: "acct", AccountKey: key}); err != nil {
		t.Fatalf("New with an account key: %v", err)
	}

	sas := "BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=2020-08-04&sig=SECRET"
	s, err = azure.New(ctx, azure.Config{Container: "c", ConnectionString: sas})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ServiceURL(); got != "https://acct.blob.core.windows.net/" {
		t.Fatalf("ServiceURL() with a SAS = %q, want it without the signature", got)
	}

	for _, tc := range []struct {
		cfg  azure.Config
		want []string
	}{
		{azure.Config{AccountName: "acct"}, []string{"container must not be empty"}},
		{azure.Config{Container: "c"}, []string{"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT"}},
		{azure.Config{Container: "c", ConnectionString: "nonsense"}, []string{"AZURE_STORAGE_CONNECTION_STRING"}},
		{azure.Config{Container: "c", AccountName: "acct", AccountKey: "not base64!"}, []string{"AZURE_STORAGE_KEY"}},
		{azure.Config{Container: "c", AccountName: "acct", BlockSize: -1}, []string{"block size"}},
		{azure.Config{Container: "c", AccountName: "acct", BlockSize: 5000 * mib}, []string{"block size"}},
		{azure.Config{Container: "c", AccountName: "acct", Concurrency: -1}, []string{"concurrency"}},
	} {
		_, err := azure.New(ctx, tc.cfg)
		if err == nil {
			t.Errorf("New(%+v) succeeded", tc.cfg)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("New(%+v) = %q, want it to mention %q", tc.cfg, err, w)
			}
		}
	}
}

// TestListOrder checks that List reports keys in byte order although the
// service sorts them by UTF-16 code units, which puts "x/😀" (a surrogate
// pair) before "x/！" (U+FF01).
func TestListOrder(t *testing.T) {
	s, _ := newStore(t, nil)
	keys := []string{"x/a", "x/~", "x/é", "x/\uFF01", "x/\uFF01/b", "x/\U0001F600", "x/\U0001F600\uFF01", "x/\U0001F600\U0001F600", "y"}
	for _, k := range keys {
		if err := s.Put(t.Context(), k, strings.NewReader(k), int64(len(k))); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	if err := s.List(t.Context(), "", func(a blob.Attrs) error { got = append(got, a.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(slices.Values(keys)); !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
}
