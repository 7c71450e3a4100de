package shard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"

	"strata/internal/fsutil"
)

// lazyAllocFS is the file system of a shard's store: its files take disk
// space as they are written. Pebble preallocates every WAL to 110% of the
// memtable size (35 MiB here) when it creates it, so a thousand active
// tenants would hold 35 GB of disk before storing an object; with many
// small shards that reservation, not the data, fills the disk.
type lazyAllocFS struct{ vfs.FS }

func (l lazyAllocFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return lazyAlloc(l.FS.Create(name, c))
}

func (l lazyAllocFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return lazyAlloc(l.FS.ReuseForWrite(oldname, newname, c))
}

func (l lazyAllocFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return lazyAlloc(l.FS.OpenReadWrite(name, c, opts...))
}

func (l lazyAllocFS) Unwrap() vfs.FS { return l.FS }

func lazyAlloc(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return lazyAllocFile{f}, nil
}

type lazyAllocFile struct{ vfs.File }

// Preallocate does nothing: the file grows as it is written.
func (lazyAllocFile) Preallocate(offset, length int64) error { return nil }

// openHeadroom is the disk a store needs to open besides its WAL replay:
// a new manifest, options file and WAL.
const openHeadroom = 256 << 10

// writeHeadroom is the disk a write leaves free besides its own log
// record: room for a memtable flush. Pebble applies a batch to its
// memtable before its log write can fail, and retries a flush that finds
// no room without end while writes stall, so a write that would leave
// less is refused before anything is applied.
const writeHeadroom = memTableSize

// checkRoomToWrite fails with ENOSPC unless the disk holding dir has room
// for a write of n bytes and writeHeadroom.
func checkRoomToWrite(dir string, n int64) error {
	free, err := fsutil.FreeBytes(dir)
	if err != nil {
		return fmt.Errorf("free space of the data disk: %w", err)
	}
	if need := n + writeHeadroom; free < need {
		return fmt.Errorf("the data disk is full: a write of %d bytes needs about %d free and %d are: %w", n, need, free, syscall.ENOSPC)
	}
	return nil
}

// SpaceToOpen estimates the disk the store in dir (new if missing) needs
// to open: opening replays its write-ahead logs into sstables, which
// pebble waits for and retries without end while the disk is full, so a
// caller checks the room first. The estimate is the logs' size plus a
// margin.
func SpaceToOpen(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return openHeadroom, nil // a new store
	}
	if err != nil {
		return 0, err
	}
	need := int64(openHeadroom)
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".log") {
			info, err := e.Info()
			if err != nil {
				return 0, err
			}
			need += info.Size()
		}
	}
	return need, nil
}
