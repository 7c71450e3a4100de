package s3

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

// How Put treats requests when ctx is cancelled.
//
// Requests that carry data (PutObject, UploadPart) are not cut at once but
// get partGrace to finish: S3 may still store a part whose request was cut
// after its body arrived, even after the upload was aborted, which would
// leave a pending multipart upload behind (AWS documents this race). Put
// still returns soon after a cancellation, as it stops reading and sending
// new parts at once.
//
// CreateMultipartUpload (whose upload id we must learn in order to abort
// it), CompleteMultipartUpload (the commit, whose outcome we must know) and
// AbortMultipartUpload run detached from ctx, within their own timeouts.
const (
	partGrace       = 10 * time.Second
	createTimeout   = time.Minute
	completeTimeout = 10 * time.Minute // S3 may take minutes for many large parts
	abortTimeout    = time.Minute
)

// graceContext returns a context for a request that should not be cut when
// ctx is cancelled, but only grace later. Call release when the request is
// done.
func graceContext(ctx context.Context, grace time.Duration) (_ context.Context, release func()) {
	gctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(context.Cause(ctx))
		case <-gctx.Done():
		}
	})
	return gctx, func() {
		stop()
		cancel(context.Canceled)
	}
}

// Put reads r in parts of PartSize bytes. If r ends within the first part,
// the object is written with one PutObject. Otherwise Put starts a
// multipart upload and sends parts in parallel while it reads the next
// one. Every part buffer, also the one being filled, takes a slot of the
// blob.Budget of ctx (by default a private one of Concurrency slots), so a
// Put holds at most PartSize × slots bytes.
// The upload is completed only once r has ended (and matched size), and
// aborted on any failure; S3 never shows an object before it is complete.
//
// A cancellation of ctx makes Put fail, storing nothing, until the last
// byte of r was read and, for a multipart upload, all parts were sent. Only
// then does Put commit: CompleteMultipartUpload runs regardless of ctx, so
// that its outcome is known. A single PutObject is its own commit; it gets
// partGrace to finish after a cancellation, and Put returns nil if it did.
//
// A known size larger than PartSize × 10000 raises the part size to fit;
// with an unknown size, Put fails once it would need more than 10000 parts.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return s.wrap(ctx, "put", key, err)
	}
	return s.wrap(ctx, "put", key, s.put(ctx, key, r, size))
}

func (s *Store) put(ctx context.Context, key string, r io.Reader, size int64) error {
	partSize := s.partSize
	if size > partSize*maxParts {
		partSize = (size + maxParts - 1) / maxParts
	}
	src := newPartReader(ctx, r, size)
	first := partSize
	if size >= 0 && size < partSize {
		first = size
	}
	budget := blob.BudgetFrom(ctx, s.concurrency)
	if err := budget.Acquire(ctx, nil); err != nil {
		return err
	}
	buf := s.getBuf(first)
	n, last, err := src.next(buf)
	if err != nil || last {
		defer budget.Release()
		defer s.putBuf(buf)
	}
	switch {
	case err != nil:
		return err
	case last:
		return s.putObject(ctx, key, buf[:n])
	}
	return s.multipart(ctx, key, src, buf, partSize, budget)
}

// putObject writes a whole object with one request.
func (s *Store) putObject(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	gctx, release := graceContext(ctx, partGrace)
	defer release()
	_, err := s.client.PutObject(gctx, &awss3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	return err
}

// getBuf returns a buffer of n bytes, from the pool if n is the part size.
func (s *Store) getBuf(n int64) []byte {
	if n == s.partSize {
		if p, ok := s.parts.Get().(*[]byte); ok {
			return *p
		}
	}
	return make([]byte, n)
}

// putBuf returns a buffer from getBuf to the pool, if it came from there.
func (s *Store) putBuf(b []byte) {
	if int64(cap(b)) == s.partSize {
		b = b[:cap(b)]
		s.parts.Put(&b)
	}
}

// partReader cuts the input of Put into parts and tells whether a part is
// the last, enforcing the declared size and ctx along the way.
type partReader struct {
	r    *bufio.Reader // to peek one byte past a full part
	size int64         // declared size, or -1
	got  int64
}

func newPartReader(ctx context.Context, r io.Reader, size int64) *partReader {
	// The bufio.Reader only ever buffers the peeked bytes: reads of whole
	// parts go straight to r.
	br := bufio.NewReaderSize(blobio.ContextReader(ctx, blobio.ExactSize(r, size)), 16)
	return &partReader{r: br, size: size}
}

// next fills buf (only up to the declared size), and reports whether the
// input ended with it. Errors of the input, including ctx's, are wrapped.
func (p *partReader) next(buf []byte) (n int, last bool, err error) {
	if p.size >= 0 {
		buf = buf[:min(int64(len(buf)), p.size-p.got)]
	}
	for n < len(buf) {
		m, err := p.r.Read(buf[n:])
		n += m
		if err == io.EOF {
			p.got += int64(n)
			return n, true, nil
		}
		if err != nil {
			return n, false, fmt.Errorf("read: %w", err)
		}
	}
	p.got += int64(n)
	switch _, err := p.r.Peek(1); {
	case err == io.EOF:
		return n, true, nil
	case err != nil:
		return n, false, fmt.Errorf("read: %w", err)
	case p.size >= 0 && p.got == p.size:
		return n, false, fmt.Errorf("read: reader yielded more than the declared size of %d bytes", p.size)
	}
	return n, false, nil
}
