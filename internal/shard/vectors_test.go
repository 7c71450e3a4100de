package shard

import (
	"math/rand/v2"
	"slices"
	"testing"

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

// The graph is stored with the objects: a reopened shard, and a
// checkpoint of it, answer exactly as the original did.
func TestGraphPersistsWithObjects(t *testing.T) {
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
	if n := countKeys(t, s, prefixGraph); n < 2900 {
		t.Fatalf("%d graph records stored, want one per node", n)
	}
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
	if err := s.db.DeleteRange([]byte{prefixGraphState}, []byte{prefixGraphState + 1}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.db.DeleteRange([]byte{prefixGraph}, []byte{prefixGraph + 1}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openShard(t, dir, map[string]string{"": vector.Cosine})
	for _, o := range objs[:20] {
		hits, err := s.Search("", o.Vector, 1, nil)
		if err != nil || len(hits) != 1 || hits[0].ID != o.ID {
			t.Fatalf("nearest to object %s = %+v, %v; want itself", o.ID, hits, err)
		}
	}
	if n := countKeys(t, s, prefixGraph); n != len(objs) {
		t.Fatalf("%d graph records after the repair, want %d", n, len(objs))
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
	if n, want := countKeys(t, s, prefixGraph), len(objs)-minCleanup-10+h.Tombstones(); n != want {
		t.Fatalf("%d graph records, want %d", n, want)
	}
	for _, o := range objs[minCleanup+10 : minCleanup+60] {
		hits, _ := s.Search("", o.Vector, 1, nil)
		if len(hits) != 1 || hits[0].ID != o.ID {
			t.Fatalf("after cleanup, nearest to %s = %+v", o.ID, hits)
		}
	}
}
