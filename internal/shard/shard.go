// Package shard owns one shard: a pebble store holding the shard's objects
// and the in-memory vector indexes built from them. Every acknowledged
// write is synced to pebble's WAL before it returns. The package knows
// nothing of HTTP, schemas or other shards.
package shard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/uuid"

	"strata/internal/vector"
)

// Errors callers test for.
var (
	ErrNotFound = errors.New("object not found")
	ErrExists   = errors.New("object already exists")
	ErrClosed   = errors.New("shard is closed")
)

// memTableSize is a store's memtable size: what one flush writes at most.
const memTableSize = 32 << 20

// Key prefixes inside a shard's pebble store.
const (
	prefixObject = 'o' // 'o' + 16-byte UUID → object record
	prefixMeta   = 'm' // 'm' + name → shard metadata (see metaCount, metaDims)
)

// Metadata keys, written in the same batch as the objects they describe.
var (
	metaCount = []byte("mcount") // uvarint number of objects
	metaDims  = []byte("mdims:") // + vector name → uvarint vector length
)

// Options configure a shard.
type Options struct {
	// Vectors configures the index of each vector name ("" = the legacy
	// vector). Names not listed get an HNSW index with Weaviate's defaults.
	Vectors map[string]VectorIndexConfig
	Cache   *pebble.Cache // shared block cache; nil = pebble's default
	// FileCache bounds the open sstables of every store sharing it; nil =
	// one per store (pebble's default, up to 1000 files each).
	FileCache *pebble.FileCache
	Logger    *slog.Logger
	// Inverted lists the properties indexed for where filters (props.go).
	Inverted InvertedConfig
	// FS is the store's file system; nil = the operating system's. Tests
	// inject faults through it.
	FS vfs.FS
}

// Shard is one pebble store plus its vector indexes. Safe for concurrent use.
type Shard struct {
	dir  string
	opts Options
	db   *pebble.DB

	// writeMu serialises writers (and the index build), so existence
	// checks, counts, dimensions and indexes agree with the store.
	writeMu sync.Mutex
	// syncing counts written batches whose WAL sync is still awaited,
	// outside writeMu (see write); Close waits for them.
	syncing sync.WaitGroup
	mu      sync.RWMutex
	// indexes are loaded on first use (see vectors.go).
	indexes map[string]vector.Index
	built   bool
	// cleaning is set while a background tombstone cleanup runs (in bg).
	cleaning atomic.Bool
	bg       sync.WaitGroup
	dims     map[string]int // vector name → length, persisted
	count    int            // persisted
	closed   bool

	inv inverted // property index for filters (props.go)
}

// Open opens (or creates) the shard in dir. Vector indexes are loaded on
// first use.
func Open(dir string, opts Options) (*Shard, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	fs := opts.FS
	if fs == nil {
		fs = vfs.Default
	}
	po := &pebble.Options{
		Cache:        opts.Cache,
		FileCache:    opts.FileCache,
		MemTableSize: memTableSize,
		Logger:       &pebbleLogger{l: opts.Logger.With("shard", dir)},
		FS:           lazyAllocFS{fs},
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("open shard store %s: %w", dir, err)
	}
	s := &Shard{dir: dir, opts: opts, db: db, dims: map[string]int{}}
	if err := s.loadMeta(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Dir is the shard's directory.
func (s *Shard) Dir() string { return s.dir }

// loadMeta reads the object count and vector lengths.
func (s *Shard) loadMeta() error {
	err := s.scanPrefix(prefixMeta, func(k, v []byte) error {
		n, size := binary.Uvarint(v)
		if size <= 0 {
			return fmt.Errorf("corrupt metadata key %q", k)
		}
		switch {
		case bytes.Equal(k, metaCount):
			s.count = int(n)
		case bytes.HasPrefix(k, metaDims):
			s.dims[string(k[len(metaDims):])] = int(n)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read metadata of shard %s: %w", s.dir, err)
	}
	return nil
}

// scanPrefix calls fn for every key with the prefix byte, in order, and
// stops at its first error. Key and value are valid only during the call.
func (s *Shard) scanPrefix(prefix byte, fn func(k, v []byte) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefix}, UpperBound: []byte{prefix + 1}})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// checkDims verifies o's vectors against the indexes and against dims
// already claimed earlier in the same batch.
func (s *Shard) checkDims(o *Object, claimed map[string]int) error {
	check := func(name string, v []float32) error {
		if len(v) == 0 {
			return fmt.Errorf("vector %q is empty", name)
		}
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("vector has a non-finite value at position %d", i)
			}
		}
		want := s.dims[name]
		if want == 0 {
			want = claimed[name]
		}
		if want != 0 && len(v) != want {
			return &vector.DimensionError{Got: len(v), Want: want}
		}
		return nil
	}
	if o.Vector != nil {
		if err := check("", o.Vector); err != nil {
			return err
		}
	}
	for name, v := range o.Vectors {
		if err := check(name, v); err != nil {
			return fmt.Errorf("vector %q: %w", name, err)
		}
	}
	if o.Vector != nil && claimed[""] == 0 {
		claimed[""] = len(o.Vector)
	}
	for name, v := range o.Vectors {
		if claimed[name] == 0 {
			claimed[name] = len(v)
		}
	}
	return nil
}

func objectKey(id uuid.UUID) []byte {
	k := make([]byte, 17)
	k[0] = prefixObject
	copy(k[1:], id[:])
	return k
}

// Put upserts objects in one synced batch. It returns one error per object
// (nil = stored); objects that fail validation are skipped, the rest are
// written. A non-nil second result is a storage failure: nothing was written.
func (s *Shard) Put(objs []*Object) ([]error, error) {
	return s.write(objs, false)
}

// Insert stores a new object; it fails with ErrExists if the id is taken.
func (s *Shard) Insert(o *Object) error {
	errs, err := s.write([]*Object{o}, true)
	if err != nil {
		return err
	}
	return errs[0]
}

// write stores objs (each new if mustBeNew) in one batch. The batch is
// applied under writeMu, but its WAL sync is awaited after writeMu is
// released, so that the next batch is prepared and indexed while this one
// is made durable; the next batch may see this one before it is durable,
// as pebble lets any reader, and the WAL keeps them in order.
func (s *Shard) write(objs []*Object, mustBeNew bool) ([]error, error) {
	errs, b, err := s.applyWrite(objs, mustBeNew)
	if b == nil {
		return errs, err
	}
	defer s.syncing.Done()
	defer b.Close()
	if err := b.SyncWait(); err != nil {
		s.writeMu.Lock()
		s.dropIndexes()
		s.writeMu.Unlock()
		return nil, fmt.Errorf("commit batch: %w", err)
	}
	return errs, nil
}

// applyWrite prepares and applies the batch of write; a non-nil batch was
// applied and awaits its WAL sync (counted in syncing).
func (s *Shard) applyWrite(objs []*Object, mustBeNew bool) ([]error, *pebble.Batch, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() {
		return nil, nil, ErrClosed
	}
	if err := s.ensureIndexesLocked(); err != nil {
		return nil, nil, err
	}
	errs := make([]error, len(objs))
	olds := make([]*Object, len(objs))
	claimed := map[string]int{}
	b := s.db.NewBatch()
	applied := false
	defer func() {
		if !applied {
			b.Close()
		}
	}()
	seen := make(map[uuid.UUID]int, len(objs))
	added := 0
	var buf []byte
	for i, o := range objs {
		if err := s.checkDims(o, claimed); err != nil {
			errs[i] = err
			continue
		}
		old, err := s.get(o.ID, true)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, nil, err
		case mustBeNew:
			errs[i] = ErrExists
			continue
		}
		if j, dup := seen[o.ID]; dup {
			// A later duplicate in the same batch wins; the earlier one is replaced.
			old = objs[j]
		} else if old == nil {
			added++
		}
		seen[o.ID] = i
		olds[i] = old
		buf = o.encode(buf)
		if err := b.Set(objectKey(o.ID), buf, nil); err != nil {
			return nil, nil, fmt.Errorf("batch set: %w", err)
		}
		if err := s.indexProps(b, old, o); err != nil {
			return nil, nil, err
		}
	}
	if b.Empty() {
		return errs, nil, nil
	}
	newDims := map[string]int{}
	for name, n := range claimed {
		if s.dims[name] == 0 {
			newDims[name] = n
			if err := b.Set(append(metaDims[:len(metaDims):len(metaDims)], name...), binary.AppendUvarint(nil, uint64(n)), nil); err != nil {
				return nil, nil, fmt.Errorf("batch set: %w", err)
			}
		}
	}
	if added > 0 {
		if err := b.Set(metaCount, binary.AppendUvarint(nil, uint64(s.count+added)), nil); err != nil {
			return nil, nil, fmt.Errorf("batch set: %w", err)
		}
	}
	if err := checkRoomToWrite(s.dir, int64(len(b.Repr()))); err != nil {
		return nil, nil, err
	}
	if err := s.applyVectors(b, batchChanges(objs, olds, errs)); err != nil {
		s.dropIndexes()
		return nil, nil, err
	}
	if err := s.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		s.dropIndexes()
		return nil, nil, fmt.Errorf("commit batch: %w", err)
	}
	applied = true
	s.syncing.Add(1)
	s.afterCommit()
	s.mu.Lock()
	s.count += added
	for name, n := range newDims {
		s.dims[name] = n
	}
	s.mu.Unlock()
	return errs, b, nil
}

// batchChanges turns the stored objects of a write (errs[i] == nil) into
// one vector change per id: from the object stored before the batch to the
// batch's last object of that id.
func batchChanges(objs, olds []*Object, errs []error) []vectorChange {
	at := map[uuid.UUID]int{}
	var changes []vectorChange
	for i, o := range objs {
		if errs[i] != nil {
			continue
		}
		if j, ok := at[o.ID]; ok {
			changes[j].new = o
			continue
		}
		at[o.ID] = len(changes)
		changes = append(changes, vectorChange{id: o.ID, old: olds[i], new: o})
	}
	return changes
}

// Delete removes an object; it reports whether it existed.
func (s *Shard) Delete(id uuid.UUID) (bool, error) {
	n, err := s.DeleteMany([]uuid.UUID{id})
	return n == 1, err
}

// Get reads one object; ErrNotFound if it does not exist.
func (s *Shard) Get(id uuid.UUID, withVectors bool) (*Object, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	return s.get(id, withVectors)
}

func (s *Shard) get(id uuid.UUID, withVectors bool) (*Object, error) {
	v, closer, err := s.db.Get(objectKey(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get object %s: %w", id, err)
	}
	defer closer.Close()
	o, err := decodeObject(id, v, withVectors)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", id, err)
	}
	return o, nil
}

// Exists reports whether an object exists.
func (s *Shard) Exists(id uuid.UUID) (bool, error) {
	_, err := s.Get(id, false)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Scan calls fn for objects in ascending id order, starting after the given
// id (nil = from the first), until fn returns false.
func (s *Shard) Scan(after *uuid.UUID, withVectors bool, fn func(*Object) bool) error {
	if s.isClosed() {
		return ErrClosed
	}
	lower := []byte{prefixObject}
	if after != nil {
		lower = append(objectKey(*after), 0) // smallest key greater than after
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: []byte{prefixObject + 1}})
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 17 {
			continue
		}
		id, _ := uuid.FromBytes(k[1:])
		o, err := decodeObject(id, it.Value(), withVectors)
		if err != nil {
			return fmt.Errorf("object %s: %w", id, err)
		}
		if !fn(o) {
			break
		}
	}
	return it.Error()
}

// Count is the number of objects in the shard.
func (s *Shard) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.count
}

// Hit is a search result.
type Hit struct {
	ID       uuid.UUID
	Distance float32
}

// Search finds the k nearest objects to query in the named vector's index.
func (s *Shard) Search(vectorName string, query []float32, k int, maxDistance *float32) ([]Hit, error) {
	return s.search(vectorName, func(idx vector.Index) ([]vector.Result, error) {
		return idx.Search(query, k, maxDistance, nil)
	})
}

// search runs fn on the loaded index of vectorName (no hits if there is
// none yet) and turns its results into hits.
func (s *Shard) search(vectorName string, fn func(vector.Index) ([]vector.Result, error)) ([]Hit, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	if err := s.ensureIndexes(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	idx := s.indexes[vectorName]
	s.mu.RUnlock()
	if idx == nil {
		return nil, nil
	}
	res, err := fn(idx)
	if err != nil {
		return nil, err
	}
	hits := make([]Hit, len(res))
	for i, r := range res {
		hits[i] = Hit{ID: uuid.UUID(r.ID), Distance: r.Distance}
	}
	return hits, nil
}

// Dimensions returns the vector length of the named vector (0 while no
// vector was stored). It stays fixed once set, as in Weaviate.
func (s *Shard) Dimensions(vectorName string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dims[vectorName]
}

func (s *Shard) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// Close flushes nothing extra (the WAL is synced per write) and closes the store.
func (s *Shard) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.syncing.Wait()
	return s.db.Close()
}

// pebbleLogger routes a store's messages to the server log. Errors are
// logged at most once per errorLogInterval, with the count of those left
// out: pebble retries a failing flush in a tight loop (a full disk), which
// would otherwise write thousands of lines a second.
type pebbleLogger struct {
	l *slog.Logger

	mu         sync.Mutex
	lastError  time.Time
	suppressed int
}

const errorLogInterval = time.Second

func (p *pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...))
}

func (p *pebbleLogger) Errorf(format string, args ...any) {
	p.mu.Lock()
	now := time.Now()
	if now.Sub(p.lastError) < errorLogInterval {
		p.suppressed++
		p.mu.Unlock()
		return
	}
	p.lastError = now
	suppressed := p.suppressed
	p.suppressed = 0
	p.mu.Unlock()
	if suppressed > 0 {
		p.l.Error(fmt.Sprintf(format, args...), "similar_errors_not_logged", suppressed)
		return
	}
	p.l.Error(fmt.Sprintf(format, args...))
}

func (p *pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...))
}

// Checkpoint writes a consistent point-in-time copy of the shard's store into
// destDir (which must not exist), hard-linking immutable files. Writes
// continue meanwhile; everything acknowledged before the call is included.
func (s *Shard) Checkpoint(destDir string) error {
	if s.isClosed() {
		return ErrClosed
	}
	if err := s.db.Checkpoint(destDir); err != nil {
		return fmt.Errorf("checkpoint shard %s: %w", s.dir, err)
	}
	return nil
}
