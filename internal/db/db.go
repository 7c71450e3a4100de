// Package db owns the database: the persisted schema (classes and tenants)
// and the shards that hold each class's objects. It validates objects
// against the schema, routes them to shards, and answers reads and
// searches. It knows nothing of HTTP; errors carry a Kind the API maps.
package db

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"strata/internal/fsutil"
	"strata/internal/schema"
	"strata/internal/shard"
)

// Options configure a DB.
type Options struct {
	DataPath   string
	AutoSchema bool
	// AutoSchemaLimits bound what auto-schema adds; zero fields take
	// schema.DefaultAutoSchemaLimits.
	AutoSchemaLimits schema.AutoSchemaLimits
	Logger           *slog.Logger
	CacheBytes       int64 // shared pebble block cache; 0 = 64 MiB
	// FS holds the files the database copies itself (snapshots of inactive
	// tenants); nil = the operating system's.
	FS fsutil.FS
	// PebbleFS is the file system of the shards' stores; nil = the
	// operating system's. Tests inject faults through it.
	PebbleFS vfs.FS
	// MaxActiveShards bounds the shard stores open at once (each class's
	// shard and each active tenant's); 0 = DefaultMaxActiveShards.
	MaxActiveShards int
}

// DB is the database. Safe for concurrent use.
type DB struct {
	opts      Options
	log       *slog.Logger
	cache     *pebble.Cache
	fileCache *pebble.FileCache
	fs        fsutil.FS
	// shards counts the open shard stores against MaxActiveShards.
	shards shardBudget

	// mu guards the schema (classes, their records and shard maps). Object
	// reads and writes hold it for reading; schema changes for writing.
	mu      sync.RWMutex
	classes map[string]*collection
	// reserved holds names of classes being restored: they cannot be created meanwhile.
	reserved map[string]bool
	closed   bool

	// pinMu guards pins and unpinned: the shard directories snapshots are
	// copying (directory → count), and a channel closed at each release.
	pinMu    sync.Mutex
	pins     map[string]int
	unpinned chan struct{}
}

// collection is one class and its open shards.
type collection struct {
	rec    *classRecord
	shards map[string]*shard.Shard // shard name → open shard (HOT only)
}

// Open opens the database in opts.DataPath, creating it if needed. It removes
// shard directories that no class owns (left by a crash during a delete).
func Open(opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = 64 << 20
	}
	if opts.MaxActiveShards <= 0 {
		opts.MaxActiveShards = DefaultMaxActiveShards()
	}
	opts.AutoSchemaLimits = opts.AutoSchemaLimits.WithDefaults()
	if err := os.MkdirAll(filepath.Join(opts.DataPath, classesDir), 0o755); err != nil {
		return nil, fmt.Errorf("create data path: %w", err)
	}
	recs, err := loadCatalog(opts.DataPath)
	if err != nil {
		return nil, err
	}
	d := &DB{opts: opts, log: opts.Logger, cache: pebble.NewCache(opts.CacheBytes), classes: map[string]*collection{}, reserved: map[string]bool{},
		fs: fsutil.Or(opts.FS), pins: map[string]int{}, unpinned: make(chan struct{}),
		shards: shardBudget{max: opts.MaxActiveShards}}
	d.fileCache = pebble.NewFileCache(runtime.GOMAXPROCS(0), FileCacheSize())
	for _, rec := range recs {
		c := &collection{rec: rec, shards: map[string]*shard.Shard{}}
		d.classes[rec.Class.Class] = c
		for _, name := range c.hotShards() {
			if _, err := d.openShardForced(c, name, true); err != nil {
				d.Close()
				return nil, err
			}
		}
	}
	if d.shards.open > d.shards.max {
		d.log.Warn("more shards are active than STRATA_MAX_ACTIVE_SHARDS allows; no more can be activated until some are deactivated",
			"active", d.shards.open, "limit", d.shards.max)
	}
	if err := d.removeOrphans(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close closes every shard.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	for _, c := range d.classes {
		for name := range c.shards {
			errs = append(errs, d.closeShard(c, name))
		}
	}
	d.fileCache.Unref()
	d.cache.Unref()
	return errors.Join(errs...)
}

func (d *DB) classDir(class string) string {
	return filepath.Join(d.opts.DataPath, classesDir, class)
}

func (d *DB) shardDir(class, shardName string) string {
	return filepath.Join(d.classDir(class), shardName)
}

// hotShards lists the shards of a class that are open for reads and writes.
func (c *collection) hotShards() []string {
	if !c.rec.Class.MultiTenant() {
		return []string{c.rec.Shard}
	}
	var out []string
	for t, st := range c.rec.Tenants {
		if st == TenantHot {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// openShard opens a shard's store within the limit of active shards.
func (d *DB) openShard(c *collection, name string) (*shard.Shard, error) {
	return d.openShardForced(c, name, false)
}

// openShardForced opens a shard's store; force opens it beyond the limit.
func (d *DB) openShardForced(c *collection, name string, force bool) (*shard.Shard, error) {
	if s := c.shards[name]; s != nil {
		return s, nil
	}
	if err := d.shards.take(force); err != nil {
		return nil, err
	}
	s, err := d.openStore(c.rec.Class, name)
	if err != nil {
		d.shards.give()
		return nil, err
	}
	c.shards[name] = s
	return s, nil
}

// openStore opens (or creates) the store of a class's shard.
func (d *DB) openStore(class *schema.Class, name string) (*shard.Shard, error) {
	dir := d.shardDir(class.Class, name)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("create class dir: %w", err)
	}
	if err := checkSpaceToOpen(d.opts.DataPath, dir); err != nil {
		return nil, err
	}
	return shard.Open(dir, shard.Options{Vectors: d.vectorIndexConfigs(class), Cache: d.cache, FileCache: d.fileCache,
		Logger: d.log, Inverted: invertedConfig(class), FS: d.opts.PebbleFS})
}

// closeShards closes the named shards that are open; for the rollback of
// a change that failed, so errors are dropped.
func (d *DB) closeShards(c *collection, names []string) {
	for _, name := range names {
		d.closeShard(c, name)
	}
}

// closeShard closes an open shard's store and forgets it.
func (d *DB) closeShard(c *collection, name string) error {
	s := c.shards[name]
	if s == nil {
		return nil
	}
	delete(c.shards, name)
	d.shards.give()
	return s.Close()
}

// removeOrphans deletes class and shard directories the catalog does not know.
func (d *DB) removeOrphans() error {
	root := filepath.Join(d.opts.DataPath, classesDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("read %s: %w", root, err)
	}
	for _, e := range entries {
		c := d.classes[e.Name()]
		if c == nil {
			d.log.Warn("removing data of a class not in the schema", "dir", filepath.Join(root, e.Name()))
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				return err
			}
			continue
		}
		shards, err := os.ReadDir(filepath.Join(root, e.Name()))
		if err != nil {
			return err
		}
		for _, s := range shards {
			if !c.ownsShard(s.Name()) {
				dir := filepath.Join(root, e.Name(), s.Name())
				d.log.Warn("removing data of a shard not in the schema", "dir", dir)
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c *collection) ownsShard(name string) bool {
	if !c.rec.Class.MultiTenant() {
		return name == c.rec.Shard
	}
	_, ok := c.rec.Tenants[name]
	return ok
}

// records returns the catalog in a stable order. Caller holds d.mu.
func (d *DB) records() []*classRecord {
	out := make([]*classRecord, 0, len(d.classes))
	for _, c := range d.classes {
		out = append(out, c.rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Class.Class < out[j].Class.Class })
	return out
}

// persist writes the catalog with rec replacing (or adding) the record of
// its class, or removing class `remove`. The in-memory state is changed by
// the caller only after persist succeeds.
func (d *DB) persist(rec *classRecord, remove string) error {
	recs := d.records()
	out := recs[:0:0]
	replaced := false
	for _, r := range recs {
		switch {
		case r.Class.Class == remove:
		case rec != nil && r.Class.Class == rec.Class.Class:
			out = append(out, rec)
			replaced = true
		default:
			out = append(out, r)
		}
	}
	if rec != nil && !replaced {
		out = append(out, rec)
	}
	return saveCatalog(d.opts.DataPath, out)
}

// randomShardName returns a 12-character shard name like Weaviate's.
func randomShardName() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// lookup finds a class by name (normalised). Caller holds d.mu.
func (d *DB) lookup(name string) *collection {
	return d.classes[schema.NormalizeClassName(name)]
}

// similarClass finds a class, or a class being restored, whose name
// differs only in case.
func (d *DB) similarClass(name string) string {
	for n := range d.classes {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	for n := range d.reserved {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}

// ClassNames lists the names of all classes, sorted.
func (d *DB) ClassNames() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	names := make([]string, 0, len(d.classes))
	for n := range d.classes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// checkSpaceToOpen fails unless the data disk has room to open the shard
// stores in dirs (missing ones are new): pebble waits without end for room
// to replay a store's log, which would hang the request, restore or
// start-up that opens it.
func checkSpaceToOpen(dataPath string, dirs ...string) error {
	var need int64
	for _, dir := range dirs {
		n, err := shard.SpaceToOpen(dir)
		if err != nil {
			return fmt.Errorf("read shard %s: %w", dir, err)
		}
		need += n
	}
	free, err := fsutil.FreeBytes(dataPath)
	if err != nil {
		return fmt.Errorf("free space of the data disk: %w", err)
	}
	if free < need {
		return fmt.Errorf("the data disk is full: opening %d shard(s) needs about %d bytes and %d are free: %w", len(dirs), need, free, syscall.ENOSPC)
	}
	return nil
}
