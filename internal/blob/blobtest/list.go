package blobtest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"strata/internal/blob"
)

// listKeysFixture are keys whose lexical order differs from a naive
// directory walk: '.' and '-' sort before '/', '0' after it.
var listKeysFixture = []string{
	"a.x",
	"a/b.txt",
	"a/b/c",
	"a/b/d/e",
	"a/b-c/f",
	"a/b0",
	"a/bc/x",
	"a-b",
	"a0",
	"ab",
	"b/c",
	"z",
}

func putFixture(t *testing.T, s blob.Store) {
	for _, k := range listKeysFixture {
		put(t, s, k, []byte(k)) // size = len(key)
	}
}

func testList(t *testing.T, s blob.Store) {
	putFixture(t, s)
	all := slices.Sorted(slices.Values(listKeysFixture))
	for _, prefix := range []string{
		"", "a", "a/", "a/b", "a/b/", "a/bc", "a/b/d/e", "a/b/d/e/", "a/b/c/",
		"a/b/d", "a.", "a-", "b/c", "z", "zz", "nope", "nope/", "nope/deeper/",
		".", "a/.", "a/..",
	} {
		var want []string
		for _, k := range all {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		got := list(t, s, prefix)
		var keys []string
		for _, a := range got {
			keys = append(keys, a.Key)
			if a.Size != int64(len(a.Key)) || a.ModTime.IsZero() {
				t.Fatalf("List(%q) reported %+v, want size %d and a modification time", prefix, a, len(a.Key))
			}
		}
		if !slices.Equal(keys, want) {
			t.Fatalf("List(%q) = %q, want %q", prefix, keys, want)
		}
	}
}

func testListStops(t *testing.T, s blob.Store) {
	putFixture(t, s)
	errStop := errors.New("stop")
	calls := 0
	err := s.List(t.Context(), "", func(blob.Attrs) error {
		calls++
		if calls == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 3 {
		t.Fatalf("List with fn failing on the 3rd call = %v after %d calls, want fn's error after 3", err, calls)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = s.List(ctx, "", func(blob.Attrs) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("List with a cancelled context = %v, want an error wrapping context.Canceled", err)
	}
}

func testListDeleteFromCallback(t *testing.T, s blob.Store) {
	putFixture(t, s)
	var deleted []string
	err := s.List(t.Context(), "a/", func(a blob.Attrs) error {
		deleted = append(deleted, a.Key)
		return s.Delete(t.Context(), a.Key)
	})
	if err != nil {
		t.Fatalf("List deleting each object: %v", err)
	}
	want := []string{"a/b-c/f", "a/b.txt", "a/b/c", "a/b/d/e", "a/b0", "a/bc/x"}
	if !slices.Equal(deleted, want) {
		t.Fatalf("List(a/) while deleting saw %q, want %q", deleted, want)
	}
	wantKeys(t, s, "a/", nil)
	wantKeys(t, s, "", []string{"a-b", "a.x", "a0", "ab", "b/c", "z"})
}

func testInvalidPrefixes(t *testing.T, s blob.Store) {
	for _, prefix := range []string{
		"/", "/a", "a//", "a//b", "a/../", "../", "./", "a/./b", `a\b`, "a\x00", "a\n", "\xff",
	} {
		err := s.List(t.Context(), prefix, func(blob.Attrs) error { return nil })
		if !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("List(%q) = %v, want an error wrapping ErrInvalidKey", prefix, err)
		}
	}
}

// testListDirs: ListDirs reports the directories right under a directory,
// sorted, each once, only those holding objects; it refuses a directory
// without its "/", and stops at fn's error, returning it unchanged.
func testListDirs(t *testing.T, s blob.Store) {
	putFixture(t, s)
	put(t, s, "a/b/d/e2", []byte("x")) // a second object under a/b/d
	dirs := func(dir string) []string {
		t.Helper()
		var out []string
		if err := s.ListDirs(t.Context(), dir, func(name string) error {
			out = append(out, name)
			return nil
		}); err != nil {
			t.Fatalf("ListDirs(%q): %v", dir, err)
		}
		return out
	}
	for dir, want := range map[string][]string{
		"":        {"a", "b"},
		"a/":      {"b", "b-c", "bc"},
		"a/b/":    {"d"},
		"a/b/d/":  nil,
		"nope/":   nil,
		"a/b/c/":  nil,
		"a/bc/x/": nil,
	} {
		if got := dirs(dir); !slices.Equal(got, want) {
			t.Errorf("ListDirs(%q) = %q, want %q", dir, got, want)
		}
	}
	// A directory whose objects are all deleted is gone.
	if err := s.Delete(t.Context(), "b/c"); err != nil {
		t.Fatal(err)
	}
	if got := dirs(""); !slices.Equal(got, []string{"a"}) {
		t.Errorf("ListDirs(\"\") after b's only object was deleted = %q", got)
	}
	for _, bad := range []string{"a", "/", "a//", "../"} {
		if err := s.ListDirs(t.Context(), bad, func(string) error { return nil }); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ListDirs(%q): %v, want ErrInvalidKey", bad, err)
		}
	}
	stop := errors.New("enough")
	calls := 0
	err := s.ListDirs(t.Context(), "a/", func(string) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("ListDirs stopped by fn: %v after %d calls", err, calls)
	}
}
