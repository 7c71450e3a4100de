package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is how a chunk's tar stream is wrapped; its value is what the
// backup descriptors store as compressionType.
type Compression string

// The chunk encodings of the backup format.
const (
	Gzip Compression = "gzip" // one gzip stream (members may be concatenated)
	Zstd Compression = "zstd" // zstd frames
	None Compression = "none" // plain tar
)

// Valid reports whether c is one of Gzip, Zstd, None.
func (c Compression) Valid() bool {
	return c == Gzip || c == Zstd || c == None
}

// Codec is a compression and its level: a gzip level (-3..9, as in
// klauspost/compress/flate) for Gzip, a zstd.EncoderLevel for Zstd (0 means
// zstd.SpeedDefault), ignored for None.
type Codec struct {
	Compression Compression
	Level       int
}

func (c Codec) String() string {
	switch c.Compression {
	case Zstd:
		return "zstd/" + c.zstdLevel().String()
	case Gzip:
		return fmt.Sprintf("gzip/%d", c.Level)
	}
	return string(c.Compression)
}

func (c Codec) zstdLevel() zstd.EncoderLevel {
	if c.Level == 0 {
		return zstd.SpeedDefault
	}
	return zstd.EncoderLevel(c.Level)
}

// validate reports whether NewWriter can build an encoder for c.
func (c Codec) validate() error {
	switch c.Compression {
	case None:
		return nil
	case Gzip:
		if c.Level < gzip.StatelessCompression || c.Level > gzip.BestCompression {
			return fmt.Errorf("archive: invalid gzip level %d", c.Level)
		}
		return nil
	case Zstd:
		if l := c.zstdLevel(); l < zstd.SpeedFastest || l > zstd.SpeedBestCompression {
			return fmt.Errorf("archive: invalid zstd level %d", c.Level)
		}
		return nil
	}
	return fmt.Errorf("archive: unknown compression %q", c.Compression)
}

// Levels lists the API's CompressionLevel enum values, in the order Weaviate
// lists them in its validation message.
var Levels = []string{
	"DefaultCompression", "BestSpeed", "BestCompression",
	"ZstdDefaultCompression", "ZstdBestSpeed", "ZstdBestCompression", "NoCompression",
}

// ErrUnknownLevel is wrapped by ParseLevel's error for a value outside Levels.
var ErrUnknownLevel = errors.New("unknown CompressionLevel")

// ParseLevel maps the API's CompressionLevel enum value to a Codec:
//
//	"" or "DefaultCompression"  zstd, zstd.SpeedFastest   (Strata's choice, see below)
//	"BestSpeed"                 gzip level 1
//	"BestCompression"           gzip level 9
//	"ZstdBestSpeed"             zstd, zstd.SpeedFastest
//	"ZstdDefaultCompression"    zstd, zstd.SpeedDefault
//	"ZstdBestCompression"       zstd, zstd.SpeedBetterCompression
//	"NoCompression"             none (plain tar)
//
// DefaultCompression deliberately differs from Weaviate, which uses gzip
// level 6: zstd at its fastest level is several times faster, and on shard
// data the ratio is similar — full-precision float32 vectors and pebble's
// already-compressed blocks barely compress (BenchmarkWriteExtract: gzip 6
// and 9 save ~8%, gzip 1 ~3%; zstd fastest stores such blocks raw at ~1 GB/s
// while still compressing what is compressible). The descriptor's
// compressionType records what was used, so no reader has to guess. Gzip is written with klauspost/compress,
// which is wire-compatible with compress/gzip and much faster.
//
// Values are case-sensitive, like the API's enum; anything else returns an
// error wrapping ErrUnknownLevel.
func ParseLevel(s string) (Codec, error) {
	switch s {
	case "", "DefaultCompression", "ZstdBestSpeed":
		return Codec{Compression: Zstd, Level: int(zstd.SpeedFastest)}, nil
	case "BestSpeed":
		return Codec{Compression: Gzip, Level: gzip.BestSpeed}, nil
	case "BestCompression":
		return Codec{Compression: Gzip, Level: gzip.BestCompression}, nil
	case "ZstdDefaultCompression":
		return Codec{Compression: Zstd, Level: int(zstd.SpeedDefault)}, nil
	case "ZstdBestCompression":
		return Codec{Compression: Zstd, Level: int(zstd.SpeedBetterCompression)}, nil
	case "NoCompression":
		return Codec{Compression: None}, nil
	}
	return Codec{}, fmt.Errorf("%w %q: should be one of [%s]", ErrUnknownLevel, s, strings.Join(Levels, " "))
}

// Buffer sizes. Every buffer is pooled, so their sum bounds the memory of one
// Writer or Extract (plus the codec's own state: a zstd window of at most
// zstdMaxEncoderWindow, or gzip's ~1 MiB).
const (
	copyBufSize = 1 << 20   // file content is moved in pieces of this size
	ioBufSize   = 256 << 10 // buffering between codec and the caller's io.Writer / io.Reader

	// zstdMaxEncoderWindow caps the encoder's window (SpeedFastest uses 4 MiB).
	zstdMaxEncoderWindow = 8 << 20
	// zstdMaxDecoderWindow is the largest window a chunk may declare; frames
	// asking for more are refused rather than allocated.
	zstdMaxDecoderWindow = 32 << 20
)

var (
	copyBufPool = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}
	bufWPool    = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, ioBufSize) }}
	bufRPool    = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, ioBufSize) }}

	// Encoders and decoders are costly to build (tables, windows) and cheap to
	// Reset, so they are pooled per level. With concurrency 1 they run
	// synchronously in the caller's goroutine and own no goroutines, so a
	// pooled one that is garbage collected leaks nothing.
	gzipWPools [gzip.BestCompression - gzip.StatelessCompression + 1]sync.Pool
	zstdWPools [zstd.SpeedBestCompression + 1]sync.Pool
	gzipRPool  sync.Pool
	zstdRPool  sync.Pool
)

func getCopyBuf() *[]byte  { return copyBufPool.Get().(*[]byte) }
func putCopyBuf(b *[]byte) { copyBufPool.Put(b) }

// compressor is a pooled gzip or zstd encoder.
type compressor interface {
	io.WriteCloser
	Reset(w io.Writer)
}

// getCompressor returns an encoder for c writing to w, or nil for None.
func getCompressor(c Codec, w io.Writer) (compressor, error) {
	switch c.Compression {
	case Gzip:
		p := &gzipWPools[c.Level-gzip.StatelessCompression]
		if z, ok := p.Get().(*gzip.Writer); ok {
			z.Reset(w)
			return z, nil
		}
		return gzip.NewWriterLevel(w, c.Level)
	case Zstd:
		l := c.zstdLevel()
		if z, ok := zstdWPools[l].Get().(*zstd.Encoder); ok {
			z.Reset(w)
			return z, nil
		}
		window := zstdMaxEncoderWindow
		if l == zstd.SpeedFastest {
			window = 4 << 20
		}
		return zstd.NewWriter(w,
			zstd.WithEncoderLevel(l),
			zstd.WithWindowSize(window), // after the level, which would otherwise set its own
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderCRC(true),
		)
	}
	return nil, nil
}

// putCompressor returns a cleanly closed encoder to its pool.
func putCompressor(c Codec, z compressor) {
	z.Reset(nil) // drop the reference to the caller's writer
	switch c.Compression {
	case Gzip:
		gzipWPools[c.Level-gzip.StatelessCompression].Put(z)
	case Zstd:
		zstdWPools[c.zstdLevel()].Put(z)
	}
}

// decompressor is a pooled gzip or zstd decoder reading from src.
type decompressor struct {
	io.Reader
	gz *gzip.Reader
	zd *zstd.Decoder
}

func getDecompressor(c Compression, src io.Reader) (*decompressor, error) {
	switch c {
	case None:
		return &decompressor{Reader: src}, nil
	case Gzip:
		if z, ok := gzipRPool.Get().(*gzip.Reader); ok {
			if err := z.Reset(src); err != nil {
				gzipRPool.Put(z)
				return nil, fmt.Errorf("gzip header: %w", err)
			}
			return &decompressor{Reader: z, gz: z}, nil
		}
		z, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("gzip header: %w", err)
		}
		return &decompressor{Reader: z, gz: z}, nil
	case Zstd:
		z, ok := zstdRPool.Get().(*zstd.Decoder)
		if !ok {
			var err error
			z, err = zstd.NewReader(nil,
				zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderLowmem(true),
				zstd.WithDecoderMaxWindow(zstdMaxDecoderWindow),
			)
			if err != nil {
				return nil, err
			}
		}
		if err := z.Reset(src); err != nil {
			return nil, err
		}
		return &decompressor{Reader: z, zd: z}, nil
	}
	return nil, fmt.Errorf("archive: unknown compression %q", c)
}

// release returns the decoder to its pool.
func (d *decompressor) release() {
	switch {
	case d.gz != nil:
		_ = d.gz.Reset(bytes.NewReader(nil)) // drops the source; the io.EOF is expected
		gzipRPool.Put(d.gz)
	case d.zd != nil:
		_ = d.zd.Reset(nil) // drops the source; never fails for nil
		zstdRPool.Put(d.zd)
	}
	d.Reader, d.gz, d.zd = nil, nil, nil
}
