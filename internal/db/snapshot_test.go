package db

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"strata/internal/fsutil"
	"strata/internal/fsutil/faultfs"
	"strata/internal/schema"
)

// gate blocks the first file-system operation that matches until it is
// opened, and reports (once) that something is blocked on it.
type gate struct {
	match   func(op faultfs.Op, path string) bool
	once    sync.Once
	blocked chan struct{}
	open    chan struct{}
	release sync.Once
}

// unblock lets the blocked operation (and all later ones) through.
func (g *gate) unblock() { g.release.Do(func() { close(g.open) }) }

func newGate(match func(op faultfs.Op, path string) bool) *gate {
	return &gate{match: match, blocked: make(chan struct{}), open: make(chan struct{})}
}

func (g *gate) hook(op faultfs.Op, path string) error {
	if g.match(op, path) {
		g.once.Do(func() { close(g.blocked) })
		<-g.open
	}
	return nil
}

// within runs fn and fails the test if it does not return while the gate
// holds the snapshot's copy (a deadlock guard: the copy stays blocked
// however long fn takes).
func within(t *testing.T, g *gate, what string, fn func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(30 * time.Second):
		g.unblock()
		t.Fatalf("%s is blocked behind the snapshot's copy", what)
	}
}

// TestSnapshotCopiesWithoutTheLock: while a snapshot is copying inactive
// tenants (blocked on a file), reads, writes and schema changes go on; a
// tenant deletion that would remove a pinned shard waits for its copy
// without holding the lock; the snapshot is complete and consistent.
func TestSnapshotCopiesWithoutTheLock(t *testing.T) {
	dir := t.TempDir()
	g := newGate(func(op faultfs.Op, path string) bool {
		return op == faultfs.OpOpen && strings.Contains(path, filepath.Join(classesDir, "Multi", "t3")+string(filepath.Separator))
	})
	d, err := Open(Options{DataPath: dir, FS: faultfs.Wrap(fsutil.OS, g.hook)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx := context.Background()
	if _, err := d.CreateClass(&schema.Class{Class: "Multi", MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true},
		Properties: []*schema.Property{{Name: "n", DataType: []string{"text"}}}}); err != nil {
		t.Fatal(err)
	}
	var tenants []Tenant
	for i := range 6 {
		tenants = append(tenants, Tenant{Name: fmt.Sprintf("t%d", i)})
	}
	if err := d.AddTenants("Multi", tenants); err != nil {
		t.Fatal(err)
	}
	for _, tn := range tenants {
		if _, err := d.AddObject(ctx, &ObjectInput{GenerateID: true, Class: "Multi", Tenant: tn.Name, Properties: map[string]any{"n": tn.Name}}); err != nil {
			t.Fatal(err)
		}
		tn.ActivityStatus = TenantCold
		if _, err := d.UpdateTenants("Multi", []Tenant{tn}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.CreateClass(articleClass()); err != nil {
		t.Fatal(err)
	}
	obj, err := d.AddObject(ctx, &ObjectInput{GenerateID: true, Class: "Article", Properties: map[string]any{"title": "kept"}})
	if err != nil {
		t.Fatal(err)
	}

	// The files of tenant t4 as they are before the snapshot.
	t4Dir := filepath.Join(dir, classesDir, "Multi", "t4")
	t4Before := map[string][]byte{}
	entries, err := os.ReadDir(t4Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(t4Dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		t4Before[e.Name()] = b
	}

	snapDir := filepath.Join(t.TempDir(), "snap")
	type result struct {
		snaps []ClassSnapshot
		err   error
	}
	res := make(chan result, 1)
	go func() {
		snaps, err := d.Snapshot(ctx, []string{"Article", "Multi"}, snapDir)
		res <- result{snaps, err}
	}()
	<-g.blocked // the copy of tenant t3 is under way and stays blocked

	// A deletion of a tenant being copied waits for its copy...
	deleted := make(chan error, 1)
	go func() { deleted <- d.DeleteTenants("Multi", []string{"t3"}) }()
	// So does the activation of a tenant not copied yet (opening it would
	// change its files under the copy).
	activated := make(chan error, 1)
	go func() {
		_, err := d.UpdateTenants("Multi", []Tenant{{Name: "t4", ActivityStatus: TenantHot}})
		activated <- err
	}()
	// ...while a schema change, a write and a read go through.
	within(t, g, "adding a property", func() error {
		_, err := d.AddProperty("Article", &schema.Property{Name: "added", DataType: []string{"int"}})
		return err
	})
	within(t, g, "a write", func() error {
		_, err := d.AddObject(ctx, &ObjectInput{GenerateID: true, Class: "Article", Properties: map[string]any{"title": "during"}})
		return err
	})
	within(t, g, "a read", func() error {
		o, err := d.GetObject(ctx, "Article", obj.ID, "", false)
		if err == nil && !bytes.Contains(o.Properties, []byte(`"kept"`)) {
			err = fmt.Errorf("read %s", o.Properties)
		}
		return err
	})
	select {
	case r := <-res:
		t.Fatalf("snapshot returned while its copy was blocked: %v", r.err)
	default:
	}
	g.unblock()
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	if err := <-deleted; err != nil {
		t.Fatalf("deleting the tenant after its copy: %v", err)
	}
	if err := <-activated; err != nil {
		t.Fatalf("activating the tenant after its copy: %v", err)
	}
	// The copy of t4 is its files as they were before it was activated.
	t4Copy := filepath.Join(snapDir, "Multi", "t4")
	if entries, err := os.ReadDir(t4Copy); err != nil || len(entries) != len(t4Before) {
		t.Fatalf("copy of t4: %v, %d files, want %d", err, len(entries), len(t4Before))
	}
	for name, want := range t4Before {
		if got, err := os.ReadFile(filepath.Join(t4Copy, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("copy of t4/%s differs from the file before the activation (%v)", name, err)
		}
	}
	if n, err := d.Count(ctx, "Multi", "t4"); err != nil || n != 1 {
		t.Fatalf("activated tenant t4: %d objects, %v", n, err)
	}

	// The class definitions are those of the capture; every tenant was copied in full.
	if r.snaps[0].Class.Property("added") != nil {
		t.Error("the snapshot's definition has a property added after the capture")
	}
	if len(r.snaps[1].Tenants) != 6 || len(r.snaps[1].Shards) != 6 {
		t.Fatalf("snapshot of Multi: tenants %v, shards %d; want all 6", r.snaps[1].Tenants, len(r.snaps[1].Shards))
	}
	for _, sh := range r.snaps[1].Shards {
		src := filepath.Join(dir, classesDir, "Multi", sh.Name)
		entries, err := os.ReadDir(sh.Dir)
		if err != nil || len(entries) == 0 {
			t.Fatalf("copy of tenant %s: %v, %d files", sh.Name, err, len(entries))
		}
		if sh.Name == "t3" || sh.Name == "t4" {
			continue // deleted or activated since
		}
		for _, e := range entries {
			want, _ := os.ReadFile(filepath.Join(src, e.Name()))
			got, _ := os.ReadFile(filepath.Join(sh.Dir, e.Name()))
			if !bytes.Equal(got, want) {
				t.Errorf("copy of %s/%s differs from the tenant's file", sh.Name, e.Name())
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, classesDir, "Multi", "t3")); !os.IsNotExist(err) {
		t.Errorf("deleted tenant's directory: %v", err)
	}
}
