package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"strata/internal/apperr"
	"strata/internal/backup/layout"
	"strata/internal/blob"
	"strata/internal/blob/faulty"
	"strata/internal/blob/mem"
	"strata/internal/db"
	"strata/internal/schema"
)

// memBackend is a backend over an in-memory store, for fast tests.
type memBackend struct{ store blob.Store }

func (b *memBackend) Name() string         { return "filesystem" }
func (b *memBackend) Meta() map[string]any { return map[string]any{} }
func (b *memBackend) Locate(bucket, path string) (*Location, error) {
	st := b.store
	if path != "" {
		st = blob.Prefixed(b.store, path)
	}
	return &Location{Store: st, home: func(id string) string { return "mem:" + path + "/" + id }}, nil
}

type fixture struct {
	db    *db.DB
	mgr   *Manager
	store *mem.Store
	data  string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFaultyFixture(t, func(faulty.Op, string) *faulty.Fault { return nil })
}

func (f *fixture) addObjects(t testing.TB, class string, n, dims int) map[uuid.UUID]*db.Object {
	t.Helper()
	ctx := context.Background()
	if !f.db.ClassExists(class) {
		if _, err := f.db.CreateClass(&schema.Class{Class: class, Properties: []*schema.Property{{Name: "n", DataType: []string{"int"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(n), uint64(dims)))
	var ins []*db.ObjectInput
	for i := 0; i < n; i++ {
		v := make([]float32, dims)
		for j := range v {
			v[j] = rng.Float32()*2 - 1
		}
		ins = append(ins, &db.ObjectInput{Class: class, GenerateID: true, Properties: map[string]any{"n": json.Number(fmt.Sprint(i))}, Vector: v})
	}
	res, err := f.db.PutObjects(ctx, ins)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uuid.UUID]*db.Object{}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		out[r.Object.ID] = r.Object
	}
	return out
}

func (f *fixture) objects(t *testing.T, class string) map[uuid.UUID]*db.Object {
	t.Helper()
	objs, err := f.db.ListObjects(context.Background(), db.ListParams{Class: class, Limit: 1 << 30, WithVectors: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[uuid.UUID]*db.Object{}
	for _, o := range objs {
		out[o.ID] = o
	}
	return out
}

func wait(t testing.TB, get func() (Info, error)) Info {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		info, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if info.Status.Terminal() {
			return info
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("job did not finish")
	return Info{}
}

func (f *fixture) backup(t testing.TB, req CreateRequest) Info {
	t.Helper()
	ctx := context.Background()
	if _, err := f.mgr.Create(ctx, "filesystem", req); err != nil {
		t.Fatalf("create: %v", err)
	}
	return wait(t, func() (Info, error) { return f.mgr.CreateStatus(ctx, "filesystem", req.ID, req.Bucket, req.Path) })
}

func (f *fixture) restore(t testing.TB, req RestoreRequest) Info {
	t.Helper()
	ctx := context.Background()
	if _, err := f.mgr.Restore(ctx, "filesystem", req); err != nil {
		t.Fatalf("restore: %v", err)
	}
	return wait(t, func() (Info, error) { return f.mgr.RestoreStatus(ctx, "filesystem", req.ID, req.Bucket, req.Path) })
}

func sameObjects(t *testing.T, want, got map[uuid.UUID]*db.Object) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("got %d objects, want %d", len(got), len(want))
	}
	for id, w := range want {
		g := got[id]
		if g == nil {
			t.Fatalf("object %s missing", id)
		}
		if !bytes.Equal(g.Properties, w.Properties) || g.CreationTimeUnix != w.CreationTimeUnix || len(g.Vector) != len(w.Vector) {
			t.Fatalf("object %s differs: %+v vs %+v", id, g.Object, w.Object)
		}
		for i := range w.Vector {
			if g.Vector[i] != w.Vector[i] {
				t.Fatalf("object %s vector differs at %d", id, i)
			}
		}
	}
}

func TestBackupRestoreRoundTripEveryCodec(t *testing.T) {
	for _, level := range []string{"", "BestSpeed", "BestCompression", "ZstdBestSpeed", "ZstdDefaultCompression", "ZstdBestCompression", "NoCompression"} {
		t.Run("level="+level, func(t *testing.T) {
			f := newFixture(t)
			want := f.addObjects(t, "Article", 500, 16)
			id := "bk-" + strings.ToLower(level)
			if level == "" {
				id = "bk-default"
			}
			info := f.backup(t, CreateRequest{ID: id, CompressionLevel: level})
			if info.Status != StatusSuccess || info.SizeBytes == 0 {
				t.Fatalf("backup: %+v", info)
			}
			if err := f.db.DeleteClass("Article"); err != nil {
				t.Fatal(err)
			}
			if info := f.restore(t, RestoreRequest{ID: id}); info.Status != StatusSuccess {
				t.Fatalf("restore: %+v", info)
			}
			sameObjects(t, want, f.objects(t, "Article"))
			probe := firstID(want)
			hits, err := f.db.Search(context.Background(), db.SearchParams{Class: "Article", Vector: want[probe].Vector, Limit: 1})
			if err != nil || len(hits) != 1 || hits[0].Object.ID != probe {
				t.Fatalf("search after restore: %+v %v", hits, err)
			}
		})
	}
}

func firstID(m map[uuid.UUID]*db.Object) uuid.UUID {
	for id := range m {
		return id
	}
	return uuid.Nil
}

func TestRestoreIsPointInTime(t *testing.T) {
	f := newFixture(t)
	want := f.addObjects(t, "Article", 200, 8)
	f.backup(t, CreateRequest{ID: "pit"})
	f.addObjects(t, "Article", 50, 8) // after the backup: must be undone
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	if info := f.restore(t, RestoreRequest{ID: "pit"}); info.Status != StatusSuccess {
		t.Fatalf("restore: %+v", info)
	}
	sameObjects(t, want, f.objects(t, "Article"))
}

func TestRestoreOntoExistingClassFailsWithoutTouchingIt(t *testing.T) {
	f := newFixture(t)
	f.addObjects(t, "Article", 10, 4)
	f.backup(t, CreateRequest{ID: "b1"})
	more := f.addObjects(t, "Article", 5, 4)
	info := f.restore(t, RestoreRequest{ID: "b1"})
	if info.Status != StatusFailed || !strings.Contains(info.Error, "class name Article already exists") {
		t.Fatalf("restore onto existing class: %+v", info)
	}
	if got := f.objects(t, "Article"); len(got) != 15 || got[firstID(more)] == nil {
		t.Fatalf("existing data changed: %d objects", len(got))
	}
}

func TestCorruptChunkFailsRestoreAndLeavesNoClass(t *testing.T) {
	f := newFixture(t)
	f.addObjects(t, "Article", 300, 32)
	f.backup(t, CreateRequest{ID: "c1", CompressionLevel: "NoCompression"})
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := layout.Chunk("c1", "node1", "Article", 1)
	rc, err := f.store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	b[len(b)/2] ^= 0xff
	if err := f.store.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	info := f.restore(t, RestoreRequest{ID: "c1"})
	if info.Status != StatusFailed || !strings.Contains(info.Error, "chunk-1") {
		t.Fatalf("corrupt restore: %+v", info)
	}
	if f.db.ClassExists("Article") {
		t.Fatal("class visible after failed restore")
	}
}

func TestValidationErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.mgr.Create(ctx, "filesystem", CreateRequest{ID: "x"}); err == nil || err.Error() != "no available classes to backup, there's nothing to do here" {
		t.Fatalf("empty db: %v", err)
	}
	f.addObjects(t, "Article", 3, 4)
	f.addObjects(t, "Book", 3, 4)
	cases := []struct {
		req  CreateRequest
		want string
	}{
		{CreateRequest{ID: "A1"}, "invalid backup id: 'A1' allowed characters are lowercase, 0-9, _, -"},
		{CreateRequest{ID: ""}, "invalid backup id: 'id' is required"},
		{CreateRequest{ID: "x", Include: []string{"Article"}, Exclude: []string{"Book"}}, "malformed request: 'include' and 'exclude' cannot both contain values"},
		{CreateRequest{ID: "x", Include: []string{"Article", "Article"}}, "class list 'include' contains duplicate: Article"},
		{CreateRequest{ID: "x", Include: []string{"Nope1", "Nope2"}}, "class Nope1 doesn't exist\nclass Nope2 doesn't exist"},
		{CreateRequest{ID: "x", Include: []string{"Zz*"}}, "empty class list: no class matches [Zz*], please choose from : [Article Book]"},
		{CreateRequest{ID: "x", Exclude: []string{"Article", "Book"}}, "empty class list: please choose from : [Article Book]"},
	}
	for _, tc := range cases {
		_, err := f.mgr.Create(ctx, "filesystem", tc.req)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("%+v: got %v, want %q", tc.req, err, tc.want)
		}
	}
	if _, err := f.mgr.Create(ctx, "s3", CreateRequest{ID: "x"}); err == nil ||
		err.Error() != `no backup backend "s3": backup: s3 not found, did you enable the right module?` {
		t.Errorf("unknown backend: %v", err)
	}
	info := f.backup(t, CreateRequest{ID: "dup", Include: []string{"B*"}})
	if len(info.Classes) != 1 || info.Classes[0] != "Book" {
		t.Fatalf("wildcard include: %v", info.Classes)
	}
	if _, err := f.mgr.Create(ctx, "filesystem", CreateRequest{ID: "dup"}); err == nil || !strings.Contains(err.Error(), `backup "dup" already exists`) {
		t.Fatalf("duplicate id: %v", err)
	}
	if _, err := f.mgr.CreateStatus(ctx, "filesystem", "nope", "", ""); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("status of missing backup: %v", err)
	}
	if _, err := f.mgr.Restore(ctx, "filesystem", RestoreRequest{ID: "nope"}); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("restore of missing backup: %v", err)
	}
	if _, err := f.mgr.Restore(ctx, "filesystem", RestoreRequest{ID: "dup", Include: []string{"Article"}}); err == nil ||
		err.Error() != "class Article doesn't exist in the backup, but does have [Book]: " {
		t.Fatalf("restore of class not in backup: %v", err)
	}
	if err := f.mgr.Cancel(ctx, "filesystem", "dup", "", ""); err == nil || err.Error() != `backup "dup" already succeeded` {
		t.Fatalf("cancel of success: %v", err)
	}
	if err := f.mgr.Cancel(ctx, "filesystem", "unknown", "", ""); err != nil {
		t.Fatalf("cancel of unknown id: %v", err)
	}
}

func TestInterruptedJobIsFailedAfterRestart(t *testing.T) {
	f := newFixture(t)
	f.addObjects(t, "Article", 10, 4)
	ctx := context.Background()
	// Simulate a crash: a STARTED descriptor and a job record, no running job.
	d := &Descriptor{ID: "crash", Status: StatusTransferring, StartedAt: time.Now(), Version: FormatVersion,
		Nodes: map[string]*NodeStatus{"node1": {Classes: []string{"Article"}, Status: StatusTransferring}}}
	if err := putJSON(ctx, f.store, layout.BackupDescriptor("crash"), d); err != nil {
		t.Fatal(err)
	}
	if err := f.mgr.writeRecord(&job{kind: kindBackup, id: "crash", desc: d}, jobRecord{ID: "crash", Backend: "filesystem"}); err != nil {
		t.Fatal(err)
	}
	m2, err := New(ctx, Options{DB: f.db, DataPath: f.data, Node: "node1", Backends: []Backend{&memBackend{f.store}}})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	info, err := m2.CreateStatus(ctx, "filesystem", "crash", "", "")
	if err != nil || info.Status != StatusFailed || !strings.Contains(info.Error, "interrupted by restart") {
		t.Fatalf("after restart: %+v %v", info, err)
	}
	// A new backup can start, and the failed id stays taken.
	if _, err := m2.Create(ctx, "filesystem", CreateRequest{ID: "crash"}); err == nil {
		t.Fatal("FAILED id was reused")
	}
	m2.Close()
	if _, err := f.mgr.Create(ctx, "filesystem", CreateRequest{ID: "after"}); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("new backup after restart: %v", err)
	}
}

// newFaultyFixture is a fixture whose backend injects faults chosen by rule.
func newFaultyFixture(t testing.TB, rule faulty.Rule) *fixture {
	t.Helper()
	st := mem.New()
	return openFixture(t, faulty.Wrap(st, rule), st, func(o *Options) { o.ChunkTargetSize = 64 << 10 })
}

// openFixture opens a database and a manager on node1 whose filesystem
// backend is backend (store is the memory store under it, for tests that
// read it); tune adjusts the manager's options, the node's name included.
func openFixture(t testing.TB, backend blob.Store, store *mem.Store, tune func(*Options)) *fixture {
	t.Helper()
	data := t.TempDir()
	opts := Options{DataPath: data, Node: "node1", ServerVersion: "1.35.0", Backends: []Backend{&memBackend{backend}}}
	if tune != nil {
		tune(&opts)
	}
	d, err := db.Open(db.Options{DataPath: data, Node: opts.Node})
	if err != nil {
		t.Fatal(err)
	}
	opts.DB = d
	m, err := New(context.Background(), opts)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); d.Close() })
	return &fixture{db: d, mgr: m, store: store, data: data}
}

func TestBackendFailureMidBackupFailsTheBackup(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule faulty.Rule
	}{
		{"chunk upload fails midway", func(op faulty.Op, key string) *faulty.Fault {
			if op == faulty.OpPut && strings.HasSuffix(key, "chunk-2") {
				return &faulty.Fault{Err: errors.New("connection reset by peer"), FailAfter: 1000}
			}
			return nil
		}},
		{"manifest write fails", func(op faulty.Op, key string) *faulty.Fault {
			if op == faulty.OpPut && strings.HasSuffix(key, "/backup.json") {
				return &faulty.Fault{Err: errors.New("503 service unavailable")}
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultyFixture(t, tc.rule)
			f.addObjects(t, "Article", 2000, 64)
			info := f.backup(t, CreateRequest{ID: "flaky", CompressionLevel: "NoCompression"})
			if info.Status != StatusFailed || info.Error == "" {
				t.Fatalf("backup with a failing backend: %+v", info)
			}
			// The stored descriptor agrees, and never says SUCCESS.
			d, found, err := readDescriptor(context.Background(), f.store, layout.BackupDescriptor("flaky"))
			if err != nil || !found || d.Status != StatusFailed {
				t.Fatalf("stored descriptor: %+v %v %v", d, found, err)
			}
			if _, err := f.mgr.Restore(context.Background(), "filesystem", RestoreRequest{ID: "flaky"}); err == nil ||
				!strings.Contains(err.Error(), "status: FAILED") {
				t.Fatalf("restore of a failed backup: %v", err)
			}
		})
	}
}

func TestTruncatedDownloadFailsTheRestore(t *testing.T) {
	truncate := false
	f := newFaultyFixture(t, func(op faulty.Op, key string) *faulty.Fault {
		if truncate && op == faulty.OpGet && strings.Contains(key, "chunk-") {
			return &faulty.Fault{Truncate: 5000}
		}
		return nil
	})
	f.addObjects(t, "Article", 500, 32)
	f.backup(t, CreateRequest{ID: "t1"})
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	truncate = true
	info := f.restore(t, RestoreRequest{ID: "t1"})
	if info.Status != StatusFailed || !strings.Contains(info.Error, "t1/node1/Article/chunk-") || !strings.Contains(info.Error, "truncated") {
		t.Fatalf("restore from truncated downloads: %+v; want FAILED naming the chunk", info)
	}
	if f.db.ClassExists("Article") {
		t.Fatal("class visible after a failed restore")
	}
}

func TestUnreachableBackendReportsFromMemoryAndSyncsLater(t *testing.T) {
	// Every descriptor write after the first (the STARTED one) fails until
	// the backend comes back.
	var down atomic.Bool
	var puts atomic.Int32
	down.Store(true)
	f := newFaultyFixture(t, func(op faulty.Op, key string) *faulty.Fault {
		if op == faulty.OpPut && strings.HasSuffix(key, "backup_config.json") && puts.Add(1) > 1 && down.Load() {
			return &faulty.Fault{Err: errors.New("connection refused")}
		}
		return nil
	})
	f.addObjects(t, "Article", 200, 8)
	ctx := context.Background()
	if _, err := f.mgr.Create(ctx, "filesystem", CreateRequest{ID: "down"}); err != nil {
		t.Fatal(err)
	}
	info := wait(t, func() (Info, error) { return f.mgr.CreateStatus(ctx, "filesystem", "down", "", "") })
	if info.Status != StatusFailed || !strings.Contains(info.Error, "connection refused") {
		t.Fatalf("status while the backend is down: %+v", info)
	}
	if d, _, _ := readDescriptor(ctx, f.store, layout.BackupDescriptor("down")); d == nil || d.Status != StatusStarted {
		t.Fatalf("stored descriptor while down: %+v", d)
	}
	down.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, found, err := readDescriptor(ctx, f.store, layout.BackupDescriptor("down"))
		if err == nil && found && d.Status == info.Status {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("final descriptor never reached the backend: %+v %v %v", d, found, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBrokenDownloadsResumeWithRangedReads(t *testing.T) {
	var breaks atomic.Int32
	f := newFaultyFixture(t, func(op faulty.Op, key string) *faulty.Fault {
		// Every full download of a chunk breaks after 3000 bytes; ranged
		// reads (the resumes) go through.
		if op == faulty.OpGet && strings.Contains(key, "chunk-") && breaks.Load() > 0 {
			breaks.Add(1)
			return &faulty.Fault{Err: errors.New("connection reset by peer"), BreakAfter: 3000}
		}
		return nil
	})
	want := f.addObjects(t, "Article", 400, 32)
	f.backup(t, CreateRequest{ID: "r1", CompressionLevel: "NoCompression"})
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	breaks.Store(1)
	if info := f.restore(t, RestoreRequest{ID: "r1"}); info.Status != StatusSuccess {
		t.Fatalf("restore over breaking downloads: %+v", info)
	}
	if breaks.Load() < 2 {
		t.Fatal("no download was broken: the test did not exercise resuming")
	}
	sameObjects(t, want, f.objects(t, "Article"))
}

// A class of several shards comes back with the same shards and token
// ring: every object is found by its id in the shard that held it.
func TestBackupRestoreShardedClass(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.db.CreateClass(&schema.Class{Class: "Spread", ShardingConfig: map[string]any{"desiredCount": 4.0},
		Properties: []*schema.Property{{Name: "n", DataType: []string{"int"}}}}); err != nil {
		t.Fatal(err)
	}
	want := f.addObjects(t, "Spread", 400, 8)
	before, err := f.db.Shards("Spread")
	if err != nil || len(before) != 4 {
		t.Fatalf("shards: %+v %v", before, err)
	}
	if info := f.backup(t, CreateRequest{ID: "sharded"}); info.Status != StatusSuccess {
		t.Fatalf("backup: %+v", info)
	}
	if err := f.db.DeleteClass("Spread"); err != nil {
		t.Fatal(err)
	}
	if info := f.restore(t, RestoreRequest{ID: "sharded"}); info.Status != StatusSuccess {
		t.Fatalf("restore: %+v", info)
	}
	after, err := f.db.Shards("Spread")
	if err != nil || len(after) != 4 {
		t.Fatalf("shards after restore: %+v %v", after, err)
	}
	for i := range before {
		if before[i].Name != after[i].Name || before[i].ObjectCount != after[i].ObjectCount {
			t.Fatalf("shard %d: %+v before, %+v after", i, before[i], after[i])
		}
	}
	sameObjects(t, want, f.objects(t, "Spread"))
	for id, w := range want {
		o, err := f.db.GetObject(ctx, "Spread", id, "", false)
		if err != nil || !bytes.Equal(o.Properties, w.Properties) {
			t.Fatalf("get %s after restore: %v %v", id, o, err)
		}
	}
}
