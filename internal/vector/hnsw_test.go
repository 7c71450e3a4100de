package vector

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// clustered returns n vectors of dims around c random centres, like
// embeddings of a few topics.
func clustered(seed uint64, n, dims, c int) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float32, c)
	for i := range centres {
		centres[i] = randVec(r, dims)
	}
	out := make([][]float32, n)
	for i := range out {
		ctr := centres[r.IntN(c)]
		v := make([]float32, dims)
		for j := range v {
			v[j] = ctr[j] + float32(r.NormFloat64())*0.15
		}
		out[i] = v
	}
	return out
}

func newHNSW(t testing.TB, cfg HNSWConfig) *HNSW {
	t.Helper()
	h, err := NewHNSW(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// recallAt measures recall@k of idx against exact search of the same
// vectors, over queries.
func recallAt(t testing.TB, idx Index, exact *Flat, queries [][]float32, k int) float64 {
	t.Helper()
	hit, total := 0, 0
	for _, q := range queries {
		want, err := exact.Search(q, k, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := idx.Search(q, k, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		in := map[ID]bool{}
		for _, r := range got {
			in[r.ID] = true
		}
		for _, r := range want {
			if in[r.ID] {
				hit++
			}
		}
		total += len(want)
	}
	return float64(hit) / float64(total)
}

func TestHNSWRecall(t *testing.T) {
	const n, dims = 20000, 64
	for _, dist := range []string{Cosine, L2Squared, Dot} {
		t.Run(dist, func(t *testing.T) {
			all := clustered(1, n+200, dims, 50)
			vecs, queries := all[:n], all[n:]
			h := newHNSW(t, HNSWConfig{Distance: dist})
			exact := newFlat(t, dist)
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for i := w; i < n; i += 4 {
						if err := h.Add(idOf(i), vecs[i]); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			for i, v := range vecs {
				exact.Add(idOf(i), v)
			}
			if h.Len() != n {
				t.Fatalf("Len = %d, want %d", h.Len(), n)
			}
			rec := recallAt(t, h, exact, queries, 10)
			t.Logf("%s: recall@10 = %.4f", dist, rec)
			if rec < 0.95 {
				t.Fatalf("recall@10 = %.4f, want ≥ 0.95", rec)
			}
		})
	}
}

// store is an in-memory stand-in for the shard's records and log.
type store struct {
	nodes map[uint32][]byte
	state []byte
	log   []logEntry
}

type logEntry struct {
	seq   uint64
	entry []byte
}

// flush stores the changes of a write as a log entry.
func (s *store) flush(t testing.TB, h *HNSW) {
	t.Helper()
	if seq, e := h.FlushLog(); e != nil {
		if n := len(s.log); n > 0 && s.log[n-1].seq >= seq {
			t.Fatalf("log entry %d after %d", seq, s.log[n-1].seq)
		}
		s.log = append(s.log, logEntry{seq, slices.Clone(e)})
	}
}

// checkpoint replaces the log with the records of the nodes it touched.
func (s *store) checkpoint(t testing.TB, h *HNSW) {
	t.Helper()
	s.flush(t, h)
	run := h.StartCheckpoint()
	for !s.checkpointStep(t, run) {
	}
}

// setCheckpointChunk sets how many records a checkpoint encodes at a time,
// for the rest of the test.
func setCheckpointChunk(t testing.TB, n int) {
	saved := checkpointChunk
	checkpointChunk = n
	t.Cleanup(func() { checkpointChunk = saved })
}

// checkpointStep stores the next chunk of a checkpoint run, and once the
// run is done its state, dropping the log entries it replaces; it reports
// whether the run is done.
func (s *store) checkpointStep(t testing.TB, run *CheckpointRun) bool {
	t.Helper()
	if s.nodes == nil {
		s.nodes = map[uint32][]byte{}
	}
	done, err := run.Next(
		func(num uint32, rec []byte) error { s.nodes[num] = slices.Clone(rec); return nil },
		func(num uint32) error { delete(s.nodes, num); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if done {
		s.state = run.State()
		s.log = slices.DeleteFunc(s.log, func(e logEntry) bool { return e.seq < run.Upto() })
		run.Finish(true)
	}
	return done
}

// loadGraph reads the records and replays the log into an empty index.
func (s *store) loadGraph(t testing.TB, cfg HNSWConfig) *HNSW {
	t.Helper()
	h := newHNSW(t, cfg)
	for num, rec := range s.nodes {
		if err := h.LoadNode(num, rec); err != nil {
			t.Fatal(err)
		}
	}
	if s.state != nil {
		if err := h.LoadState(s.state); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range s.log {
		if err := h.ReplayLog(e.seq, e.entry); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// load rebuilds an index from the records, the log and the live vectors.
func (s *store) load(t testing.TB, cfg HNSWConfig, live map[ID][]float32) *HNSW {
	t.Helper()
	h := s.loadGraph(t, cfg)
	for id, v := range live {
		if !h.LoadVector(id, v) {
			t.Fatalf("object %x has no live node", id)
		}
	}
	if freed := h.FinishLoad(); freed != 0 {
		t.Fatalf("FinishLoad freed %d nodes of a consistent store", freed)
	}
	return h
}

func sameSearch(t *testing.T, a, b Index, queries [][]float32, k int) {
	t.Helper()
	for i, q := range queries {
		ra, _ := a.Search(q, k, nil, nil)
		rb, _ := b.Search(q, k, nil, nil)
		if !slices.Equal(ra, rb) {
			t.Fatalf("query %d: results differ after reload:\n%v\n%v", i, ra, rb)
		}
	}
}

// sameGraph fails unless a and b hold the same nodes, links and entry point.
func sameGraph(t *testing.T, a, b *HNSW) {
	t.Helper()
	na, nb := *a.nodes.Load(), *b.nodes.Load()
	for i := range max(len(na), len(nb)) {
		var x, y *hnswNode
		if i < len(na) {
			x = na[i].Load()
		}
		if i < len(nb) {
			y = nb[i].Load()
		}
		if (x == nil) != (y == nil) {
			t.Fatalf("node %d: present %v and %v", i, x != nil, y != nil)
		}
		if x == nil {
			continue
		}
		if x.id != y.id || x.level != y.level || x.deleted.Load() != y.deleted.Load() || !slices.Equal(x.vec, y.vec) {
			t.Fatalf("node %d differs: id %x/%x level %d/%d deleted %v/%v", i, x.id, y.id, x.level, y.level, x.deleted.Load(), y.deleted.Load())
		}
		for l := 0; l <= x.level; l++ {
			lx, ly := x.linksAt(l), y.linksAt(l)
			slices.Sort(lx)
			slices.Sort(ly)
			if !slices.Equal(lx, ly) {
				t.Fatalf("node %d layer %d: links %v and %v", i, l, lx, ly)
			}
		}
	}
	if a.entry != b.entry || a.topLevel != b.topLevel || a.hasEntry != b.hasEntry {
		t.Fatalf("entry points differ: %d@%d and %d@%d", a.entry, a.topLevel, b.entry, b.topLevel)
	}
}

func TestHNSWPersistRoundTrip(t *testing.T) {
	const n, dims = 3000, 32
	setCheckpointChunk(t, 700) // checkpoints of several chunks
	all := clustered(3, n+50, dims, 20)
	cfg := HNSWConfig{Distance: Cosine, MaxConnections: 8, EFConstruction: 64}
	h := newHNSW(t, cfg)
	var st store
	live := map[ID][]float32{}
	for i := range n {
		if err := h.Add(idOf(i), all[i]); err != nil {
			t.Fatal(err)
		}
		live[idOf(i)] = all[i]
		if i%100 == 99 {
			st.flush(t, h) // a batch
		}
		if i == n/2 {
			st.checkpoint(t, h)
			if len(st.log) != 0 || len(st.nodes) != i+1 {
				t.Fatalf("after a checkpoint: %d log entries, %d records; want 0, %d", len(st.log), len(st.nodes), i+1)
			}
		}
	}
	// Deletes and replacements leave tombstones, whose records carry their vectors.
	for i := 0; i < n; i += 7 {
		h.Delete(idOf(i))
		delete(live, idOf(i))
	}
	for i := 1; i < n; i += 11 {
		v := all[n+i%50]
		if err := h.Add(idOf(i), v); err != nil {
			t.Fatal(err)
		}
		live[idOf(i)] = v
	}
	st.flush(t, h)
	if h.Tombstones() == 0 {
		t.Fatal("no tombstones")
	}
	loaded := st.load(t, cfg, live)
	if loaded.Len() != h.Len() || loaded.Tombstones() != h.Tombstones() {
		t.Fatalf("loaded Len %d, tombstones %d; want %d, %d", loaded.Len(), loaded.Tombstones(), h.Len(), h.Tombstones())
	}
	sameGraph(t, h, loaded)
	sameSearch(t, h, loaded, all[n:], 10)

	// Cleanup in both: still the same graph, now without tombstones.
	if h.Cleanup() == 0 || loaded.Cleanup() == 0 {
		t.Fatal("Cleanup freed nothing")
	}
	st.flush(t, h)
	sameSearch(t, h, loaded, all[n:], 10)
	again := st.load(t, cfg, live)
	if again.Tombstones() != 0 || again.Len() != len(live) {
		t.Fatalf("after cleanup: %d tombstones, Len %d, want 0, %d", again.Tombstones(), again.Len(), len(live))
	}
	sameGraph(t, h, again)
	sameSearch(t, h, again, all[n:], 10)

	// A loaded index logs on after the replayed entries, and its checkpoint
	// covers what they touched.
	for i := range 50 {
		if err := again.Add(idOf(n+i), all[n+i]); err != nil {
			t.Fatal(err)
		}
		live[idOf(n+i)] = all[n+i]
	}
	st.flush(t, again)
	sameGraph(t, again, st.load(t, cfg, live))
	st.checkpoint(t, again)
	sameGraph(t, again, st.load(t, cfg, live))
}

// logOps counts a log entry's operations by kind.
func logOps(t *testing.T, entry []byte) map[uint64]int {
	t.Helper()
	ops := map[uint64]int{}
	r := &recordReader{b: entry[1:]}
	for len(r.b) > 0 && r.err == nil {
		op := r.uvarint() & 3
		ops[op]++
		switch op {
		case opRecord, opState:
			r.bytes(int(r.uvarint()))
		case opLink:
			r.uvarint()
		}
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return ops
}

func TestHNSWLogsAppendedLinksAlone(t *testing.T) {
	const n, batch, dims = 3000, 50, 32
	vecs := clustered(5, n+batch, dims, 10)
	h := newHNSW(t, HNSWConfig{Distance: L2Squared, MaxConnections: 16, EFConstruction: 64})
	for i := range n {
		h.Add(idOf(i), vecs[i])
	}
	h.FlushLog()
	for i := n; i < n+batch; i++ {
		h.Add(idOf(i), vecs[i])
	}
	_, entry := h.FlushLog()
	ops := logOps(t, entry)
	// Each new node links to up to 32 others on layer 0, most of which
	// append the back link; only new and pruned nodes need whole records.
	if ops[opLink] < 5*batch || ops[opRecord] > ops[opLink]/4 {
		t.Fatalf("log entry of %d inserts: %d links, %d records; want links logged alone", batch, ops[opLink], ops[opRecord])
	}
	t.Logf("%d inserts: %d bytes, %d link ops, %d records", batch, len(entry), ops[opLink], ops[opRecord])
}

func TestHNSWLoadRepairs(t *testing.T) {
	cfg := HNSWConfig{Distance: L2Squared, MaxConnections: 8}
	h := newHNSW(t, cfg)
	vecs := clustered(4, 200, 8, 3)
	for i, v := range vecs {
		h.Add(idOf(i), v)
	}
	var st store
	st.flush(t, h)
	// Object 5 vanished; the store does not say so. Object 999 has no node.
	live := map[ID][]float32{}
	for i, v := range vecs {
		if i != 5 {
			live[idOf(i)] = v
		}
	}
	loaded := st.loadGraph(t, cfg)
	for id, v := range live {
		loaded.LoadVector(id, v)
	}
	if loaded.LoadVector(idOf(999), vecs[0]) {
		t.Fatal("LoadVector of an object without a node reported true")
	}
	if freed := loaded.FinishLoad(); freed != 1 {
		t.Fatalf("FinishLoad freed %d nodes, want 1", freed)
	}
	res, err := loaded.Search(vecs[5], 200, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 199 {
		t.Fatalf("%d results, want 199", len(res))
	}
	for _, r := range res {
		if r.ID == idOf(5) {
			t.Fatal("the object without a vector is still returned")
		}
	}
	if err := loaded.LoadNode(0, []byte{9, 9}); err == nil {
		t.Fatal("a corrupt record loaded")
	}
}

func TestHNSWDeleteAndCleanupKeepRecall(t *testing.T) {
	const n, dims = 6000, 32
	all := clustered(5, n+100, dims, 30)
	h := newHNSW(t, HNSWConfig{Distance: L2Squared})
	exact := newFlat(t, L2Squared)
	for i := range n {
		h.Add(idOf(i), all[i])
		exact.Add(idOf(i), all[i])
	}
	for i := 0; i < n; i += 2 {
		h.Delete(idOf(i))
		exact.Delete(idOf(i))
	}
	evensDeleted := true
	check := func(stage string) {
		for _, q := range all[n:] {
			res, _ := h.Search(q, 10, nil, nil)
			for _, r := range res {
				if evensDeleted && numOf(r.ID)%2 == 0 {
					t.Fatalf("%s: deleted object %d returned", stage, numOf(r.ID))
				}
			}
		}
		if rec := recallAt(t, h, exact, all[n:], 10); rec < 0.95 {
			t.Fatalf("%s: recall@10 = %.4f, want ≥ 0.95", stage, rec)
		}
	}
	check("with tombstones")
	if freed := h.Cleanup(); freed != n/2 {
		t.Fatalf("Cleanup freed %d, want %d", freed, n/2)
	}
	check("after cleanup")
	// Freed numbers are reused.
	before := len(*h.nodes.Load())
	evensDeleted = false
	for i := 0; i < n; i += 2 {
		h.Add(idOf(i), all[i])
		exact.Add(idOf(i), all[i])
	}
	if after := len(*h.nodes.Load()); after != before {
		t.Fatalf("node array grew from %d to %d; freed numbers not reused", before, after)
	}
	check("after re-adding")
}

func TestHNSWConcurrentSearchAndWrite(t *testing.T) {
	const dims = 16
	all := clustered(6, 3000, dims, 10)
	h := newHNSW(t, HNSWConfig{Distance: Cosine, MaxConnections: 8})
	for i := range 500 {
		h.Add(idOf(i), all[i])
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := h.Search(all[i%len(all)], 5, nil, nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 2 {
		writers.Go(func() {
			for i := 500 + w; i < len(all); i += 2 {
				h.Add(idOf(i), all[i])
				if i%5 == 0 {
					h.Delete(idOf(i - 400))
				}
			}
		})
	}
	writers.Wait()
	h.Cleanup()
	close(stop)
	wg.Wait()
	if h.Tombstones() != 0 {
		t.Fatalf("%d tombstones after Cleanup", h.Tombstones())
	}
	res, _ := h.Search(all[len(all)-1], 1, nil, nil)
	if len(res) != 1 || res[0].ID != idOf(len(all)-1) {
		t.Fatalf("nearest to the last vector added = %v, want itself", res)
	}
}

func TestHNSWSearchAmongIsExact(t *testing.T) {
	vecs := clustered(7, 2000, 16, 5)
	h := newHNSW(t, HNSWConfig{Distance: L2Squared})
	exact := newFlat(t, L2Squared)
	var ids []ID
	for i, v := range vecs {
		h.Add(idOf(i), v)
		exact.Add(idOf(i), v)
		if i%13 == 0 {
			ids = append(ids, idOf(i))
		}
	}
	h.Delete(ids[0])
	exact.Delete(ids[0])
	allowed := map[ID]bool{}
	for _, id := range ids[1:] {
		allowed[id] = true
	}
	for _, q := range vecs[:20] {
		got, err := h.SearchAmong(q, 5, nil, ids)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := exact.Search(q, 5, nil, func(id ID) bool { return allowed[id] })
		if !slices.Equal(got, want) {
			t.Fatalf("SearchAmong = %v, exact = %v", got, want)
		}
	}
}

// toVersion1 rewrites a node record in the version 1 layout (link lists
// as little-endian uint32s), as records written before version 2 are.
func toVersion1(t *testing.T, rec []byte) []byte {
	t.Helper()
	out := append([]byte{nodeVersion1}, rec[1:19]...)
	r := &recordReader{b: rec[19:]}
	for range int(rec[18]) + 1 {
		links, err := r.links(rec[0])
		if err != nil {
			t.Fatal(err)
		}
		out = binary.AppendUvarint(out, uint64(len(links)))
		for _, o := range links {
			out = binary.LittleEndian.AppendUint32(out, o)
		}
	}
	return append(out, r.b...) // a tombstone's vector is laid out alike
}

// TestHNSWLoadsVersion1Records loads a store whose node records are in the
// version 1 layout (with tombstones among them) and finds the same graph,
// and checks that version 2 records are smaller.
func TestHNSWLoadsVersion1Records(t *testing.T) {
	const n, dims = 2000, 16
	all := clustered(6, n, dims, 10)
	cfg := HNSWConfig{Distance: L2Squared, MaxConnections: 8}
	h := newHNSW(t, cfg)
	live := map[ID][]float32{}
	for i, v := range all {
		h.Add(idOf(i), v)
		live[idOf(i)] = v
	}
	for i := 0; i < n; i += 9 {
		h.Delete(idOf(i))
		delete(live, idOf(i))
	}
	var st store
	st.checkpoint(t, h)
	v1 := store{nodes: map[uint32][]byte{}, state: st.state}
	size1, size2 := 0, 0
	for num, rec := range st.nodes {
		if rec[0] != nodeVersion {
			t.Fatalf("node %d written as version %d", num, rec[0])
		}
		v1.nodes[num] = toVersion1(t, rec)
		size1, size2 = size1+len(v1.nodes[num]), size2+len(rec)
	}
	if size2*10 > size1*7 {
		t.Fatalf("version 2 records take %d bytes, version 1 %d: not 30%% smaller", size2, size1)
	}
	a, b := st.load(t, cfg, live), v1.load(t, cfg, live)
	sameGraph(t, a, b)
	sameSearch(t, h, b, all[:50], 10)
}

// A checkpoint runs beside writers: its chunks are stored between writes
// that insert, replace, delete and free nodes, and the store loads into
// the same graph at every step (records newer than the log they replace
// converge when the log is replayed on them).
func TestHNSWCheckpointBesideWrites(t *testing.T) {
	const n, dims = 2000, 16
	setCheckpointChunk(t, 97)
	all := clustered(5, 3*n, dims, 20)
	cfg := HNSWConfig{Distance: L2Squared, MaxConnections: 6, EFConstruction: 48}
	h := newHNSW(t, cfg)
	var st store
	live := map[ID][]float32{}
	add := func(i int, v []float32) {
		if err := h.Add(idOf(i), v); err != nil {
			t.Fatal(err)
		}
		live[idOf(i)] = v
	}
	for i := range n {
		add(i, all[i])
		if i%50 == 49 {
			st.flush(t, h)
		}
	}
	st.flush(t, h)
	run := h.StartCheckpoint()
	if h.StartCheckpoint() != nil {
		t.Fatal("a second checkpoint started beside a running one")
	}
	next := n
	for step := 0; ; step++ {
		// A write between chunks: inserts, a replaced vector, deletes, and
		// every fifth step a cleanup that frees the tombstones' nodes.
		// Deletes fall among the nodes the run reaches last, so that some
		// are freed, and their numbers reused, before it reads them.
		for range 30 {
			add(next, all[next])
			next++
		}
		add(step*13%n, all[2*n+step])
		for k := range 6 {
			i := n/2 + (step*131+k*337)%(n/2)
			h.Delete(idOf(i))
			delete(live, idOf(i))
		}
		if step%3 == 2 {
			h.Cleanup()
		}
		st.flush(t, h)
		sameGraph(t, h, st.load(t, cfg, live))
		if st.checkpointStep(t, run) {
			break
		}
	}
	if len(st.log) == 0 {
		t.Fatal("the writes beside the checkpoint left no log entries")
	}
	sameGraph(t, h, st.load(t, cfg, live))
	st.checkpoint(t, h)
	if len(st.log) != 0 {
		t.Fatalf("%d log entries after a checkpoint with no writes beside it", len(st.log))
	}
	sameGraph(t, h, st.load(t, cfg, live))
}

// The records a checkpoint reads while inserts run in parallel (run with
// -race) load, with the log, into the graph the inserts built.
func TestHNSWCheckpointConcurrentInserts(t *testing.T) {
	const n, dims = 1500, 16
	setCheckpointChunk(t, 64)
	all := clustered(4, 2*n, dims, 20)
	cfg := HNSWConfig{Distance: Cosine, MaxConnections: 6, EFConstruction: 48}
	h := newHNSW(t, cfg)
	var st store
	live := map[ID][]float32{}
	for i := range n {
		if err := h.Add(idOf(i), all[i]); err != nil {
			t.Fatal(err)
		}
		live[idOf(i)] = all[i]
	}
	st.checkpoint(t, h)
	for i := range n / 2 { // a log for the next checkpoint to replace
		h.Delete(idOf(i))
		delete(live, idOf(i))
	}
	h.Cleanup()
	st.flush(t, h)
	run := h.StartCheckpoint()
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := n + w; i < 2*n; i += 2 {
				if err := h.Add(idOf(i), all[i]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for !st.checkpointStep(t, run) {
	}
	wg.Wait()
	for i := n; i < 2*n; i++ {
		live[idOf(i)] = all[i]
	}
	st.flush(t, h)
	sameGraph(t, h, st.load(t, cfg, live))
}
