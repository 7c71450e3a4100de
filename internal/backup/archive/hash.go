package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// HashingWriter passes writes through to an io.Writer and counts and hashes
// (SHA-256) the bytes it accepted: put it between a Writer and the store to
// record the stored chunk's size and checksum.
type HashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

// NewHashingWriter returns a HashingWriter writing to w; a nil w only hashes.
func NewHashingWriter(w io.Writer) *HashingWriter {
	return &HashingWriter{w: w, h: sha256.New()}
}

// Write writes p to the underlying writer and hashes what it accepted.
func (hw *HashingWriter) Write(p []byte) (int, error) {
	n, err := len(p), error(nil)
	if hw.w != nil {
		n, err = hw.w.Write(p)
	}
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// Size is the number of bytes written so far.
func (hw *HashingWriter) Size() int64 { return hw.n }

// Sum is the lowercase hex SHA-256 of the bytes written so far.
func (hw *HashingWriter) Sum() string { return hex.EncodeToString(hw.h.Sum(nil)) }

// HashingReader passes reads through from an io.Reader and counts and
// hashes (SHA-256) the bytes read: put it between the store and Extract, read
// it to EOF, then Verify the stored chunk's size and checksum.
type HashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

// NewHashingReader returns a HashingReader reading from r.
func NewHashingReader(r io.Reader) *HashingReader {
	return &HashingReader{r: r, h: sha256.New()}
}

// Read reads from the underlying reader and hashes what it returned.
func (hr *HashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	hr.n += int64(n)
	return n, err
}

// Size is the number of bytes read so far.
func (hr *HashingReader) Size() int64 { return hr.n }

// Sum is the lowercase hex SHA-256 of the bytes read so far.
func (hr *HashingReader) Sum() string { return hex.EncodeToString(hr.h.Sum(nil)) }

// Verify reads the rest of the underlying reader, then checks that the
// bytes read in total have the given size and (hex) SHA-256.
func (hr *HashingReader) Verify(size int64, sha256Hex string) error {
	bp := getCopyBuf()
	_, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, hr, *bp) // hide ReaderFrom to use bp
	putCopyBuf(bp)
	if err != nil {
		return fmt.Errorf("chunk: read: %w", err)
	}
	if got := hr.Sum(); hr.n != size || got != sha256Hex {
		return fmt.Errorf("chunk: checksum mismatch (want %d bytes sha256 %s, got %d bytes sha256 %s)", size, sha256Hex, hr.n, got)
	}
	return nil
}
