package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"strata/internal/blob"
)

// upload is one multipart upload in progress.
type upload struct {
	s        *Store
	key, id  string
	partSize int64

	ctx     context.Context // the caller's
	partCtx context.Context // for UploadPart: see graceContext
	wg      sync.WaitGroup

	budget *blob.Budget // a slot per buffer in use; see blob.Budget

	mu     sync.Mutex
	parts  []types.CompletedPart
	err    error         // the first failure
	failed chan struct{} // closed when err is set
}

// multipart uploads first (a full part) and the rest of src as a multipart
// upload, and completes it; on failure it aborts the upload.
// first holds a slot of budget, which the upload gives back.
func (s *Store) multipart(ctx context.Context, key string, src *partReader, first []byte, partSize int64, budget *blob.Budget) error {
	id, err := s.createUpload(ctx, key)
	if err != nil {
		s.putBuf(first)
		budget.Release()
		return err
	}
	u := &upload{
		s: s, key: key, id: id, partSize: partSize, ctx: ctx,
		budget: budget, failed: make(chan struct{}),
	}
	var release func()
	u.partCtx, release = graceContext(ctx, partGrace)
	err = u.run(src, first)
	release()
	if err == nil {
		err = ctx.Err() // cancelled while the last parts were sent: do not commit
	}
	if err == nil {
		err = u.complete()
	}
	if err != nil {
		if aerr := u.abort(); aerr != nil {
			return fmt.Errorf("%w; abort multipart upload %s: %v", err, id, aerr)
		}
	}
	return err
}

func (s *Store) createUpload(ctx context.Context, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	in := &awss3.CreateMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	if s.checksums {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
	defer cancel()
	out, err := s.client.CreateMultipartUpload(cctx, in)
	if err != nil {
		return "", fmt.Errorf("create multipart upload: %w", err)
	}
	return aws.ToString(out.UploadId), nil
}

// run sends first and the remaining parts of src, and waits until all
// part requests have ended. It returns the first failure, of reading or of
// sending. A failure stops reading and sending new parts, but parts being
// sent are left to finish (see partGrace).
func (u *upload) run(src *partReader, buf []byte) error {
	n, last := len(buf), false
	for num := int32(1); ; num++ {
		u.send(num, buf, n)
		if last {
			break
		}
		if num == maxParts {
			u.fail(fmt.Errorf("object needs more than %d parts of %d bytes", maxParts, u.partSize))
			break
		}
		var err error
		if buf, err = u.buffer(); err != nil {
			u.fail(err)
			break
		}
		if n, last, err = src.next(buf); err != nil {
			u.freeBuf(buf)
			u.fail(err)
			break
		}
	}
	u.wg.Wait()
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// fail records err if it is the first failure.
func (u *upload) fail(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err == nil {
		u.err = err
		close(u.failed)
	}
}

// stopped reports whether no more parts should be sent.
func (u *upload) stopped() bool {
	select {
	case <-u.failed:
		return true
	default:
		return u.ctx.Err() != nil
	}
}

// buffer returns a buffer for the next part once the budget has a free
// slot for it.
func (u *upload) buffer() ([]byte, error) {
	if err := u.budget.Acquire(u.ctx, u.failed); err != nil {
		return nil, err // blob.ErrStopped is not reported: fail keeps the first error
	}
	return u.s.getBuf(u.partSize), nil
}

// freeBuf returns a buffer and its slot.
func (u *upload) freeBuf(buf []byte) {
	u.s.putBuf(buf)
	u.budget.Release()
}

// send uploads buf[:n] as part num in the background, then frees buf.
func (u *upload) send(num int32, buf []byte, n int) {
	u.wg.Go(func() {
		defer u.freeBuf(buf)
		if u.stopped() {
			return
		}
		in := &awss3.UploadPartInput{
			Bucket:        aws.String(u.s.bucket),
			Key:           aws.String(u.key),
			UploadId:      aws.String(u.id),
			PartNumber:    aws.Int32(num),
			Body:          bytes.NewReader(buf[:n]),
			ContentLength: aws.Int64(int64(n)),
		}
		if u.s.checksums {
			in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
		}
		out, err := u.s.client.UploadPart(u.partCtx, in)
		if err != nil {
			u.fail(fmt.Errorf("upload part %d: %w", num, err))
			return
		}
		u.mu.Lock()
		u.parts = append(u.parts, types.CompletedPart{
			PartNumber:    aws.Int32(num),
			ETag:          out.ETag,
			ChecksumCRC32: out.ChecksumCRC32,
		})
		u.mu.Unlock()
	})
}

// complete commits the upload, regardless of ctx's cancellation.
func (u *upload) complete() error {
	slices.SortFunc(u.parts, func(a, b types.CompletedPart) int {
		return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber))
	})
	for i, p := range u.parts {
		if aws.ToInt32(p.PartNumber) != int32(i+1) {
			return errors.New("complete multipart upload: parts missing") // a bug, not an S3 failure
		}
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), completeTimeout)
	defer cancel()
	_, err := u.s.client.CompleteMultipartUpload(cctx, &awss3.CompleteMultipartUploadInput{
		Bucket:          aws.String(u.s.bucket),
		Key:             aws.String(u.key),
		UploadId:        aws.String(u.id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}

// abort discards the upload and its parts, regardless of ctx's
// cancellation. All part requests have ended by now, so unless one was cut
// (see partGrace), S3 cannot store a part after the abort.
func (u *upload) abort() error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), abortTimeout)
	defer cancel()
	_, err := u.s.client.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{
		Bucket:   aws.String(u.s.bucket),
		Key:      aws.String(u.key),
		UploadId: aws.String(u.id),
	})
	return err
}
