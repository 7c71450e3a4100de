package shard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"strata/internal/vector"
)

// Vector indexes.
//
// An HNSW graph is stored in the shard's pebble store next to the objects:
// one record per graph node and a state record per vector name as of the
// graph's last checkpoint, and a log entry per write since then (see
// vector/hnsw_log.go). Every write applies its vector changes to the graph
// in memory, then puts their log entry — or, when the log has outgrown
// the graph, a checkpoint that replaces it — into the same batch as the
// objects, so the stored graph matches the stored objects at every commit:
// after a crash, and in a checkpoint taken for a backup. A restored shard
// therefore answers exactly as the original did, without rebuilding
// anything.
//
// Indexes are loaded on first use (a search or a write), not at open, so
// opening and restoring a shard is cheap. Flat indexes are not stored: they
// are filled from the objects on load.

// Key prefixes of the vector indexes.
const (
	prefixGraph      = 'g' // 'g' + vector name + 0 + node number (uint32 BE) → node record
	prefixGraphState = 'G' // 'G' + vector name → graph state record
	prefixGraphLog   = 'L' // 'L' + vector name + 0 + entry number (uint64 BE) → graph log entry
)

// VectorIndexConfig configures the index of one vector name.
type VectorIndexConfig struct {
	Flat bool              // exact search instead of HNSW
	HNSW vector.HNSWConfig // its Distance applies to flat indexes too
}

// cleanupThreshold is how many tombstones an HNSW index collects before
// the shard removes them: at least minCleanup, else a tenth of its size.
func cleanupThreshold(live int) int { return max(minCleanup, live/10) }

const minCleanup = 1000

// Graph node and log keys are prefix + vector name + 0 + a number,
// big-endian: 4 bytes for a node number, 8 for a log entry number. Vector
// names hold no 0 byte.
const (
	nodeNumSize = 4
	logSeqSize  = 8
)

func numberedKey(prefix byte, name string, n uint64, size int) []byte {
	k := make([]byte, 0, len(name)+2+size)
	k = append(k, prefix)
	k = append(k, name...)
	k = append(k, 0)
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], n)
	return append(k, be[8-size:]...)
}

// parseNumberedKey splits a key of numberedKey's form.
func parseNumberedKey(k []byte, prefix byte, size int) (string, uint64, bool) {
	if len(k) < 2+size || k[0] != prefix || k[len(k)-size-1] != 0 {
		return "", 0, false
	}
	var n uint64
	for _, b := range k[len(k)-size:] {
		n = n<<8 | uint64(b)
	}
	return string(k[1 : len(k)-size-1]), n, true
}

func graphKey(name string, num uint32) []byte {
	return numberedKey(prefixGraph, name, uint64(num), nodeNumSize)
}

func graphLogKey(name string, seq uint64) []byte {
	return numberedKey(prefixGraphLog, name, seq, logSeqSize)
}

func graphStateKey(name string) []byte {
	return append([]byte{prefixGraphState}, name...)
}

// newIndex creates the empty index of a vector name.
func (s *Shard) newIndex(name string) vector.Index {
	cfg, ok := s.opts.Vectors[name]
	if !ok {
		cfg = VectorIndexConfig{HNSW: vector.DefaultHNSWConfig}
	}
	if cfg.Flat {
		f, err := vector.NewFlat(cfg.HNSW.Distance)
		if err == nil {
			return f
		}
		s.opts.Logger.Error("bad vector index config, using cosine", "vector", name, "err", err)
		f, _ = vector.NewFlat(vector.Cosine)
		return f
	}
	h, err := vector.NewHNSW(cfg.HNSW)
	if err != nil {
		// Configs are validated with the schema; fall back rather than lose data.
		s.opts.Logger.Error("bad vector index config, using defaults", "vector", name, "err", err)
		h, _ = vector.NewHNSW(vector.DefaultHNSWConfig)
	}
	return h
}

// ensureIndexes loads the vector indexes if that has not happened yet.
func (s *Shard) ensureIndexes() error {
	s.mu.RLock()
	built := s.built
	s.mu.RUnlock()
	if built {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() {
		return ErrClosed
	}
	return s.ensureIndexesLocked()
}

// ensureIndexesLocked loads the vector indexes: graphs from their records,
// vectors from the objects. Objects whose vector has no graph node (data
// written before graphs were stored) are inserted, nodes whose object is
// gone are dropped, and those repairs are committed. Callers hold writeMu.
func (s *Shard) ensureIndexesLocked() error {
	if s.built {
		return nil
	}
	start := time.Now()
	indexes := map[string]vector.Index{}
	get := func(name string) vector.Index {
		if indexes[name] == nil {
			indexes[name] = s.newIndex(name)
		}
		return indexes[name]
	}
	if err := s.loadGraphs(get); err != nil {
		return err
	}
	type pending struct {
		name string
		id   uuid.UUID
		vec  []float32
	}
	var missing []pending
	n := 0
	err := s.Scan(nil, true, func(o *Object) bool {
		n++
		forEachVector(o, func(name string, v []float32) {
			switch idx := get(name).(type) {
			case *vector.HNSW:
				if !idx.LoadVector(vector.ID(o.ID), v) {
					missing = append(missing, pending{name, o.ID, v})
				}
			default:
				if err := idx.Add(vector.ID(o.ID), v); err != nil {
					s.opts.Logger.Error("index vector", "id", o.ID, "vector", name, "err", err)
				}
			}
		})
		return true
	})
	if err != nil {
		return fmt.Errorf("load vector indexes: %w", err)
	}
	freed := 0
	for _, idx := range indexes {
		if h, ok := idx.(*vector.HNSW); ok {
			freed += h.FinishLoad()
		}
	}
	parallel(len(missing), func(i int) {
		p := missing[i]
		if err := indexes[p.name].Add(vector.ID(p.id), p.vec); err != nil {
			s.opts.Logger.Error("index vector", "id", p.id, "vector", p.name, "err", err)
		}
	})
	if len(missing) > 0 || freed > 0 {
		b := s.db.NewBatch()
		defer b.Close()
		if err := flushIndexes(b, indexes); err != nil {
			return err
		}
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("store vector index repairs: %w", err)
		}
		s.opts.Logger.Info("vector index repaired", "shard", s.dir, "inserted", len(missing), "dropped", freed)
	}
	s.mu.Lock()
	s.indexes, s.built = indexes, true
	s.mu.Unlock()
	s.maybeCheckpointGraphs() // a long log replayed
	s.opts.Logger.Debug("vector indexes loaded", "shard", s.dir, "objects", n, "took", time.Since(start))
	return nil
}

// loadGraphs reads the stored graph records into HNSW indexes from get,
// then replays their logs.
func (s *Shard) loadGraphs(get func(string) vector.Index) error {
	hnsw := func(name string) *vector.HNSW {
		h, _ := get(name).(*vector.HNSW) // nil if now flat: the graph is ignored
		return h
	}
	named := func(name string, err error) error {
		if err != nil {
			return fmt.Errorf("vector %q: %w", name, err)
		}
		return nil
	}
	err := s.scanPrefix(prefixGraphState, func(k, v []byte) error {
		if h := hnsw(string(k[1:])); h != nil {
			return named(string(k[1:]), h.LoadState(v))
		}
		return nil
	})
	if err == nil {
		err = s.scanPrefix(prefixGraph, func(k, v []byte) error {
			name, num, ok := parseNumberedKey(k, prefixGraph, nodeNumSize)
			if !ok {
				return fmt.Errorf("bad graph key %x", k)
			}
			if h := hnsw(name); h != nil {
				return named(name, h.LoadNode(uint32(num), v))
			}
			return nil
		})
	}
	if err == nil {
		err = s.scanPrefix(prefixGraphLog, func(k, v []byte) error {
			name, seq, ok := parseNumberedKey(k, prefixGraphLog, logSeqSize)
			if !ok {
				return fmt.Errorf("bad graph log key %x", k)
			}
			if h := hnsw(name); h != nil {
				return named(name, h.ReplayLog(seq, v))
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("load vector indexes of shard %s: %w", s.dir, err)
	}
	return nil
}

// needsGraphCheckpoint says when a graph's log is replaced by a checkpoint;
// tests shorten it.
var needsGraphCheckpoint = (*vector.HNSW).NeedsCheckpoint

// flushIndexes puts the graph changes since the last flush into b as log
// entries.
func flushIndexes(b *pebble.Batch, indexes map[string]vector.Index) error {
	for name, idx := range indexes {
		h, ok := idx.(*vector.HNSW)
		if !ok {
			continue
		}
		if seq, entry := h.FlushLog(); entry != nil {
			if err := b.Set(graphLogKey(name, seq), entry, nil); err != nil {
				return fmt.Errorf("store vector index: %w", err)
			}
		}
	}
	return nil
}

// maybeCheckpointGraphs starts a background checkpoint of each graph whose
// log is due for one. Callers hold writeMu, after committing the flush.
func (s *Shard) maybeCheckpointGraphs() {
	for name, idx := range s.indexes {
		h, ok := idx.(*vector.HNSW)
		if !ok || !needsGraphCheckpoint(h) {
			continue
		}
		if run := h.StartCheckpoint(); run != nil {
			s.bg.Go(func() { s.checkpointGraph(name, h, run) })
		}
	}
}

// checkpointGraph stores the records of a checkpoint run a chunk at a time
// and then deletes the log entries they replace. Writers go on meanwhile:
// each chunk is encoded without locks and committed under writeMu, so
// that every write whose changes the chunk may hold is committed before
// it. A failed or abandoned run leaves the log in place (records of a
// newer state than the log's are fine, see vector.CheckpointRun).
func (s *Shard) checkpointGraph(name string, h *vector.HNSW, run *vector.CheckpointRun) {
	stored := false
	defer func() { run.Finish(stored) }()
	start := time.Now()
	records := 0
	for {
		b := s.db.NewBatch()
		done, err := run.Next(
			func(num uint32, rec []byte) error { records++; return b.Set(graphKey(name, num), rec, nil) },
			func(num uint32) error { records++; return b.Delete(graphKey(name, num), nil) })
		if err == nil && done {
			err = b.Set(graphStateKey(name), run.State(), nil)
			if err == nil {
				err = b.DeleteRange(graphLogKey(name, 0), graphLogKey(name, run.Upto()), nil)
			}
		}
		if err == nil {
			err = s.commitCheckpoint(name, h, b)
		}
		b.Close()
		switch {
		case errors.Is(err, errCheckpointAbandoned):
			return
		case err != nil:
			s.opts.Logger.Error("vector index checkpoint", "shard", s.dir, "vector", name, "err", err)
			return
		case done:
			stored = true
			s.opts.Logger.Debug("vector index checkpoint", "shard", s.dir, "vector", name, "records", records, "took", time.Since(start))
			return
		}
	}
}

var errCheckpointAbandoned = errors.New("checkpoint abandoned")

// commitCheckpoint applies one batch of a checkpoint of graph name, unless
// the shard closed or the index was dropped since the run started.
func (s *Shard) commitCheckpoint(name string, h *vector.HNSW, b *pebble.Batch) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() || s.indexes[name] != vector.Index(h) {
		return errCheckpointAbandoned
	}
	// No sync: until a later write's sync, a crash leaves the log in place.
	return s.db.Apply(b, pebble.NoSync)
}

// dropIndexes forgets the in-memory indexes after a failed commit, whose
// changes they already hold; the next use loads them from the store again.
// Callers hold writeMu.
func (s *Shard) dropIndexes() {
	s.mu.Lock()
	s.indexes, s.built = nil, false
	s.mu.Unlock()
}

// vectorChange is the new state of one object's vectors in a write.
type vectorChange struct {
	id       uuid.UUID
	old, new *Object // either may be nil
}

// applyVectors applies a write's vector changes to the loaded indexes and
// puts the graph changes into b (flushIndexes). Vectors that did not change
// are left alone; insertions run in parallel. Callers hold writeMu.
func (s *Shard) applyVectors(b *pebble.Batch, changes []vectorChange) error {
	type add struct {
		idx  vector.Index
		name string
		id   uuid.UUID
		vec  []float32
	}
	var adds []add
	for _, c := range changes {
		names := map[string]bool{}
		if c.old != nil {
			forEachVector(c.old, func(name string, _ []float32) { names[name] = true })
		}
		if c.new != nil {
			forEachVector(c.new, func(name string, _ []float32) { names[name] = true })
		}
		for name := range names {
			ov, nv := vectorOf(c.old, name), vectorOf(c.new, name)
			idx := s.indexes[name]
			switch {
			case nv == nil:
				if idx != nil {
					idx.Delete(vector.ID(c.id))
				}
			case ov != nil && slices.Equal(ov, nv):
			default:
				if idx == nil {
					idx = s.newIndex(name)
					s.mu.Lock()
					s.indexes[name] = idx
					s.mu.Unlock()
				}
				adds = append(adds, add{idx, name, c.id, nv})
			}
		}
	}
	parallel(len(adds), func(i int) {
		a := adds[i]
		if err := a.idx.Add(vector.ID(a.id), a.vec); err != nil {
			s.opts.Logger.Error("index vector", "id", a.id, "vector", a.name, "err", err)
		}
	})
	return flushIndexes(b, s.indexes)
}

// afterCommit starts the background work a committed write may have made
// due. Callers hold writeMu.
func (s *Shard) afterCommit() {
	s.maybeCheckpointGraphs()
	s.maybeCleanup()
}

// maybeCleanup starts a background removal of tombstones from the HNSW
// indexes that collected enough of them. Callers hold writeMu.
func (s *Shard) maybeCleanup() {
	need := false
	for _, idx := range s.indexes {
		if h, ok := idx.(*vector.HNSW); ok && h.Tombstones() >= cleanupThreshold(h.Len()) {
			need = true
		}
	}
	if !need || !s.cleaning.CompareAndSwap(false, true) {
		return
	}
	s.bg.Go(func() {
		defer s.cleaning.Store(false)
		if err := s.cleanup(); err != nil {
			s.opts.Logger.Error("vector index cleanup", "shard", s.dir, "err", err)
		}
	})
}

// cleanup removes the tombstones of every HNSW index over the threshold
// and commits the changed records. Writers wait meanwhile.
func (s *Shard) cleanup() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.isClosed() || !s.built {
		return nil
	}
	start := time.Now()
	freed := 0
	for _, idx := range s.indexes {
		if h, ok := idx.(*vector.HNSW); ok && h.Tombstones() >= cleanupThreshold(h.Len()) {
			freed += h.Cleanup()
		}
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := flushIndexes(b, s.indexes); err != nil {
		s.dropIndexes()
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		s.dropIndexes()
		return fmt.Errorf("commit: %w", err)
	}
	s.maybeCheckpointGraphs()
	s.opts.Logger.Debug("vector index cleaned up", "shard", s.dir, "freed", freed, "took", time.Since(start))
	return nil
}

// forEachVector calls fn for each of o's vectors ("" = the legacy vector).
func forEachVector(o *Object, fn func(name string, v []float32)) {
	if o.Vector != nil {
		fn("", o.Vector)
	}
	for name, v := range o.Vectors {
		fn(name, v)
	}
}

func vectorOf(o *Object, name string) []float32 {
	switch {
	case o == nil:
		return nil
	case name == "":
		return o.Vector
	default:
		return o.Vectors[name]
	}
}

// parallel runs fn(0..n-1), CPU-bound work, on up to one goroutine per
// CPU (GOMAXPROCS may be larger: the server keeps spare processors for
// background threads, see cmd/strata).
func parallel(n int, fn func(i int)) {
	workers := min(n, runtime.GOMAXPROCS(0), runtime.NumCPU())
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// UpdateVectorConfigs takes new index settings: loaded HNSW indexes adopt
// the search settings (ef and the dynamic ef bounds); the rest applies
// when indexes are next created.
func (s *Shard) UpdateVectorConfigs(cfgs map[string]VectorIndexConfig) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.opts.Vectors = cfgs
	s.mu.RLock()
	defer s.mu.RUnlock()
	for name, idx := range s.indexes {
		if h, ok := idx.(*vector.HNSW); ok {
			if cfg, ok := cfgs[name]; ok {
				h.SetSearchConfig(cfg.HNSW)
			}
		}
	}
}
