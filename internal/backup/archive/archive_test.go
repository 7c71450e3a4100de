package archive

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// testFile is one file of a test chunk.
type testFile struct {
	name string
	data []byte
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sampleFiles has empty, tiny, block-boundary and multi-MiB files, random and
// compressible, in nested directories.
func sampleFiles() []testFile {
	return []testFile{
		{"article/s1/indexcount", []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{"article/s1/empty", nil},
		{"article/s1/one", []byte("x")},
		{"article/s1/b511", randBytes(1, 511)},
		{"article/s1/b512", randBytes(2, 512)},
		{"article/s1/b513", randBytes(3, 513)},
		{"article/s1/lsm/objects/000001.sst", randBytes(4, 3<<20+17)},
		{"article/s1/lsm/objects/000002.sst", bytes.Repeat([]byte("vector data "), 400_000)},
		{"article/s1/MANIFEST-000001", randBytes(5, 1<<20)},
		{"article/s1/lsm/very/deep/dir/tree/f", []byte("deep")},
		// Names USTAR cannot hold get PAX records.
		{"article/s1/" + strings.Repeat("long-name-", 20) + "x.sst", []byte("long")},
		{"article/s1/ünïcødé/файл", []byte("utf-8")},
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// allCodecs is every codec ParseLevel can return, plus gzip's default level.
func allCodecs(t testing.TB) map[string]Codec {
	out := map[string]Codec{"gzip-6": {Compression: Gzip, Level: 6}}
	for _, l := range Levels {
		c, err := ParseLevel(l)
		if err != nil {
			t.Fatal(err)
		}
		out[l] = c
	}
	return out
}

// writeChunk writes files into one chunk and checks the returned FileInfos.
func writeChunk(t testing.TB, c Codec, files []testFile) ([]byte, []FileInfo) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, c)
	if err != nil {
		t.Fatal(err)
	}
	var infos []FileInfo
	var total int64
	for _, f := range files {
		fi, err := w.AddFile(f.name, bytes.NewReader(f.data), int64(len(f.data)), time.Unix(1_700_000_000, 0))
		if err != nil {
			t.Fatal(err)
		}
		want := FileInfo{Name: f.name, Size: int64(len(f.data)), SHA256: sha(f.data)}
		if fi != want {
			t.Fatalf("AddFile FileInfo = %+v, want %+v", fi, want)
		}
		total += int64(len(f.data))
		if w.Written() != total {
			t.Fatalf("Written = %d, want %d", w.Written(), total)
		}
		infos = append(infos, fi)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.AddFile("late", strings.NewReader(""), 0, time.Time{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("AddFile after Close: %v, want ErrClosed", err)
	}
	return buf.Bytes(), infos
}

func wantMap(infos []FileInfo) map[string]FileInfo {
	m := map[string]FileInfo{}
	for _, fi := range infos {
		m[fi.Name] = fi
	}
	return m
}

func TestRoundTripEveryCodec(t *testing.T) {
	files := sampleFiles()
	for name, c := range allCodecs(t) {
		t.Run(name, func(t *testing.T) {
			chunk, infos := writeChunk(t, c, files)
			dest := t.TempDir()
			got, err := Extract(context.Background(), bytes.NewReader(chunk), c.Compression, dest, nil, wantMap(infos))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(infos) {
				t.Fatalf("extracted %d files, want %d", len(got), len(infos))
			}
			for i := range infos {
				if got[i] != infos[i] {
					t.Fatalf("extracted FileInfo %+v, want %+v", got[i], infos[i])
				}
			}
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(f.name)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, f.data) {
					t.Fatalf("%s: content differs (%d bytes, want %d)", f.name, len(b), len(f.data))
				}
				st, _ := os.Stat(filepath.Join(dest, filepath.FromSlash(f.name)))
				if st.Mode().Perm()&^0o022 != 0o644&^0o022 {
					t.Fatalf("%s: mode %v", f.name, st.Mode())
				}
			}
			if c.Compression != None && len(chunk) >= 5<<20 { // 9 MiB in, 4 MiB of it random
				t.Fatalf("%s chunk is %d bytes: compressible file not compressed?", c, len(chunk))
			}
			// Without want and with an accept mapping names elsewhere.
			dest2 := t.TempDir()
			got, err = Extract(context.Background(), bytes.NewReader(chunk), c.Compression, dest2,
				func(name string) (string, error) { return filepath.Join("x", filepath.FromSlash(name)), nil }, nil)
			if err != nil || len(got) != len(files) {
				t.Fatalf("Extract without want: %d files, %v", len(got), err)
			}
			if _, err := os.Stat(filepath.Join(dest2, "x", "article", "s1", "one")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The chunk is a standard tar stream in a standard gzip / zstd stream.
func TestChunkIsStandardFormat(t *testing.T) {
	files := sampleFiles()[:4]
	mtime := time.Unix(1_700_000_000, 0)
	for name, c := range allCodecs(t) {
		chunk, _ := writeChunk(t, c, files)
		var r io.Reader = bytes.NewReader(chunk)
		switch c.Compression {
		case Gzip:
			zr, err := stdgzip.NewReader(r) // the standard library's decoder
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		case Zstd:
			zr, err := zstd.NewReader(r)
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			r = zr
		}
		tr := tar.NewReader(r)
		for i := 0; ; i++ {
			hdr, err := tr.Next()
			if err == io.EOF {
				if i != len(files) {
					t.Fatalf("%s: %d entries, want %d", name, i, len(files))
				}
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if hdr.Name != files[i].name || hdr.Typeflag != tar.TypeReg || hdr.Mode != 0o644 ||
				!hdr.ModTime.Equal(mtime) || hdr.Size != int64(len(files[i].data)) || hdr.Uid != 0 {
				t.Fatalf("%s: header %+v", name, hdr)
			}
			b, _ := io.ReadAll(tr)
			if !bytes.Equal(b, files[i].data) {
				t.Fatalf("%s: content of %s differs", name, hdr.Name)
			}
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			t.Fatalf("%s: trailer: %v", name, err)
		}
	}
}

func TestParseLevel(t *testing.T) {
	cases := map[string]Codec{
		"":                       {Zstd, int(zstd.SpeedFastest)},
		"DefaultCompression":     {Zstd, int(zstd.SpeedFastest)},
		"BestSpeed":              {Gzip, 1},
		"BestCompression":        {Gzip, 9},
		"ZstdBestSpeed":          {Zstd, int(zstd.SpeedFastest)},
		"ZstdDefaultCompression": {Zstd, int(zstd.SpeedDefault)},
		"ZstdBestCompression":    {Zstd, int(zstd.SpeedBetterCompression)},
		"NoCompression":          {None, 0},
	}
	for in, want := range cases {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if err := got.validate(); err != nil {
			t.Errorf("ParseLevel(%q) gives an invalid codec: %v", in, err)
		}
	}
	for _, bad := range []string{"gzip", "bestSpeed", "BESTSPEED", "Zstd", " BestSpeed", "None"} {
		_, err := ParseLevel(bad)
		if !errors.Is(err, ErrUnknownLevel) || !strings.Contains(err.Error(), "NoCompression") {
			t.Errorf("ParseLevel(%q) error = %v", bad, err)
		}
	}
	for _, c := range []Codec{{Gzip, 10}, {Gzip, -4}, {Zstd, 5}, {Zstd, -1}, {"lz4", 0}, {"", 0}} {
		if _, err := NewWriter(io.Discard, c); err == nil {
			t.Errorf("NewWriter(%+v) succeeded", c)
		}
	}
}

func TestAddFileSizeMismatch(t *testing.T) {
	for _, c := range []Codec{{None, 0}, {Gzip, 1}, {Zstd, 1}} {
		// Shorter than announced.
		w, _ := NewWriter(io.Discard, c)
		_, err := w.AddFile("a/short", strings.NewReader("abc"), 4, time.Now())
		if err == nil || !strings.Contains(err.Error(), "size mismatch") || !strings.Contains(err.Error(), `"a/short"`) {
			t.Fatalf("%s short: %v", c, err)
		}
		// The chunk is broken from now on.
		if _, err2 := w.AddFile("a/next", strings.NewReader("x"), 1, time.Now()); err2 == nil {
			t.Fatalf("%s: AddFile after a failure succeeded", c)
		}
		if err2 := w.Close(); err2 == nil {
			t.Fatalf("%s: Close after a failure succeeded", c)
		}

		// Longer than announced.
		w, _ = NewWriter(io.Discard, c)
		_, err = w.AddFile("a/long", strings.NewReader("abcde"), 4, time.Now())
		if err == nil || !strings.Contains(err.Error(), "size mismatch") {
			t.Fatalf("%s long: %v", c, err)
		}
		if w.Close() == nil {
			t.Fatalf("%s: Close after a failure succeeded", c)
		}

		// A failing reader.
		w, _ = NewWriter(io.Discard, c)
		boom := errors.New("boom")
		_, err = w.AddFile("a/err", io.MultiReader(strings.NewReader("ab"), iotestErrReader{boom}), 4, time.Now())
		if !errors.Is(err, boom) {
			t.Fatalf("%s failing reader: %v", c, err)
		}
		w.Close()

		// Rejected names and sizes leave the writer usable.
		var buf bytes.Buffer
		w, _ = NewWriter(&buf, c)
		if _, err := w.AddFile("../x", strings.NewReader(""), 0, time.Now()); !errors.Is(err, ErrInvalidName) {
			t.Fatalf("%s: AddFile(../x) = %v", c, err)
		}
		if _, err := w.AddFile("x", strings.NewReader(""), -1, time.Now()); err == nil {
			t.Fatalf("%s: negative size accepted", c)
		}
		if _, err := w.AddFile("ok", strings.NewReader("fine"), 4, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := Extract(context.Background(), &buf, c.Compression, t.TempDir(), nil, nil)
		if err != nil || len(got) != 1 || got[0].Name != "ok" {
			t.Fatalf("%s: %+v %v", c, got, err)
		}
	}
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after < len(p) {
		return 0, errors.New("disk full")
	}
	f.after -= len(p)
	return len(p), nil
}

func TestWriterOutputError(t *testing.T) {
	for _, c := range []Codec{{None, 0}, {Gzip, 1}, {Zstd, 1}} {
		w, _ := NewWriter(&failWriter{after: 1000}, c)
		var err error
		for i := 0; i < 10 && err == nil; i++ {
			_, err = w.AddFile(fmt.Sprint("f", i), bytes.NewReader(randBytes(uint64(i), 1<<20)), 1<<20, time.Now())
		}
		if err == nil {
			err = w.Close()
		} else if w.Close() == nil {
			t.Fatalf("%s: Close after error succeeded", c)
		}
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("%s: %v", c, err)
		}
	}
}

func TestAddPath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "000007.sst")
	data := randBytes(9, 100_000)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1_600_000_000, 0)
	os.Chtimes(p, mtime, mtime)
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Codec{Zstd, 1})
	fi, err := w.AddPath("c/s/000007.sst", p)
	if err != nil || fi != (FileInfo{"c/s/000007.sst", 100_000, sha(data)}) {
		t.Fatalf("%+v %v", fi, err)
	}
	if _, err := w.AddPath("c/s/dir", dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("AddPath(dir) = %v", err)
	}
	if _, err := w.AddPath("c/s/missing", filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("AddPath(missing) = %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if _, err := Extract(context.Background(), &buf, Zstd, dest, nil, map[string]FileInfo{fi.Name: fi}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dest, "c", "s", "000007.sst"))
	if !bytes.Equal(b, data) {
		t.Fatal("content differs")
	}
}

func TestHashingWriterReader(t *testing.T) {
	data := randBytes(3, 3<<20)
	var dst bytes.Buffer
	hw := NewHashingWriter(&dst)
	io.Copy(hw, bytes.NewReader(data))
	if hw.Size() != int64(len(data)) || hw.Sum() != sha(data) || !bytes.Equal(dst.Bytes(), data) {
		t.Fatal("HashingWriter wrong")
	}
	hr := NewHashingReader(bytes.NewReader(data))
	io.CopyN(io.Discard, hr, 1000)
	if err := hr.Verify(int64(len(data)), sha(data)); err != nil {
		t.Fatal(err)
	}
	if hr.Size() != int64(len(data)) || hr.Sum() != sha(data) {
		t.Fatal("HashingReader wrong")
	}
	bad := bytes.Clone(data)
	bad[12345] ^= 1
	if err := NewHashingReader(bytes.NewReader(bad)).Verify(int64(len(data)), sha(data)); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("Verify(corrupt) = %v", err)
	}
	if err := NewHashingReader(bytes.NewReader(data[:100])).Verify(int64(len(data)), sha(data)); err == nil {
		t.Fatal("Verify(truncated) succeeded")
	}
}

// Many writers and extractors at once share the pools safely (run with -race)
// and may extract into one destination directory.
func TestConcurrentChunks(t *testing.T) {
	dest := t.TempDir()
	codecs := []Codec{{Zstd, 1}, {Zstd, 2}, {Gzip, 1}, {None, 0}}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := codecs[i%len(codecs)]
			var files []testFile
			for k := range 5 {
				files = append(files, testFile{fmt.Sprintf("cls/shard%d/sub/f%d", i, k), randBytes(uint64(i*10+k), 50_000*k)})
			}
			var buf bytes.Buffer
			w, err := NewWriter(&buf, c)
			if err != nil {
				errs <- err
				return
			}
			want := map[string]FileInfo{}
			for _, f := range files {
				fi, err := w.AddFile(f.name, bytes.NewReader(f.data), int64(len(f.data)), time.Time{})
				if err != nil {
					errs <- err
					return
				}
				want[f.name] = fi
			}
			if err := w.Close(); err != nil {
				errs <- err
				return
			}
			got, err := Extract(context.Background(), &buf, c.Compression, dest, nil, want)
			if err == nil && len(got) != len(files) {
				err = fmt.Errorf("chunk %d: %d files", i, len(got))
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
