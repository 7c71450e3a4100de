package shard

import "github.com/cockroachdb/pebble/v2/vfs"

// lazyAllocFS is the file system of a shard's store: its files take disk
// space as they are written. Pebble preallocates every WAL to 110% of the
// memtable size (35 MiB here) when it creates it, so a thousand active
// tenants would hold 35 GB of disk before storing an object; with many
// small shards that reservation, not the data, fills the disk.
type lazyAllocFS struct{ vfs.FS }

func (fs lazyAllocFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return lazyAlloc(fs.FS.Create(name, c))
}

func (fs lazyAllocFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return lazyAlloc(fs.FS.ReuseForWrite(oldname, newname, c))
}

func (fs lazyAllocFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return lazyAlloc(fs.FS.OpenReadWrite(name, c, opts...))
}

func (fs lazyAllocFS) Unwrap() vfs.FS { return fs.FS }

func lazyAlloc(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return lazyAllocFile{f}, nil
}

type lazyAllocFile struct{ vfs.File }

// Preallocate does nothing: the file grows as it is written.
func (lazyAllocFile) Preallocate(offset, length int64) error { return nil }
