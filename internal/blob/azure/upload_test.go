package azure

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"strata/internal/blob"
	"strata/internal/blob/internal/blobio"
)

// fakeBlob is a blockWriter keeping one blob in memory, with the block
// semantics of the service.
type fakeBlob struct {
	mu          sync.Mutex
	staged      map[string][]byte
	data        []byte
	uploads     int
	commits     int
	inFlight    int
	maxInFlight int
	stagedBytes int64 // of finished StageBlock calls

	delay     time.Duration // of each StageBlock
	failStage int           // fail the n-th StageBlock (1-based) with errStage
	onStage   func(n int)   // called at the start of the n-th StageBlock
	stages    int           // StageBlock calls so far
}

var errStage = errors.New("stage failed")

func (f *fakeBlob) Upload(ctx context.Context, body io.ReadSeekCloser, _ *blockblob.UploadOptions) (blockblob.UploadResponse, error) {
	b, err := io.ReadAll(body)
	if err != nil {
		return blockblob.UploadResponse{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads++
	f.data = b
	return blockblob.UploadResponse{}, nil
}

func (f *fakeBlob) StageBlock(ctx context.Context, id string, body io.ReadSeekCloser, _ *blockblob.StageBlockOptions) (blockblob.StageBlockResponse, error) {
	f.mu.Lock()
	f.stages++
	n := f.stages
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	onStage := f.onStage
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if onStage != nil {
		onStage(n)
	}
	if n == f.failStage {
		return blockblob.StageBlockResponse{}, errStage
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return blockblob.StageBlockResponse{}, ctx.Err()
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return blockblob.StageBlockResponse{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.staged == nil {
		f.staged = map[string][]byte{}
	}
	for other := range f.staged {
		if len(other) != len(id) {
			return blockblob.StageBlockResponse{}, fmt.Errorf("block IDs of different lengths: %q, %q", other, id)
		}
	}
	f.staged[id] = b
	f.stagedBytes += int64(len(b))
	return blockblob.StageBlockResponse{}, nil
}

func (f *fakeBlob) CommitBlockList(ctx context.Context, ids []string, _ *blockblob.CommitBlockListOptions) (blockblob.CommitBlockListResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []byte
	for _, id := range ids {
		b, ok := f.staged[id]
		if !ok {
			return blockblob.CommitBlockListResponse{}, fmt.Errorf("InvalidBlockList: %q", id)
		}
		out = append(out, b...)
	}
	f.commits++
	f.data, f.staged = out, nil
	return blockblob.CommitBlockListResponse{}, nil
}

func newUploader(f *fakeBlob, blockSize int64, concurrency int) *uploader {
	pool := &sync.Pool{New: func() any { b := make([]byte, blockSize); return &b }}
	return &uploader{dst: f, blockSize: blockSize, budget: blob.NewBudget(concurrency), buffers: pool}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// onlyReader hides everything but Read.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestUploadRoundTrip(t *testing.T) {
	const bs = 1000
	for _, n := range []int{0, 1, bs - 1, bs, bs + 1, 3 * bs, 3*bs + 5, 10*bs + 7} {
		for _, size := range []int64{int64(n), -1} {
			f := &fakeBlob{}
			want := randBytes(n)
			r := blobio.ExactSize(onlyReader{bytes.NewReader(want)}, size)
			if err := newUploader(f, bs, 3).upload(t.Context(), r, size); err != nil {
				t.Fatalf("%d bytes, size %d: %v", n, size, err)
			}
			if !bytes.Equal(f.data, want) {
				t.Fatalf("%d bytes, size %d: stored %d bytes that differ", n, size, len(f.data))
			}
			wantUploads, wantCommits := 1, 0
			if n >= bs {
				wantUploads, wantCommits = 0, 1
			}
			if f.uploads != wantUploads || f.commits != wantCommits {
				t.Fatalf("%d bytes, size %d: %d uploads and %d commits, want %d and %d",
					n, size, f.uploads, f.commits, wantUploads, wantCommits)
			}
		}
	}
}

// boundedReader fails the test if more than limit bytes were read ahead of
// the blocks the service finished staging.
type boundedReader struct {
	t     *testing.T
	r     io.Reader
	f     *fakeBlob
	limit int64
	read  int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += int64(n)
	b.f.mu.Lock()
	ahead := b.read - b.f.stagedBytes
	b.f.mu.Unlock()
	if ahead > b.limit {
		b.t.Errorf("read %d bytes ahead of the staged blocks, limit %d", ahead, b.limit)
	}
	return n, err
}

func TestUploadBoundedMemory(t *testing.T) {
	const bs, conc = 1 << 10, 3
	f := &fakeBlob{delay: 2 * time.Millisecond}
	want := randBytes(40*bs + 3)
	r := &boundedReader{t: t, r: bytes.NewReader(want), f: f, limit: bs * conc}
	if err := newUploader(f, bs, conc).upload(t.Context(), r, -1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.data, want) {
		t.Fatal("stored data differs")
	}
	if f.maxInFlight > conc || f.maxInFlight < 2 {
		t.Fatalf("%d blocks staged at once, want 2 to %d", f.maxInFlight, conc)
	}
}

// countingWriter counts the StageBlock calls in flight across the
// uploaders it is shared by.
type countingWriter struct {
	*fakeBlob
	mu            *sync.Mutex
	inFlight, max *int
}

func (c countingWriter) StageBlock(ctx context.Context, id string, body io.ReadSeekCloser, o *blockblob.StageBlockOptions) (blockblob.StageBlockResponse, error) {
	c.mu.Lock()
	*c.inFlight++
	*c.max = max(*c.max, *c.inFlight)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		*c.inFlight--
		c.mu.Unlock()
	}()
	return c.fakeBlob.StageBlock(ctx, id, body, o)
}

// TestUploadsShareBudget runs uploads side by side on one blob.Budget: the
// blocks they stage at once never exceed it, and every upload completes,
// even when there are more uploads than slots.
func TestUploadsShareBudget(t *testing.T) {
	const bs, slots, uploads = 1 << 10, 3, 4
	budget := blob.NewBudget(slots)
	var mu sync.Mutex
	var inFlight, peak int
	var wg sync.WaitGroup
	fakes := make([]*fakeBlob, uploads)
	wants := make([][]byte, uploads)
	for i := range uploads {
		fakes[i] = &fakeBlob{delay: time.Millisecond}
		wants[i] = randBytes(20*bs + i)
		u := newUploader(fakes[i], bs, 99)
		u.budget = budget
		u.dst = countingWriter{fakeBlob: fakes[i], mu: &mu, inFlight: &inFlight, max: &peak}
		wg.Go(func() {
			if err := u.upload(t.Context(), bytes.NewReader(wants[i]), -1); err != nil {
				t.Errorf("upload %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i, f := range fakes {
		if !bytes.Equal(f.data, wants[i]) {
			t.Errorf("upload %d: stored data differs", i)
		}
	}
	if peak > slots || peak < 2 {
		t.Errorf("%d blocks staged at once across the uploads, want 2 to %d", peak, slots)
	}
}

// failingReader yields n bytes, then fails with err, together with the
// last bytes if withData.
type failingReader struct {
	r        io.Reader
	n        int
	err      error
	withData bool
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k, err := f.r.Read(p[:min(len(p), f.n)])
	f.n -= k
	if f.n == 0 && f.withData {
		return k, f.err
	}
	return k, err
}

func TestUploadNeverCommitsAfterFailure(t *testing.T) {
	const bs = 1000
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name string
		f    *fakeBlob
		r    func() io.Reader
		want error
	}{
		{"reader fails", &fakeBlob{}, func() io.Reader {
			return &failingReader{r: bytes.NewReader(randBytes(10 * bs)), n: 5*bs + 10, err: errBoom}
		}, errBoom},
		{"reader fails with a full block", &fakeBlob{}, func() io.Reader {
			return &failingReader{r: bytes.NewReader(randBytes(10 * bs)), n: 3 * bs, err: errBoom, withData: true}
		}, errBoom},
		{"reader fails with the first block", &fakeBlob{}, func() io.Reader {
			return &failingReader{r: bytes.NewReader(randBytes(10 * bs)), n: 500, err: errBoom, withData: true}
		}, errBoom},
		{"short", &fakeBlob{}, func() io.Reader {
			return blobio.ExactSize(bytes.NewReader(randBytes(5*bs)), 6*bs)
		}, io.ErrUnexpectedEOF},
		{"stage fails", &fakeBlob{failStage: 3}, func() io.Reader {
			return bytes.NewReader(randBytes(10 * bs))
		}, errStage},
		{"cancelled while staging", &fakeBlob{delay: time.Millisecond}, func() io.Reader {
			return bytes.NewReader(randBytes(10 * bs))
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.want == context.Canceled {
				tc.f.onStage = func(n int) {
					if n == 4 {
						cancel()
					}
				}
			}
			r := blobio.ContextReader(ctx, tc.r())
			err := newUploader(tc.f, bs, 2).upload(ctx, r, -1)
			if !errors.Is(err, tc.want) {
				t.Fatalf("upload = %v, want an error wrapping %v", err, tc.want)
			}
			if tc.f.commits != 0 || tc.f.uploads != 0 || tc.f.data != nil {
				t.Fatalf("%d commits, %d uploads after a failure, want none", tc.f.commits, tc.f.uploads)
			}
		})
	}
}
