package shard

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
)

// allocatedBytes is the disk space the files under dir take (their
// allocated blocks, which count preallocated space).
func allocatedBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// TestSmallShardTakesLittleDisk: a shard holding a few objects takes kilobytes
// of disk, not the 35 MiB WAL reservation pebble makes by default, so many
// small tenants cannot fill the disk with reservations.
func TestSmallShardTakesLittleDisk(t *testing.T) {
	dir := t.TempDir()
	s := openShard(t, dir, nil)
	for i := range 3 {
		mustPut(t, s, obj(idN(i), `{"a":"x"}`, 1, 2, 3))
	}
	if got := allocatedBytes(t, dir); got > 1<<20 {
		t.Fatalf("a three-object shard takes %d bytes of disk", got)
	}
}
