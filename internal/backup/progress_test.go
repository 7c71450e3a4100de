package backup

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"strata/internal/backup/layout"
	"strata/internal/blob"
	"strata/internal/blob/mem"
)

// TestProgressOfCreateAndRestore: while a backup or a restore transfers,
// its status carries progress — totals fixed from the start (the files
// and bytes the backup reads, the chunk bytes the restore downloads), done
// counts that only grow up to them — and the totals are what the
// finished backup reports.
func TestProgressOfCreateAndRestore(t *testing.T) {
	gate := make(chan struct{})
	hold := func(key string) {
		if strings.Contains(key, "/chunk-") {
			<-gate
		}
	}
	st := &hookedStore{Store: mem.New(), beforePut: hold, afterGet: hold}
	f := openFixture(t, st, nil, func(o *Options) { o.ChunkTargetSize = 64 << 10 })
	m := f.mgr
	f.addObjects(t, "Article", 400, 32)
	f.addObjects(t, "Other", 100, 8)
	ctx := context.Background()

	// watch polls a job's status until it has progress, checks it while
	// the chunks are held, and lets them go.
	watch := func(get func() (Info, error)) *Progress {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		var p *Progress
		for p == nil {
			info, err := get()
			if err != nil {
				t.Fatal(err)
			}
			if p = info.Progress; p == nil && time.Now().After(deadline) {
				t.Fatalf("no progress in %+v", info)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if p.BytesTotal <= 0 || p.FilesTotal <= 0 || p.BytesDone > p.BytesTotal || p.FilesDone > p.FilesTotal ||
			len(p.Classes) != 2 || p.Classes["Article"].BytesTotal+p.Classes["Other"].BytesTotal != p.BytesTotal {
			t.Fatalf("progress while held: %+v", p)
		}
		close(gate)
		return p
	}

	if _, err := m.Create(ctx, "filesystem", CreateRequest{ID: "p1"}); err != nil {
		t.Fatal(err)
	}
	created := watch(func() (Info, error) { return m.CreateStatus(ctx, "filesystem", "p1", "", "") })
	info := wait(t, func() (Info, error) { return m.CreateStatus(ctx, "filesystem", "p1", "", "") })
	if info.Status != StatusSuccess || info.SizeBytes != created.BytesTotal {
		t.Fatalf("backup: %+v, progress total %d bytes", info, created.BytesTotal)
	}
	var man NodeManifest
	readJSONKey(t, st, layout.NodeManifest("p1", "node1"), &man)
	files, chunkBytes := int64(0), int64(0)
	for _, c := range man.Classes {
		for _, sd := range c.Shards {
			files += int64(len(sd.FileInfo))
		}
		for _, ci := range c.ChunkInfo {
			chunkBytes += ci.Size
		}
	}
	if created.FilesTotal != files {
		t.Fatalf("backup progress: %d files in all, the manifest lists %d", created.FilesTotal, files)
	}

	for _, c := range []string{"Article", "Other"} {
		if err := f.db.DeleteClass(c); err != nil {
			t.Fatal(err)
		}
	}
	gate = make(chan struct{})
	if _, err := m.Restore(ctx, "filesystem", RestoreRequest{ID: "p1"}); err != nil {
		t.Fatal(err)
	}
	restored := watch(func() (Info, error) { return m.RestoreStatus(ctx, "filesystem", "p1", "", "") })
	if info := wait(t, func() (Info, error) { return m.RestoreStatus(ctx, "filesystem", "p1", "", "") }); info.Status != StatusSuccess {
		t.Fatalf("restore: %+v", info)
	}
	if restored.BytesTotal != chunkBytes || restored.FilesTotal != files {
		t.Fatalf("restore progress: %+v, want %d chunk bytes and %d files", restored, chunkBytes, files)
	}
}

func readJSONKey(t *testing.T, st blob.Store, key string, v any) {
	t.Helper()
	rc, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(v); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
}

// TestMergeNodes: a cluster job's progress sums its nodes', class by
// class, with the rate over the job's time and the time left at it.
func TestMergeNodes(t *testing.T) {
	nodes := map[string]*Progress{
		"node1": {BytesDone: 100, BytesTotal: 400, FilesDone: 1, FilesTotal: 4,
			Classes: map[string]*Progress{"A": {BytesDone: 100, BytesTotal: 400, FilesDone: 1, FilesTotal: 4}}},
		"node2": {BytesDone: 300, BytesTotal: 400, FilesDone: 3, FilesTotal: 4,
			Classes: map[string]*Progress{"A": {BytesDone: 100, BytesTotal: 200, FilesDone: 1, FilesTotal: 2},
				"B": {BytesDone: 200, BytesTotal: 200, FilesDone: 2, FilesTotal: 2}}},
	}
	p := MergeNodes(nodes, 2*time.Second, false)
	if p.BytesDone != 400 || p.BytesTotal != 800 || p.FilesDone != 4 || p.FilesTotal != 8 || len(p.Nodes) != 2 {
		t.Fatalf("sums: %+v", p)
	}
	if a := p.Classes["A"]; a.BytesDone != 200 || a.BytesTotal != 600 || a.FilesTotal != 6 {
		t.Fatalf("class A: %+v", a)
	}
	if p.Rate != 200 || p.ETA != 2*time.Second {
		t.Fatalf("rate %v B/s, ETA %v; want 200 B/s and 2s", p.Rate, p.ETA)
	}
	if ended := MergeNodes(nodes, 2*time.Second, true); ended.ETA != 0 {
		t.Fatalf("an ended job has an ETA: %v", ended.ETA)
	}
	if MergeNodes(nil, time.Second, false) != nil {
		t.Fatal("progress without nodes")
	}
}
