package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"strata/internal/fsutil"
	"strata/internal/schema"
)

// ClassSnapshot is the point-in-time state of one class: its definition,
// its shards' activity, and a directory per shard holding a consistent copy
// of the shard's files.
type ClassSnapshot struct {
	Class   *schema.Class
	Shard   string            // shard name of a class without multi-tenancy
	Tenants map[string]string // tenant → status (multi-tenant classes)
	Shards  []ShardSnapshot
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
// inactive tenants' files are copied. The schema cannot change while the
// copies are taken, so definitions and data belong to the same moment.
func (d *DB) Snapshot(ctx context.Context, classes []string, dir string) ([]ClassSnapshot, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]ClassSnapshot, 0, len(classes))
	for _, name := range classes {
		col := d.classes[name]
		if col == nil {
			return nil, classNotFound(name)
		}
		snap := ClassSnapshot{Class: col.rec.Class.Clone(), Shard: col.rec.Shard}
		if col.rec.Class.MultiTenant() {
			snap.Tenants = map[string]string{}
			for t, st := range col.rec.Tenants {
				snap.Tenants[t] = st
			}
		}
		for _, shardName := range col.shardNames() {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			dest := filepath.Join(dir, name, shardName)
			if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
				return nil, fmt.Errorf("snapshot dir: %w", err)
			}
			if s := col.shards[shardName]; s != nil {
				if err := s.Checkpoint(dest); err != nil {
					return nil, err
				}
			} else if err := copyDir(d.shardDir(name, shardName), dest); err != nil {
				return nil, fmt.Errorf("copy inactive shard %s/%s: %w", name, shardName, err)
			}
			snap.Shards = append(snap.Shards, ShardSnapshot{Name: shardName, Dir: dest})
		}
		out = append(out, snap)
	}
	return out, nil
}

// shardNames lists every shard of a class (all tenants, active or not) sorted.
func (c *collection) shardNames() []string {
	if !c.rec.Class.MultiTenant() {
		return []string{c.rec.Shard}
	}
	names := make([]string, 0, len(c.rec.Tenants))
	for t := range c.rec.Tenants {
		names = append(names, t)
	}
	sort.Strings(names)
	return names
}

// copyDir copies the regular files of a closed shard directory. A shard
// that was never opened has no directory; the copy is then empty.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
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
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return fsutil.SyncDir(dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
