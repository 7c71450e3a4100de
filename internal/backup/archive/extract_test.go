package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawChunk builds a chunk from arbitrary tar headers, bypassing Writer's
// checks, to feed Extract what an attacker or a bug could produce.
func rawChunk(t *testing.T, c Compression, hdrs []*tar.Header, bodies []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	comp, err := getCompressor(Codec{Compression: c, Level: 1}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	var dst io.Writer = &buf
	if comp != nil {
		dst = comp
	}
	tw := tar.NewWriter(dst)
	for i, h := range hdrs {
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(bodies[i]))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, bodies[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if comp != nil {
		if err := comp.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func reg(name string) *tar.Header { return &tar.Header{Typeflag: tar.TypeReg, Name: name} }

// sandbox returns dest inside a fresh parent directory, so that tests can
// check nothing appeared next to dest.
func sandbox(t *testing.T) (parent, dest string) {
	parent = t.TempDir()
	dest = filepath.Join(parent, "dest")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	return parent, dest
}

// onlyDest fails if anything but dest (and what the test put there) exists
// in parent.
func onlyDest(t *testing.T, parent string, allowed ...string) {
	t.Helper()
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		ok := e.Name() == "dest"
		for _, a := range allowed {
			ok = ok || e.Name() == a
		}
		if !ok {
			t.Errorf("%s was created outside the destination", e.Name())
		}
	}
}

func TestValidName(t *testing.T) {
	for _, good := range []string{"a", "a/b", "article/WIUb0ZXkW7sb/lsm/objects/segment-1.l0.s0.db", "a/.hidden", "a..b", "...", "a b/c:d"} {
		if err := ValidName(good); err != nil {
			t.Errorf("ValidName(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"", "/abs", "../x", "a/../../b", "a/..", "..", ".", "./a", "a/./b", "a//b", "a/", "/", `a\b`, `..\x`, "a\x00b", strings.Repeat("a", 5000)} {
		if err := ValidName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidName(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}

func TestExtractRejects(t *testing.T) {
	type tc struct {
		hdrs   []*tar.Header
		bodies []string
		accept func(string) (string, error)
		want   string // substring of the error
	}
	cases := map[string]tc{
		"dotdot":        {hdrs: []*tar.Header{reg("../x")}, bodies: []string{"evil"}, want: "invalid entry name"},
		"absolute":      {hdrs: []*tar.Header{reg("/abs")}, bodies: []string{"evil"}, want: "absolute"},
		"absolute-tmp":  {hdrs: []*tar.Header{reg(filepath.Join(os.TempDir(), "strata-archive-evil"))}, bodies: []string{"evil"}, want: "absolute"},
		"inner-dotdot":  {hdrs: []*tar.Header{reg("a/../../b")}, bodies: []string{"evil"}, want: `".." path segment`},
		"backslash":     {hdrs: []*tar.Header{reg(`a\..\..\b`)}, bodies: []string{"evil"}, want: "backslash"},
		"empty-segment": {hdrs: []*tar.Header{reg("a//b")}, bodies: []string{"x"}, want: "empty path segment"},
		"symlink": {hdrs: []*tar.Header{{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "/etc/passwd"}, reg("link")},
			bodies: []string{"", "evil"}, want: `"link": symlink entries are not allowed`},
		"hardlink": {hdrs: []*tar.Header{{Typeflag: tar.TypeLink, Name: "hl", Linkname: "../x"}},
			bodies: []string{""}, want: `"hl": hard link entries are not allowed`},
		"device": {hdrs: []*tar.Header{{Typeflag: tar.TypeChar, Name: "dev", Devmajor: 1, Devminor: 3}},
			bodies: []string{""}, want: "character device"},
		"fifo":      {hdrs: []*tar.Header{{Typeflag: tar.TypeFifo, Name: "p"}}, bodies: []string{""}, want: "FIFO"},
		"duplicate": {hdrs: []*tar.Header{reg("s/a"), reg("s/a")}, bodies: []string{"one", "two"}, want: `"s/a": duplicate entry`},
		"same-destination": {hdrs: []*tar.Header{reg("s/a"), reg("t/a")}, bodies: []string{"one", "two"},
			accept: func(n string) (string, error) { return "a", nil }, want: `"t/a": destination "a" already exists`},
		"accept-rejects": {hdrs: []*tar.Header{reg("other/shard/f")}, bodies: []string{"x"},
			accept: func(n string) (string, error) { return "", fmt.Errorf("entry %q belongs to another shard", n) },
			want:   `"other/shard/f": rejected: entry "other/shard/f" belongs to another shard`},
		"accept-escapes": {hdrs: []*tar.Header{reg("s/f")}, bodies: []string{"evil"},
			accept: func(string) (string, error) { return "../x", nil }, want: "not inside the destination"},
		"accept-absolute": {hdrs: []*tar.Header{reg("s/f")}, bodies: []string{"evil"},
			accept: func(string) (string, error) { return "/tmp/x", nil }, want: "not inside the destination"},
		"accept-dot": {hdrs: []*tar.Header{reg("s/f")}, bodies: []string{"evil"},
			accept: func(string) (string, error) { return "a/..", nil }, want: "not inside the destination"},
		"file-as-dir": {hdrs: []*tar.Header{reg("s"), reg("s/f")}, bodies: []string{"x", "y"},
			want: `"s" in the destination directory is not a directory`},
		"dir-dotdot": {hdrs: []*tar.Header{{Typeflag: tar.TypeDir, Name: "../"}}, bodies: []string{""}, want: "invalid entry name"},
		"split-part": {hdrs: []*tar.Header{{Typeflag: tar.TypeReg, Name: "s/big", PAXRecords: map[string]string{"WEAVIATE.fileOffset": "100"}}},
			bodies: []string{"part"}, want: "WEAVIATE.fileOffset"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, comp := range []Compression{None, Gzip} {
				chunk := rawChunk(t, comp, c.hdrs, c.bodies)
				parent, dest := sandbox(t)
				_, err := Extract(context.Background(), bytes.NewReader(chunk), comp, dest, c.accept, nil)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("%s: error %v, want one containing %q", comp, err, c.want)
				}
				onlyDest(t, parent)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(os.TempDir(), "strata-archive-evil")); err == nil {
		t.Fatal("absolute entry was written")
	}
}

func TestExtractDirectoryEntryTolerated(t *testing.T) {
	chunk := rawChunk(t, None, []*tar.Header{{Typeflag: tar.TypeDir, Name: "s/"}, {Typeflag: tar.TypeDir, Name: "e/"}, reg("s/f")}, []string{"", "", "data"})
	parent, dest := sandbox(t)
	files, err := Extract(context.Background(), bytes.NewReader(chunk), None, dest, nil, nil)
	if err != nil || len(files) != 1 || files[0].Name != "s/f" {
		t.Fatalf("%+v %v", files, err)
	}
	if _, err := os.Stat(filepath.Join(dest, "e")); !os.IsNotExist(err) {
		t.Fatalf("directory entry created a directory: %v", err)
	}
	onlyDest(t, parent)
}

func TestExtractRefusesSymlinkInDestination(t *testing.T) {
	parent, dest := sandbox(t)
	outside := filepath.Join(parent, "outside")
	os.Mkdir(outside, 0o755)
	// dest/shard -> ../outside, dest/a/b -> ../outside (deeper), dest/f -> ../outside/f (the file itself)
	os.Symlink(outside, filepath.Join(dest, "shard"))
	os.Mkdir(filepath.Join(dest, "a"), 0o755)
	os.Symlink(outside, filepath.Join(dest, "a", "b"))
	os.Symlink(filepath.Join(outside, "f"), filepath.Join(dest, "f"))
	// An in-tree symlink is refused too.
	os.Mkdir(filepath.Join(dest, "real"), 0o755)
	os.Symlink("real", filepath.Join(dest, "inside"))
	for name, want := range map[string]string{
		"shard/file":   `"shard" in the destination directory is a symlink`,
		"a/b/c/file":   `"a/b" in the destination directory is a symlink`,
		"f":            `destination "f" already exists`,
		"inside/file":  `"inside" in the destination directory is a symlink`,
		"real/ok/file": "",
	} {
		for _, comp := range []Compression{None, Zstd} {
			chunk := rawChunk(t, comp, []*tar.Header{reg(name)}, []string{"evil"})
			_, err := Extract(context.Background(), bytes.NewReader(chunk), comp, dest, nil, nil)
			if want == "" {
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				os.RemoveAll(filepath.Join(dest, "real", "ok"))
				continue
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s (%s): error %v, want %q", name, comp, err, want)
			}
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("written outside the destination: %v", entries)
	}
	onlyDest(t, parent, "outside")
}

// A file that already exists is neither overwritten nor truncated.
func TestExtractNeverOverwrites(t *testing.T) {
	_, dest := sandbox(t)
	os.MkdirAll(filepath.Join(dest, "s"), 0o755)
	os.WriteFile(filepath.Join(dest, "s", "f"), []byte("original"), 0o644)
	chunk := rawChunk(t, None, []*tar.Header{reg("s/f")}, []string{"new"})
	if _, err := Extract(context.Background(), bytes.NewReader(chunk), None, dest, nil, nil); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("error %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "s", "f")); string(b) != "original" {
		t.Fatalf("existing file changed to %q", b)
	}
}

func TestExtractWantMismatch(t *testing.T) {
	files := sampleFiles()
	chunk, infos := writeChunk(t, Codec{Zstd, 1}, files)
	target := infos[6] // the 3 MiB file
	for name, c := range map[string]struct {
		edit func(map[string]FileInfo)
		want string
	}{
		"checksum": {func(m map[string]FileInfo) {
			fi := m[target.Name]
			fi.SHA256 = strings.Repeat("ab", 32)
			m[target.Name] = fi
		}, fmt.Sprintf(`chunk entry %q: checksum mismatch (want %s, got %s)`, target.Name, strings.Repeat("ab", 32), target.SHA256)},
		"size": {func(m map[string]FileInfo) {
			fi := m[target.Name]
			fi.Size++
			m[target.Name] = fi
		}, fmt.Sprintf(`chunk entry %q: size mismatch (want %d, got %d)`, target.Name, target.Size+1, target.Size)},
		"unexpected": {func(m map[string]FileInfo) { delete(m, target.Name) }, fmt.Sprintf(`unexpected file %q`, target.Name)},
	} {
		t.Run(name, func(t *testing.T) {
			want := wantMap(infos)
			c.edit(want)
			dest := t.TempDir()
			got, err := Extract(context.Background(), bytes.NewReader(chunk), Zstd, dest, nil, want)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if len(got) != 6 {
				t.Fatalf("returned %d files extracted before the error, want 6", len(got))
			}
			if _, err := os.Stat(filepath.Join(dest, filepath.FromSlash(target.Name))); !os.IsNotExist(err) {
				t.Fatalf("the failed file was left behind: %v", err)
			}
		})
	}
}

// corruptible is a chunk's content: a file that compresses well (so the
// compressed stream is mostly structure, not literal bytes) and random ones.
func corruptible() []testFile {
	return []testFile{
		{"c/s/small", []byte("hello")},
		{"c/s/text", bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog "), 50_000)},
		{"c/s/random", randBytes(11, 600_000)},
		{"c/s/last", []byte("end")},
	}
}

// Every flipped byte of a compressed chunk is detected: by the decoder, the
// tar reader, the end-of-stream checks or a file's checksum. A checksum error
// names the file.
//
// The exceptions are bytes no checksum of the format covers and whose change
// leaves the content intact: gzip's MTIME, XFL and OS header bytes (4..9) and
// the padding bits of the last deflate byte; zstd's window descriptor (byte
// 5), which a larger window still decodes. The chunk's own SHA-256
// (HashingReader) catches those.
func TestExtractDetectsFlippedByteInCompressedStream(t *testing.T) {
	for _, codec := range []Codec{{Gzip, 1}, {Gzip, 9}, {Zstd, 1}, {Zstd, 3}} {
		chunk, infos := writeChunk(t, codec, corruptible())
		want := wantMap(infos)
		positions := []int{0, 1, 2, 3, 5, 10, 11, 20, len(chunk) - 1, len(chunk) - 4, len(chunk) - 9}
		for i := 1; i < 40; i++ {
			positions = append(positions, len(chunk)*i/40)
		}
		for _, pos := range positions {
			bad := bytes.Clone(chunk)
			bad[pos] ^= 0x10
			hr := NewHashingReader(bytes.NewReader(bad))
			files, err := Extract(context.Background(), hr, codec.Compression, t.TempDir(), nil, want)
			unchecked := codec.Compression == Gzip && (pos >= 4 && pos <= 9 || pos == len(chunk)-9) ||
				codec.Compression == Zstd && pos == 5
			if unchecked && err == nil {
				if err := hr.Verify(int64(len(chunk)), sha(chunk)); err == nil {
					t.Fatalf("%s: flipped header byte at %d not detected by the chunk checksum", codec, pos)
				}
				continue
			}
			if err == nil {
				t.Fatalf("%s: flipped byte at %d of %d not detected (%d files)", codec, pos, len(chunk), len(files))
			}
			if strings.Contains(err.Error(), "checksum mismatch") && !strings.Contains(err.Error(), `chunk entry "c/s/`) {
				t.Fatalf("%s: checksum error does not name the file: %v", codec, err)
			}
		}
	}
}

func TestExtractDetectsFlippedByteInPlainChunk(t *testing.T) {
	files := corruptible()
	chunk, infos := writeChunk(t, Codec{Compression: None}, files)
	for _, f := range files[1:3] {
		off := bytes.Index(chunk, f.data)
		if off < 0 {
			t.Fatal("content not found")
		}
		for _, d := range []int{0, len(f.data) / 2, len(f.data) - 1} {
			bad := bytes.Clone(chunk)
			bad[off+d] ^= 1
			_, err := Extract(context.Background(), bytes.NewReader(bad), None, t.TempDir(), nil, wantMap(infos))
			wantMsg := fmt.Sprintf("chunk entry %q: checksum mismatch", f.name)
			if err == nil || !strings.Contains(err.Error(), wantMsg) {
				t.Fatalf("flip in %s at %d: error %v, want %q", f.name, d, err, wantMsg)
			}
		}
	}
	// A flipped byte in a header breaks the header checksum.
	bad := bytes.Clone(chunk)
	bad[3] ^= 1
	if _, err := Extract(context.Background(), bytes.NewReader(bad), None, t.TempDir(), nil, wantMap(infos)); err == nil {
		t.Fatal("flipped header byte not detected")
	}
}

func TestExtractDetectsTruncation(t *testing.T) {
	files := corruptible()
	for _, codec := range []Codec{{None, 0}, {Gzip, 1}, {Zstd, 1}} {
		chunk, infos := writeChunk(t, codec, files)
		cuts := []int{0, 1, 10, len(chunk) / 3, len(chunk) / 2, len(chunk) - 1000, len(chunk) - 512, len(chunk) - 100, len(chunk) - 4, len(chunk) - 1}
		if codec.Compression == None {
			// Cut exactly at entry boundaries and inside the end marker: a
			// tar reader alone would take these for a complete archive.
			cuts = append(cuts, 512+512, len(chunk)-1024, len(chunk)-512)
		}
		for _, cut := range cuts {
			for _, want := range []map[string]FileInfo{wantMap(infos), nil} {
				_, err := Extract(context.Background(), bytes.NewReader(chunk[:cut]), codec.Compression, t.TempDir(), nil, want)
				if err == nil {
					t.Fatalf("%s: chunk cut to %d of %d bytes not detected", codec, cut, len(chunk))
				}
			}
		}
		if codec.Compression == None {
			_, err := Extract(context.Background(), bytes.NewReader(chunk[:len(chunk)-1024]), None, t.TempDir(), nil, nil)
			if err == nil || !strings.Contains(err.Error(), `truncated after chunk entry "c/s/last": missing end-of-archive marker`) {
				t.Fatalf("error %v", err)
			}
		}
	}
}

func TestExtractRejectsTrailingData(t *testing.T) {
	chunk, _ := writeChunk(t, Codec{Compression: None}, corruptible())
	padded := append(bytes.Clone(chunk), make([]byte, 9216)...) // zero record padding, as GNU tar writes
	if _, err := Extract(context.Background(), bytes.NewReader(padded), None, t.TempDir(), nil, nil); err != nil {
		t.Fatalf("zero padding refused: %v", err)
	}
	garbage := append(bytes.Clone(chunk), []byte("garbage")...)
	if _, err := Extract(context.Background(), bytes.NewReader(garbage), None, t.TempDir(), nil, nil); err == nil {
		t.Fatal("trailing garbage accepted")
	}
	for _, codec := range []Codec{{Gzip, 1}, {Zstd, 1}} {
		chunk, _ := writeChunk(t, codec, corruptible())
		garbage := append(bytes.Clone(chunk), []byte("garbage after the compressed stream")...)
		if _, err := Extract(context.Background(), bytes.NewReader(garbage), codec.Compression, t.TempDir(), nil, nil); err == nil {
			t.Fatalf("%s: trailing garbage accepted", codec)
		}
	}
}

func TestExtractWrongCompression(t *testing.T) {
	chunk, _ := writeChunk(t, Codec{Zstd, 1}, corruptible())
	for _, c := range []Compression{Gzip, None} {
		if _, err := Extract(context.Background(), bytes.NewReader(chunk), c, t.TempDir(), nil, nil); err == nil {
			t.Fatalf("zstd chunk read as %s", c)
		}
	}
	if _, err := Extract(context.Background(), bytes.NewReader(chunk), "lz4", t.TempDir(), nil, nil); err == nil {
		t.Fatal("unknown compression accepted")
	}
	if _, err := Extract(context.Background(), bytes.NewReader(chunk), Zstd, filepath.Join(t.TempDir(), "missing"), nil, nil); err == nil {
		t.Fatal("missing destination accepted")
	}
}

// slowReader yields its data in small pieces and cancels ctx midway.
type slowReader struct {
	r      io.Reader
	n      int
	cancel func()
}

func (s *slowReader) Read(p []byte) (int, error) {
	s.n++
	if s.n == 50 {
		s.cancel()
	}
	return s.r.Read(p[:min(len(p), 4096)])
}

func TestExtractCancel(t *testing.T) {
	chunk, _ := writeChunk(t, Codec{Zstd, 1}, sampleFiles())
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Extract(ctx, &slowReader{r: bytes.NewReader(chunk), cancel: cancel}, Zstd, t.TempDir(), nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if _, err := Extract(ctx, bytes.NewReader(chunk), Zstd, t.TempDir(), nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// Extract and the hashing reader together cover the whole stored chunk.
func TestExtractWithHashingReader(t *testing.T) {
	chunk, infos := writeChunk(t, Codec{Gzip, 1}, sampleFiles())
	hr := NewHashingReader(bytes.NewReader(chunk))
	if _, err := Extract(context.Background(), hr, Gzip, t.TempDir(), nil, wantMap(infos)); err != nil {
		t.Fatal(err)
	}
	if err := hr.Verify(int64(len(chunk)), sha(chunk)); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyChecksWithoutWriting: Verify accepts a good chunk, returning
// every file as Extract would, and finds what Extract finds — a flipped
// byte, a truncation, a file whose checksum the manifest does not match —
// without writing anything.
func TestVerifyChecksWithoutWriting(t *testing.T) {
	for _, codec := range []Codec{{Gzip, 1}, {Zstd, 1}, {None, 0}} {
		chunk, infos := writeChunk(t, codec, corruptible())
		want := wantMap(infos)
		got, err := Verify(context.Background(), bytes.NewReader(chunk), codec.Compression, want)
		if err != nil || len(got) != len(infos) {
			t.Fatalf("%s: good chunk: %d files, %v", codec, len(got), err)
		}
		for i := range got {
			if got[i] != infos[i] {
				t.Fatalf("%s: file %d: %+v, want %+v", codec, i, got[i], infos[i])
			}
		}
		flipped := bytes.Clone(chunk)
		flipped[len(chunk)/2] ^= 0x10
		if _, err := Verify(context.Background(), bytes.NewReader(flipped), codec.Compression, want); err == nil {
			t.Fatalf("%s: flipped byte not found", codec)
		}
		if _, err := Verify(context.Background(), bytes.NewReader(chunk[:len(chunk)*2/3]), codec.Compression, want); err == nil {
			t.Fatalf("%s: truncation not found", codec)
		}
		bad := wantMap(infos)
		fi := bad["c/s/random"]
		fi.SHA256 = strings.Repeat("00", 32)
		bad["c/s/random"] = fi
		if _, err := Verify(context.Background(), bytes.NewReader(chunk), codec.Compression, bad); err == nil || !strings.Contains(err.Error(), `chunk entry "c/s/random": checksum mismatch`) {
			t.Fatalf("%s: checksum mismatch: %v", codec, err)
		}
	}
}
