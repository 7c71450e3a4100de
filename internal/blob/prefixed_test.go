package blob_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"strata/internal/blob"
	"strata/internal/blob/blobtest"
	"strata/internal/blob/mem"
)

func TestPrefixedAcceptance(t *testing.T) {
	blobtest.Run(t, func(*testing.T) blob.Store {
		inner := mem.New()
		// Neighbours that must stay invisible through the prefix.
		for _, k := range []string{"pre", "pre.x", "pre/fixed/x", "pre/fix0", "other/pre/fix/x"} {
			if err := inner.Put(t.Context(), k, strings.NewReader("n"), 1); err != nil {
				t.Fatal(err)
			}
		}
		return blob.Prefixed(inner, "pre/fix")
	})
}

func TestPrefixedLayout(t *testing.T) {
	inner := mem.New()
	for _, prefix := range []string{"root/path", "root/path/"} {
		s := blob.Prefixed(inner, prefix)
		if err := s.Put(t.Context(), "bk-1/backup_config.json", strings.NewReader("{}"), 2); err != nil {
			t.Fatal(err)
		}
		a, err := s.Stat(t.Context(), "bk-1/backup_config.json")
		if err != nil || a.Key != "bk-1/backup_config.json" {
			t.Fatalf("Stat = %+v, %v; want the key without prefix", a, err)
		}
		if got, want := s.String(), `mem under "root/path"`; got != want {
			t.Fatalf("String = %q, want %q", got, want)
		}
	}
	var keys []string
	if err := inner.List(t.Context(), "", func(a blob.Attrs) error {
		keys = append(keys, a.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"root/path/bk-1/backup_config.json"}; !slices.Equal(keys, want) {
		t.Fatalf("inner keys = %q, want %q", keys, want)
	}
	if blob.Prefixed(inner, "") != blob.Store(inner) || blob.Prefixed(inner, "/") == blob.Store(inner) {
		t.Fatal(`Prefixed(s, "") should be s itself, Prefixed(s, "/") an invalid store`)
	}
}

func TestPrefixedInvalid(t *testing.T) {
	inner := mem.New()
	for _, prefix := range []string{"/abs", "a/../b", "..", "a//b", `a\b`, "/"} {
		s := blob.Prefixed(inner, prefix)
		ctx := t.Context()
		errs := map[string]error{
			"Put":    s.Put(ctx, "k", strings.NewReader("x"), 1),
			"Delete": s.Delete(ctx, "k"),
			"List":   s.List(ctx, "", func(blob.Attrs) error { return nil }),
		}
		_, errs["Get"] = s.Get(ctx, "k")
		_, errs["GetRange"] = s.GetRange(ctx, "k", 0, 1)
		_, errs["Stat"] = s.Stat(ctx, "k")
		for op, err := range errs {
			if !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Prefixed(%q).%s = %v, want ErrInvalidKey", prefix, op, err)
			}
		}
		if !strings.Contains(s.String(), "invalid prefix") {
			t.Errorf("String = %q", s.String())
		}
	}
	if err := inner.List(t.Context(), "", func(a blob.Attrs) error {
		return errors.New("unexpected object " + a.Key)
	}); err != nil {
		t.Fatal(err)
	}
}
