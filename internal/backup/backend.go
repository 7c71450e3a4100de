package backup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"strata/internal/apperr"
	"strata/internal/blob"
	blobfs "strata/internal/blob/fs"
)

// Backend is a configured backup backend (one of Weaviate's backup modules).
type Backend interface {
	// Name is the short name: "filesystem", "s3", "gcs", "azure".
	Name() string
	// Locate resolves the per-request bucket and path overrides ("" = the
	// configured ones) to a store rooted at the backup root. Overrides that
	// would leave the backend's confinement are Invalid errors.
	Locate(bucket, path string) (*Location, error)
	// Meta is what /v1/meta shows for the module.
	Meta() map[string]any
}

// Location is where the backups of one request live.
type Location struct {
	Store  blob.Store
	Bucket string // the bucket override, echoed in responses
	// home renders the backup's home for the API's "path" field.
	home func(id string) string
}

// Home is the backup's home, as the API reports it in "path".
func (l *Location) Home(id string) string { return l.home(id) }

// moduleNames maps the names accepted in URLs to backend short names.
var moduleNames = map[string]string{
	"filesystem": "filesystem", "backup-filesystem": "filesystem",
	"s3": "s3", "backup-s3": "s3",
	"gcs": "gcs", "backup-gcs": "gcs",
	"azure": "azure", "backup-azure": "azure",
}

// Filesystem is the backup-filesystem backend: a directory on this machine.
type Filesystem struct {
	root  string
	store blob.Store
}

// NewFilesystem opens (creating) the backup root directory.
func NewFilesystem(root string) (*Filesystem, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("BACKUP_FILESYSTEM_PATH: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("BACKUP_FILESYSTEM_PATH: create %s: %w", abs, err)
	}
	// Resolve a symlinked root once, so confinement checks compare real paths.
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, fmt.Errorf("BACKUP_FILESYSTEM_PATH: %w", err)
	}
	st, err := blobfs.New(abs)
	if err != nil {
		return nil, fmt.Errorf("BACKUP_FILESYSTEM_PATH: %w", err)
	}
	return &Filesystem{root: abs, store: st}, nil
}

// Name implements Backend.
func (f *Filesystem) Name() string { return "filesystem" }

// Meta implements Backend.
func (f *Filesystem) Meta() map[string]any { return map[string]any{"backupsPath": f.root} }

// Locate implements Backend. The filesystem has no buckets (a bucket
// override is ignored, as in Weaviate). A path override must stay inside
// the backup root: a relative path is taken from the root, an absolute one
// must lie within it, and no component may be ".." or a symlink.
func (f *Filesystem) Locate(bucket, path string) (*Location, error) {
	rel, err := f.confine(path)
	if err != nil {
		return nil, err
	}
	loc := &Location{Store: f.store}
	dir := f.root
	if rel != "" {
		loc.Store = blob.Prefixed(f.store, rel)
		dir = filepath.Join(f.root, filepath.FromSlash(rel))
	}
	loc.home = func(id string) string { return filepath.Join(dir, id) }
	return loc, nil
}

// confine returns the override as a slash path relative to the root ("" =
// the root itself), or an Invalid error.
func (f *Filesystem) confine(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	bad := func(why string) error {
		return apperr.Invalidf("invalid backup path %q: %s", path, why)
	}
	if strings.ContainsRune(path, 0) || strings.Contains(path, `\`) {
		return "", bad("it contains a NUL or backslash")
	}
	for _, seg := range strings.Split(filepath.ToSlash(path), "/") {
		if seg == ".." {
			return "", bad(`".." is not allowed`)
		}
	}
	rel := path
	if filepath.IsAbs(path) {
		r, err := filepath.Rel(f.root, filepath.Clean(path))
		if err != nil || r == ".." || strings.HasPrefix(r, "../") {
			return "", bad(fmt.Sprintf("it is outside the backup root %q", f.root))
		}
		rel = r
	}
	rel = filepath.ToSlash(filepath.Clean(rel))
	if rel == "." {
		return "", nil
	}
	// No component may be a symlink (it could lead out of the root).
	cur := f.root
	for _, seg := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, seg)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return "", bad(err.Error())
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return "", bad(fmt.Sprintf("%q is a symlink", cur))
		}
		if !fi.IsDir() {
			return "", bad(fmt.Sprintf("%q is not a directory", cur))
		}
	}
	return rel, nil
}
