// Package faultfs is an fsutil.FS decorator for tests that injects faults:
// a hook sees every operation (and every write and sync of an open file)
// before it runs, and may fail it (ENOSPC, EIO, …) or block it.
package faultfs

import (
	"os"

	"strata/internal/fsutil"
)

// Op names an operation.
type Op string

// Operations.
const (
	OpCreate    Op = "create"
	OpOpen      Op = "open"
	OpReadFile  Op = "readfile"
	OpReadDir   Op = "readdir"
	OpRename    Op = "rename"
	OpMkdirAll  Op = "mkdirall"
	OpRemove    Op = "remove"
	OpRemoveAll Op = "removeall"
	OpWrite     Op = "write" // a write to an open file
	OpSync      Op = "sync"  // an fsync of an open file or directory
)

// Hook is called before each operation with the path it addresses (for
// a rename, the new path); a non-nil error fails the operation.
type Hook func(op Op, path string) error

// FS injects the hook's faults into the FS it wraps.
type FS struct {
	base fsutil.FS
	hook Hook
}

// Wrap returns base with faults chosen by hook.
func Wrap(base fsutil.FS, hook Hook) *FS { return &FS{base: base, hook: hook} }

func (f *FS) fault(op Op, path string) error {
	if err := f.hook(op, path); err != nil {
		return &os.PathError{Op: string(op), Path: path, Err: err}
	}
	return nil
}

// Create implements fsutil.FS.
func (f *FS) Create(name string, perm os.FileMode) (fsutil.File, error) {
	if err := f.fault(OpCreate, name); err != nil {
		return nil, err
	}
	file, err := f.base.Create(name, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

// Open implements fsutil.FS.
func (f *FS) Open(name string) (fsutil.File, error) {
	if err := f.fault(OpOpen, name); err != nil {
		return nil, err
	}
	file, err := f.base.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

// ReadFile implements fsutil.FS.
func (f *FS) ReadFile(name string) ([]byte, error) {
	if err := f.fault(OpReadFile, name); err != nil {
		return nil, err
	}
	return f.base.ReadFile(name)
}

// ReadDir implements fsutil.FS.
func (f *FS) ReadDir(name string) ([]os.DirEntry, error) {
	if err := f.fault(OpReadDir, name); err != nil {
		return nil, err
	}
	return f.base.ReadDir(name)
}

// Rename implements fsutil.FS.
func (f *FS) Rename(oldpath, newpath string) error {
	if err := f.fault(OpRename, newpath); err != nil {
		return err
	}
	return f.base.Rename(oldpath, newpath)
}

// MkdirAll implements fsutil.FS.
func (f *FS) MkdirAll(path string, perm os.FileMode) error {
	if err := f.fault(OpMkdirAll, path); err != nil {
		return err
	}
	return f.base.MkdirAll(path, perm)
}

// Remove implements fsutil.FS.
func (f *FS) Remove(name string) error {
	if err := f.fault(OpRemove, name); err != nil {
		return err
	}
	return f.base.Remove(name)
}

// RemoveAll implements fsutil.FS.
func (f *FS) RemoveAll(path string) error {
	if err := f.fault(OpRemoveAll, path); err != nil {
		return err
	}
	return f.base.RemoveAll(path)
}

type faultFile struct {
	fsutil.File
	fs *FS
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.fault(OpWrite, f.Name()); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if err := f.fs.fault(OpSync, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}
