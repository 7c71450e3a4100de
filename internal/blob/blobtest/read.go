package blobtest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"strata/internal/blob"
)

func getRange(t testing.TB, s blob.Store, key string, offset, length int64) ([]byte, error) {
	t.Helper()
	rc, err := s.GetRange(t.Context(), key, offset, length)
	if err != nil {
		return nil, err
	}
	return readAll(t, rc, fmt.Sprintf("GetRange(%q, %d, %d)", key, offset, length)), nil
}

func testGetRange(t *testing.T, s blob.Store) {
	b := data(1000, 1)
	put(t, s, "range/k", b)
	for _, tc := range []struct {
		offset, length int64
		want           []byte
	}{
		{0, -1, b},
		{0, 10, b[:10]},
		{0, 1000, b},
		{100, 50, b[100:150]},
		{990, -1, b[990:]},
		{999, 1, b[999:]},
		{500, 10000, b[500:]}, // cut at the end
		{0, 0, nil},
		{500, 0, nil},
		{1000, -1, nil}, // offset == size: empty
		{1000, 5, nil},
	} {
		got, err := getRange(t, s, "range/k", tc.offset, tc.length)
		if err != nil {
			t.Fatalf("GetRange(%d, %d): %v", tc.offset, tc.length, err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Fatalf("GetRange(%d, %d) = %d bytes, want %d identical bytes", tc.offset, tc.length, len(got), len(tc.want))
		}
	}
	for _, tc := range []struct{ offset, length int64 }{
		{1001, -1}, {1001, 1}, {5000, 10}, {-1, 10}, {-1, -1}, {0, -2},
	} {
		if _, err := getRange(t, s, "range/k", tc.offset, tc.length); !errors.Is(err, blob.ErrInvalidRange) {
			t.Fatalf("GetRange(%d, %d) = %v, want an error wrapping ErrInvalidRange", tc.offset, tc.length, err)
		}
	}

	big := data(4*mib, 2)
	put(t, s, "range/big", big)
	got, err := getRange(t, s, "range/big", 3*mib/2, 100<<10)
	if err != nil || !bytes.Equal(got, big[3*mib/2:3*mib/2+100<<10]) {
		t.Fatalf("GetRange in the middle of a large object: %d bytes, err %v", len(got), err)
	}
	got, err = getRange(t, s, "range/big", 4*mib-3, -1)
	if err != nil || !bytes.Equal(got, big[4*mib-3:]) {
		t.Fatalf("GetRange at the end of a large object: %d bytes, err %v", len(got), err)
	}
}

func testGetRangeEmptyObject(t *testing.T, s blob.Store) {
	put(t, s, "range/empty", nil)
	for _, length := range []int64{-1, 0, 10} {
		got, err := getRange(t, s, "range/empty", 0, length)
		if err != nil || len(got) != 0 {
			t.Fatalf("GetRange(0, %d) of an empty object = %d bytes, %v; want empty", length, len(got), err)
		}
	}
	if _, err := getRange(t, s, "range/empty", 1, -1); !errors.Is(err, blob.ErrInvalidRange) {
		t.Fatalf("GetRange(1, -1) of an empty object = %v, want ErrInvalidRange", err)
	}
}

func testStat(t *testing.T, s blob.Store) {
	before := time.Now()
	put(t, s, "stat/a", data(1234, 1))
	put(t, s, "stat/empty", nil)
	for key, size := range map[string]int64{"stat/a": 1234, "stat/empty": 0} {
		a, err := s.Stat(t.Context(), key)
		if err != nil {
			t.Fatalf("Stat(%q): %v", key, err)
		}
		// Clocks of remote stores may differ from ours: allow a day.
		if a.Key != key || a.Size != size || a.ModTime.Before(before.Add(-24*time.Hour)) || a.ModTime.After(time.Now().Add(24*time.Hour)) {
			t.Fatalf("Stat(%q) = %+v, want size %d and a current modification time", key, a, size)
		}
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	put(t, s, "nf/dir/obj", []byte("x"))
	for _, key := range []string{
		"missing",
		"missing/deeper/key",
		"nf/other",
		"nf/dir",         // only a prefix of an object
		"nf/dir/ob",      // a partial name
		"nf/dir/obj/sub", // beneath an object
		"nf/dir/obj2",
	} {
		wantNotFound(t, s, key)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := t.Context()
	put(t, s, "del/a/x", []byte("x"))
	put(t, s, "del/a/y", []byte("y"))
	put(t, s, "del/b/c/d", []byte("d"))

	if err := s.Delete(ctx, "del/a/x"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, s, "del/a/x")
	wantContent(t, s, "del/a/y", []byte("y"))
	for _, key := range []string{
		"del/a/x",       // again
		"never/existed", // never
		"del/b",         // a prefix of an object
		"del/b/c",       // another one
		"del/b/c/d/e",   // beneath an object
	} {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(%q) of a missing object = %v, want nil", key, err)
		}
	}
	wantContent(t, s, "del/b/c/d", []byte("d"))
	wantKeys(t, s, "", []string{"del/a/y", "del/b/c/d"})

	for _, key := range []string{"del/a/y", "del/b/c/d"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
	}
	wantKeys(t, s, "", nil)
	// The store is usable again at the same keys.
	put(t, s, "del/b/c/d", []byte("again"))
	wantContent(t, s, "del/b/c/d", []byte("again"))
}
