package s3

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange sends one ranged GET. S3 answers a range starting at or beyond
// the end of the object with 416; only then does GetRange ask for the size,
// to tell offset == size (an empty stream) from offset > size
// (blob.ErrInvalidRange). A zero length needs the size up front.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, err
	}
	if _, err := blobio.RangeLen(offset, length, math.MaxInt64); err != nil {
		return nil, s.wrap(ctx, "get", key, err) // negative offset or length < -1
	}
	if length == 0 {
		return s.emptyRange(ctx, key, offset)
	}
	in := &awss3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	switch {
	case length > 0 && length <= math.MaxInt64-offset:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if in.Range != nil && isInvalidRange(err) {
			return s.emptyRange(ctx, key, offset)
		}
		return nil, s.wrap(ctx, "get", key, err)
	}
	return out.Body, nil
}

// emptyRange returns an empty stream if offset is within or at the end of
// the object, and an error wrapping blob.ErrInvalidRange if it is beyond.
func (s *Store) emptyRange(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	a, err := s.stat(ctx, key)
	if err != nil {
		return nil, s.wrap(ctx, "get", key, err)
	}
	if _, err := blobio.RangeLen(offset, 0, a.Size); err != nil {
		return nil, s.wrap(ctx, "get", key, err)
	}
	return io.NopCloser(strings.NewReader("")), nil
}

func (s *Store) Stat(ctx context.Context, key string) (blob.Attrs, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Attrs{}, err
	}
	a, err := s.stat(ctx, key)
	return a, s.wrap(ctx, "stat", key, err)
}

func (s *Store) stat(ctx context.Context, key string) (blob.Attrs, error) {
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if errorCode(err) == "NotFound" {
			return blob.Attrs{}, s.whyNotFound(ctx, key, err)
		}
		return blob.Attrs{}, err
	}
	return blob.Attrs{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// whyNotFound tells what a 404 answer to HEAD meant. Such an answer has no
// body, so it does not say whether the object or the bucket is missing (or,
// with versitygw, the access key), while a GET of the first byte says so in
// its error code: NoSuchKey becomes blob.ErrNotFound, NoSuchBucket does not.
func (s *Store) whyNotFound(ctx context.Context, key string, headErr error) error {
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Range: aws.String("bytes=0-0"),
	})
	switch {
	case err == nil:
		out.Body.Close()
		return headErr // created since the HEAD
	case isInvalidRange(err):
		return headErr // created, empty, since the HEAD
	}
	return err
}

// List pages through ListObjectsV2, which returns keys in the byte-wise
// order of their UTF-8 encoding, i.e. lexical order. Objects whose names
// are not valid keys (such as the "dir/" markers some consoles create) are
// skipped: no Store method could be called with them.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Attrs) error) error {
	if err := blob.ValidatePrefix(prefix); err != nil {
		return err
	}
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(s.bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	pages := awss3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		if err := ctx.Err(); err != nil {
			return s.wrap(ctx, "list", prefix, err)
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.wrap(ctx, "list", prefix, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if blob.ValidateKey(key) != nil || !strings.HasPrefix(key, prefix) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return s.wrap(ctx, "list", prefix, err)
			}
			a := blob.Attrs{Key: key, Size: aws.ToInt64(obj.Size), ModTime: aws.ToTime(obj.LastModified)}
			if err := fn(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete sends DeleteObject, which S3 answers with success for a missing
// key too; a not-found answer from a less forgiving server is also success.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil && isNotFound(err) {
		return nil
	}
	return s.wrap(ctx, "delete", key, err)
}

// ListDirs lists the common prefixes right under dir (a "/" delimiter
// listing): the objects below are never walked.
func (s *Store) ListDirs(ctx context.Context, dir string, fn func(string) error) error {
	if err := blob.ValidateDir(dir); err != nil {
		return err
	}
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Delimiter: aws.String("/")}
	if dir != "" {
		in.Prefix = aws.String(dir)
	}
	var names []string
	pages := awss3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.wrap(ctx, "list", dir, err)
		}
		for _, cp := range page.CommonPrefixes {
			if name, ok := blob.DirOf(dir, aws.ToString(cp.Prefix)); ok {
				names = append(names, name)
			}
		}
	}
	return blob.EmitDirs(names, fn)
}
