package blobio

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"strata/internal/blob"
)

func TestExactSize(t *testing.T) {
	for _, tc := range []struct {
		in     string
		size   int64
		wantOK bool
	}{
		{"abc", 3, true}, {"abc", -1, true}, {"", 0, true},
		{"abc", 2, false}, {"abc", 4, false}, {"", 1, false}, {"a", 0, false},
	} {
		_, err := io.ReadAll(ExactSize(strings.NewReader(tc.in), tc.size))
		if (err == nil) != tc.wantOK {
			t.Errorf("ExactSize(%q, %d): err %v, want ok=%v", tc.in, tc.size, err, tc.wantOK)
		}
	}
}

func TestRangeLen(t *testing.T) {
	for _, tc := range []struct{ offset, length, size, want int64 }{
		{0, -1, 10, 10}, {0, 5, 10, 5}, {8, 5, 10, 2}, {10, -1, 10, 0}, {10, 3, 10, 0}, {0, 0, 0, 0},
	} {
		if got, err := RangeLen(tc.offset, tc.length, tc.size); err != nil || got != tc.want {
			t.Errorf("RangeLen(%d, %d, %d) = %d, %v; want %d", tc.offset, tc.length, tc.size, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ offset, length, size int64 }{{11, -1, 10}, {-1, 1, 10}, {0, -2, 10}, {1, 0, 0}} {
		if _, err := RangeLen(tc.offset, tc.length, tc.size); !errors.Is(err, blob.ErrInvalidRange) {
			t.Errorf("RangeLen(%d, %d, %d) = %v, want ErrInvalidRange", tc.offset, tc.length, tc.size, err)
		}
	}
}

func TestContextReader(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	r := ContextReader(ctx, strings.NewReader("abcdef"))
	buf := make([]byte, 2)
	if _, err := r.Read(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Read(buf); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read after cancel = %v", err)
	}
}
