package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const (
	benchFiles    = 8
	benchFileSize = 8 << 20 // 8 files × 8 MiB = 64 MiB
)

var benchData = sync.OnceValue(func() [][]byte {
	r := rand.New(rand.NewPCG(42, 42))
	out := make([][]byte, benchFiles)
	for f := range out {
		// Like a store of vectors: per record a 16-byte key (sequential id,
		// then zeros) and a 384-dim unit-length float32 embedding with
		// normally distributed components. The mantissas are random; the
		// sign/exponent bytes are skewed, which is what entropy coding can
		// gain on real embeddings.
		b := make([]byte, 0, benchFileSize)
		var v [384]float64
		for id := uint64(0); len(b) < benchFileSize; id++ {
			b = binary.BigEndian.AppendUint64(b, uint64(f)<<40|id)
			b = binary.BigEndian.AppendUint64(b, 0)
			var norm float64
			for d := range v {
				v[d] = r.NormFloat64()
				norm += v[d] * v[d]
			}
			norm = math.Sqrt(norm)
			for d := range v {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v[d]/norm)))
			}
		}
		out[f] = b[:benchFileSize]
	}
	return out
})

// countWriter discards what it is given and counts it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func benchWrite(b *testing.B, c Codec, data [][]byte, w0 *countWriter, out *bytes.Buffer) {
	var dst interface{ Write([]byte) (int, error) } = w0
	if out != nil {
		dst = out
	}
	w, err := NewWriter(dst, c)
	if err != nil {
		b.Fatal(err)
	}
	for i, d := range data {
		if _, err := w.AddFile(fmt.Sprintf("vectors/shard/%06d.sst", i), bytes.NewReader(d), int64(len(d)), time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriteExtract measures chunk writing (files → tar → codec, with
// SHA-256 per file, output discarded) and extraction (codec → tar → files
// with SHA-256 verification and fsync, into a temp dir) of 64 MiB of
// vector-like data, for every CompressionLevel. MB/s is of uncompressed
// bytes; "ratio" is compressed/uncompressed.
func BenchmarkWriteExtract(b *testing.B) {
	data := benchData()
	total := int64(benchFiles * benchFileSize)
	for _, level := range Levels {
		c, err := ParseLevel(level)
		if err != nil {
			b.Fatal(err)
		}
		var chunk bytes.Buffer
		benchWrite(b, c, data, nil, &chunk)
		ratio := float64(chunk.Len()) / float64(total)
		b.Run(level+"/write", func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for range b.N {
				benchWrite(b, c, data, &countWriter{}, nil)
			}
			b.ReportMetric(ratio, "ratio")
		})
		want := map[string]FileInfo{}
		{
			files, err := Extract(context.Background(), bytes.NewReader(chunk.Bytes()), c.Compression, b.TempDir(), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			want = wantMap(files)
		}
		b.Run(level+"/extract", func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			root := b.TempDir()
			for i := range b.N {
				dest := filepath.Join(root, fmt.Sprint(i))
				if err := os.Mkdir(dest, 0o755); err != nil {
					b.Fatal(err)
				}
				if _, err := Extract(context.Background(), bytes.NewReader(chunk.Bytes()), c.Compression, dest, nil, want); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.RemoveAll(dest)
				b.StartTimer()
			}
			b.ReportMetric(ratio, "ratio")
		})
	}
}
