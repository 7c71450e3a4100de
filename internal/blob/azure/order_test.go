package azure

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"strata/internal/blob"
)

// utf16Less is the order of Azure's listings.
func utf16Less(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

func TestByteOrder(t *testing.T) {
	alphabet := []string{"a", "b", "/", "~", "é", "\uD7FF", "\uE000", "\uFF01", "\uFFFD", "\U00010000", "\U0001F600"}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		set := map[string]bool{}
		for range 1 + rng.IntN(30) {
			var b strings.Builder
			for range 1 + rng.IntN(4) {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			set[b.String()] = true
		}
		var keys []string
		for k := range set {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, utf16Less) // as the service lists them

		var got []string
		emit := func(a blob.Attrs) error { got = append(got, a.Key); return nil }
		var o byteOrder
		for _, k := range keys {
			if err := o.add(blob.Attrs{Key: k}, emit); err != nil {
				t.Fatal(err)
			}
		}
		if err := o.flush(emit); err != nil {
			t.Fatal(err)
		}
		want := slices.Sorted(slices.Values(keys))
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: from %q got %q, want %q", round, keys, got, want)
		}
	}
}

func TestByteOrderReleasesEarly(t *testing.T) {
	var o byteOrder
	var got []string
	emit := func(a blob.Attrs) error { got = append(got, a.Key); return nil }
	for _, k := range []string{"a", "a/b", "b", "x\U0001F600", "x\uFF01", "y"} {
		if err := o.add(blob.Attrs{Key: k}, emit); err != nil {
			t.Fatal(err)
		}
		if k == "b" && len(got) != 3 {
			t.Fatalf("after %q released %q, want everything", k, got)
		}
	}
	if want := []string{"a", "a/b", "b", "x\uFF01", "x\U0001F600", "y"}; !slices.Equal(got, want) {
		t.Fatalf("released %q, want %q before flush", got, want)
	}

	errStop := errors.New("stop")
	o = byteOrder{}
	err := o.add(blob.Attrs{Key: "a"}, func(blob.Attrs) error { return errStop })
	if err != errStop {
		t.Fatalf("add = %v, want emit's error unchanged", err)
	}
}
