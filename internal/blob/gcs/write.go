package gcs

import (
	"context"
	"errors"
	"io"

	"cloud.google.com/go/storage"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

// contentType is set on every object, so that the library does not sniff
// (and buffer) the first bytes of the input to guess one.
const contentType = "application/octet-stream"

// Put streams r into a resumable upload, holding at most one chunk in
// memory. The upload is finalized only by the Writer's Close, after r hit
// EOF with the declared size and ctx is still live. On any failure before
// that, the Writer's context is cancelled instead: the library then aborts
// the upload without ever telling GCS the input ended, so the object is
// neither created nor replaced (an abandoned resumable session holds no
// visible object and expires on its own).
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	return s.wrap(ctx, "put", key, s.put(ctx, key, r, size))
}

func (s *Store) put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel() // aborts the upload unless Close already finalized it

	w := s.bucket.Object(key).NewWriter(wctx)
	w.ChunkSize = s.chunkSizeFor(size)
	w.ContentType = contentType
	if _, err := io.Copy(w, blobio.ContextReader(ctx, blobio.ExactSize(r, size))); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return w.Close()
}

// chunkSizeFor returns the upload chunk size for an object of size bytes
// (-1 if unknown). The library allocates a whole chunk per upload, so a
// small object known in advance gets a buffer just larger than itself
// (the library rounds it up to 256 KiB), which also lets it go up in one
// request.
func (s *Store) chunkSizeFor(size int64) int {
	if size < 0 || size >= int64(s.chunkSize) {
		return s.chunkSize
	}
	return int(size) + 1
}

// Delete removes the object; a missing object is not an error. (GCS
// reports a missing bucket the same way, so that is not one either.)
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return s.wrap(ctx, "delete", key, err)
	}
	err := s.bucket.Object(key).Delete(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil
	}
	return s.wrap(ctx, "delete", key, err)
}
