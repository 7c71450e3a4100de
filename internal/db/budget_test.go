package db

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"strata/internal/schema"
)

func openLimited(t *testing.T, dir string, maxShards int) *DB {
	t.Helper()
	d, err := Open(Options{DataPath: dir, AutoSchema: true, MaxActiveShards: maxShards})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func wantShardLimit(t *testing.T, what string, err error) {
	t.Helper()
	if KindOf(err) != KindInvalid || !strings.Contains(fmtErr(err), "STRATA_MAX_ACTIVE_SHARDS") {
		t.Fatalf("%s: want a 422 naming STRATA_MAX_ACTIVE_SHARDS, got %v", what, err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func tenantStatuses(t *testing.T, d *DB, class string) map[string]string {
	t.Helper()
	ts, err := d.Tenants(class)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, x := range ts {
		out[x.Name] = x.ActivityStatus
	}
	return out
}

// TestActiveShardLimit: classes and active tenants open shard stores only
// up to the limit; past it every way of opening one — a class, new active
// tenants, activation, auto-tenant creation, a restore — is refused with
// a 422 naming the limit and changes nothing, and deactivating makes room.
func TestActiveShardLimit(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	d := openLimited(t, dir, 3)
	if _, err := d.CreateClass(&schema.Class{Class: "Plain"}); err != nil {
		t.Fatal(err)
	}
	mt := &schema.Class{Class: "MT", MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true, AutoTenantCreation: true}}
	if _, err := d.CreateClass(mt); err != nil {
		t.Fatal(err)
	}
	if err := d.AddTenants("MT", []Tenant{{Name: "t1"}, {Name: "cold", ActivityStatus: "COLD"}}); err != nil {
		t.Fatal(err)
	}
	// Two more active tenants when one slot is left: neither is added.
	wantShardLimit(t, "two tenants for one slot", d.AddTenants("MT", []Tenant{{Name: "t2"}, {Name: "t3"}}))
	if got := tenantStatuses(t, d, "MT"); len(got) != 2 {
		t.Fatalf("a refused add changed the tenants: %v", got)
	}
	for _, n := range []string{"t2", "t3"} {
		if _, err := os.Stat(filepath.Join(dir, classesDir, "MT", n)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("refused tenant %s left a directory: %v", n, err)
		}
	}
	if err := d.AddTenants("MT", []Tenant{{Name: "t2"}}); err != nil {
		t.Fatal(err)
	}
	// Full: 3 of 3.
	_, err := d.CreateClass(&schema.Class{Class: "Another"})
	wantShardLimit(t, "create class", err)
	if d.lookup("Another") != nil {
		t.Fatal("a refused class exists")
	}
	wantShardLimit(t, "add tenant", d.AddTenants("MT", []Tenant{{Name: "t4"}}))
	_, err = d.UpdateTenants("MT", []Tenant{{Name: "cold", ActivityStatus: "HOT"}})
	wantShardLimit(t, "activate", err)
	if got := tenantStatuses(t, d, "MT")["cold"]; got != TenantCold {
		t.Fatalf("a refused activation left the tenant %s", got)
	}
	res, err := d.PutObjects(ctx, []*ObjectInput{
		{GenerateID: true, Class: "MT", Tenant: "auto"},
		{GenerateID: true, Class: "MT", Tenant: "t1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantShardLimit(t, "auto-tenant creation", res[0].Err)
	if res[1].Err != nil {
		t.Fatalf("an object for an active tenant failed: %v", res[1].Err)
	}
	if _, ok := tenantStatuses(t, d, "MT")["auto"]; ok {
		t.Fatal("a refused auto-tenant exists")
	}
	// Deactivating makes room.
	if _, err := d.UpdateTenants("MT", []Tenant{{Name: "t1", ActivityStatus: "COLD"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateTenants("MT", []Tenant{{Name: "cold", ActivityStatus: "HOT"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Count(ctx, "MT", "cold"); err != nil || n != 0 {
		t.Fatalf("activated tenant: %d, %v", n, err)
	}
	// A restart with a lower limit opens what was active and admits no more.
	d.Close()
	d2 := openLimited(t, dir, 1)
	if n, err := d2.Count(ctx, "MT", "t2"); err != nil || n != 0 {
		t.Fatalf("active tenant after a restart under a lower limit: %d, %v", n, err)
	}
	wantShardLimit(t, "after restart", d2.AddTenants("MT", []Tenant{{Name: "t5"}}))
	if err := d2.DeleteClass("Plain"); err != nil {
		t.Fatal(err)
	}
	if err := d2.DeleteTenants("MT", []string{"t2", "cold"}); err != nil {
		t.Fatal(err)
	}
	if err := d2.AddTenants("MT", []Tenant{{Name: "t5"}}); err != nil {
		t.Fatalf("after deletes made room: %v", err)
	}
}

func TestDefaultMaxActiveShards(t *testing.T) {
	n := DefaultMaxActiveShards()
	if n < minActiveShards || n > maxDefaultActiveShards {
		t.Fatalf("DefaultMaxActiveShards = %d", n)
	}
	if c := FileCacheSize(); c < 64 || c > 4096 {
		t.Fatalf("FileCacheSize = %d", c)
	}
}

// TestRestoreWithinActiveShardLimit: a restore that would open more shards
// than the limit leaves is refused before anything is installed.
func TestRestoreWithinActiveShardLimit(t *testing.T) {
	d := openLimited(t, t.TempDir(), 2)
	mt := &schema.Class{Class: "MT", MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true}}
	rc := staged(t, mt, "a", "b", "c")
	wantShardLimit(t, "check", d.CheckInstall([]RestoredClass{rc}))
	wantShardLimit(t, "install", d.InstallClasses(context.Background(), []RestoredClass{rc}))
	if d.lookup("MT") != nil {
		t.Fatal("a refused restore installed the class")
	}
	if err := d.InstallClasses(context.Background(), []RestoredClass{staged(t, mt, "a", "b")}); err != nil {
		t.Fatalf("a restore within the limit: %v", err)
	}
}
