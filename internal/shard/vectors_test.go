package shard

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"strata/internal/vector"
)

func randomObjects(r *rand.Rand, n, dims int) []*Object {
	objs := make([]*Object, n)
	for i := range objs {
		v := make([]float32, dims)
		for j := range v {
			v[j] = r.Float32()*2 - 1
		}
		objs[i] = &Object{ID: uuid.New(), Vector: v, Properties: []byte(`{}`)}
	}
	return objs
}

func searchAll(t *testing.T, s *Shard, queries [][]float32) [][]Hit {
	t.Helper()
	out := make([][]Hit, len(queries))
	for i, q := range queries {
		hits, err := s.Search("", q, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = hits
	}
	return out
}

func countKeys(t *testing.T, s *Shard, prefix byte) int {
	t.Helper()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefix}, UpperBound: []byte{prefix + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n
}

// checkpointGraphsWhen makes flushIndexes checkpoint the graphs when
// policy says so, for the rest of the test.
func checkpointGraphsWhen(t *testing.T, policy func(*vector.HNSW) bool) {
	saved := needsGraphCheckpoint
	needsGraphCheckpoint = policy
	t.Cleanup(func() { needsGraphCheckpoint = saved })
}

// The graph is stored with the objects, as a log of writes and
// checkpoints of it: a reopened shard, and a checkpoint of it, answer
// exactly as the original did.
func TestGraphPersistsWithObjects(t *testing.T) {
	writes := 0
	for _, tc := range []struct {
		name            string
		policy          func(*vector.HNSW) bool
		records, logged bool // node records and log entries stored after a reopen
	}{
		{"log", func(*vector.HNSW) bool { return false }, false, true},
		// The checkpoint started on load replaces the whole log.
		{"checkpoints", func(*vector.HNSW) bool { return true }, true, false},
		{"log after a checkpoint", func(*vector.HNSW) bool { writes++; return writes == 6 }, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkpointGraphsWhen(t, tc.policy)
			testGraphPersists(t, tc.records, tc.logged)
		})
	}
}

func testGraphPersists(t *testing.T, records, logged bool) {
	r := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	s := openShard(t, dir, map[string]string{"": vector.L2Squared})
	objs := randomObjects(r, 3000, 16)
	for i := 0; i < len(objs); i += 250 {
		if _, err := s.Put(objs[i : i+250]); err != nil {
			t.Fatal(err)
		}
	}
	// Updates (new vectors) and deletes leave tombstones behind.
	for _, o := range objs[:100] {
		o.Vector[0] += 0.5
	}
	if _, err := s.Put(objs[:100]); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs[100:200] {
		if _, err := s.Delete(o.ID); err != nil {
			t.Fatal(err)
		}
	}
	queries := make([][]float32, 50)
	for i := range queries {
		queries[i] = randomObjects(r, 1, 16)[0].Vector
	}
	want := searchAll(t, s, queries)
	s.bg.Wait()
	t.Logf("stored: %d node records, %d log entries", countKeys(t, s, prefixGraph), countKeys(t, s, prefixGraphLog))
	ckpt := t.TempDir() + "/ckpt"
	if err := s.Checkpoint(ckpt); err != nil {
		t.Fatal(err)
	}
	s.Close()

	for _, d := range []string{dir, ckpt} {
		s2 := openShard(t, d, map[string]string{"": vector.L2Squared})
		if got := searchAll(t, s2, queries); !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%s: results after reopen differ from before", d)
		}
		for _, o := range objs[100:200] {
			for _, hits := range want {
				if slices.ContainsFunc(hits, func(h Hit) bool { return h.ID == o.ID }) {
					t.Fatalf("deleted object %s returned", o.ID)
				}
			}
		}
		h := s2.indexes[""].(*vector.HNSW)
		if h.Len() != 2900 || h.Tombstones() != 200 {
			t.Fatalf("%s: loaded %d live nodes and %d tombstones, want 2900 and 200", d, h.Len(), h.Tombstones())
		}
		s2.bg.Wait()
		if r, l := countKeys(t, s2, prefixGraph), countKeys(t, s2, prefixGraphLog); r > 0 != records || l > 0 != logged {
			t.Fatalf("%s: %d node records and %d log entries stored; want records %v, log %v", d, r, l, records, logged)
		}
		s2.Close()
	}
}

// A shard whose objects have no graph records (written before graphs were
// stored, or records lost) gets them on first use.
func TestGraphRebuiltWhenMissing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	s := openShard(t, dir, map[string]string{"": vector.Cosine})
	objs := randomObjects(r, 500, 8)
	if _, err := s.Put(objs); err != nil {
		t.Fatal(err)
	}
	// Drop the graph behind the shard's back.
	for _, p := range []byte{prefixGraphState, prefixGraph, prefixGraphLog} {
		if err := s.db.DeleteRange([]byte{p}, []byte{p + 1}, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	for range 2 { // repaired, then loaded as repaired
		s = openShard(t, dir, map[string]string{"": vector.Cosine})
		for _, o := range objs[:20] {
			hits, err := s.Search("", o.Vector, 1, nil)
			if err != nil || len(hits) != 1 || hits[0].ID != o.ID {
				t.Fatalf("nearest to object %s = %+v, %v; want itself", o.ID, hits, err)
			}
		}
		if n := countKeys(t, s, prefixGraphLog); n != 1 {
			t.Fatalf("%d graph log entries after the repair, want 1", n)
		}
		s.Close()
	}
}

// Enough deletes trigger a background cleanup that frees the tombstones,
// in memory and in the store.
func TestTombstonesCleanedUp(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	s := openShard(t, dir, map[string]string{"": vector.L2Squared})
	objs := randomObjects(r, 3000, 8)
	if _, err := s.Put(objs); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs[:minCleanup+10] {
		if _, err := s.Delete(o.ID); err != nil {
			t.Fatal(err)
		}
	}
	s.bg.Wait()
	// Deletes after the cleanup started may have left a few.
	h := s.indexes[""].(*vector.HNSW)
	if h.Tombstones() > 10 {
		t.Fatalf("%d tombstones after cleanup", h.Tombstones())
	}
	for _, o := range objs[minCleanup+10 : minCleanup+60] {
		hits, _ := s.Search("", o.Vector, 1, nil)
		if len(hits) != 1 || hits[0].ID != o.ID {
			t.Fatalf("after cleanup, nearest to %s = %+v", o.ID, hits)
		}
	}
	live, dead := h.Len(), h.Tombstones()
	s.Close()
	s = openShard(t, dir, map[string]string{"": vector.L2Squared})
	if err := s.ensureIndexes(); err != nil {
		t.Fatal(err)
	}
	h = s.indexes[""].(*vector.HNSW)
	if h.Len() != live || h.Tombstones() != dead {
		t.Fatalf("stored graph: %d live nodes and %d tombstones, want %d and %d", h.Len(), h.Tombstones(), live, dead)
	}
}

func TestGraphKeysRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		key    []byte
		prefix byte
		size   int
		name   string
		n      uint64
	}{
		{graphKey("", 0x01020304), prefixGraph, nodeNumSize, "", 0x01020304},
		{graphKey("title_vec", 7), prefixGraph, nodeNumSize, "title_vec", 7},
		{graphLogKey("v", 1<<40+5), prefixGraphLog, logSeqSize, "v", 1<<40 + 5},
	} {
		name, n, ok := parseNumberedKey(tc.key, tc.prefix, tc.size)
		if !ok || name != tc.name || n != tc.n {
			t.Errorf("parse %x = %q, %d, %v; want %q, %d", tc.key, name, n, ok, tc.name, tc.n)
		}
	}
	if _, _, ok := parseNumberedKey(graphKey("v", 1), prefixGraphLog, logSeqSize); ok {
		t.Error("a node key parsed as a log key")
	}
}

// A damaged graph log makes searches fail with an error that says where,
// rather than answer from a wrong graph.
func TestCorruptGraphLogIsAnError(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	dir := t.TempDir()
	s := openShard(t, dir, map[string]string{"": vector.L2Squared})
	objs := randomObjects(r, 200, 8)
	if _, err := s.Put(objs); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Set(graphLogKey("", 1), []byte{1, 0xff}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openShard(t, dir, map[string]string{"": vector.L2Squared})
	_, err := s.Search("", objs[0].Vector, 1, nil)
	if err == nil || !strings.Contains(err.Error(), "log entry 1") {
		t.Fatalf("search over a corrupt graph log: %v; want an error naming the entry", err)
	}
}

// Graph checkpoints run in the background beside writers; a snapshot taken
// at any moment, mid-checkpoint included, opens to a graph that holds
// exactly the snapshot's objects, with nothing to repair.
func TestGraphCheckpointsBesideWrites(t *testing.T) {
	checkpointGraphsWhen(t, func(*vector.HNSW) bool { return true })
	var logs strings.Builder
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := Open(t.TempDir(), Options{Vectors: hnswWith(map[string]string{"": vector.L2Squared}), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(7, 8))
	objs := randomObjects(r, 4000, 8)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w * 50; i < len(objs); i += 200 {
				if _, err := s.Put(objs[i : i+50]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	var snaps []string
	for i := range 6 {
		time.Sleep(time.Duration(i+1) * 15 * time.Millisecond)
		dir := filepath.Join(t.TempDir(), "snap")
		if err := s.Checkpoint(dir); err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, dir)
	}
	wg.Wait()
	s.bg.Wait()
	for _, dir := range append(snaps, s.Dir()) {
		if dir == s.Dir() {
			s.Close()
		}
		s2, err := Open(dir, Options{Vectors: hnswWith(map[string]string{"": vector.L2Squared}), Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		if err := s2.ensureIndexes(); err != nil {
			t.Fatal(err)
		}
		nodes := 0
		if h, ok := s2.indexes[""].(*vector.HNSW); ok {
			nodes = h.Len()
		}
		if nodes != s2.Count() {
			t.Errorf("%s: graph holds %d nodes, the shard %d objects", dir, nodes, s2.Count())
		}
		t.Logf("%d objects", nodes)
		s2.Close()
	}
	if strings.Contains(logs.String(), "repaired") {
		t.Fatalf("a snapshot's graph needed repairs:\n%s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
