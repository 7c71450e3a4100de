package fs

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"slices"
	"strings"

	"strata/internal/blob"
)

// List walks the directories under root that can hold keys with prefix,
// depth first. Entries of a directory are sorted by name, with "/" appended
// to directory names, which yields keys in lexical order without holding
// more than one directory listing per level in memory. Temp files,
// symlinks (to files or directories), other non-regular files and names
// that are not valid keys (e.g. containing a backslash) are skipped.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Attrs) error) error {
	if err := blob.ValidatePrefix(prefix); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return s.wrap("list", prefix, err)
	}
	root, err := s.openRoot()
	if err != nil {
		return s.wrap("list", prefix, err)
	}
	defer root.Close()

	// Start in the deepest directory the prefix names completely.
	dir := parent(prefix)
	if dir != "" {
		if checkKey(dir) != nil {
			return nil // names a temp directory: holds no objects
		}
		switch err := ensureIsDir(root, dir); {
		case errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrPermission):
			return nil // no such directory, or a symlink we do not follow
		case err != nil:
			return s.wrap("list", prefix, err)
		}
	}
	w := walker{ctx: ctx, root: root, prefix: prefix, fn: fn}
	err = w.walk(dir)
	if errors.Is(err, errStop) {
		return w.fnErr
	}
	return s.wrap("list", prefix, err)
}

// ensureIsDir checks, without following symlinks, that dir is a directory.
func ensureIsDir(root *os.Root, dir string) error {
	for _, name := range ancestors(dir) {
		fi, err := root.Lstat(name)
		switch {
		case errors.Is(err, iofs.ErrNotExist):
			return blob.ErrNotFound
		case err != nil:
			return err
		case fi.Mode()&iofs.ModeSymlink != 0:
			return symlinkErr(name)
		case !fi.IsDir():
			return blob.ErrNotFound
		}
	}
	return nil
}

// errStop marks that fn returned an error, kept in walker.fnErr so it can be
// returned unwrapped.
var errStop = errors.New("stop")

type walker struct {
	ctx    context.Context
	root   *os.Root
	prefix string
	fn     func(blob.Attrs) error
	fnErr  error
}

type entry struct {
	key, sortKey string
	e            iofs.DirEntry
}

func (w *walker) walk(dir string) error {
	entries, err := w.readDir(dir)
	if err != nil {
		return err
	}
	for _, ent := range entries {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if ent.e.IsDir() {
			if err := w.walk(ent.key); err != nil {
				return err
			}
			continue
		}
		fi, err := ent.e.Info()
		if errors.Is(err, iofs.ErrNotExist) {
			continue // deleted since ReadDir
		}
		if err != nil {
			return err
		}
		if err := w.fn(blob.Attrs{Key: ent.key, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			w.fnErr = err
			return errStop
		}
	}
	return nil
}

// readDir returns the entries of dir that are, or may contain, objects
// matching the prefix, in walk order.
func (w *walker) readDir(dir string) ([]entry, error) {
	name := dir
	if name == "" {
		name = "."
	}
	f, err := w.root.Open(name)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil // removed concurrently, e.g. by Delete
	}
	if err != nil {
		return nil, err
	}
	des, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, de := range des {
		key := de.Name()
		if dir != "" {
			key = dir + "/" + key
		}
		if checkKey(key) != nil {
			continue // a temp file, or a name no key can have
		}
		switch {
		case de.IsDir():
			sub := key + "/"
			if strings.HasPrefix(sub, w.prefix) || strings.HasPrefix(w.prefix, sub) {
				out = append(out, entry{key: key, sortKey: sub, e: de})
			}
		case de.Type().IsRegular():
			if strings.HasPrefix(key, w.prefix) {
				out = append(out, entry{key: key, sortKey: key, e: de})
			}
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.sortKey, b.sortKey) })
	return out, nil
}

// ListDirs reads the directory dir and reports its subdirectories that
// hold at least one object (a directory left empty by deletes does not
// count); the objects below are walked only until the first is found.
func (s *Store) ListDirs(ctx context.Context, dir string, fn func(string) error) error {
	if err := blob.ValidateDir(dir); err != nil {
		return err
	}
	root, err := s.openRoot()
	if err != nil {
		return s.wrap("list", dir, err)
	}
	defer root.Close()
	path := strings.TrimSuffix(dir, "/")
	if path == "" {
		path = "."
	} else if err := ensureIsDir(root, path); err != nil {
		if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrPermission) {
			return nil
		}
		return s.wrap("list", dir, err)
	}
	f, err := root.Open(path)
	if err != nil {
		return s.wrap("list", dir, err)
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return s.wrap("list", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() || checkKey(dir+e.Name()) != nil {
			continue // files, symlinks, temp directories
		}
		found := false
		err := s.List(ctx, dir+e.Name()+"/", func(blob.Attrs) error {
			found = true
			return errStop
		})
		if err != nil && !errors.Is(err, errStop) {
			return err
		}
		if found {
			names = append(names, e.Name())
		}
	}
	return blob.EmitDirs(names, fn)
}
