package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"strata/internal/backup/layout"
	"strata/internal/blob/faulty"
	"strata/internal/db"
	"strata/internal/schema"
)

// editManifest rewrites the node manifest of backup id in the store.
func (f *fixture) editManifest(t *testing.T, id string, edit func(*NodeManifest)) {
	t.Helper()
	ctx := context.Background()
	key := layout.NodeManifest(id, "node1")
	rc, err := f.store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var nm NodeManifest
	err = json.NewDecoder(rc).Decode(&nm)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	edit(&nm)
	if err := putJSON(ctx, f.store, key, &nm); err != nil {
		t.Fatal(err)
	}
}

// editSchema rewrites the stored definition of one class of a manifest.
func editSchema(t *testing.T, nm *NodeManifest, class string, edit func(map[string]any)) {
	t.Helper()
	for _, c := range nm.Classes {
		if c.Name != class {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(c.Schema, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		c.Schema = b
		return
	}
	t.Fatalf("class %s not in the manifest", class)
}

// chunkGets counts downloads of chunks.
func chunkGets(n *atomic.Int32) faulty.Rule {
	return func(op faulty.Op, key string) *faulty.Fault {
		if op == faulty.OpGet && strings.Contains(key, "/chunk-") {
			n.Add(1)
		}
		return nil
	}
}

// A backup whose class definition a create would refuse fails to restore,
// naming the class and the problem, before any chunk is downloaded.
func TestRestoreRefusesWhatACreateRefuses(t *testing.T) {
	var gets atomic.Int32
	f := newFaultyFixture(t, chunkGets(&gets))
	f.addObjects(t, "Article", 20, 4)
	f.backup(t, CreateRequest{ID: "v1"})
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	var original NodeManifest
	f.editManifest(t, "v1", func(nm *NodeManifest) { original = cloneManifest(t, nm) })
	for name, tc := range map[string]struct {
		edit func(map[string]any)
		want string
	}{
		"vector index type": {func(m map[string]any) { m["vectorIndexType"] = "bogus" },
			`unrecognized or unsupported vectorIndexType "bogus"`},
		"property name": {func(m map[string]any) {
			m["properties"] = []any{map[string]any{"name": "x y", "dataType": []any{"text"}}}
		}, `'x y' is not a valid property name`},
		"data type": {func(m map[string]any) {
			m["properties"] = []any{map[string]any{"name": "p", "dataType": []any{"nonsense"}}}
		}, `property 'p': invalid dataType: [nonsense]`},
		"distance": {func(m map[string]any) {
			m["vectorIndexConfig"].(map[string]any)["distance"] = "euclid"
		}, `unsupported distance euclid`},
	} {
		t.Run(name, func(t *testing.T) {
			f.editManifest(t, "v1", func(nm *NodeManifest) {
				*nm = cloneManifest(t, &original)
				editSchema(t, nm, "Article", tc.edit)
			})
			gets.Store(0)
			info := f.restore(t, RestoreRequest{ID: "v1"})
			if info.Status != StatusFailed || !strings.Contains(info.Error, `could not restore classes: class "Article": `) ||
				!strings.Contains(info.Error, tc.want) {
				t.Fatalf("restore of an invalid class: %+v; want FAILED naming the class and %q", info, tc.want)
			}
			if f.db.ClassExists("Article") {
				t.Fatal("invalid class installed")
			}
			if n := gets.Load(); n != 0 {
				t.Fatalf("%d chunks downloaded for a restore that could not be installed", n)
			}
		})
	}
}

// Classes restored together may reference each other; a reference to a
// class that is neither restored nor present fails as in a create.
func TestRestoreResolvesReferencesAmongItsClasses(t *testing.T) {
	f := newFixture(t)
	for _, c := range []*schema.Class{
		{Class: "Author"},
		{Class: "Book", Properties: []*schema.Property{{Name: "by", DataType: []string{"Author"}}}},
	} {
		if _, err := f.db.CreateClass(c); err != nil {
			t.Fatal(err)
		}
	}
	f.backup(t, CreateRequest{ID: "refs"})
	for _, c := range []string{"Book", "Author"} {
		if err := f.db.DeleteClass(c); err != nil {
			t.Fatal(err)
		}
	}
	info := f.restore(t, RestoreRequest{ID: "refs", Include: []string{"Book"}})
	if info.Status != StatusFailed || !strings.Contains(info.Error, `class "Book": property 'by': invalid dataType`) {
		t.Fatalf("restore of a class referencing a missing one: %+v", info)
	}
	if info := f.restore(t, RestoreRequest{ID: "refs"}); info.Status != StatusSuccess {
		t.Fatalf("restore of classes referencing each other: %+v", info)
	}
}

// The manifest's shards must be the class's: a shard the class does not
// have, or a class shard missing from the manifest, fails the restore
// naming the shard.
func TestRestoreRefusesShardMismatch(t *testing.T) {
	f := newFixture(t)
	f.addObjects(t, "Article", 20, 4)
	if _, err := f.db.CreateClass(&schema.Class{Class: "Multi", MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.AddTenants("Multi", []db.Tenant{{Name: "t1"}, {Name: "t2"}}); err != nil {
		t.Fatal(err)
	}
	f.backup(t, CreateRequest{ID: "sh"})
	shard := f.shardName(t, "Article")
	for _, c := range []string{"Article", "Multi"} {
		if err := f.db.DeleteClass(c); err != nil {
			t.Fatal(err)
		}
	}
	var original NodeManifest
	f.editManifest(t, "sh", func(nm *NodeManifest) { original = cloneManifest(t, nm) })
	for name, tc := range map[string]struct {
		class string
		edit  func(*ClassDescriptor)
		want  string
	}{
		"renamed shard": {"Article", func(c *ClassDescriptor) {
			c.Shards[0].Name = "Elsewhere"
			for n := range c.Chunks {
				c.Chunks[n] = []string{"Elsewhere"}
			}
		}, `class Article: the backup has files of shard "Elsewhere", which is not a shard of the class`},
		"no shard": {"Article", func(c *ClassDescriptor) { c.Shards, c.Chunks, c.ChunkInfo = nil, nil, nil },
			fmt.Sprintf(`class Article: shard %q of the class (its sharding state) is missing from the backup`, shard)},
		"missing tenant": {"Multi", func(c *ClassDescriptor) { c.Shards = c.Shards[:1] },
			`class Multi: shard "t2" of the class (its sharding state) is missing from the backup`},
		"extra tenant": {"Multi", func(c *ClassDescriptor) {
			c.Shards = append(c.Shards, &ShardDescriptor{Name: "t3", Node: "node1"})
		}, `class Multi: the backup has files of shard "t3", which is not a shard of the class`},
		"chunk of another shard": {"Article", func(c *ClassDescriptor) { c.Chunks[1] = []string{"t9"} },
			`class Article: chunk 1 holds shard "t9", which the backup does not list`},
		"shard twice": {"Multi", func(c *ClassDescriptor) { c.Shards = append(c.Shards, c.Shards[0]) },
			`class Multi: shard "t1" is listed twice`},
	} {
		t.Run(name, func(t *testing.T) {
			f.editManifest(t, "sh", func(nm *NodeManifest) {
				*nm = cloneManifest(t, &original)
				for _, c := range nm.Classes {
					if c.Name == tc.class {
						tc.edit(c)
					}
				}
			})
			info := f.restore(t, RestoreRequest{ID: "sh"})
			if info.Status != StatusFailed || !strings.Contains(info.Error, tc.want) {
				t.Fatalf("restore: %+v; want FAILED with %q", info, tc.want)
			}
			if f.db.ClassExists("Article") || f.db.ClassExists("Multi") {
				t.Fatal("class installed from a mismatched backup")
			}
		})
	}
	f.editManifest(t, "sh", func(nm *NodeManifest) { *nm = cloneManifest(t, &original) })
	if info := f.restore(t, RestoreRequest{ID: "sh"}); info.Status != StatusSuccess {
		t.Fatalf("restore of the intact backup: %+v", info)
	}
}

func cloneManifest(t *testing.T, nm *NodeManifest) NodeManifest {
	t.Helper()
	b, err := json.Marshal(nm)
	if err != nil {
		t.Fatal(err)
	}
	var out NodeManifest
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) shardName(t *testing.T, class string) string {
	t.Helper()
	shards, err := f.db.Shards(class)
	if err != nil || len(shards) != 1 {
		t.Fatalf("shards of %s: %v %v", class, shards, err)
	}
	return shards[0].Name
}

// A stored chunk longer than its manifest records fails the restore as
// soon as the excess is read, not at the checksum after decoding it.
func TestRestoreRefusesChunkLongerThanRecorded(t *testing.T) {
	f := newFixture(t)
	f.addObjects(t, "Article", 300, 16)
	f.backup(t, CreateRequest{ID: "long", CompressionLevel: "ZstdBestSpeed"})
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := layout.Chunk("long", "node1", "Article", 1)
	rc, err := f.store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	b = append(b, "appended"...)
	if err := f.store.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	info := f.restore(t, RestoreRequest{ID: "long"})
	want := fmt.Sprintf("the stored chunk is larger than the %d bytes its manifest records", len(b)-len("appended"))
	if info.Status != StatusFailed || !strings.Contains(info.Error, "long/node1/Article/chunk-1") || !strings.Contains(info.Error, want) {
		t.Fatalf("restore of an over-long chunk: %+v; want FAILED naming the chunk and %q", info, want)
	}
	if f.db.ClassExists("Article") {
		t.Fatal("class installed from an over-long chunk")
	}
}

// After a crash between the install and the final status, recovery finds
// out whether the install committed: SUCCESS if every class is there with
// the shards the job record lists, FAILED otherwise.
func TestRecoveryFinishesARestoreWhoseInstallCommitted(t *testing.T) {
	f := newFixture(t)
	want := f.addObjects(t, "Article", 50, 4)
	f.backup(t, CreateRequest{ID: "inst"})
	shard := f.shardName(t, "Article")
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	if info := f.restore(t, RestoreRequest{ID: "inst"}); info.Status != StatusSuccess {
		t.Fatalf("restore: %+v", info)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		install map[string][]string
		want    Status
	}{
		{"committed", map[string][]string{"Article": {shard}}, StatusSuccess},
		{"class missing", map[string][]string{"Article": {shard}, "Other": {"s"}}, StatusFailed},
		{"other shards", map[string][]string{"Article": {"s"}}, StatusFailed},
		{"before the install", nil, StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The state a crash leaves: FINALIZING in the backend, the record.
			d := &Descriptor{ID: "inst", Status: StatusFinalizing, StartedAt: time.Now(), Version: FormatVersion,
				Nodes: map[string]*NodeStatus{"node1": {Classes: []string{"Article"}, Status: StatusFinalizing}}}
			if err := putJSON(ctx, f.store, layout.RestoreDescriptor("inst"), d); err != nil {
				t.Fatal(err)
			}
			j := &job{kind: kindRestore, id: "inst", desc: d}
			if err := f.mgr.writeRecord(j, jobRecord{ID: "inst", Backend: "filesystem", Install: tc.install}); err != nil {
				t.Fatal(err)
			}
			m2, err := New(ctx, Options{DB: f.db, DataPath: f.data, Node: "node1", Backends: []Backend{&memBackend{f.store}}})
			if err != nil {
				t.Fatal(err)
			}
			defer m2.Close()
			info, err := m2.RestoreStatus(ctx, "filesystem", "inst", "", "")
			if err != nil || info.Status != tc.want {
				t.Fatalf("after restart: %+v %v; want %s", info, err, tc.want)
			}
			stored, _, _ := readDescriptor(ctx, f.store, layout.RestoreDescriptor("inst"))
			if stored.Status != tc.want || stored.Nodes["node1"].Status != tc.want || stored.CompletedAt.IsZero() {
				t.Fatalf("stored descriptor: %+v", stored)
			}
			if tc.want == StatusSuccess && stored.Error != "" || tc.want == StatusFailed && !strings.Contains(stored.Error, "interrupted by restart") {
				t.Fatalf("stored error %q", stored.Error)
			}
		})
	}
	sameObjects(t, want, f.objects(t, "Article"))
}

// A manifest recording a negative chunk size fails the restore cleanly.
func TestRestoreRefusesNegativeChunkSize(t *testing.T) {
	f := newFixture(t)
	f.addObjects(t, "Article", 20, 4)
	f.backup(t, CreateRequest{ID: "neg"})
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	f.editManifest(t, "neg", func(nm *NodeManifest) {
		info := nm.Classes[0].ChunkInfo[1]
		info.Size = -5
		nm.Classes[0].ChunkInfo[1] = info
	})
	info := f.restore(t, RestoreRequest{ID: "neg"})
	if info.Status != StatusFailed || !strings.Contains(info.Error, "neg/node1/Article/chunk-1: the manifest has no size and checksum for it") {
		t.Fatalf("restore with a negative chunk size: %+v", info)
	}
}
