package fs_test

import (
	"bytes"
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"strata/internal/blob"
	"strata/internal/blob/blobtest"
	"strata/internal/blob/fs"
)

func TestAcceptance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

func TestAcceptancePrefixed(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return blob.Prefixed(newStore(t), "backups/strata")
	})
}

func newStore(t *testing.T) *fs.Store {
	t.Helper()
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t *testing.T, s blob.Store, key, content string) {
	t.Helper()
	if err := s.Put(t.Context(), key, strings.NewReader(content), int64(len(content))); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func listKeys(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var keys []string
	err := s.List(t.Context(), prefix, func(a blob.Attrs) error {
		keys = append(keys, a.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return keys
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func wantFile(t *testing.T, path, content string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != content {
		t.Fatalf("%s = %q, %v; want %q", path, got, err, content)
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := fs.New("rel/backups")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "rel", "backups")
	if s.Root() != want || s.String() != "filesystem "+want {
		t.Fatalf("root %q, String %q; want absolute %q", s.Root(), s.String(), want)
	}
	if fi, err := os.Stat(want); err != nil || !fi.IsDir() {
		t.Fatalf("root not created: %v", err)
	}

	if _, err := fs.New(""); err == nil {
		t.Fatal("New(\"\") succeeded")
	}
	writeFile(t, filepath.Join(dir, "file"), "x")
	if _, err := fs.New(filepath.Join(dir, "file")); err == nil {
		t.Fatal("New on a regular file succeeded")
	}
}

func TestKeysMapToPaths(t *testing.T) {
	s := newStore(t)
	put(t, s, "bk-1/backup_config.json", "{}")
	put(t, s, "bk-1/node1/Article/chunk-1", "chunk")
	wantFile(t, filepath.Join(s.Root(), "bk-1", "backup_config.json"), "{}")
	wantFile(t, filepath.Join(s.Root(), "bk-1", "node1", "Article", "chunk-1"), "chunk")

	// Files put there by other means are objects too.
	writeFile(t, filepath.Join(s.Root(), "bk-1", "node1", "backup.json"), "manual")
	rc, err := s.Get(t.Context(), "bk-1/node1/backup.json")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil || buf.String() != "manual" {
		t.Fatalf("Get = %q, %v", buf.String(), err)
	}
	want := []string{"bk-1/backup_config.json", "bk-1/node1/Article/chunk-1", "bk-1/node1/backup.json"}
	if got := listKeys(t, s, ""); !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
}

// wantPermission checks that every method refuses key with ErrPermission.
func wantPermission(t *testing.T, s blob.Store, key string) {
	t.Helper()
	ctx := t.Context()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, blob.ErrPermission) {
			t.Errorf("%s(%q) = %v, want an error wrapping ErrPermission", op, key, err)
		}
	}
	rc, err := s.Get(ctx, key)
	if err == nil {
		rc.Close()
	}
	check("Get", err)
	rc, err = s.GetRange(ctx, key, 0, 1)
	if err == nil {
		rc.Close()
	}
	check("GetRange", err)
	_, err = s.Stat(ctx, key)
	check("Stat", err)
	check("Put", s.Put(ctx, key, strings.NewReader("evil"), 4))
	check("Delete", s.Delete(ctx, key))
}

func TestSymlinkedDirectoryOutsideRoot(t *testing.T) {
	s := newStore(t)
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret"), "secret")
	writeFile(t, filepath.Join(outside, "sub", "deep"), "deep")
	if err := os.Symlink(outside, filepath.Join(s.Root(), "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(s.Root(), "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(s.Root(), "a", "b")); err != nil {
		t.Fatal(err)
	}

	for _, key := range []string{"link/secret", "link/new", "link/sub/deep", "link/sub/new", "a/b/secret", "a/b/c/d"} {
		wantPermission(t, s, key)
	}
	wantFile(t, filepath.Join(outside, "secret"), "secret")
	wantFile(t, filepath.Join(outside, "sub", "deep"), "deep")
	for _, name := range []string{"new", "sub/new", "c"} {
		if _, err := os.Lstat(filepath.Join(outside, name)); !errors.Is(err, iofs.ErrNotExist) {
			t.Errorf("%s was created outside root (%v)", name, err)
		}
	}
	for _, prefix := range []string{"", "link", "link/", "link/sub/", "a/b/"} {
		if got := listKeys(t, s, prefix); len(got) != 0 {
			t.Errorf("List(%q) = %q, want nothing behind symlinks", prefix, got)
		}
	}
}

func TestSymlinkedFile(t *testing.T) {
	s := newStore(t)
	outside := filepath.Join(t.TempDir(), "secret")
	writeFile(t, outside, "secret")
	link := filepath.Join(s.Root(), "f")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}

	wantPermission(t, s, "f")
	wantFile(t, outside, "secret")
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&iofs.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced or removed: %v", err)
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Fatalf("List = %q, want the symlink skipped", got)
	}
}

func TestSymlinkInsideRoot(t *testing.T) {
	s := newStore(t)
	put(t, s, "real/x", "x")
	if err := os.Symlink("real", filepath.Join(s.Root(), "alias")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("x", filepath.Join(s.Root(), "real", "y")); err != nil {
		t.Fatal(err)
	}
	wantPermission(t, s, "alias/x")
	wantPermission(t, s, "real/y")
	if got := listKeys(t, s, ""); !slices.Equal(got, []string{"real/x"}) {
		t.Fatalf("List = %q, want only real/x", got)
	}
}

// tempFiles returns the temp files anywhere below root.
func tempFiles(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

type failAfter struct{ n int }

var errBoom = errors.New("boom")

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errBoom
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestNoTempFilesAfterFailures(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	put(t, s, "d/x", "x")
	put(t, s, "top", "top")

	if err := s.Put(ctx, "d/new", &failAfter{n: 100 << 10}, -1); !errors.Is(err, errBoom) {
		t.Fatalf("Put with failing reader = %v", err)
	}
	if err := s.Put(ctx, "d/new", strings.NewReader("short"), 10); err == nil {
		t.Fatal("Put with short reader succeeded")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Put(cctx, "d/new", strings.NewReader("x"), 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with cancelled ctx = %v", err)
	}
	// Provider-specific: a key cannot be both an object and a "directory".
	if err := s.Put(ctx, "d", strings.NewReader("x"), 1); err == nil {
		t.Fatal("Put over a directory succeeded")
	}
	if err := s.Put(ctx, "top/x", strings.NewReader("x"), 1); err == nil || errors.Is(err, blob.ErrInvalidKey) {
		t.Fatalf("Put beneath an object = %v, want an error", err)
	}
	if got := tempFiles(t, s.Root()); len(got) != 0 {
		t.Fatalf("temp files left behind: %q", got)
	}
	if got := listKeys(t, s, ""); !slices.Equal(got, []string{"d/x", "top"}) {
		t.Fatalf("List = %q", got)
	}
	wantFile(t, filepath.Join(s.Root(), "d", "x"), "x")
}

func TestTempFilesIgnoredAndReserved(t *testing.T) {
	s := newStore(t)
	writeFile(t, filepath.Join(s.Root(), ".tmp-abandoned"), "partial")
	writeFile(t, filepath.Join(s.Root(), "d", ".tmp-XYZ"), "partial")
	writeFile(t, filepath.Join(s.Root(), ".tmp-dir", "x"), "x")
	writeFile(t, filepath.Join(s.Root(), `back\slash`), "x") // no key has this name
	put(t, s, "d/real", "real")
	if got := listKeys(t, s, ""); !slices.Equal(got, []string{"d/real"}) {
		t.Fatalf("List = %q, want only d/real", got)
	}
	if got := listKeys(t, s, ".tmp-"); len(got) != 0 {
		t.Fatalf("List(.tmp-) = %q", got)
	}
	for _, key := range []string{".tmp-abandoned", "d/.tmp-XYZ", ".tmp-dir/x"} {
		if _, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey (reserved name)", key, err)
		}
	}
}

func TestDeleteRemovesEmptyDirectories(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	put(t, s, "a/b/c/d", "d")
	put(t, s, "a/x", "x")
	if err := s.Delete(ctx, "a/b/c/d"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(s.Root(), "a", "b")); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("empty directory a/b left behind (%v)", err)
	}
	wantFile(t, filepath.Join(s.Root(), "a", "x"), "x")
	if err := s.Delete(ctx, "a/x"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(s.Root())
	if err != nil || len(entries) != 0 {
		t.Fatalf("root after deleting everything: %v, %v; want it empty and present", entries, err)
	}
}

func TestPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file modes")
	}
	s := newStore(t)
	put(t, s, "locked/x", "x")
	dir := filepath.Join(s.Root(), "locked")
	if err := os.Chmod(dir, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if _, err := s.Stat(t.Context(), "locked/x"); !errors.Is(err, blob.ErrPermission) {
		t.Errorf("Stat in an unreadable directory = %v, want ErrPermission", err)
	}
	if err := s.Put(t.Context(), "locked/y", strings.NewReader("y"), 1); !errors.Is(err, blob.ErrPermission) {
		t.Errorf("Put in an unwritable directory = %v, want ErrPermission", err)
	}
}
