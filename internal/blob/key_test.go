package blob_test

import (
	"errors"
	"strings"
	"testing"

	"strata/internal/blob"
)

func TestValidateKey(t *testing.T) {
	for _, key := range []string{
		"a", "a/b/c", "bk-1/node1/Article/chunk-1", ".hidden", "a/...", "a/..b", "b./c",
		"ü/日本", "sp ace", strings.Repeat("k", blob.MaxKeyLen),
	} {
		if err := blob.ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range []string{
		"", "/", "/abs", "a/", "a//b", ".", "..", "./a", "../x", "a/./b", "a/../b", "a/..",
		`a\b`, "a\x00b", "a\tb", "a\x7fb", "\xff", strings.Repeat("k", blob.MaxKeyLen+1),
	} {
		err := blob.ValidateKey(key)
		if !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "a/b", "a/b/", ".", "..", "a/.", "a/..", "a/.h"} {
		if err := blob.ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "a//", "a//b", "./", "../", "a/../b", "a/./", `a\`, "a\x00", "\xff"} {
		if err := blob.ValidatePrefix(p); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("ValidatePrefix(%q) = %v, want ErrInvalidKey", p, err)
		}
	}
}

func TestIsNotFound(t *testing.T) {
	if !blob.IsNotFound(errors.Join(errors.New("x"), blob.ErrNotFound)) || blob.IsNotFound(blob.ErrPermission) || blob.IsNotFound(nil) {
		t.Fatal("IsNotFound does not follow errors.Is")
	}
}
