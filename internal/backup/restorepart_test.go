package backup

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"strata/internal/apperr"
)

// TestEndedRestorePartsAreForgotten: a restore part that failed stays
// readable for its coordinator, reports the bytes it moved, and is
// forgotten once it ended more than partMemory ago.
func TestEndedRestorePartsAreForgotten(t *testing.T) {
	f := newFixture(t)
	f.addObjects(t, "Article", 300, 16)
	shards, err := f.db.Shards("Article")
	if err != nil || len(shards) == 0 {
		t.Fatalf("shards: %v, %v", shards, err)
	}
	var sources []ShardSource
	for _, s := range shards {
		sources = append(sources, ShardSource{Class: "Article", Shard: s.Name, Source: "node1"})
	}
	f.backup(t, CreateRequest{ID: "r1"})
	f.backup(t, CreateRequest{ID: "r2"})
	ctx := context.Background()
	waitPart := func(id string) PartState {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			st := f.mgr.RestorePartStatus(id)
			if st.Status != StatusTransferring || time.Now().After(deadline) {
				return st
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// The class still exists: placing its shards is refused.
	if err := f.mgr.StartRestorePart(ctx, RestorePartRequest{ID: "r1", Backend: "filesystem", Shards: sources}); err != nil {
		t.Fatal(err)
	}
	st := waitPart("r1")
	if !st.Known || st.Status != StatusFailed || st.Moved == 0 {
		t.Fatalf("r1: %+v, want FAILED after moving bytes", st)
	}

	// An hour and more later, the next part's start forgets it.
	f.mgr.mu.Lock()
	p := f.mgr.restoreParts["r1"]
	f.mgr.mu.Unlock()
	p.j.mu.Lock()
	p.j.desc.CompletedAt = p.j.desc.CompletedAt.Add(-partMemory - time.Minute)
	p.j.mu.Unlock()
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	if err := f.mgr.StartRestorePart(ctx, RestorePartRequest{ID: "r2", Backend: "filesystem", Shards: sources}); err != nil {
		t.Fatal(err)
	}
	if st := waitPart("r2"); st.Status != StatusTransferred {
		t.Fatalf("r2: %+v", st)
	}
	if st := f.mgr.RestorePartStatus("r1"); st.Known {
		t.Fatalf("r1 is still remembered: %+v", st)
	}
	f.mgr.AbortRestorePart("r2", "test over")
	if st := f.mgr.RestorePartStatus("r2"); st.Status != StatusCanceled {
		t.Fatalf("r2 aborted while placed: %+v", st)
	}
}

// TestRestoreOntoAnotherNodeName: a one-node backup restores onto a node
// of another name only through node_mapping; a mapping from a node the
// backup does not have, or to a node that is not this one, is 422 naming
// it.
func TestRestoreOntoAnotherNodeName(t *testing.T) {
	f := newFixture(t)
	want := f.addObjects(t, "Article", 200, 8)
	f.backup(t, CreateRequest{ID: "m1"})

	other := openFixture(t, f.store, f.store, func(o *Options) { o.Node = "other" })
	m := other.mgr
	ctx := context.Background()
	for mapping, named := range map[string]string{
		"":                    `backup node "node1" has no counterpart in this cluster (this node is "other"): restore with "node_mapping"`,
		`{"node9":"other"}`:   `"node9" is not a node of this backup`,
		`{"node1":"faraway"}`: `"faraway", which is not a node of this cluster`,
	} {
		var nm map[string]string
		if mapping != "" {
			if err := json.Unmarshal([]byte(mapping), &nm); err != nil {
				t.Fatal(err)
			}
		}
		_, err := m.Restore(ctx, "filesystem", RestoreRequest{ID: "m1", NodeMapping: nm})
		if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), named) {
			t.Fatalf("mapping %s: %v, want 422 with %q", mapping, err, named)
		}
	}
	info := other.restore(t, RestoreRequest{ID: "m1", NodeMapping: map[string]string{"node1": "other"}})
	if info.Status != StatusSuccess {
		t.Fatalf("restore with node_mapping: %+v", info)
	}
	sameObjects(t, want, other.objects(t, "Article"))
}
