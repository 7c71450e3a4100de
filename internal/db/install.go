package db

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"strata/internal/failpoint"
	"strata/internal/fsutil"
	"strata/internal/schema"
	"strata/internal/sharding"
)

// RestoredClass is a class to install from a verified restore: its
// definition, its sharding state (placed on the current nodes) or its
// tenants' activity, and the staged directory holding one sub-directory per
// shard this node holds.
type RestoredClass struct {
	Class    *schema.Class
	Sharding *sharding.State
	Tenants  map[string]string
	// TenantNodes places each tenant's shard (cluster; nil: this node).
	TenantNodes map[string]string
	StagedDir   string
}

// InstallClasses brings restored classes in atomically: either all of them
// become visible with their data, or none does and nothing existing is
// touched. In one step under the lock the classes are checked as creates of
// them would be (together, see admitRestoredLocked) and their names are
// reserved, so that a concurrent create of the same or a similar name
// fails; then the staged shard directories are checked against the
// classes' shards, moved into place and opened, and one schema write
// registers them all. A crash before that write leaves only unregistered
// directories, which Open removes.
func (d *DB) InstallClasses(ctx context.Context, classes []RestoredClass) (err error) {
	d.mu.Lock()
	defs, err := d.admitRestoredLocked(classes)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	names := make([]string, len(defs))
	for i, c := range defs {
		names[i] = c.Class
		d.reserved[c.Class] = true
	}
	d.mu.Unlock()
	failpoint.Reach(failpoint.RestoreReserved)

	var moved []string // classes whose directories are in place
	defer func() {
		d.mu.Lock()
		for _, n := range names {
			delete(d.reserved, n)
		}
		if err != nil {
			for _, n := range moved {
				if d.classes[n] == nil {
					os.RemoveAll(d.classDir(n))
				}
			}
		}
		d.mu.Unlock()
	}()
	var staged []string
	for i, rc := range classes {
		dirs, err := d.stagedShards(rc, defs[i].MultiTenant())
		if err != nil {
			return fmt.Errorf("class %q: %w", defs[i].Class, err)
		}
		staged = append(staged, dirs...)
	}
	// All at once: the restore fails before it installs anything.
	if err := checkSpaceToOpen(d.opts.DataPath, staged...); err != nil {
		return err
	}
	for i, rc := range classes {
		if err := ctx.Err(); err != nil {
			return err
		}
		target := d.classDir(defs[i].Class)
		if err := os.RemoveAll(target); err != nil { // leftovers of a crash; the name is reserved
			return fmt.Errorf("clear %s: %w", target, err)
		}
		if err := os.Rename(rc.StagedDir, target); err != nil {
			return fmt.Errorf("install class %s: %w", defs[i].Class, err)
		}
		moved = append(moved, defs[i].Class)
		if err := fsutil.SyncDir(filepath.Dir(target)); err != nil {
			return err
		}
	}
	failpoint.Reach(failpoint.RestoreBeforeCatalog)
	// One commit registers every class and opens its active shards.
	return d.change(nil, func(p *plan) error {
		for _, n := range names {
			delete(d.reserved, n)
		}
		for i, rc := range classes {
			rec := &classRecord{Class: defs[i], Sharding: rc.Sharding, Tenants: rc.Tenants}
			if rec.Class.MultiTenant() && rec.Tenants == nil {
				rec.Tenants = map[string]string{}
			}
			p.add(rec)
		}
		return nil
	})
}

// stagedShards lists the shard directories of a restored class's staged
// directory. An entry that is not the directory of one of the class's
// shards is an error: its data would sit where no shard ever reads it.
func (d *DB) stagedShards(rc RestoredClass, multiTenant bool) ([]string, error) {
	entries, err := os.ReadDir(rc.StagedDir)
	if err != nil {
		return nil, fmt.Errorf("read staged shards: %w", err)
	}
	dirs := make([]string, 0, len(entries))
	for _, e := range entries {
		_, tenant := rc.Tenants[e.Name()]
		i := -1
		if rc.Sharding != nil {
			i = rc.Sharding.Index(e.Name())
		}
		local := i >= 0 && d.isLocal(rc.Sharding.Shards[i].Nodes)
		if !e.IsDir() || multiTenant && !tenant || !multiTenant && !local {
			return nil, invalidf("staged data %q is not a shard of the class", e.Name())
		}
		dirs = append(dirs, filepath.Join(rc.StagedDir, e.Name()))
	}
	return dirs, nil
}
