package fs

import (
	"crypto/rand"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"strata/internal/blob"
)

// tempPrefix starts the name of every temp file Put writes. Keys may not
// have a segment starting with it, so a temp file is never an object.
const tempPrefix = ".tmp-"

// checkKey applies blob.ValidateKey and refuses the names reserved for temp
// files.
func checkKey(key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if strings.HasPrefix(seg, tempPrefix) {
			return fmt.Errorf("%w %q: segments starting with %q are reserved by the filesystem store",
				blob.ErrInvalidKey, key, tempPrefix)
		}
	}
	return nil
}

// parent returns the directory part of a slash-separated name, "" at the top.
func parent(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

// ancestors returns "a", "a/b", "a/b/c" for "a/b/c".
func ancestors(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			out = append(out, name[:i])
		}
	}
	return append(out, name)
}

func symlinkErr(name string) error {
	return fmt.Errorf("%w: %q is a symbolic link, which the filesystem store does not follow",
		blob.ErrPermission, name)
}

// lstatObject checks every component of key without following symlinks and
// returns the object's file info. A missing component, a non-directory on
// the way, or a final component that is not a regular file means the object
// does not exist (blob.ErrNotFound); a symlink anywhere is blob.ErrPermission.
func lstatObject(root *os.Root, key string) (iofs.FileInfo, error) {
	names := ancestors(key)
	var fi iofs.FileInfo
	for i, name := range names {
		var err error
		fi, err = root.Lstat(name)
		if errors.Is(err, iofs.ErrNotExist) {
			return nil, blob.ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		if fi.Mode()&iofs.ModeSymlink != 0 {
			return nil, symlinkErr(name)
		}
		last := i == len(names)-1
		if (!last && !fi.IsDir()) || (last && !fi.Mode().IsRegular()) {
			return nil, blob.ErrNotFound
		}
	}
	return fi, nil
}

// ensureDir makes sure dir ("" is root) is a real directory, creating
// missing components and syncing their parents. A symlink on the way is
// blob.ErrPermission; an existing non-directory is an error.
func ensureDir(root *os.Root, dir string) error {
	if dir == "" {
		return nil
	}
	for _, name := range ancestors(dir) {
		fi, err := root.Lstat(name)
		if errors.Is(err, iofs.ErrNotExist) {
			err = root.Mkdir(name, dirMode)
			if err == nil {
				if err := syncDir(root, parent(name)); err != nil {
					return err
				}
				continue
			}
			if !errors.Is(err, iofs.ErrExist) {
				return err
			}
			// Created concurrently: check what it is.
			fi, err = root.Lstat(name)
		}
		switch {
		case err != nil:
			return err
		case fi.Mode()&iofs.ModeSymlink != 0:
			return symlinkErr(name)
		case !fi.IsDir():
			return fmt.Errorf("%q exists and is not a directory", name)
		}
	}
	return nil
}

// createTemp creates dir if needed and a new temp file in it, returning the
// file and its name relative to root.
func createTemp(root *os.Root, dir string) (*os.File, string, error) {
	const attempts = 10
	var err error
	for range attempts {
		// ErrNotExist from either step means a concurrent Delete removed a
		// directory on the way when it became empty; ErrExist from OpenFile
		// is a name collision. Both are worth another try.
		if err = ensureDir(root, dir); err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				continue
			}
			return nil, "", err
		}
		name := path.Join(dir, tempPrefix+rand.Text())
		var f *os.File
		f, err = root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, iofs.ErrNotExist) && !errors.Is(err, iofs.ErrExist) {
			break
		}
	}
	return nil, "", fmt.Errorf("create temp file in %q: %w", dir, err)
}

// syncDir fsyncs dir ("" is root) so that entries created, renamed or
// removed in it are durable. Filesystems that cannot sync directories are
// tolerated.
func syncDir(root *os.Root, dir string) error {
	if dir == "" {
		dir = "."
	}
	f, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	return nil
}
