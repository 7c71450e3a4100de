package gcs

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"strata/internal/blob"
)

func TestMapErr(t *testing.T) {
	other := errors.New("other")
	for _, tc := range []struct {
		err  error
		want error
	}{
		{storage.ErrObjectNotExist, blob.ErrNotFound},
		{fmt.Errorf("x: %w", storage.ErrBucketNotExist), blob.ErrNotFound},
		{&googleapi.Error{Code: 404}, blob.ErrNotFound},
		{&googleapi.Error{Code: 401}, blob.ErrPermission},
		{fmt.Errorf("x: %w", &googleapi.Error{Code: 403}), blob.ErrPermission},
		{&googleapi.Error{Code: 416}, blob.ErrInvalidRange},
		{&googleapi.Error{Code: 500}, nil},
		{other, nil},
	} {
		got := mapErr(tc.err)
		if !errors.Is(got, tc.err) {
			t.Errorf("mapErr(%v) = %v, lost the original error", tc.err, got)
		}
		for _, sentinel := range []error{blob.ErrNotFound, blob.ErrPermission, blob.ErrInvalidRange} {
			if errors.Is(got, sentinel) != (sentinel == tc.want) {
				t.Errorf("mapErr(%v) = %v; errors.Is(%v) = %v", tc.err, got, sentinel, !(sentinel == tc.want))
			}
		}
	}
}

func TestWrapAddsContextError(t *testing.T) {
	s := &Store{name: "b"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.wrap(ctx, "put", "k", errors.New("io: read/write on closed pipe"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("wrap with a cancelled ctx = %v, want it to wrap context.Canceled", err)
	}
	if got, want := err.Error(), `gs://b: put "k": io: read/write on closed pipe (context canceled)`; got != want {
		t.Fatalf("wrap = %q, want %q", got, want)
	}
	if err := s.wrap(ctx, "get", "k", blob.ErrInvalidKey); err != blob.ErrInvalidKey {
		t.Fatalf("wrap changed an invalid-key error to %v", err)
	}
}

func TestChunkSizeFor(t *testing.T) {
	s := &Store{chunkSize: 16 << 20}
	for _, tc := range []struct {
		size int64
		want int
	}{{-1, 16 << 20}, {0, 1}, {1000, 1001}, {16<<20 - 1, 16 << 20}, {16 << 20, 16 << 20}, {1 << 40, 16 << 20}} {
		if got := s.chunkSizeFor(tc.size); got != tc.want {
			t.Errorf("chunkSizeFor(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}
