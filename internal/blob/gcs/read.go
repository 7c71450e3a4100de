package gcs

import (
	"bytes"
	"context"
	"io"
	"math"

	"cloud.google.com/go/storage"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange reads a whole object with a single request. Any other range
// first reads the object's size (one metadata request), so that bounds are
// judged by blob's rules rather than by how the server answers an
// unsatisfiable Range header; the data request then asks for exactly the
// bytes wanted.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	rc, err := s.getRange(ctx, key, offset, length)
	if err != nil {
		return nil, s.wrap(ctx, "get", key, err)
	}
	return rc, nil
}

func (s *Store) getRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	// Reject a negative offset or length < -1 before any I/O.
	if _, err := blobio.RangeLen(offset, length, math.MaxInt64); err != nil {
		return nil, err
	}
	if offset == 0 && length < 0 {
		return s.open(ctx, key, 0, -1)
	}
	a, err := s.attrs(ctx, key)
	if err != nil {
		return nil, err
	}
	n, err := blobio.RangeLen(offset, length, a.Size)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return blobio.ContextReadCloser(ctx, io.NopCloser(bytes.NewReader(nil))), nil
	}
	return s.open(ctx, key, offset, n)
}

// open starts reading length bytes (-1: to the end) at offset.
func (s *Store) open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := s.bucket.Object(key).NewRangeReader(ctx, offset, length)
	if err != nil {
		return nil, err
	}
	return blobio.ContextReadCloser(ctx, r), nil
}

func (s *Store) Stat(ctx context.Context, key string) (blob.Attrs, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Attrs{}, err
	}
	a, err := s.attrs(ctx, key)
	return a, s.wrap(ctx, "stat", key, err)
}

func (s *Store) attrs(ctx context.Context, key string) (blob.Attrs, error) {
	if err := ctx.Err(); err != nil {
		return blob.Attrs{}, err
	}
	oa, err := s.bucket.Object(key).Attrs(ctx)
	if err != nil {
		return blob.Attrs{}, err
	}
	return toAttrs(oa), nil
}

// toAttrs converts GCS metadata. ModTime is the last update of the
// object's current generation, which for objects written only by Put is
// when it was written.
func toAttrs(oa *storage.ObjectAttrs) blob.Attrs {
	mod := oa.Updated
	if mod.IsZero() {
		mod = oa.Created
	}
	return blob.Attrs{Key: oa.Name, Size: oa.Size, ModTime: mod}
}
