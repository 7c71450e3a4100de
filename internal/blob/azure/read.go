package azure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	sdkblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange downloads the range in one request (a whole object without a
// Range header), so that it sees one version even while the object is
// overwritten. A read that breaks off is resumed by the SDK, pinned to that
// version's ETag. Azure refuses a range starting at or past the end with
// 416 (Azurite answers an empty 200 at the end); only then GetRange asks
// for the size, to tell offset == size (an empty stream) from offset >
// size (blob.ErrInvalidRange). Length 0, which a Range header cannot
// express, needs the size too.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	if _, err := blobio.RangeLen(offset, length, math.MaxInt64); err != nil {
		return nil, s.wrap(ctx, "get", key, err) // negative offset or length < -1
	}
	if err := ctx.Err(); err != nil {
		return nil, s.wrap(ctx, "get", key, err)
	}
	if length == 0 {
		a, err := s.stat(ctx, key)
		if err == nil {
			_, err = blobio.RangeLen(offset, length, a.Size)
		}
		if err != nil {
			return nil, s.wrap(ctx, "get", key, err)
		}
		return emptyStream(), nil
	}
	count := length
	if length < 0 {
		count = sdkblob.CountToEnd
	}
	opts := &sdkblob.DownloadStreamOptions{Range: sdkblob.HTTPRange{Offset: offset, Count: count}}
	for attempt := 1; ; attempt++ {
		resp, err := s.container.NewBlobClient(key).DownloadStream(ctx, opts)
		if err == nil {
			return blobio.ContextReadCloser(ctx, resp.NewRetryReader(ctx, nil)), nil
		}
		if !errors.Is(mapErr(err), blob.ErrInvalidRange) {
			return nil, s.wrap(ctx, "get", key, err)
		}
		a, serr := s.stat(ctx, key)
		switch {
		case serr != nil:
			return nil, s.wrap(ctx, "get", key, serr)
		case offset == a.Size:
			return emptyStream(), nil
		case offset > a.Size:
			err = fmt.Errorf("%w: offset %d beyond size %d", blob.ErrInvalidRange, offset, a.Size)
			return nil, s.wrap(ctx, "get", key, err)
		case attempt == 2:
			return nil, s.wrap(ctx, "get", key, err)
		}
		// The object grew between the two requests: download again.
	}
}

func emptyStream() io.ReadCloser { return io.NopCloser(bytes.NewReader(nil)) }

func (s *Store) Stat(ctx context.Context, key string) (blob.Attrs, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Attrs{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Attrs{}, s.wrap(ctx, "stat", key, err)
	}
	a, err := s.stat(ctx, key)
	return a, s.wrap(ctx, "stat", key, err)
}

func (s *Store) stat(ctx context.Context, key string) (blob.Attrs, error) {
	p, err := s.container.NewBlobClient(key).GetProperties(ctx, nil)
	if err != nil {
		return blob.Attrs{}, err
	}
	if p.ContentLength == nil || p.LastModified == nil {
		return blob.Attrs{}, errors.New("response lacks Content-Length or Last-Modified")
	}
	return blob.Attrs{Key: key, Size: *p.ContentLength, ModTime: *p.LastModified}, nil
}
