// Package blobio holds the stream helpers that blob providers share so that
// they enforce the Store contract identically: cancellable readers, the
// exact-size check of Put, the bounds check of GetRange and the shape of
// their errors. It does no I/O
// of its own and must not grow provider-specific code.
package blobio

import (
	"context"
	"errors"
	"fmt"
	"io"

	"strata/internal/blob"
)

// ContextReader returns a reader that fails with ctx's error once ctx is
// done, checked before every Read of r.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	return &ctxReader{ctx: ctx, r: r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ContextReadCloser is ContextReader for a stream that must be closed.
func ContextReadCloser(ctx context.Context, rc io.ReadCloser) io.ReadCloser {
	return readCloser{Reader: ContextReader(ctx, rc), Closer: rc}
}

// LimitReadCloser reads at most n bytes of rc; closing it closes rc.
func LimitReadCloser(rc io.ReadCloser, n int64) io.ReadCloser {
	return readCloser{Reader: io.LimitReader(rc, n), Closer: rc}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// ExactSize returns a reader that passes r through and fails if r yields
// more than size bytes, or reaches EOF having yielded fewer. A negative size
// means unknown and disables the check. Put wraps its input with it.
func ExactSize(r io.Reader, size int64) io.Reader {
	if size < 0 {
		return r
	}
	return &sizeReader{r: r, want: size}
}

type sizeReader struct {
	r         io.Reader
	want, got int64
}

func (s *sizeReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.got += int64(n)
	if s.got > s.want {
		return n, fmt.Errorf("reader yielded more than the declared size of %d bytes", s.want)
	}
	if err == io.EOF && s.got < s.want {
		return n, fmt.Errorf("reader yielded %d bytes, declared size is %d: %w", s.got, s.want, io.ErrUnexpectedEOF)
	}
	return n, err
}

// RangeLen checks a GetRange request against an object of the given size
// and returns how many bytes to read from offset. Errors wrap
// blob.ErrInvalidRange.
func RangeLen(offset, length, size int64) (int64, error) {
	switch {
	case offset < 0:
		return 0, fmt.Errorf("%w: negative offset %d", blob.ErrInvalidRange, offset)
	case length < -1:
		return 0, fmt.Errorf("%w: length %d", blob.ErrInvalidRange, length)
	case offset > size:
		return 0, fmt.Errorf("%w: offset %d beyond size %d", blob.ErrInvalidRange, offset, size)
	}
	n := size - offset
	if length >= 0 && length < n {
		n = length
	}
	return n, nil
}

// Wrap is the error shape every cloud provider returns: nil and
// invalid-key errors as they are; otherwise the provider's mapping of
// service errors to the blob ones (mapErr), ctx's error made findable (see
// WithCtx), and the store, operation and key in front.
func Wrap(ctx context.Context, store fmt.Stringer, op, key string, err error, mapErr func(error) error) error {
	if err == nil || errors.Is(err, blob.ErrInvalidKey) {
		return err
	}
	return fmt.Errorf("%s: %s %q: %w", store, op, key, WithCtx(ctx, mapErr(err)))
}

// WithCtx makes ctx's error findable with errors.Is in err once ctx is
// done: SDKs do not always keep it in the chain (e.g. when a retry wait was
// interrupted), or report the cancellation in their own words.
func WithCtx(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", err, cerr)
	}
	return err
}
