package azure

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

// Put uploads r as a block blob. An object that fits in one block is sent
// with a single Put Blob; a larger one is cut into blocks of BlockSize,
// staged Concurrency at a time, and committed with CommitBlockList once r
// reached EOF. Staged blocks are invisible until the commit, so on any
// failure (r, size mismatch, ctx, staging) Put never commits and readers
// keep seeing the previous object; the service discards the orphaned
// uncommitted blocks after a week, or at the next commit of the blob.
//
// That last rule means concurrent Puts of one key conflict when one of
// them needs blocks: whichever commits (or deletes) first discards the
// blocks the others staged, and their commit fails (InvalidBlockList).
// Nothing partial becomes visible, but such a Put returns an error; objects
// smaller than BlockSize are never affected.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return s.wrap(ctx, "put", key, err)
	}
	u := uploader{
		dst:       s.container.NewBlockBlobClient(key),
		blockSize: s.blockSize,
		budget:    blob.BudgetFrom(ctx, s.concurrency),
		buffers:   &s.buffers,
	}
	err := u.upload(ctx, blobio.ContextReader(ctx, blobio.ExactSize(r, size)), size)
	return s.wrap(ctx, "put", key, err)
}

// blockWriter is the part of *blockblob.Client that uploads use, so that
// tests can replace the service.
type blockWriter interface {
	Upload(context.Context, io.ReadSeekCloser, *blockblob.UploadOptions) (blockblob.UploadResponse, error)
	StageBlock(context.Context, string, io.ReadSeekCloser, *blockblob.StageBlockOptions) (blockblob.StageBlockResponse, error)
	CommitBlockList(context.Context, []string, *blockblob.CommitBlockListOptions) (blockblob.CommitBlockListResponse, error)
}

// uploader writes one object. Every buffer of blockSize bytes in use, also
// the one being filled from the reader, holds a slot of budget.
type uploader struct {
	dst       blockWriter
	blockSize int64
	budget    *blob.Budget
	buffers   *sync.Pool // of *[]byte with len blockSize
}

// smallHead is how much of an object of unknown size Put reads before it
// takes a block-sized buffer: most objects are small.
const smallHead = 64 << 10

// upload reads r to its end and writes it. size, if not negative, is the
// exact length r yields (r enforces it).
func (u *uploader) upload(ctx context.Context, r io.Reader, size int64) error {
	var head []byte
	switch {
	case size >= 0 && size < u.blockSize:
		head = make([]byte, size+1) // r fails rather than fill it
	case size < 0:
		head = make([]byte, min(smallHead, u.blockSize))
	}
	if head != nil {
		n, eof, err := readBlock(r, head)
		if err != nil {
			return err
		}
		if eof {
			return u.uploadWhole(ctx, head[:n])
		}
	}
	return u.uploadBlocks(ctx, r, head)
}

// uploadBlocks uploads head followed by the rest of r as blocks, staged in
// the background while the next block is read, and commits them at EOF of
// r unless anything failed.
func (u *uploader) uploadBlocks(ctx context.Context, r io.Reader, head []byte) error {
	st, err := newStager(ctx, u)
	if err != nil {
		return err
	}
	defer st.cancel()
	var readErr error
	for st.acquire() {
		bp := u.buffers.Get().(*[]byte)
		buf := *bp
		k := copy(buf, head)
		head = nil
		n, eof, err := readBlock(r, buf[k:])
		n += k
		switch {
		case err != nil:
			readErr = err
		case len(st.ids) == 0 && eof && n <= blockblob.MaxUploadBlobBytes:
			err := u.uploadWhole(ctx, buf[:n]) // one block after all
			st.release(bp)
			return err
		case n == 0: // EOF right after a full block
		case len(st.ids) == blockblob.MaxBlocks:
			readErr = fmt.Errorf("object exceeds %d blocks of %d bytes", blockblob.MaxBlocks, u.blockSize)
		default:
			st.stage(bp, n)
			bp = nil
		}
		if bp != nil {
			st.release(bp)
		}
		if readErr != nil || eof || n == 0 {
			break
		}
	}
	if readErr != nil {
		st.cancel() // abandon the blocks in flight
	}
	stageErr := st.wait()
	switch {
	case readErr != nil:
		return readErr
	case stageErr != nil:
		return stageErr
	}
	// The last chance not to commit: a cancelled ctx must leave nothing.
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := u.dst.CommitBlockList(ctx, st.ids, nil); err != nil {
		if hasCode(err, "InvalidBlockList") {
			return fmt.Errorf("commit %d blocks: the service discarded them, most likely for a concurrent Put or Delete of the same key: %w", len(st.ids), err)
		}
		return fmt.Errorf("commit %d blocks: %w", len(st.ids), err)
	}
	return nil
}

// stager stages the blocks of one object in the background. A slot of the
// budget is taken for every buffer in use, also the one being filled. The
// first failure cancels the others.
type stager struct {
	u        *uploader
	ctx      context.Context
	cancel   context.CancelFunc
	idPrefix []byte
	ids      []string // of the blocks staged or being staged, in order
	wg       sync.WaitGroup
	once     sync.Once
	err      error // the first failure, set before cancel
}

func newStager(ctx context.Context, u *uploader) (*stager, error) {
	idPrefix := make([]byte, 16)
	if _, err := rand.Read(idPrefix); err != nil {
		return nil, fmt.Errorf("block id: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	return &stager{
		u: u, ctx: ctx, cancel: cancel, idPrefix: idPrefix,
	}, nil
}

// acquire waits for a free slot. It returns false once staging failed or
// ctx is done.
func (st *stager) acquire() bool {
	if err := st.u.budget.Acquire(st.ctx, nil); err != nil {
		return false
	}
	if st.ctx.Err() != nil {
		st.u.budget.Release()
		return false
	}
	return true
}

// release returns a buffer and its slot.
func (st *stager) release(bp *[]byte) {
	st.u.buffers.Put(bp)
	st.u.budget.Release()
}

// stage stages the first n bytes of *bp as the next block, then releases
// the buffer.
func (st *stager) stage(bp *[]byte, n int) {
	num := len(st.ids)
	id := blockID(st.idPrefix, num)
	st.ids = append(st.ids, id)
	st.wg.Go(func() {
		defer st.release(bp)
		body := streaming.NopCloser(bytes.NewReader((*bp)[:n]))
		if _, err := st.u.dst.StageBlock(st.ctx, id, body, nil); err != nil {
			st.once.Do(func() {
				st.err = fmt.Errorf("stage block %d: %w", num, err)
				st.cancel()
			})
		}
	})
}

// wait waits for the blocks in flight and returns the first failure.
func (st *stager) wait() error {
	st.wg.Wait()
	return st.err
}

func (u *uploader) uploadWhole(ctx context.Context, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := u.dst.Upload(ctx, streaming.NopCloser(bytes.NewReader(b)), nil); err != nil {
		return fmt.Errorf("upload %d bytes: %w", len(b), err)
	}
	return nil
}

// readBlock fills buf from r. It reports how many bytes it read and whether
// r reached EOF; any other error of r is returned as it is, also if it came
// with data, so that a failing reader can never be mistaken for a complete
// one.
func readBlock(r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		switch {
		case err == io.EOF:
			return n, true, nil
		case err != nil:
			return n, false, err
		}
	}
	return n, false, nil // full: the next block finds out whether r ended
}

// blockID returns the base64 ID of block i. All IDs of a blob must have the
// same length; the random prefix keeps those of concurrent Puts of the same
// key apart.
func blockID(prefix []byte, i int) string {
	b := binary.BigEndian.AppendUint32(append([]byte(nil), prefix...), uint32(i))
	return base64.StdEncoding.EncodeToString(b)
}
