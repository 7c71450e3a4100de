package archive

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"strata/internal/fsutil"
)

// ErrInvalidName is wrapped by every error ValidName returns.
var ErrInvalidName = errors.New("invalid entry name")

// maxNameLen bounds an entry name (Linux PATH_MAX).
const maxNameLen = 4096

// ValidName reports whether name is acceptable as an entry name: a
// non-empty relative slash path of at most 4096 bytes, with no empty, "." or
// ".." segment, no leading or trailing slash, no backslash and no NUL.
func ValidName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidName, name, why) }
	switch {
	case name == "":
		return bad("empty")
	case len(name) > maxNameLen:
		return bad("too long")
	case strings.IndexByte(name, 0) >= 0:
		return bad("contains NUL")
	case strings.IndexByte(name, '\\') >= 0:
		return bad("contains a backslash")
	case name[0] == '/':
		return bad("absolute path")
	}
	for seg := range strings.SplitSeq(name, "/") {
		switch seg {
		case "":
			return bad("empty path segment")
		case ".", "..":
			return bad(fmt.Sprintf("%q path segment", seg))
		}
	}
	return nil
}

// fileOffsetRecord is the PAX record Weaviate puts on the parts of a file it
// split across chunks. Strata never splits files and refuses such entries.
const fileOffsetRecord = "WEAVIATE.fileOffset"

// Extract reads a chunk compressed with c from r and writes its files under
// destDir, which must be an existing directory. It returns the FileInfo of
// every file extracted, in archive order — on error, of those extracted
// before it.
//
// Security. Every entry must be a regular file; a directory entry is checked
// and otherwise ignored (directories are created as files need them);
// symlinks, hard links, devices, FIFOs and other types are refused. The name
// must pass ValidName. accept(name) must return the destination path
// relative to destDir (OS separators) or an error rejecting the entry, e.g. a
// file of another shard; a nil accept uses the name itself. A destination that
// is not local to destDir is refused, and so is one whose existing path under
// destDir crosses a symlink; all file-system access goes through an os.Root
// on destDir, so nothing outside it is ever created or written, even if
// destDir is changed concurrently. Files are created with O_EXCL and mode
// 0644 (a second entry for the same destination is an error; an existing
// file is never overwritten), written streaming and fsynced; every directory
// in which a file or directory was created is fsynced before Extract
// returns successfully.
//
// Verification. If want is not nil, every entry must be in it (else
// `unexpected file "<name>"`) and its size and SHA-256 must equal want's
// (`chunk entry "<name>": size mismatch (...)` / `checksum mismatch (want
// <hex>, got <hex>)`). Extract does not check that every file of want is
// present: compare the returned list. The tar end-of-archive marker must be
// present, and the rest of the stream after it must decode (verifying the
// gzip CRC or zstd frame checksum) to zero bytes only, so a truncated or
// corrupt chunk is an error, wrapped with the name of the entry being read
// when known. On error, files already written are left in destDir for the
// caller to remove (a file whose own check failed is removed).
//
// Size is bounded, so a small chunk cannot make Extract decode without
// end. With want, the decoded tar stream may not exceed what want's files
// need (their content padded to tar blocks, plus maxEntryOverhead per file
// for headers and the end-of-archive marker); and every entry's size must
// equal want's before any byte of it is written, so no file outgrows its
// recorded size. Always, at most maxPadding zero bytes may follow the
// end-of-archive marker. Past a bound Extract fails at once.
//
// Memory is bounded: a 1 MiB copy buffer, a 256 KiB read buffer and the
// decoder's state (a zstd window is limited to 32 MiB). ctx is checked
// before every read of r, between pieces of a file and of the padding.
func Extract(ctx context.Context, r io.Reader, c Compression, destDir string,
	accept func(name string) (rel string, err error), want map[string]FileInfo) ([]FileInfo, error) {
	root, err := os.OpenRoot(destDir)
	if err != nil {
		return nil, fmt.Errorf("archive: extract destination: %w", err)
	}
	defer root.Close()
	return extract(ctx, r, c, root, accept, want)
}

// Verify reads a chunk as Extract does, with every check Extract makes
// (names, types, sizes, checksums against want, the end-of-archive marker,
// the compressed stream's own checksum, the size bounds), but writes
// nothing: the files' content is hashed and dropped.
func Verify(ctx context.Context, r io.Reader, c Compression, want map[string]FileInfo) ([]FileInfo, error) {
	return extract(ctx, r, c, nil, nil, want)
}

// extract is Extract into root, or Verify when root is nil.
func extract(ctx context.Context, r io.Reader, c Compression, root *os.Root,
	accept func(name string) (rel string, err error), want map[string]FileInfo) ([]FileInfo, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("archive: unknown compression %q", c)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	br := bufRPool.Get().(*bufio.Reader)
	br.Reset(&ctxReader{ctx: ctx, r: r})
	defer func() { br.Reset(nil); bufRPool.Put(br) }()
	dec, err := getDecompressor(c, br)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("chunk: corrupt or truncated %s data: %w", c, err)
	}
	defer dec.release()

	bp := getCopyBuf()
	defer putCopyBuf(bp)
	x := &extractor{
		ctx:      ctx,
		root:     root,
		accept:   accept,
		want:     want,
		buf:      *bp,
		seen:     map[string]bool{},
		okDirs:   map[string]bool{},
		syncDirs: map[string]bool{},
	}
	tc := &countingReader{r: dec, limit: -1}
	if want != nil {
		tc.limit = tarSizeLimit(want)
	}
	tr := tar.NewReader(tc)
	var files []FileInfo
	var last string    // name of the last entry, for errors between entries
	var entryEnd int64 // offset in the tar stream where the last entry ends
	for {
		if err := ctx.Err(); err != nil {
			return files, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			// archive/tar also reports io.EOF when the stream simply stops at
			// an entry boundary; only the two zero blocks of the end-of-archive
			// marker make a complete chunk.
			if tc.n-entryEnd < 2*512 {
				return files, fmt.Errorf("chunk: truncated after %s: missing end-of-archive marker", x.where(last))
			}
			break
		}
		if err != nil {
			return files, x.readErr(fmt.Sprintf("after %s", x.where(last)), err)
		}
		last = hdr.Name
		fi, err := x.entry(hdr, tr)
		if err != nil {
			return files, err
		}
		size := hdr.Size // content read in full by x.entry
		if fi != nil {
			files = append(files, *fi)
		} else {
			size = 0 // archive/tar gives a directory entry no content
		}
		entryEnd = tc.n + (512-size%512)%512
	}
	// Decode the rest of the stream: this verifies gzip's CRC and length and
	// zstd's frame checksum, and refuses anything but zero padding after the
	// end-of-archive marker.
	if err := x.drainZeros(dec); err != nil {
		return files, err
	}
	if err := x.syncAll(); err != nil {
		return files, err
	}
	return files, nil
}

type extractor struct {
	ctx      context.Context
	root     *os.Root
	accept   func(string) (string, error)
	want     map[string]FileInfo
	buf      []byte
	seen     map[string]bool // entry names extracted so far
	okDirs   map[string]bool // directories (relative to root) checked or created
	syncDirs map[string]bool // directories to fsync at the end
}

func (x *extractor) where(name string) string {
	if name == "" {
		return "start of chunk"
	}
	return fmt.Sprintf("chunk entry %q", name)
}

// readErr wraps an error reading the stream; cancellation wins over the
// decoder's view of it.
func (x *extractor) readErr(where string, err error) error {
	if cerr := x.ctx.Err(); cerr != nil {
		return fmt.Errorf("chunk: %s: %w", where, cerr)
	}
	if errors.Is(err, errTooLarge) {
		return fmt.Errorf("chunk: %s: %w", where, err)
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("chunk: %s: corrupt or truncated data: %w", where, err)
}

// entry extracts one tar entry; it returns nil FileInfo for an ignored
// directory entry.
func (x *extractor) entry(hdr *tar.Header, tr *tar.Reader) (*FileInfo, error) {
	name := hdr.Name
	switch hdr.Typeflag {
	case tar.TypeReg: // archive/tar reports old-style TypeRegA entries as TypeReg
	case tar.TypeDir:
		if err := ValidName(strings.TrimSuffix(name, "/")); err != nil {
			return nil, fmt.Errorf("chunk: directory entry: %w", err)
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("chunk entry %q: %s entries are not allowed, only regular files", name, typeName(hdr.Typeflag))
	}
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("chunk: %w", err)
	}
	if _, ok := hdr.PAXRecords[fileOffsetRecord]; ok {
		return nil, fmt.Errorf("chunk entry %q: parts of split files (%s) are not supported", name, fileOffsetRecord)
	}
	if x.seen[name] {
		return nil, fmt.Errorf("chunk entry %q: duplicate entry", name)
	}
	x.seen[name] = true

	rel := filepath.FromSlash(name)
	if x.accept != nil {
		var err error
		if rel, err = x.accept(name); err != nil {
			return nil, fmt.Errorf("chunk entry %q: rejected: %w", name, err)
		}
		rel = filepath.Clean(rel)
		if !filepath.IsLocal(rel) || rel == "." {
			return nil, fmt.Errorf("chunk entry %q: destination %q is not inside the destination directory", name, rel)
		}
	}
	var exp FileInfo
	if x.want != nil {
		var ok bool
		if exp, ok = x.want[name]; !ok {
			return nil, fmt.Errorf("chunk: unexpected file %q", name)
		}
		if exp.Size != hdr.Size {
			return nil, fmt.Errorf("chunk entry %q: size mismatch (want %d, got %d)", name, exp.Size, hdr.Size)
		}
	}

	var f *os.File // nil: verify only
	if x.root != nil {
		dir := filepath.Dir(rel)
		if err := x.ensureDir(name, dir); err != nil {
			return nil, err
		}
		var err error
		f, err = x.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("chunk entry %q: destination %q already exists", name, rel)
			}
			return nil, fmt.Errorf("chunk entry %q: %w", name, err)
		}
		x.syncDirs[dir] = true
	}
	fi, err := x.write(f, hdr, tr)
	if err == nil && x.want != nil && !strings.EqualFold(exp.SHA256, fi.SHA256) {
		err = fmt.Errorf("chunk entry %q: checksum mismatch (want %s, got %s)", name, exp.SHA256, fi.SHA256)
	}
	if err != nil {
		if f != nil {
			_ = x.root.Remove(rel)
		}
		return nil, err
	}
	return &fi, nil
}

// write streams the entry's content into f, fsyncs and closes it; with a
// nil f it only hashes it.
func (x *extractor) write(f *os.File, hdr *tar.Header, tr *tar.Reader) (FileInfo, error) {
	if f == nil {
		return x.hash(hdr, tr, io.Discard)
	}
	fi, err := x.hash(hdr, tr, fsutil.NewPacedWriter(f))
	if err != nil {
		f.Close()
		return FileInfo{}, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return FileInfo{}, fmt.Errorf("chunk entry %q: fsync: %w", hdr.Name, err)
	}
	if err := f.Close(); err != nil {
		return FileInfo{}, fmt.Errorf("chunk entry %q: close: %w", hdr.Name, err)
	}
	return fi, nil
}

// hash streams the entry's content into out, hashing it.
func (x *extractor) hash(hdr *tar.Header, tr *tar.Reader, out io.Writer) (FileInfo, error) {
	h := sha256.New()
	var n int64
	for {
		if err := x.ctx.Err(); err != nil {
			return FileInfo{}, fmt.Errorf("chunk entry %q: %w", hdr.Name, err)
		}
		m, rerr := io.ReadFull(tr, x.buf)
		if m > 0 {
			h.Write(x.buf[:m])
			if _, err := out.Write(x.buf[:m]); err != nil {
				return FileInfo{}, fmt.Errorf("chunk entry %q: %w", hdr.Name, err)
			}
			n += int64(m)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF && n == hdr.Size {
			break
		}
		if rerr != nil {
			return FileInfo{}, x.readErr(fmt.Sprintf("reading chunk entry %q", hdr.Name), rerr)
		}
	}
	if n != hdr.Size { // archive/tar guarantees this; be sure anyway
		return FileInfo{}, fmt.Errorf("chunk entry %q: size mismatch (want %d, got %d)", hdr.Name, hdr.Size, n)
	}
	return FileInfo{Name: hdr.Name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ensureDir makes sure dir (relative to the root) is a directory, creating
// missing components, and refuses any existing component that is a symlink
// or not a directory.
func (x *extractor) ensureDir(name, dir string) error {
	if dir == "." || x.okDirs[dir] {
		return nil
	}
	cur := ""
	for part := range strings.SplitSeq(dir, string(filepath.Separator)) {
		parent := cur
		if parent == "" {
			parent = "."
		}
		cur = filepath.Join(cur, part)
		if x.okDirs[cur] {
			continue
		}
		if err := x.checkDir(name, cur); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := x.root.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("chunk entry %q: %w", name, err)
			} else if err == nil {
				x.syncDirs[parent] = true
			}
			// Created by us or, concurrently, by someone else: check again.
			if err := x.checkDir(name, cur); err != nil {
				return err
			}
		}
		x.okDirs[cur] = true
	}
	return nil
}

func (x *extractor) checkDir(name, p string) error {
	fi, err := x.root.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return err
	case err != nil:
		return fmt.Errorf("chunk entry %q: %w", name, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("chunk entry %q: %q in the destination directory is a symlink", name, p)
	case !fi.IsDir():
		return fmt.Errorf("chunk entry %q: %q in the destination directory is not a directory", name, p)
	}
	return nil
}

// drainZeros reads dec to its end; anything but at most maxPadding zero
// bytes is an error.
func (x *extractor) drainZeros(dec io.Reader) error {
	var n int
	for {
		m, err := dec.Read(x.buf[:min(len(x.buf), maxPadding+1-n)])
		if cerr := x.ctx.Err(); cerr != nil {
			return fmt.Errorf("chunk: after the end-of-archive marker: %w", cerr)
		}
		for _, b := range x.buf[:m] {
			if b != 0 {
				return errors.New("chunk: unexpected data after the end-of-archive marker")
			}
		}
		if n += m; n > maxPadding {
			return fmt.Errorf("chunk: more than %d bytes of padding after the end-of-archive marker", maxPadding)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return x.readErr("after the end-of-archive marker", err)
		}
	}
}

// syncAll fsyncs every directory in which an entry was created.
func (x *extractor) syncAll() error {
	dirs := make([]string, 0, len(x.syncDirs))
	for d := range x.syncDirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		f, err := x.root.Open(d)
		if err != nil {
			return fmt.Errorf("chunk: fsync directory %q: %w", d, err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("chunk: fsync directory %q: %w", d, err)
		}
	}
	return nil
}

func typeName(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "FIFO"
	case tar.TypeXGlobalHeader:
		return "PAX global header"
	case tar.TypeGNUSparse:
		return "sparse file"
	}
	return fmt.Sprintf("type %q", t)
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// countingReader counts the bytes read through it and fails with
// errTooLarge once there are more than limit (unless limit < 0).
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
}

var errTooLarge = errors.New("the decoded chunk is larger than its files' recorded sizes allow")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.limit >= 0 {
		if c.n > c.limit {
			return 0, fmt.Errorf("%w (%d bytes of tar data)", errTooLarge, c.limit)
		}
		if int64(len(p)) > c.limit-c.n+1 {
			p = p[:c.limit-c.n+1] // one byte past the limit tells whether there is more
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.limit >= 0 && c.n > c.limit {
		return 0, fmt.Errorf("%w (%d bytes of tar data)", errTooLarge, c.limit)
	}
	return n, err
}

// Size bounds of the decoded stream (see Extract).
const (
	// maxEntryOverhead is what one file may add to its content in the tar
	// stream: its header, a PAX header with its records (a name of up to
	// maxNameLen bytes) and block padding, with room for directory entries
	// and the end-of-archive marker.
	maxEntryOverhead = 4*512 + 2*maxNameLen
	// maxPadding is the zero padding allowed after the end-of-archive
	// marker: what completes a tar record of 20 blocks, as tar(1) writes.
	maxPadding = 20 * 512
)

// tarSizeLimit is the largest decoded tar stream the files of want need.
func tarSizeLimit(want map[string]FileInfo) int64 {
	limit := int64(maxEntryOverhead)
	for _, f := range want {
		need := max(f.Size, 0)/512*512 + 512 + maxEntryOverhead
		if need < 0 || limit > math.MaxInt64-need {
			return math.MaxInt64
		}
		limit += need
	}
	return limit
}
