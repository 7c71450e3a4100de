package backup

import (
	"context"
	"testing"
	"time"
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
