package archive

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// FileInfo describes one file stored in a chunk.
type FileInfo struct {
	Name   string `json:"name"`   // slash path inside the archive
	Size   int64  `json:"size"`   // bytes of content
	SHA256 string `json:"sha256"` // lowercase hex SHA-256 of the content
}

// ErrClosed is returned by a Writer's methods after Close.
var ErrClosed = errors.New("archive: writer is closed")

// Writer writes one chunk: a tar stream of regular files, compressed per its
// Codec, to an io.Writer. File content is streamed in pieces of 1 MiB and
// hashed on the way; nothing is buffered beyond that piece, the output buffer
// and the compressor's window. A Writer is not safe for concurrent use; write
// chunks in parallel with one Writer each.
//
// An error after an entry's header has been written (the reader failed, or
// gave fewer or more bytes than announced, or the output failed) leaves the
// chunk unusable: every later call, Close included, returns that error, and
// the caller must discard what was written.
type Writer struct {
	codec   Codec
	bw      *bufio.Writer // between the compressor (or tar, for None) and the caller's writer
	comp    compressor    // nil for None
	tw      *tar.Writer
	written int64
	onBytes func(n int64) // told of every piece of file content written
	err     error         // first error that broke the stream
	closed  bool
}

// OnBytes makes the Writer call fn with the size of every piece of file
// content it writes (up to 1 MiB each), for progress reports.
func (w *Writer) OnBytes(fn func(n int64)) { w.onBytes = fn }

// NewWriter starts a chunk written to w with codec c. Close finishes it; it
// never closes w.
func NewWriter(w io.Writer, c Codec) (*Writer, error) {
	if w == nil {
		return nil, errors.New("archive: nil writer")
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	bw := bufWPool.Get().(*bufio.Writer)
	bw.Reset(w)
	comp, err := getCompressor(c, bw)
	if err != nil {
		bw.Reset(nil)
		bufWPool.Put(bw)
		return nil, fmt.Errorf("archive: %s encoder: %w", c, err)
	}
	var dst io.Writer = bw
	if comp != nil {
		dst = comp
	}
	return &Writer{codec: c, bw: bw, comp: comp, tw: tar.NewWriter(dst)}, nil
}

// Written is the number of uncompressed file bytes added so far, to decide
// when a chunk is full. Tar headers and padding are not counted.
func (w *Writer) Written() int64 { return w.written }

// AddFile streams size bytes from r into the chunk as a regular-file entry
// called name (mode 0644, uid/gid 0, modTime rounded to the second), hashing
// them as it goes. It fails if r yields fewer or more than size bytes. name
// must pass ValidName; a rejected name or negative size leaves the Writer
// usable.
func (w *Writer) AddFile(name string, r io.Reader, size int64, modTime time.Time) (FileInfo, error) {
	if w.closed {
		return FileInfo{}, ErrClosed
	}
	if w.err != nil {
		return FileInfo{}, w.err
	}
	if err := ValidName(name); err != nil {
		return FileInfo{}, err
	}
	if size < 0 {
		return FileInfo{}, fmt.Errorf("archive: add %q: negative size %d", name, size)
	}
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  modTime,
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return FileInfo{}, w.fail(fmt.Errorf("archive: add %q: write header: %w", name, err))
	}
	h := sha256.New()
	bp := getCopyBuf()
	defer putCopyBuf(bp)
	buf := *bp
	var n int64
	for n < size {
		m, rerr := io.ReadFull(r, buf[:min(int64(len(buf)), size-n)])
		if m > 0 {
			h.Write(buf[:m])
			if _, err := w.tw.Write(buf[:m]); err != nil {
				return FileInfo{}, w.fail(fmt.Errorf("archive: add %q: %w", name, err))
			}
			n += int64(m)
			w.written += int64(m)
			if w.onBytes != nil {
				w.onBytes(int64(m))
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return FileInfo{}, w.fail(fmt.Errorf("archive: add %q: size mismatch: got %d bytes, want %d (file is shorter than its size)", name, n, size))
		}
		if rerr != nil {
			return FileInfo{}, w.fail(fmt.Errorf("archive: add %q: read: %w", name, rerr))
		}
	}
	// The reader must be exhausted now: a file that grew would otherwise be
	// silently cut.
	var one [1]byte
	switch m, rerr := io.ReadFull(r, one[:]); {
	case m > 0:
		return FileInfo{}, w.fail(fmt.Errorf("archive: add %q: size mismatch: more than %d bytes (file is longer than its size)", name, size))
	case rerr != io.EOF:
		return FileInfo{}, w.fail(fmt.Errorf("archive: add %q: read: %w", name, rerr))
	}
	return FileInfo{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// AddPath adds the regular file at path on disk under name: it opens and
// stats it, streams it and closes it. The entry's mtime is the file's.
func (w *Writer) AddPath(name, path string) (FileInfo, error) {
	if w.closed {
		return FileInfo{}, ErrClosed
	}
	if w.err != nil {
		return FileInfo{}, w.err
	}
	f, err := os.Open(path)
	if err != nil {
		return FileInfo{}, fmt.Errorf("archive: add %q: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return FileInfo{}, fmt.Errorf("archive: add %q: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return FileInfo{}, fmt.Errorf("archive: add %q: %s is not a regular file (%s)", name, path, st.Mode().Type())
	}
	return w.AddFile(name, f, st.Size(), st.ModTime())
}

// Close writes the tar end-of-archive marker, finishes the compressed stream
// and flushes everything to the underlying writer, which it does not close.
// It returns the Writer's first error, if any; calling it again returns the
// same result.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil {
		if err := w.tw.Close(); err != nil {
			w.err = fmt.Errorf("archive: finish tar: %w", err)
		}
	}
	if w.err == nil && w.comp != nil {
		if err := w.comp.Close(); err != nil {
			w.err = fmt.Errorf("archive: finish %s: %w", w.codec.Compression, err)
		}
	}
	if w.err == nil {
		if err := w.bw.Flush(); err != nil {
			w.err = fmt.Errorf("archive: write chunk: %w", err)
		}
	}
	// Only a cleanly finished encoder goes back to the pool.
	if w.comp != nil && w.err == nil {
		putCompressor(w.codec, w.comp)
	}
	w.bw.Reset(nil)
	bufWPool.Put(w.bw)
	w.comp, w.bw, w.tw = nil, nil, nil
	return w.err
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}
