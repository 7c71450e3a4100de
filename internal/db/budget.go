package db

import (
	"sync"
	"syscall"
)

// Every open shard store holds file descriptors (its lock, WAL, manifest and
// directory; its sstables are bounded by the file cache all stores share)
// and memory (its memtable and, once used, its vector indexes). Without a
// bound, creating classes or activating tenants would run the process out
// of file descriptors, after which no request, backup or restore could
// open a file.
const (
	// fdsPerShard is what one open store holds outside the file cache.
	fdsPerShard = 8
	// reservedFDs are kept for connections, backups and everything else.
	reservedFDs = 1024
	// maxDefaultActiveShards caps the default: an idle open store takes
	// about 200 KiB of memory.
	maxDefaultActiveShards = 10000
	// minActiveShards is the least the default allows, however low the
	// descriptor limit.
	minActiveShards = 16
)

// fileLimit is the process's limit of open files (Go raises the soft limit
// to the hard one at start-up), at most 2^30; 1024 when it cannot be read.
func fileLimit() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 1024
	}
	return int(min(lim.Cur, 1<<30))
}

// FileCacheSize is how many sstables all shard stores keep open together:
// a quarter of the file limit, between 64 and 4096.
func FileCacheSize() int {
	return min(max(fileLimit()/4, 64), 4096)
}

// DefaultMaxActiveShards is how many shard stores may be open at once when
// STRATA_MAX_ACTIVE_SHARDS is not set: what the file limit leaves after the
// shared file cache and a reserve, at most 10,000.
func DefaultMaxActiveShards() int {
	n := (fileLimit() - reservedFDs - FileCacheSize()) / fdsPerShard
	return min(max(n, minActiveShards), maxDefaultActiveShards)
}

// shardBudget counts the open shard stores against their limit.
type shardBudget struct {
	mu   sync.Mutex
	open int
	max  int
}

// room fails unless n more stores may open.
func (b *shardBudget) room(n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.roomLocked(n)
}

func (b *shardBudget) roomLocked(n int) error {
	if b.open+n > b.max {
		return invalidf("too many active shards: %d of at most %d are open and this needs %d more (STRATA_MAX_ACTIVE_SHARDS); deactivate tenants (activityStatus COLD), delete classes or raise the limit",
			b.open, b.max, n)
	}
	return nil
}

// take counts one more open store, failing at the limit unless force
// (a store that was open before a restart opens again whatever the limit).
func (b *shardBudget) take(force bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !force {
		if err := b.roomLocked(1); err != nil {
			return err
		}
	}
	b.open++
	return nil
}

// give counts one store closed.
func (b *shardBudget) give() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.open--
}
