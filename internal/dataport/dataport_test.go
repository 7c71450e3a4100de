package dataport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"strata/internal/cluster"
	"strata/internal/db"
	"strata/internal/filter"
	"strata/internal/schema"
	"strata/internal/shard"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture is a database with one class of one shard holding 50 objects,
// served on a data port.
type fixture struct {
	d      *db.DB
	shard  string
	client *Client
}

func newFixture(t *testing.T, auth cluster.BasicAuth, sync func(context.Context) error) *fixture {
	t.Helper()
	d, err := db.Open(db.Options{DataPath: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c := &schema.Class{Class: "Doc", VectorIndexConfig: map[string]any{"distance": "l2-squared"},
		Properties: []*schema.Property{{Name: "n", DataType: []string{"int"}}}}
	if _, err := d.CreateClass(c); err != nil {
		t.Fatal(err)
	}
	ins := make([]*db.ObjectInput, 50)
	for i := range ins {
		ins[i] = &db.ObjectInput{Class: "Doc", ID: id(i), RawProperties: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
			Vector: []float32{float32(i), 1}}
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
	shards, err := d.Shards("Doc")
	if err != nil || len(shards) != 1 {
		t.Fatal(shards, err)
	}
	srv := httptest.NewServer((&Server{Local: d, Sync: sync, Auth: auth, Logger: quiet}).Handler())
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	client := &Client{Resolve: func(node string) (string, bool) { return addr, node == "node2" }, Auth: auth}
	return &fixture{d: d, shard: shards[0].Name, client: client}
}

func id(i int) uuid.UUID { return uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)) }

// local runs fn on the fixture's shard directly.
func (f *fixture) local(t *testing.T, fn func(db.ShardOps) error) {
	t.Helper()
	if err := f.d.LocalShard("Doc", f.shard, fn); err != nil {
		t.Fatal(err)
	}
}

func TestRemoteShardAnswersAsTheLocalOne(t *testing.T) {
	f := newFixture(t, cluster.BasicAuth{}, nil)
	ctx := context.Background()
	remote := f.client.Shard("node2", "Doc", f.shard)
	where, err := filter.Parse(&filter.WhereFilter{Operator: "LessThan", Path: []string{"n"}, ValueInt: ptr(int64(10))})
	if err != nil {
		t.Fatal(err)
	}
	maxDist := float32(30)
	after := id(20)
	queries := []db.ShardQuery{
		{Vector: []float32{3.2, 1}, Limit: 5, WithVectors: true},
		{Vector: []float32{3.2, 1}, Limit: 50, MaxDistance: &maxDist},
		{Vector: []float32{40, 1}, Limit: 3, Where: where},
		{Limit: 7, After: &after},
		{Limit: 100, Where: where, WithVectors: true},
	}
	for i, q := range queries {
		got, err := remote.Find(ctx, q)
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		var want []db.ShardHit
		f.local(t, func(o db.ShardOps) (err error) { want, err = o.Find(ctx, q); return })
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("query %d: remote %d hits, local %d; equal=%v", i, len(got), len(want), reflect.DeepEqual(got, want))
		}
	}
	n, err := remote.Count(ctx, where)
	if err != nil || n != 10 {
		t.Fatalf("count where n<10 = %d, %v", n, err)
	}
	if n, err = remote.Count(ctx, nil); err != nil || n != 50 {
		t.Fatalf("count = %d, %v", n, err)
	}
	ids, err := remote.Match(ctx, where, 4)
	if err != nil || !reflect.DeepEqual(ids, []uuid.UUID{id(0), id(1), id(2), id(3)}) {
		t.Fatalf("match = %v, %v", ids, err)
	}

	o, err := remote.Get(ctx, id(7), true)
	if err != nil || o == nil || !reflect.DeepEqual(o.Vector, []float32{7, 1}) || string(o.Properties) != `{"n":7}` {
		t.Fatalf("get = %+v, %v", o, err)
	}
	if o, err := remote.Get(ctx, id(999), false); err != nil || o != nil {
		t.Fatalf("get of a missing id = %+v, %v", o, err)
	}

	// Writes: a duplicate insert keeps its kind; a put reports per object.
	dup := &shard.Object{ID: id(3), Properties: json.RawMessage(`{"n":3}`), Vector: []float32{3, 1}}
	if err := remote.Insert(ctx, dup); db.KindOf(err) != db.KindInvalid || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate insert: %v (kind %v)", err, db.KindOf(err))
	}
	objs := []*shard.Object{
		{ID: id(100), Properties: json.RawMessage(`{"n":100}`), Vector: []float32{100, 1}, CreationTimeUnix: 5, LastUpdateTimeUnix: 6},
		{ID: id(101), Properties: json.RawMessage(`{"n":101}`), Vector: []float32{1, 2, 3}}, // wrong dimensions
	}
	errs, err := remote.Put(ctx, objs)
	if err != nil || len(errs) != 2 || errs[0] != nil || db.KindOf(errs[1]) != db.KindInvalid {
		t.Fatalf("put = %v, %v", errs, err)
	}
	var stored *shard.Object
	f.local(t, func(o db.ShardOps) (err error) { stored, err = o.Get(ctx, id(100), true); return })
	if !reflect.DeepEqual(stored, objs[0]) {
		t.Fatalf("stored %+v, sent %+v", stored, objs[0])
	}
	if err := remote.Delete(ctx, []uuid.UUID{id(100), id(1), id(555)}); err != nil {
		t.Fatal(err)
	}
	if n, _ := remote.Count(ctx, nil); n != 49 {
		t.Fatalf("count after delete = %d, want 49", n)
	}

	// An unknown class is the caller's 404, naming it.
	_, err = f.client.Shard("node2", "Nope", f.shard).Count(ctx, nil)
	if !errors.Is(err, db.ErrClassNotFound) || db.KindOf(err) != db.KindNotFound || !strings.Contains(err.Error(), "Nope") {
		t.Fatalf("unknown class: %v", err)
	}
	// The node's shards, for /v1/nodes.
	infos, err := f.client.NodeShards(ctx, "node2", "Doc")
	if err != nil || len(infos) != 1 || infos[0].Name != f.shard || infos[0].ObjectCount != 49 || !infos[0].Loaded {
		t.Fatalf("node shards: %+v, %v", infos, err)
	}
	if _, err := f.client.NodeShards(ctx, "node2", "Nope"); db.KindOf(err) != db.KindNotFound {
		t.Fatalf("node shards of an unknown class: %v", err)
	}
	// A node membership does not know is an error naming it.
	if _, err := f.client.Shard("node9", "Doc", f.shard).Count(ctx, nil); err == nil || !strings.Contains(err.Error(), "node9") {
		t.Fatalf("unknown node: %v", err)
	}
}

func TestRemoteShardNeedsTheClusterCredential(t *testing.T) {
	auth := cluster.BasicAuth{User: "strata", Password: "s3cret"}
	f := newFixture(t, auth, nil)
	ctx := context.Background()
	if n, err := f.client.Shard("node2", "Doc", f.shard).Count(ctx, nil); err != nil || n != 50 {
		t.Fatalf("with the credential: %d, %v", n, err)
	}
	f.client.Auth = cluster.BasicAuth{User: "strata", Password: "wrong"}
	_, err := f.client.Shard("node2", "Doc", f.shard).Count(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("with a wrong credential: %v", err)
	}
}

// lateLocal holds its shard only once a schema sync has run, as a node
// does before the change that places a shard on it has arrived.
type lateLocal struct {
	*db.DB
	placed atomic.Bool
}

func (l *lateLocal) LocalShard(class, shard string, fn func(db.ShardOps) error) error {
	if !l.placed.Load() {
		return fmt.Errorf("shard %s: %w", shard, db.ErrShardNotLocal)
	}
	return l.DB.LocalShard(class, shard, fn)
}

func TestUnknownShardIsRetriedAfterSync(t *testing.T) {
	f := newFixture(t, cluster.BasicAuth{}, nil)
	late := &lateLocal{DB: f.d}
	var syncs atomic.Int32
	srv := httptest.NewServer((&Server{Local: late, Sync: func(context.Context) error {
		syncs.Add(1)
		late.placed.Store(true)
		return nil
	}}).Handler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c := &Client{Resolve: func(string) (string, bool) { return addr, true }}
	n, err := c.Shard("node2", "Doc", f.shard).Count(context.Background(), nil)
	if err != nil || n != 50 || syncs.Load() != 1 {
		t.Fatalf("count = %d, %v after %d syncs", n, err, syncs.Load())
	}
}

// blockingLocal answers nothing until its context ends.
type blockingLocal struct{ entered chan struct{} }

func (b blockingLocal) Shards(string) ([]db.ShardInfo, error) { return nil, nil }

func (b blockingLocal) LocalShard(class, shard string, fn func(db.ShardOps) error) error {
	close(b.entered)
	time.Sleep(time.Hour)
	return nil
}

func TestCallDeadlineCutsAHungNode(t *testing.T) {
	b := blockingLocal{entered: make(chan struct{})}
	srv := httptest.NewUnstartedServer((&Server{Local: b}).Handler())
	srv.Start()
	defer func() {
		srv.CloseClientConnections()
		go srv.Close() // the handler sleeps on; do not wait for it
	}()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c := &Client{Resolve: func(string) (string, bool) { return addr, true }, Timeout: 300 * time.Millisecond}
	start := time.Now()
	_, err := c.Shard("node2", "Doc", "s").Count(context.Background(), nil)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung node: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the call took %v past its 300ms deadline", took)
	}
	<-b.entered
}

func ptr[T any](v T) *T { return &v }
