package db

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/google/uuid"

	"strata/internal/filter"
	"strata/internal/schema"
)

// shardedDB holds a class of three shards with n objects: property n = i,
// a 4-dimensional vector, ids spreadID(i).
func shardedDB(t *testing.T, dir string, n int) (*DB, map[uuid.UUID][]float32) {
	t.Helper()
	d := openTest(t, dir, false)
	c := &schema.Class{Class: "Spread", ShardingConfig: map[string]any{"desiredCount": 3.0},
		VectorIndexConfig: map[string]any{"distance": "l2-squared"},
		Properties:        []*schema.Property{{Name: "n", DataType: []string{"int"}}}}
	if _, err := d.CreateClass(c); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	vecs := map[uuid.UUID][]float32{}
	ins := make([]*ObjectInput, n)
	for i := range ins {
		v := []float32{rng.Float32(), rng.Float32(), rng.Float32(), rng.Float32()}
		ins[i] = &ObjectInput{Class: "Spread", ID: spreadID(i), Properties: props(t, fmt.Sprintf(`{"n":%d}`, i)), Vector: v}
		vecs[spreadID(i)] = v
	}
	res, err := d.PutObjects(context.Background(), ins)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	return d, vecs
}

func sortedIDs(m map[uuid.UUID][]float32) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareIDs)
	return ids
}

// A class of several shards on one node: objects spread over every shard,
// and each read, listing, search, count and delete sees the class whole.
func TestShardedClassActsAsOne(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const n = 600
	d, vecs := shardedDB(t, dir, n)

	shards, err := d.Shards("Spread")
	if err != nil || len(shards) != 3 {
		t.Fatalf("shards %+v, %v", shards, err)
	}
	total := 0
	for _, s := range shards {
		if s.ObjectCount < n/6 {
			t.Errorf("shard %s holds %d of %d objects", s.Name, s.ObjectCount, n)
		}
		total += s.ObjectCount
	}
	if total != n {
		t.Fatalf("shards hold %d objects, want %d", total, n)
	}
	cls, _ := d.GetClass("Spread")
	if cls.ShardingConfig["desiredCount"] != 3.0 || cls.ShardingConfig["desiredVirtualCount"] != 384.0 {
		t.Fatalf("sharding config %v", cls.ShardingConfig)
	}

	for i := range n {
		o, err := d.GetObject(ctx, "Spread", spreadID(i), "", true)
		if err != nil || !slices.Equal(o.Vector, vecs[spreadID(i)]) {
			t.Fatalf("object %d: %v %v", i, o, err)
		}
	}
	if c, err := d.Count(ctx, "Spread", ""); err != nil || c != n {
		t.Fatalf("count %d, %v", c, err)
	}

	// Paging with a cursor returns every id once, in id order.
	want := sortedIDs(vecs)
	var got []uuid.UUID
	var after *uuid.UUID
	for {
		page, err := d.ListObjects(ctx, ListParams{Class: "Spread", Limit: 70, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, o := range page {
			got = append(got, o.ID)
		}
		after = &page[len(page)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("cursor paging returned %d ids (in order: %v), want %d", len(got), slices.IsSortedFunc(got, compareIDs), len(want))
	}
	page, err := d.ListObjects(ctx, ListParams{Class: "Spread", Limit: 10, Offset: 95})
	if err != nil || len(page) != 10 || page[0].ID != want[95] || page[9].ID != want[104] {
		t.Fatalf("offset page: %d objects, %v", len(page), err)
	}

	// Filters run on every shard.
	lt := intWhere(filter.LessThan, "n", 100)
	if c, err := d.CountWhere(ctx, "Spread", "", lt); err != nil || c != 100 {
		t.Fatalf("count where n<100: %d, %v", c, err)
	}
	objs, err := d.ListObjects(ctx, ListParams{Class: "Spread", Limit: 1000, Where: lt})
	if err != nil || len(objs) != 100 || !slices.IsSortedFunc(objs, func(a, b *Object) int { return compareIDs(a.ID, b.ID) }) {
		t.Fatalf("list where: %d objects, %v", len(objs), err)
	}

	// A search over all shards finds the exact nearest (checked by brute
	// force), also restricted by a filter.
	q := []float32{0.5, 0.5, 0.5, 0.5}
	for _, where := range []*filter.Clause{nil, lt} {
		hits, err := d.Search(ctx, SearchParams{Class: "Spread", Vector: q, Limit: 10, Where: where})
		if err != nil || len(hits) != 10 {
			t.Fatalf("search: %d hits, %v", len(hits), err)
		}
		var cands []uuid.UUID
		for i := range n {
			if where == nil || i < 100 {
				cands = append(cands, spreadID(i))
			}
		}
		dist := func(id uuid.UUID) float32 { return l2(q, vecs[id]) }
		sort.Slice(cands, func(i, j int) bool { return dist(cands[i]) < dist(cands[j]) })
		for i, h := range hits {
			if h.Object.ID != cands[i] {
				t.Fatalf("hit %d is %s (distance %v), want %s (%v)", i, h.Object.ID, *h.Distance, cands[i], dist(cands[i]))
			}
		}
	}

	// Delete by filter takes the first matches in id order, from all shards.
	res, err := d.DeleteObjects(ctx, DeleteParams{Class: "Spread", Where: lt, Limit: 30})
	if err != nil || res.Successful != 30 {
		t.Fatalf("delete objects: %+v, %v", res, err)
	}
	if c, _ := d.CountWhere(ctx, "Spread", "", lt); c != 70 {
		t.Fatalf("%d objects with n<100 left, want 70", c)
	}
	var matched []uuid.UUID
	for i := range 100 {
		matched = append(matched, spreadID(i))
	}
	slices.SortFunc(matched, compareIDs)
	for i, o := range res.Objects {
		if o.ID != matched[i] {
			t.Fatalf("deleted %d is %s, want %s", i, o.ID, matched[i])
		}
	}

	// Single-object writes reach the object's shard.
	id := spreadID(500)
	if _, err := d.MergeObject(ctx, &ObjectInput{Class: "Spread", ID: id, Properties: props(t, `{"n":-1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteObject(ctx, "Spread", spreadID(501), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetObject(ctx, "Spread", spreadID(501), "", false); KindOf(err) != KindNotFound {
		t.Fatalf("deleted object: %v", err)
	}

	// After a restart every object is found in its shard again.
	d.Close()
	d = openTest(t, dir, false)
	o, err := d.GetObject(ctx, "Spread", id, "", false)
	if err != nil || string(o.Properties) != `{"n":-1}` {
		t.Fatalf("after reopen: %v %v", o, err)
	}
	if c, _ := d.Count(ctx, "Spread", ""); c != n-31 {
		t.Fatalf("after reopen: count %d, want %d", c, n-31)
	}
}

// spreadID is the id of object i of shardedDB.
func spreadID(i int) uuid.UUID {
	id := uuid.UUID{0: 2}
	id[14], id[15] = byte(i>>8), byte(i)
	return id
}

func l2(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return s
}

// A catalog written before classes had sharding states (one "shard" per
// class) opens with that shard and its data.
func TestLegacyCatalogShardOpens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d := openTest(t, dir, false)
	if _, err := d.CreateClass(articleClass()); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddObject(ctx, &ObjectInput{Class: "Article", ID: spreadID(1), Properties: props(t, `{"title":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	b, err := os.ReadFile(filepath.Join(dir, catalogName))
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	rec := f["classes"].([]any)[0].(map[string]any)
	rec["shard"] = rec["sharding"].(map[string]any)["shards"].([]any)[0].(map[string]any)["name"]
	delete(rec, "sharding")
	b, _ = json.Marshal(f)
	if err := os.WriteFile(filepath.Join(dir, catalogName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, dir, false)
	if o, err := d.GetObject(ctx, "Article", spreadID(1), "", false); err != nil || string(o.Properties) != `{"title":"x"}` {
		t.Fatalf("legacy catalog: %v %v", o, err)
	}
}
