package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"strata/internal/fsutil"
	"strata/internal/schema"
	"strata/internal/shard"
	"strata/internal/sharding"
)

// ClassSnapshot is the point-in-time state of one class: its definition,
// its shards' activity, and a directory per shard holding a consistent copy
// of the shard's files.
type ClassSnapshot struct {
	Class *schema.Class
	// Sharding is the sharding state of a class without multi-tenancy;
	// Shards holds the copies of those of its shards this node holds.
	Sharding *sharding.State
	Tenants  map[string]string // tenant → status (multi-tenant classes)
	Shards   []ShardSnapshot
}

// ShardSnapshot is one shard's copy.
type ShardSnapshot struct {
	Name string
	Dir  string // directory holding the shard's files
}

// ClassExists reports whether a class exists (names differing only in case
// count as the same class) or is being restored.
func (d *DB) ClassExists(name string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	name = schema.NormalizeClassName(name)
	return d.classes[name] != nil || d.similarClass(name) != "" || d.reserved[name]
}

// Snapshot takes a consistent copy of every shard of the named classes into
// dir (which must be on the data path's filesystem, so files are
// hard-linked). Active shards are checkpointed while they keep serving;
// inactive tenants' files are copied.
//
// Only the capture holds the database lock (as pebble's checkpoint does
// with its own): the class definitions, tenant statuses and shards are
// taken, and every shard directory is pinned. The copies run unlocked, so
// reads, writes and schema changes go on meanwhile. A definition is
// captured before its shards' data, so data written meanwhile (a property
// added since) is a superset the definition tolerates. A schema change that
// would close, open or remove a pinned shard (deactivating, activating or
// deleting a tenant, deleting the class) waits, without holding the lock,
// until the snapshot has copied that shard.
func (d *DB) Snapshot(ctx context.Context, classes []string, dir string) ([]ClassSnapshot, error) {
	out, copies, err := d.captureSnapshot(classes, dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range copies {
			d.unpin(c.src) // no-op for those already released
		}
	}()
	for i := range copies {
		c := &copies[i]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := d.fs.MkdirAll(filepath.Dir(c.dest), 0o755); err != nil {
			return nil, fmt.Errorf("snapshot dir: %w", err)
		}
		if c.open != nil {
			if err := c.open.Checkpoint(c.dest); err != nil {
				return nil, err
			}
		} else if err := d.copyDir(c.src, c.dest); err != nil {
			return nil, fmt.Errorf("copy inactive shard %s/%s: %w", c.class, c.shard, err)
		}
		d.unpin(c.src)
		c.src = "" // released
	}
	return out, nil
}

// shardCopy is one shard a snapshot copies: from src (an open shard, or a
// closed directory) to dest.
type shardCopy struct {
	class, shard string
	src, dest    string
	open         *shard.Shard // nil: an inactive tenant, copied file by file
}

// captureSnapshot takes, under the lock, what Snapshot copies, pinning
// every shard directory.
func (d *DB) captureSnapshot(classes []string, dir string) ([]ClassSnapshot, []shardCopy, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]ClassSnapshot, 0, len(classes))
	var copies []shardCopy
	for _, name := range classes {
		col := d.classes[name]
		if col == nil {
			for _, c := range copies {
				d.unpin(c.src)
			}
			return nil, nil, classNotFound(name)
		}
		snap := ClassSnapshot{Class: col.rec.Class.Clone()}
		if col.rec.Sharding != nil {
			snap.Sharding = col.rec.Sharding.Clone()
		}
		if col.rec.Class.MultiTenant() {
			snap.Tenants = map[string]string{}
			for t, st := range col.rec.Tenants {
				snap.Tenants[t] = st
			}
		}
		for _, shardName := range d.localShards(col) {
			c := shardCopy{class: name, shard: shardName, src: d.shardDir(name, shardName),
				dest: filepath.Join(dir, name, shardName), open: col.shards[shardName]}
			d.pin(c.src)
			copies = append(copies, c)
			snap.Shards = append(snap.Shards, ShardSnapshot{Name: shardName, Dir: c.dest})
		}
		out = append(out, snap)
	}
	return out, copies, nil
}

// pin marks a shard directory as being copied.
func (d *DB) pin(dir string) {
	d.pinMu.Lock()
	defer d.pinMu.Unlock()
	d.pins[dir]++
}

// unpin releases a pin ("" = none) and wakes whoever waits for one.
func (d *DB) unpin(dir string) {
	if dir == "" {
		return
	}
	d.pinMu.Lock()
	defer d.pinMu.Unlock()
	if d.pins[dir]--; d.pins[dir] <= 0 {
		delete(d.pins, dir)
	}
	close(d.unpinned)
	d.unpinned = make(chan struct{})
}

// lockUnpinned takes d.mu for writing once none of the shard directories
// that dirs lists (called under the lock) is pinned by a snapshot. It
// waits without holding the lock, so only the caller waits for the copy.
func (d *DB) lockUnpinned(dirs func() []string) {
	for {
		d.mu.Lock()
		d.pinMu.Lock()
		var wait chan struct{}
		for _, dir := range dirs() {
			if d.pins[dir] > 0 {
				wait = d.unpinned
				break
			}
		}
		d.pinMu.Unlock()
		if wait == nil {
			return
		}
		d.mu.Unlock()
		<-wait
	}
}

// shardDirsOf lists the directories of a class's shards named in names
// (all of them when names is nil). Caller holds d.mu.
func (d *DB) shardDirsOf(col *collection, names []string) []string {
	if col == nil {
		return nil
	}
	if names == nil {
		names = d.localShards(col)
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = d.shardDir(col.rec.Class.Class, n)
	}
	return out
}

// localShards lists the shards of a class that this node holds (every
// tenant, active or not), sorted.
func (d *DB) localShards(c *collection) []string {
	var names []string
	if c.rec.Class.MultiTenant() {
		names = make([]string, 0, len(c.rec.Tenants))
		for t := range c.rec.Tenants {
			if d.isLocal(c.rec.tenantNodes(t)) {
				names = append(names, t)
			}
		}
	} else {
		for _, sh := range c.rec.Sharding.Shards {
			if d.isLocal(sh.Nodes) {
				names = append(names, sh.Name)
			}
		}
	}
	sort.Strings(names)
	return names
}

// copyDir copies the regular files of a closed shard directory. A shard
// that was never opened has no directory; the copy is then empty.
func (d *DB) copyDir(src, dst string) error {
	if err := d.fs.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := d.fs.ReadDir(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := fsutil.CopyFile(d.fs, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return fsutil.SyncDirFS(d.fs, dst)
}
