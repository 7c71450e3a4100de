package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// zstdZeros is a hand-made zstd frame of n RLE blocks of 128 KiB zeros: 4
// bytes per block, so 512 KiB of it decode to 16 GiB.
func zstdZeros(n int) []byte {
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3} // magic, no checksum, window 128 KiB
	for i := range n {
		h := 128<<10<<3 | 1<<1 // block size, type RLE
		if i == n-1 {
			h |= 1 // last block
		}
		frame = append(frame, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	return frame
}

// gzipZeros is a gzip member of n zero bytes.
func gzipZeros(t *testing.T, n int) []byte {
	var buf bytes.Buffer
	z, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := z.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Zeros appended after a chunk — a tiny compressed bomb — are refused after
// at most maxPadding decoded bytes, with or without want.
func TestExtractBoundsPaddingAfterTheEnd(t *testing.T) {
	for _, tc := range []struct {
		c    Compression
		tail []byte
	}{
		{Zstd, zstdZeros(8 << 10)},   // 32 KiB decoding to 1 GiB
		{Gzip, gzipZeros(t, 64<<20)}, // 64 KiB decoding to 64 MiB
		{None, make([]byte, maxPadding+512)},
	} {
		chunk, infos := writeChunk(t, Codec{Compression: tc.c, Level: 1}, corruptible())
		bomb := append(bytes.Clone(chunk), tc.tail...)
		for _, want := range []map[string]FileInfo{wantMap(infos), nil} {
			_, err := Extract(context.Background(), bytes.NewReader(bomb), tc.c, t.TempDir(), nil, want)
			msg := fmt.Sprintf("chunk: more than %d bytes of padding after the end-of-archive marker", maxPadding)
			if err == nil || err.Error() != msg {
				t.Fatalf("%s (%d-byte tail): error %v, want %q", tc.c, len(tc.tail), err, msg)
			}
		}
	}
}

// With want, the decoded tar stream cannot outgrow what want's files need:
// entries that carry no file (directory entries) are refused once they
// pass that.
func TestExtractBoundsTheDecodedStream(t *testing.T) {
	const dirs = 5000
	hdrs := []*tar.Header{reg("s/f")}
	bodies := []string{"data"}
	for i := range dirs {
		hdrs = append(hdrs, &tar.Header{Typeflag: tar.TypeDir, Name: fmt.Sprintf("s/d%d/", i)})
		bodies = append(bodies, "")
	}
	for _, c := range []Compression{None, Zstd} {
		chunk := rawChunk(t, c, hdrs, bodies)
		want := map[string]FileInfo{"s/f": {Name: "s/f", Size: 4, SHA256: sha([]byte("data"))}}
		_, err := Extract(context.Background(), bytes.NewReader(chunk), c, t.TempDir(), nil, want)
		if !errors.Is(err, errTooLarge) || !strings.Contains(err.Error(), "the decoded chunk is larger than its files' recorded sizes allow") {
			t.Fatalf("%s: %d directory entries after a 4-byte file: error %v", c, dirs, err)
		}
		// Unchecked (no want), the same chunk is fine.
		if _, err := Extract(context.Background(), bytes.NewReader(chunk), c, t.TempDir(), nil, nil); err != nil {
			t.Fatalf("%s without want: %v", c, err)
		}
	}
	// A chunk as Writer makes it is always within the bound, also with
	// long names (PAX records).
	long := strings.Repeat(strings.Repeat("n", 199)+"/", 15) + "f" // 3001 bytes
	files := append(corruptible(), testFile{long, []byte("x")}, testFile{"c/s/empty", nil})
	chunk, infos := writeChunk(t, Codec{Compression: Zstd, Level: 1}, files)
	if _, err := Extract(context.Background(), bytes.NewReader(chunk), Zstd, t.TempDir(), nil, wantMap(infos)); err != nil {
		t.Fatalf("chunk within its bound refused: %v", err)
	}
}
