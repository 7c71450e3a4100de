package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"strata/internal/blob"
)

func testRoundTrip(t *testing.T, s blob.Store) {
	for i, n := range []int{0, 1, 100, 64 << 10, 3*mib + 7} {
		b := data(n, uint64(i))
		key := fmt.Sprintf("round/known/%d", n)
		put(t, s, key, b)
		wantContent(t, s, key, b)

		key = fmt.Sprintf("round/unknown/%d", n)
		if err := s.Put(t.Context(), key, onlyReader{bytes.NewReader(b)}, -1); err != nil {
			t.Fatalf("Put(%q, size -1): %v", key, err)
		}
		wantContent(t, s, key, b)
	}
	as := list(t, s, "round/known/3")
	if len(as) != 1 || as[0].Key != fmt.Sprintf("round/known/%d", 3*mib+7) || as[0].Size != 3*mib+7 || as[0].ModTime.IsZero() {
		t.Fatalf("List(round/known/3) = %+v, want the 3 MiB object with its size and time", as)
	}
}

func testUnusualKeys(t *testing.T, s blob.Store) {
	keys := []string{
		"odd/.hidden",
		"odd/...",
		"odd/a-b_c.d~e",
		"odd/plus+equals=amp&pct%",
		"odd/sp ace/ü/ключ/日本",
		"odd/UPPER/lower",
		"odd/x",
	}
	for i, k := range keys {
		put(t, s, k, data(10+i, uint64(i)))
	}
	for i, k := range keys {
		wantContent(t, s, k, data(10+i, uint64(i)))
	}
	wantKeys(t, s, "odd/", slices.Sorted(slices.Values(keys)))
}

func testOverwrite(t *testing.T, s blob.Store) {
	big, small := data(2*mib, 1), data(10, 2)
	put(t, s, "ow/k", big)
	put(t, s, "ow/k", small)
	wantContent(t, s, "ow/k", small)
	put(t, s, "ow/k", big)
	wantContent(t, s, "ow/k", big)
	put(t, s, "ow/k", nil)
	wantContent(t, s, "ow/k", nil)
	wantKeys(t, s, "", []string{"ow/k"})
}

func testSizeMismatch(t *testing.T, s blob.Store) {
	old := data(100, 1)
	put(t, s, "sz/old", old)
	for _, key := range []string{"sz/old", "sz/new"} {
		for _, tc := range []struct {
			name string
			n    int
			size int64
		}{{"short", 50, 60}, {"long", 70, 60}, {"empty", 0, 1}, {"nonEmpty", 1, 0}} {
			err := s.Put(t.Context(), key, onlyReader{bytes.NewReader(data(tc.n, 3))}, tc.size)
			if err == nil {
				t.Fatalf("Put(%q) of %d bytes declared as %d succeeded, want an error", key, tc.n, tc.size)
			}
		}
	}
	wantContent(t, s, "sz/old", old)
	wantNotFound(t, s, "sz/new")
	wantKeys(t, s, "", []string{"sz/old"})
}

func testFailingReader(t *testing.T, s blob.Store) {
	errBoom := errors.New("boom")
	old := data(1000, 1)
	put(t, s, "fail/old", old)
	for _, key := range []string{"fail/old", "fail/new"} {
		for _, n := range []int{0, 100, 3 * mib / 2} {
			for _, size := range []int64{int64(n) + 10, -1} {
				r := &failingReader{r: bytes.NewReader(data(n, 2)), err: errBoom}
				err := s.Put(t.Context(), key, r, size)
				if !errors.Is(err, errBoom) {
					t.Fatalf("Put(%q) with a reader failing after %d bytes = %v, want an error wrapping the reader's", key, n, err)
				}
			}
		}
	}
	wantContent(t, s, "fail/old", old)
	wantNotFound(t, s, "fail/new")
	wantKeys(t, s, "", []string{"fail/old"})
}

func testCancelDuringPut(t *testing.T, s blob.Store) {
	old := data(1000, 1)
	put(t, s, "cancel/old", old)
	for _, key := range []string{"cancel/old", "cancel/new"} {
		for _, size := range []int64{2 * mib, -1} {
			ctx, cancel := context.WithCancel(t.Context())
			r := &cancelingReader{r: bytes.NewReader(data(2*mib, 2)), cancel: cancel}
			err := s.Put(ctx, key, onlyReader{r}, size)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put(%q) cancelled while reading = %v, want an error wrapping context.Canceled", key, err)
			}
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := s.Put(ctx, key, bytes.NewReader(data(10, 3)), 10)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put(%q) with a cancelled context = %v, want an error wrapping context.Canceled", key, err)
		}
	}
	wantContent(t, s, "cancel/old", old)
	wantNotFound(t, s, "cancel/new")
	wantKeys(t, s, "", []string{"cancel/old"})
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := t.Context()
	long := string(bytes.Repeat([]byte("k"), blob.MaxKeyLen+1))
	bad := []string{
		"", "/abs", "/", "a/../b", "../x", "..", ".", "x/..", "x/.", "a//b", "a/./b", "a/",
		`a\b`, "a\x00b", "a\nb", "a\rb", "\xff\xfe", long,
	}
	for _, key := range bad {
		check := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("%s(%q) = %v, want an error wrapping ErrInvalidKey", op, key, err)
			}
		}
		if err := blob.ValidateKey(key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", key, err)
		}
		check("Put", s.Put(ctx, key, bytes.NewReader([]byte("x")), 1))
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
		check("Delete", s.Delete(ctx, key))
	}
	wantKeys(t, s, "", nil)
}
