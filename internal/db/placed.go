package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"strata/internal/fsutil"
)

// A restore onto a cluster installs its classes in two steps: every node
// first places the shards it restores (PlaceRestored: verified data moved
// where the shards live, registered nowhere), then one schema change
// through the log registers the classes (InstallPlaced), and every node
// opens its own shards as it applies it. Until then a placed directory is
// an orphan: a failed restore removes it (RemovePlaced), and a node that
// restarts removes it at Open.

// PlaceRestored moves the shard directories staged under stagedDir (one
// per shard this node restores) to where class's shards live. The class
// must not exist.
func (d *DB) PlaceRestored(class, stagedDir string) error {
	entries, err := os.ReadDir(stagedDir)
	if err != nil {
		return fmt.Errorf("read staged shards: %w", err)
	}
	d.mu.RLock()
	exists := d.classes[class] != nil
	d.mu.RUnlock()
	if exists {
		return invalidf("class name %s already exists", class)
	}
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() {
			return invalidf("staged data %q is not a shard", e.Name())
		}
		dirs = append(dirs, filepath.Join(stagedDir, e.Name()))
	}
	if err := checkSpaceToOpen(d.opts.DataPath, dirs...); err != nil {
		return err
	}
	if err := os.MkdirAll(d.classDir(class), 0o755); err != nil {
		return err
	}
	for _, dir := range dirs {
		target := d.shardDir(class, filepath.Base(dir))
		if err := os.RemoveAll(target); err != nil { // left by an earlier attempt
			return err
		}
		if err := os.Rename(dir, target); err != nil {
			return fmt.Errorf("place shard %s of class %s: %w", filepath.Base(dir), class, err)
		}
	}
	return fsutil.SyncDir(d.classDir(class))
}

// RemovePlaced removes the placed shards of a restore that did not
// install: those of a class that does not exist, or that the class (a
// class created meanwhile under that name) does not have.
func (d *DB) RemovePlaced(class string, shards []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	col := d.classes[class]
	var errs []error
	for _, s := range shards {
		if col != nil && col.shards[s] != nil {
			continue
		}
		if col != nil && col.rec.Sharding != nil && col.rec.Sharding.Index(s) >= 0 {
			continue
		}
		if col != nil && col.rec.Tenants != nil {
			if _, ok := col.rec.Tenants[s]; ok {
				continue
			}
		}
		errs = append(errs, os.RemoveAll(d.shardDir(class, s)))
	}
	if col == nil {
		if entries, err := os.ReadDir(d.classDir(class)); err == nil && len(entries) == 0 {
			errs = append(errs, os.Remove(d.classDir(class)))
		}
	}
	return errors.Join(errs...)
}

// InstallPlaced registers restored classes whose shards every node holding
// one has placed: one schema change (through the log in a cluster); each
// node opens its own shards as it commits it. The classes are checked as
// creates of them would be, and their names must be free.
func (d *DB) InstallPlaced(ctx context.Context, classes []RestoredClass) error {
	return d.change(nil, func(p *plan) error {
		defs, err := d.admitRestoredLocked(classes)
		if err != nil {
			return err
		}
		for i, rc := range classes {
			if err := d.nameFreeLocked(defs[i].Class); err != nil {
				return err
			}
			rec := &classRecord{Class: defs[i], Sharding: rc.Sharding, Tenants: rc.Tenants, TenantNodes: rc.TenantNodes}
			if rec.Class.MultiTenant() && rec.Tenants == nil {
				rec.Tenants = map[string]string{}
			}
			p.add(rec)
		}
		return nil
	})
}
