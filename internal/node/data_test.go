package node

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"

	"strata/internal/db"
	"strata/internal/schema"
)

// TestDataIsOneAcrossNodes: objects written through one node land on the
// shards' owners and read back alike through every node; searches, counts
// and cursors fan out over the nodes and merge to what one node holding
// everything answers; deletes reach the owner.
func TestDataIsOneAcrossNodes(t *testing.T) {
	ms := startCluster(t, "node1", "node2", "node3")
	ctx := context.Background()
	class := &schema.Class{Class: "Doc", VectorIndexConfig: map[string]any{"distance": "l2-squared"},
		Properties: []*schema.Property{{Name: "n", DataType: []string{"int"}}}}
	if _, err := ms[0].db.CreateClass(class); err != nil {
		t.Fatal(err)
	}
	// The same data on a database that runs alone: the reference answers.
	alone, err := db.Open(db.Options{DataPath: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer alone.Close()
	if _, err := alone.CreateClass(&schema.Class{Class: "Doc", VectorIndexConfig: map[string]any{"distance": "l2-squared"},
		Properties: []*schema.Property{{Name: "n", DataType: []string{"int"}}}}); err != nil {
		t.Fatal(err)
	}

	const n = 3000
	rng := rand.NewChaCha8([32]byte{3, 4})
	ids := make([]uuid.UUID, n)
	batch := func() []*db.ObjectInput {
		ins := make([]*db.ObjectInput, n)
		for i := range ins {
			ins[i] = &db.ObjectInput{Class: "Doc", ID: ids[i], RawProperties: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
				Vector: []float32{float32(i % 97), float32(i % 89), float32(i % 83)}}
		}
		return ins
	}
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewRandomFromReader(rng))
	}
	for name, d := range map[string]*db.DB{"cluster": ms[1].db, "alone": alone} {
		res, err := d.PutObjects(ctx, batch())
		if err != nil {
			t.Fatal(name, err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(name, r.Err)
			}
		}
	}
	// Spread over the nodes, all of them there.
	total := 0
	for _, m := range ms {
		shards, err := m.db.Shards("Doc")
		if err != nil || len(shards) != 1 || shards[0].ObjectCount == 0 {
			t.Fatalf("%s: %+v, %v", m.name, shards, err)
		}
		total += shards[0].ObjectCount
	}
	if total != n {
		t.Fatalf("%d objects on the nodes, want %d", total, n)
	}

	for _, m := range ms {
		for i, id := range ids {
			o, err := m.db.GetObject(ctx, "Doc", id, "", true)
			if err != nil {
				t.Fatalf("%s: get %d: %v", m.name, i, err)
			}
			if want := fmt.Sprintf(`{"n":%d}`, i); string(o.Properties) != want || o.Vector[0] != float32(i%97) {
				t.Fatalf("%s: object %d: %s %v", m.name, i, o.Properties, o.Vector)
			}
		}
		if c, err := m.db.Count(ctx, "Doc", ""); err != nil || c != n {
			t.Fatalf("%s: count %d, %v", m.name, c, err)
		}
		// nearVector: the same top 10 as one node holding everything.
		for q := range 5 {
			vec := []float32{float32(q * 19 % 97), float32(q * 7 % 89), float32(q * 31 % 83)}
			got, err := m.db.Search(ctx, db.SearchParams{Class: "Doc", Vector: vec, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			want, err := alone.Search(ctx, db.SearchParams{Class: "Doc", Vector: vec, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(distances(got), distances(want)) {
				t.Fatalf("%s: query %d: distances %v, one node %v", m.name, q, distances(got), distances(want))
			}
		}
		// The cursor walks every object once, in id order, across nodes.
		var walked []uuid.UUID
		var after *uuid.UUID
		for {
			page, err := m.db.ListObjects(ctx, db.ListParams{Class: "Doc", Limit: 700, After: after})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, o := range page {
				walked = append(walked, o.ID)
			}
			last := page[len(page)-1].ID
			after = &last
		}
		sorted := slices.Clone(ids)
		slices.SortFunc(sorted, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		if !slices.Equal(walked, sorted) {
			t.Fatalf("%s: the cursor walked %d objects, not the %d in id order", m.name, len(walked), n)
		}
	}

	// A delete through one node is gone through every node.
	if err := ms[2].db.DeleteObject(ctx, "Doc", ids[5], ""); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if _, err := m.db.GetObject(ctx, "Doc", ids[5], "", false); db.KindOf(err) != db.KindNotFound {
			t.Fatalf("%s: deleted object: %v", m.name, err)
		}
	}
	// A duplicate insert through a node that does not own the id is the
	// same 422 as on the owner.
	for _, m := range ms {
		_, err := m.db.AddObject(ctx, &db.ObjectInput{Class: "Doc", ID: ids[7], RawProperties: json.RawMessage(`{"n":7}`), Vector: []float32{1, 2, 3}})
		if db.KindOf(err) != db.KindInvalid {
			t.Fatalf("%s: duplicate insert: %v", m.name, err)
		}
	}
}

func distances(hits []db.SearchHit) []float32 {
	out := make([]float32, len(hits))
	for i, h := range hits {
		out[i] = *h.Distance
	}
	return out
}
