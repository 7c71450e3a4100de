package shard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"strata/internal/vector"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// hnswWith returns HNSW index configs with the given distances.
func hnswWith(distances map[string]string) map[string]VectorIndexConfig {
	out := map[string]VectorIndexConfig{}
	for name, d := range distances {
		cfg := vector.DefaultHNSWConfig
		cfg.Distance = d
		out[name] = VectorIndexConfig{HNSW: cfg}
	}
	return out
}

func openShard(t *testing.T, dir string, distances map[string]string) *Shard {
	t.Helper()
	s, err := Open(dir, Options{Vectors: hnswWith(distances), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func idN(n int) uuid.UUID {
	var id uuid.UUID
	id[14], id[15] = byte(n>>8), byte(n)
	return id
}

func obj(id uuid.UUID, props string, vec ...float32) *Object {
	o := &Object{ID: id, CreationTimeUnix: 1000, LastUpdateTimeUnix: 2000}
	if props != "" {
		o.Properties = json.RawMessage(props)
	}
	if vec != nil {
		o.Vector = vec
	}
	return o
}

func mustPut(t *testing.T, s *Shard, objs ...*Object) {
	t.Helper()
	errs, err := s.Put(objs)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("object %d: %v", i, e)
		}
	}
}

func mustGet(t *testing.T, s *Shard, id uuid.UUID) *Object {
	t.Helper()
	o, err := s.Get(id, true)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return o
}

func scanIDs(t *testing.T, s *Shard, after *uuid.UUID) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	if err := s.Scan(after, false, func(o *Object) bool { ids = append(ids, o.ID); return true }); err != nil {
		t.Fatal(err)
	}
	return ids
}

func hitIDs(hits []Hit) []uuid.UUID {
	out := make([]uuid.UUID, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func TestPutGet(t *testing.T) {
	s := openShard(t, t.TempDir(), nil)
	o := &Object{
		ID:                 uuid.MustParse("00000000-0000-0000-0000-000000000001"),
		Properties:         json.RawMessage(`{"title":"hello world","wordCount":3}`),
		Vector:             edgeFloats[:4],
		Vectors:            map[string][]float32{"title_vec": {1, 2}},
		CreationTimeUnix:   1795636747134,
		LastUpdateTimeUnix: 1795636747135,
	}
	mustPut(t, s, o)
	sameObject(t, mustGet(t, s, o.ID), o, true)
	noVec, err := s.Get(o.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	sameObject(t, noVec, o, false)
	if s.Count() != 1 {
		t.Fatalf("Count = %d", s.Count())
	}
	if ok, err := s.Exists(o.ID); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if s.Dimensions("") != 4 || s.Dimensions("title_vec") != 2 || s.Dimensions("nope") != 0 {
		t.Fatalf("dims: %d %d %d", s.Dimensions(""), s.Dimensions("title_vec"), s.Dimensions("nope"))
	}

	if _, err := s.Get(idN(99), true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	if ok, err := s.Exists(idN(99)); ok || err != nil {
		t.Fatalf("Exists missing = %v, %v", ok, err)
	}
	// An object with no properties and no vector.
	bare := &Object{ID: idN(5), CreationTimeUnix: 7, LastUpdateTimeUnix: 7}
	mustPut(t, s, bare)
	sameObject(t, mustGet(t, s, bare.ID), bare, true)
}

func TestInsert(t *testing.T) {
	s := openShard(t, t.TempDir(), nil)
	first := obj(idN(1), `{"v":1}`, 1, 0)
	if err := s.Insert(first); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(obj(idN(1), `{"v":2}`, 0, 1)); !errors.Is(err, ErrExists) {
		t.Fatalf("second Insert: %v, want ErrExists", err)
	}
	sameObject(t, mustGet(t, s, idN(1)), first, true)
	if s.Count() != 1 {
		t.Fatalf("Count = %d", s.Count())
	}
	// The index still holds the first vector.
	hits, err := s.Search("", []float32{1, 0}, 1, nil)
	if err != nil || len(hits) != 1 || hits[0].Distance > 1e-6 {
		t.Fatalf("search after failed insert: %v, %v", hits, err)
	}
	var de *vector.DimensionError
	if err := s.Insert(obj(idN(2), "", 1, 2, 3)); !errors.As(err, &de) {
		t.Fatalf("Insert with wrong dims: %v", err)
	}
	if _, err := s.Get(idN(2), false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rejected insert was stored: %v", err)
	}
}

func TestDelete(t *testing.T) {
	s := openShard(t, t.TempDir(), nil)
	mustPut(t, s, obj(idN(1), "", 1, 0), obj(idN(2), "", 0, 1),
		&Object{ID: idN(3), Vectors: map[string][]float32{"n": {1, 1}}})
	ok, err := s.Delete(idN(1))
	if !ok || err != nil {
		t.Fatalf("Delete = %v, %v", ok, err)
	}
	if ok, err := s.Delete(idN(1)); ok || err != nil {
		t.Fatalf("second Delete = %v, %v", ok, err)
	}
	if ok, err := s.Delete(idN(42)); ok || err != nil {
		t.Fatalf("Delete of never-stored id = %v, %v", ok, err)
	}
	if _, err := s.Get(idN(1), true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after delete: %v", err)
	}
	if s.Count() != 2 {
		t.Fatalf("Count = %d, want 2", s.Count())
	}
	hits, err := s.Search("", []float32{1, 0}, 10, nil)
	if err != nil || len(hits) != 1 || hits[0].ID != idN(2) {
		t.Fatalf("search after delete: %v, %v", hits, err)
	}
	if _, err := s.Delete(idN(3)); err != nil {
		t.Fatal(err)
	}
	if hits, err := s.Search("n", []float32{1, 1}, 10, nil); err != nil || len(hits) != 0 {
		t.Fatalf("named index still holds a deleted object: %v, %v", hits, err)
	}
	if got := scanIDs(t, s, nil); len(got) != 1 || got[0] != idN(2) {
		t.Fatalf("scan after delete: %v", got)
	}
}

func TestScanOrderAndCursor(t *testing.T) {
	s := openShard(t, t.TempDir(), nil)
	r := rand.New(rand.NewPCG(1, 2))
	var ids []uuid.UUID
	var objs []*Object
	for i := 0; i < 300; i++ {
		var id uuid.UUID
		for j := range id {
			id[j] = byte(r.UintN(256))
		}
		ids = append(ids, id)
		objs = append(objs, obj(id, fmt.Sprintf(`{"i":%d}`, i)))
	}
	// Edge ids sort first and last.
	var lo, hi uuid.UUID
	for j := range hi {
		hi[j] = 0xff
	}
	ids = append(ids, lo, hi)
	objs = append(objs, obj(lo, ""), obj(hi, ""))
	mustPut(t, s, objs...)
	sorted := append([]uuid.UUID(nil), ids...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i][:], sorted[j][:]) < 0 })

	got := scanIDs(t, s, nil)
	if fmt.Sprint(got) != fmt.Sprint(sorted) {
		t.Fatalf("scan order differs from UUID byte order")
	}
	// After every stored id: exactly the ids that follow it.
	for i := range sorted {
		after := sorted[i]
		if got := scanIDs(t, s, &after); fmt.Sprint(got) != fmt.Sprint(sorted[i+1:]) {
			t.Fatalf("scan after %s: %d ids, want %d", after, len(got), len(sorted)-i-1)
		}
	}
	// After an id that is not stored: the ids greater than it.
	probe := sorted[100]
	probe[15]++ // still below sorted[101] unless adjacent; compute the expectation
	var want []uuid.UUID
	for _, id := range sorted {
		if bytes.Compare(id[:], probe[:]) > 0 {
			want = append(want, id)
		}
	}
	if got := scanIDs(t, s, &probe); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("scan after absent id: %d ids, want %d", len(got), len(want))
	}
	// Early stop.
	n := 0
	if err := s.Scan(nil, false, func(*Object) bool { n++; return n < 5 }); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("scan did not stop: %d calls", n)
	}
	// Scan delivers full objects; vectors only when asked.
	mustPut(t, s, obj(idN(7), `{"p":1}`, 1, 2))
	seven := idN(6)
	if err := s.Scan(&seven, true, func(o *Object) bool {
		if o.ID != idN(7) || string(o.Properties) != `{"p":1}` || len(o.Vector) != 2 {
			t.Fatalf("scanned object %+v", o)
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Scan(&seven, false, func(o *Object) bool {
		if o.Vector != nil {
			t.Fatalf("vector without withVectors")
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
}

func TestCountWithUpsertsAndDuplicates(t *testing.T) {
	s := openShard(t, t.TempDir(), nil)
	mustPut(t, s, obj(idN(1), `{"v":"a1"}`, 1, 0, 0), obj(idN(2), `{"v":"b"}`, 0, 1, 0), obj(idN(1), `{"v":"a2"}`, 0, 0, 1))
	if s.Count() != 2 {
		t.Fatalf("Count = %d, want 2 (duplicate in one batch)", s.Count())
	}
	if got := mustGet(t, s, idN(1)); string(got.Properties) != `{"v":"a2"}` || got.Vector[2] != 1 {
		t.Fatalf("later duplicate did not win: %s %v", got.Properties, got.Vector)
	}
	// Upsert of an existing id and a new one.
	mustPut(t, s, obj(idN(2), `{"v":"b2"}`, 0, 1, 0), obj(idN(3), `{"v":"c"}`, 1, 1, 0))
	if s.Count() != 3 {
		t.Fatalf("Count = %d, want 3", s.Count())
	}
	// Existing id twice in one batch.
	mustPut(t, s, obj(idN(3), `{"v":"c2"}`, 1, 1, 1), obj(idN(3), `{"v":"c3"}`, 1, 0, 1))
	if s.Count() != 3 {
		t.Fatalf("Count = %d, want 3", s.Count())
	}
	if got := mustGet(t, s, idN(3)); string(got.Properties) != `{"v":"c3"}` {
		t.Fatalf("id 3 = %s", got.Properties)
	}
	// The index holds exactly one vector per object, the latest.
	hits, err := s.Search("", []float32{0, 0, 1}, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 3 || hits[0].ID != idN(1) || hits[0].Distance > 1e-6 {
		t.Fatalf("hits %v", hits)
	}
	if got := len(scanIDs(t, s, nil)); got != s.Count() {
		t.Fatalf("scan finds %d objects, Count says %d", got, s.Count())
	}
}

func TestDuplicateInBatchNamedVectors(t *testing.T) {
	s := openShard(t, t.TempDir(), nil)
	// Stored: vector "old". Batch: first copy has "x", second has "y".
	mustPut(t, s, &Object{ID: idN(1), Vectors: map[string][]float32{"old": {1, 0}}})
	mustPut(t, s,
		&Object{ID: idN(1), Vectors: map[string][]float32{"x": {1, 0}}},
		&Object{ID: idN(1), Vectors: map[string][]float32{"y": {0, 1}}})
	for name, want := range map[string]int{"old": 0, "x": 0, "y": 1} {
		hits, err := s.Search(name, []float32{1, 1}, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != want {
			t.Errorf("index %q holds %d vectors, want %d", name, len(hits), want)
		}
	}
	if got := mustGet(t, s, idN(1)); len(got.Vectors) != 1 || got.Vectors["y"] == nil {
		t.Fatalf("stored vectors %v", got.Vectors)
	}
	// Replacing with an object without vectors empties the indexes.
	mustPut(t, s, obj(idN(1), `{}`))
	if hits, _ := s.Search("y", []float32{1, 1}, 10, nil); len(hits) != 0 {
		t.Fatalf("vector survived a replace without vectors: %v", hits)
	}
}

func TestDimensionErrorsPerObject(t *testing.T) {
	s := openShard(t, t.TempDir(), nil)
	mustPut(t, s, obj(idN(1), "", 1, 2, 3))
	errs, err := s.Put([]*Object{
		obj(idN(2), "", 4, 5, 6),
		obj(idN(3), "", 1, 2),
		obj(idN(4), "", 7, 8, 9),
		{ID: idN(5), Vector: []float32{}},
		{ID: idN(6), Vectors: map[string][]float32{"n": {1}}},
		{ID: idN(7), Vectors: map[string][]float32{"n": {1, 2}}}, // n was claimed with 1 by id 6
	})
	if err != nil {
		t.Fatal(err)
	}
	var de *vector.DimensionError
	if errs[0] != nil || errs[2] != nil || errs[4] != nil {
		t.Fatalf("good objects failed: %v", errs)
	}
	if !errors.As(errs[1], &de) || de.Got != 2 || de.Want != 3 {
		t.Fatalf("errs[1] = %v", errs[1])
	}
	const msg = "new node has a vector with length 2. Existing nodes have vectors with length 3: vector dimensions do not match the index dimensions"
	if errs[1].Error() != msg {
		t.Fatalf("message %q", errs[1])
	}
	if errs[3] == nil {
		t.Fatal("empty vector accepted")
	}
	if !errors.As(errs[5], &de) || de.Got != 2 || de.Want != 1 {
		t.Fatalf("errs[5] = %v", errs[5])
	}
	for _, n := range []int{1, 2, 4, 6} {
		mustGet(t, s, idN(n))
	}
	for _, n := range []int{3, 5, 7} {
		if _, err := s.Get(idN(n), false); !errors.Is(err, ErrNotFound) {
			t.Fatalf("failed object %d was stored: %v", n, err)
		}
	}
	if s.Count() != 4 {
		t.Fatalf("Count = %d, want 4", s.Count())
	}

	// On a fresh shard the first object of a batch fixes the dimensions.
	s2 := openShard(t, t.TempDir(), nil)
	errs, err = s2.Put([]*Object{obj(idN(1), "", 1, 2, 3, 4), obj(idN(2), "", 1, 2, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || !errors.As(errs[1], &de) || de.Want != 4 {
		t.Fatalf("errs = %v", errs)
	}
	if s2.Dimensions("") != 4 || s2.Count() != 1 {
		t.Fatalf("dims %d count %d", s2.Dimensions(""), s2.Count())
	}

	// A batch where everything fails writes nothing.
	errs, err = s2.Put([]*Object{obj(idN(9), "", 1)})
	if err != nil || errs[0] == nil {
		t.Fatalf("errs %v, err %v", errs, err)
	}
	if s2.Count() != 1 {
		t.Fatalf("Count = %d", s2.Count())
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	dists := map[string]string{"": vector.L2Squared, "n": vector.Dot}
	s, err := Open(dir, Options{Vectors: hnswWith(dists), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var objs []*Object
	for i := 0; i < 50; i++ {
		objs = append(objs, &Object{
			ID: idN(i), Properties: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
			Vector:  []float32{float32(i), 0},
			Vectors: map[string][]float32{"n": {float32(i), 1, edgeFloats[i%9]}}, // finite edge values
			// distinct times to check they survive
			CreationTimeUnix: int64(i) * 1000, LastUpdateTimeUnix: int64(i)*1000 + 1,
		})
	}
	mustPut(t, s, objs...)
	if _, err := s.Delete(idN(10)); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, obj(idN(20), `{"i":"replaced"}`, 100, 0))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openShard(t, dir, dists)
	if s.Count() != 49 {
		t.Fatalf("Count after reopen = %d, want 49", s.Count())
	}
	if _, err := s.Get(idN(10), false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted object back after reopen: %v", err)
	}
	for _, o := range objs {
		if o.ID == idN(10) || o.ID == idN(20) {
			continue
		}
		sameObject(t, mustGet(t, s, o.ID), o, true)
	}
	if got := mustGet(t, s, idN(20)); string(got.Properties) != `{"i":"replaced"}` || got.Vectors != nil {
		t.Fatalf("replaced object after reopen: %s %v", got.Properties, got.Vectors)
	}
	if s.Dimensions("") != 2 || s.Dimensions("n") != 3 {
		t.Fatalf("dims after reopen: %d %d", s.Dimensions(""), s.Dimensions("n"))
	}
	// Indexes are rebuilt with the configured distances.
	hits, err := s.Search("", []float32{12, 0}, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(hitIDs(hits)) != fmt.Sprint([]uuid.UUID{idN(12), idN(11), idN(13)}) || hits[0].Distance != 0 || hits[1].Distance != 1 {
		t.Fatalf("l2 hits after reopen: %v", hits)
	}
	hits, err = s.Search("", []float32{10, 0}, 1, nil)
	if err != nil || len(hits) != 1 || hits[0].ID == idN(10) {
		t.Fatalf("deleted object in index after reopen: %v, %v", hits, err)
	}
	hits, err = s.Search("n", []float32{1, 0, 0}, 1, nil)
	if err != nil || len(hits) != 1 || hits[0].ID != idN(49) || hits[0].Distance != -49 {
		t.Fatalf("dot hits after reopen: %v, %v", hits, err)
	}
	// Writes keep working and counting after reopen.
	mustPut(t, s, obj(idN(10), "", 1, 1), obj(idN(11), "", 1, 1))
	if s.Count() != 50 {
		t.Fatalf("Count = %d, want 50", s.Count())
	}
}

func TestSearch(t *testing.T) {
	// This tests the shard's search, not the index's recall: a candidate
	// list longer than the shard makes the graph search exhaustive, so the
	// hits must be the exact nearest ones (the graph is built by parallel
	// inserts, whose order varies from run to run).
	cfg := vector.DefaultHNSWConfig // cosine
	cfg.EF = 400
	s, err := Open(t.TempDir(), Options{Vectors: map[string]VectorIndexConfig{"": {HNSW: cfg}}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	r := rand.New(rand.NewPCG(5, 6))
	vecs := map[uuid.UUID][]float32{}
	var objs []*Object
	for i := 0; i < 200; i++ {
		v := make([]float32, 8)
		for j := range v {
			v[j] = r.Float32()*2 - 1
		}
		vecs[idN(i)] = v
		objs = append(objs, obj(idN(i), "", v...))
	}
	mustPut(t, s, objs...)
	cos, _ := vector.DistanceFor(vector.Cosine)
	for trial := 0; trial < 10; trial++ {
		q := make([]float32, 8)
		for j := range q {
			q[j] = r.Float32()*2 - 1
		}
		hits, err := s.Search("", q, 5, nil)
		if err != nil {
			t.Fatal(err)
		}
		type cand struct {
			id uuid.UUID
			d  float32
		}
		var all []cand
		nq := vector.Normalize(q)
		for id, v := range vecs {
			all = append(all, cand{id, cos(nq, vector.Normalize(v))})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].d < all[j].d })
		if len(hits) != 5 {
			t.Fatalf("%d hits", len(hits))
		}
		for i := range hits {
			if hits[i].ID != all[i].id || hits[i].Distance != all[i].d {
				t.Fatalf("hit %d = %v, want %v", i, hits[i], all[i])
			}
		}
	}
	// Exact match is first at distance ~0.
	hits, err := s.Search("", vecs[idN(77)], 1, nil)
	if err != nil || len(hits) != 1 || hits[0].ID != idN(77) || hits[0].Distance > 1e-6 {
		t.Fatalf("self search: %v, %v", hits, err)
	}
	// maxDistance.
	md := float32(0.3)
	hits, err = s.Search("", vecs[idN(77)], 200, &md)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.Distance > md {
			t.Fatalf("hit beyond maxDistance: %v", h)
		}
	}
	if len(hits) == 0 || len(hits) == 200 {
		t.Fatalf("maxDistance kept %d of 200", len(hits))
	}
	// Wrong query length.
	var de *vector.DimensionError
	if _, err := s.Search("", []float32{1, 2}, 1, nil); !errors.As(err, &de) {
		t.Fatalf("dimension mismatch: %v", err)
	}
	// Unknown vector name: no hits, no error.
	if hits, err := s.Search("nope", []float32{1}, 1, nil); err != nil || len(hits) != 0 {
		t.Fatalf("unknown vector: %v, %v", hits, err)
	}
}

func TestClosed(t *testing.T) {
	s := openShard(t, t.TempDir(), nil)
	mustPut(t, s, obj(idN(1), `{}`, 1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Get(idN(1), false); !errors.Is(err, ErrClosed) {
		t.Errorf("Get: %v", err)
	}
	if _, err := s.Put([]*Object{obj(idN(2), "")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Put: %v", err)
	}
	if err := s.Insert(obj(idN(2), "")); !errors.Is(err, ErrClosed) {
		t.Errorf("Insert: %v", err)
	}
	if _, err := s.Delete(idN(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Delete: %v", err)
	}
	if _, err := s.Search("", []float32{1}, 1, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Search: %v", err)
	}
	if err := s.Scan(nil, false, func(*Object) bool { return true }); !errors.Is(err, ErrClosed) {
		t.Errorf("Scan: %v", err)
	}
	if _, err := s.Exists(idN(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Exists: %v", err)
	}
}

func TestOpenTwiceFails(t *testing.T) {
	dir := t.TempDir()
	openShard(t, dir, nil)
	if s, err := Open(dir, Options{Logger: quiet}); err == nil {
		s.Close()
		t.Fatal("second Open of a locked directory succeeded")
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	s := openShard(t, t.TempDir(), nil)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				id := idN(w*1000 + i)
				if _, err := s.Put([]*Object{obj(id, `{"x":1}`, float32(w), float32(i), 1)}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Get(id, true); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Search("", []float32{1, 1, 1}, 3, nil); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 0 {
					if _, err := s.Delete(id); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if s.Count() != 4*40 {
		t.Fatalf("Count = %d, want 160", s.Count())
	}
	if got := len(scanIDs(t, s, nil)); got != 160 {
		t.Fatalf("scan finds %d", got)
	}
}

// TestCloseDuringWrites closes the shard while writers run: each write
// either fails with ErrClosed or is acknowledged, and every acknowledged
// object is there after reopening.
func TestCloseDuringWrites(t *testing.T) {
	dir := t.TempDir()
	s := openShard(t, dir, nil)
	var mu sync.Mutex
	var acked []uuid.UUID
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := idN(w*10000 + i)
				_, err := s.Put([]*Object{obj(id, `{"x":1}`, float32(w), float32(i), 1)})
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before Close")
	}
	r := openShard(t, dir, nil)
	for _, id := range acked {
		if _, err := r.Get(id, true); err != nil {
			t.Fatalf("acknowledged object %s: %v", id, err)
		}
	}
	if r.Count() != len(acked) {
		t.Fatalf("Count = %d, want %d", r.Count(), len(acked))
	}
}
