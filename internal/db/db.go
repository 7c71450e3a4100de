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
	// Node is this node's name (CLUSTER_HOSTNAME); "" = "node1".
	Node string
	// Nodes lists the cluster's live nodes, over which new classes'
	// shards are placed; nil = this node alone.
	Nodes func() []string
	// Remote reaches shards held by other nodes; nil = every shard is on
	// this node.
	Remote Remote
	// Log replicates schema changes to every node; nil = they are
	// committed here directly.
	Log Log
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
	// rev counts committed schema changes; applied is the last log index
	// committed (cluster mode). Both are persisted with the catalog.
	rev, applied uint64

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
	if opts.Node == "" {
		opts.Node = "node1"
	}
	if opts.MaxActiveShards <= 0 {
		opts.MaxActiveShards = DefaultMaxActiveShards()
	}
	opts.AutoSchemaLimits = opts.AutoSchemaLimits.WithDefaults()
	if err := os.MkdirAll(filepath.Join(opts.DataPath, classesDir), 0o755); err != nil {
		return nil, fmt.Errorf("create data path: %w", err)
	}
	cat, err := loadCatalog(opts.DataPath, opts.Node)
	if err != nil {
		return nil, err
	}
	d := &DB{opts: opts, log: opts.Logger, cache: pebble.NewCache(opts.CacheBytes), classes: map[string]*collection{}, reserved: map[string]bool{},
		fs: fsutil.Or(opts.FS), pins: map[string]int{}, unpinned: make(chan struct{}),
		shards: shardBudget{max: opts.MaxActiveShards}}
	d.fileCache = pebble.NewFileCache(runtime.GOMAXPROCS(0), FileCacheSize())
	d.rev, d.applied = cat.Rev, cat.Applied
	for _, rec := range cat.Classes {
		c := &collection{rec: rec, shards: map[string]*shard.Shard{}}
		d.classes[rec.Class.Class] = c
		for _, name := range d.hotShards(c) {
			if _, err := d.openShard(c, name, true); err != nil {
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

// hotShards lists the shards of a class this node keeps open for reads
// and writes.
func (d *DB) hotShards(c *collection) []string {
	if !c.rec.Class.MultiTenant() {
		return d.localShards(c)
	}
	var out []string
	for t, st := range c.rec.Tenants {
		if st == TenantHot && d.isLocal(c.rec.tenantNodes(t)) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// openShard opens a shard's store within the limit of active shards;
// force opens it beyond the limit.
func (d *DB) openShard(c *collection, name string, force bool) (*shard.Shard, error) {
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
			if !d.ownsShard(c, s.Name()) {
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

// ownsShard tells whether name is a shard of the class on this node.
func (d *DB) ownsShard(c *collection, name string) bool {
	if !c.rec.Class.MultiTenant() {
		i := c.rec.Sharding.Index(name)
		return i >= 0 && d.isLocal(c.rec.Sharding.Shards[i].Nodes)
	}
	_, ok := c.rec.Tenants[name]
	return ok && d.isLocal(c.rec.tenantNodes(name))
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

// catalogOf is the catalog holding recs (class name → record). Caller
// holds d.mu.
func (d *DB) catalogOf(recs map[string]*classRecord) *catalogFile {
	f := &catalogFile{Version: catalogVersion, Rev: d.rev, Applied: d.applied, Classes: make([]*classRecord, 0, len(recs))}
	for _, r := range recs {
		f.Classes = append(f.Classes, r)
	}
	sort.Slice(f.Classes, func(i, j int) bool { return f.Classes[i].Class.Class < f.Classes[j].Class.Class })
	return f
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
