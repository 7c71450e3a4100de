package backup

import (
	"context"
	"errors"
	"fmt"
	"io"

	"strata/internal/blob"
	"strata/internal/blob/retry"
)

// maxResumes bounds how often one chunk download is resumed.
const maxResumes = 5

// resumingReader streams an object and, when the stream breaks midway,
// continues with a ranged read from where it stopped instead of starting
// the download over.
type resumingReader struct {
	ctx     context.Context
	st      blob.Store
	key     string
	rc      io.ReadCloser
	off     int64
	resumes int
}

// openResuming starts a download of key.
func openResuming(ctx context.Context, st blob.Store, key string) (*resumingReader, error) {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return &resumingReader{ctx: ctx, st: st, key: key, rc: rc}, nil
}

func (r *resumingReader) Read(p []byte) (int, error) {
	for {
		n, err := r.rc.Read(p)
		r.off += int64(n)
		if err == nil || errors.Is(err, io.EOF) || n > 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				err = nil // report the bytes now; the error comes back on the next read
			}
			return n, err
		}
		if r.ctx.Err() != nil || retry.Permanent(err) || r.resumes >= maxResumes {
			return 0, err
		}
		r.resumes++
		r.rc.Close()
		rc, gerr := r.st.GetRange(r.ctx, r.key, r.off, -1)
		if gerr != nil {
			return 0, fmt.Errorf("resume %s at byte %d after %v: %w", r.key, r.off, err, gerr)
		}
		r.rc = rc
	}
}

func (r *resumingReader) Close() error { return r.rc.Close() }
