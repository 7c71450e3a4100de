package backup

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"strata/internal/blob/faulty"
	"strata/internal/blob/mem"
	"strata/internal/db"
	"strata/internal/fsutil"
	"strata/internal/fsutil/faultfs"
	"strata/internal/schema"
)

// diskFaults are the faults a test arms on every layer of the local disk
// and the backend; nil fields inject nothing.
type diskFaults struct {
	local   func(op faultfs.Op, path string) error // job records, snapshot copies
	pebble  func(op errorfs.Op) error              // the shards' stores
	backend faulty.Rule                            // the backup disk
}

// diskFixture is a fixture whose every file system and backend goes
// through faults that are armed on demand.
type diskFixture struct {
	*fixture
	armed  atomic.Pointer[diskFaults]
	dbOpts db.Options
}

func newDiskFixture(t *testing.T) *diskFixture {
	t.Helper()
	f := &diskFixture{}
	data := t.TempDir()
	local := faultfs.Wrap(fsutil.OS, func(op faultfs.Op, path string) error {
		if a := f.armed.Load(); a != nil && a.local != nil {
			return a.local(op, path)
		}
		return nil
	})
	pebbleFS := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if a := f.armed.Load(); a != nil && a.pebble != nil {
			return a.pebble(op)
		}
		return nil
	}))
	f.dbOpts = db.Options{DataPath: data, FS: local, PebbleFS: pebbleFS}
	d, err := db.Open(f.dbOpts)
	if err != nil {
		t.Fatal(err)
	}
	st := mem.New()
	rule := func(op faulty.Op, key string) *faulty.Fault {
		if a := f.armed.Load(); a != nil && a.backend != nil {
			return a.backend(op, key)
		}
		return nil
	}
	m, err := New(context.Background(), Options{DB: d, DataPath: data, Node: "node1", ServerVersion: "1.35.0",
		Backends: []Backend{&memBackend{faulty.Wrap(st, rule)}}, ChunkTargetSize: 64 << 10, FS: local})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); d.Close() })
	f.fixture = &fixture{db: d, mgr: m, store: st, data: data}
	return f
}

// under reports whether path lies in the data path's dir (relative).
func (f *diskFixture) under(path string, dir ...string) bool {
	return strings.HasPrefix(path, filepath.Join(append([]string{f.data}, dir...)...)+string(filepath.Separator))
}

// addColdTenant adds a multi-tenant class with one inactive tenant holding objects.
func (f *diskFixture) addColdTenant(t *testing.T) {
	t.Helper()
	if _, err := f.db.CreateClass(&schema.Class{Class: "Multi", MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true},
		Properties: []*schema.Property{{Name: "n", DataType: []string{"text"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.AddTenants("Multi", []db.Tenant{{Name: "cold"}}); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := f.db.AddObject(context.Background(), &db.ObjectInput{GenerateID: true, Class: "Multi", Tenant: "cold", Properties: map[string]any{"n": "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.db.UpdateTenants("Multi", []db.Tenant{{Name: "cold", ActivityStatus: db.TenantCold}}); err != nil {
		t.Fatal(err)
	}
}

var (
	errNoSpace = syscall.ENOSPC
	errIO      = syscall.EIO
)

// TestDiskFaultsAtEveryStep: ENOSPC or a failed fsync at each step of a
// backup and of a restore fails the job (or its request) naming the
// cause; every acknowledged object stays readable; once the fault clears
// the next job works.
func TestDiskFaultsAtEveryStep(t *testing.T) {
	type step struct {
		name    string
		restore bool
		faults  func(f *diskFixture) *diskFaults
		want    error
	}
	localOp := func(ops []faultfs.Op, dir string, err error) func(f *diskFixture) *diskFaults {
		return func(f *diskFixture) *diskFaults {
			return &diskFaults{local: func(op faultfs.Op, path string) error {
				for _, o := range ops {
					if o == op && f.under(path, workDir, dir) {
						return err
					}
				}
				return nil
			}}
		}
	}
	pebbleOp := func(kinds []errorfs.OpKind, dir []string, err error) func(f *diskFixture) *diskFaults {
		return func(f *diskFixture) *diskFaults {
			return &diskFaults{pebble: func(op errorfs.Op) error {
				for _, k := range kinds {
					if k == op.Kind && f.under(op.Path, dir...) {
						return err
					}
				}
				return nil
			}}
		}
	}
	backendPut := func(suffix string, err error) func(f *diskFixture) *diskFaults {
		return func(f *diskFixture) *diskFaults {
			return &diskFaults{backend: func(op faulty.Op, key string) *faulty.Fault {
				if op == faulty.OpPut && strings.HasSuffix(key, suffix) {
					return &faulty.Fault{Err: err}
				}
				return nil
			}}
		}
	}
	steps := []step{
		{"backup: job record write", false, localOp([]faultfs.Op{faultfs.OpWrite}, jobsDir, errNoSpace), errNoSpace},
		{"backup: job record fsync", false, localOp([]faultfs.Op{faultfs.OpSync}, jobsDir, errIO), errIO},
		{"backup: checkpoint of an active shard", false,
			pebbleOp([]errorfs.OpKind{errorfs.OpCreate, errorfs.OpLink, errorfs.OpFileWrite}, []string{workDir, "snapshots"}, errNoSpace), errNoSpace},
		{"backup: checkpoint fsync", false,
			pebbleOp([]errorfs.OpKind{errorfs.OpFileSync}, []string{workDir, "snapshots"}, errIO), errIO},
		{"backup: copy of an inactive tenant", false, localOp([]faultfs.Op{faultfs.OpWrite}, "snapshots", errNoSpace), errNoSpace},
		{"backup: copy fsync", false, localOp([]faultfs.Op{faultfs.OpSync}, "snapshots", errIO), errIO},
		{"backup: chunk upload", false, backendPut("chunk-1", errNoSpace), errNoSpace},
		{"backup: node manifest", false, backendPut("/backup.json", errNoSpace), errNoSpace},
		{"backup: first descriptor", false, backendPut("backup_config.json", errNoSpace), errNoSpace},
		{"restore: job record write", true, localOp([]faultfs.Op{faultfs.OpWrite}, jobsDir, errNoSpace), errNoSpace},
		{"restore: job record fsync", true, localOp([]faultfs.Op{faultfs.OpSync}, jobsDir, errIO), errIO},
		{"restore: first descriptor", true, backendPut("restore_config.json", errNoSpace), errNoSpace},
		{"restore: opening the restored shards", true,
			pebbleOp([]errorfs.OpKind{errorfs.OpLock}, []string{"classes", "Article"}, errIO), errIO},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			f := newDiskFixture(t)
			want := f.addObjects(t, "Article", 400, 16)
			f.addColdTenant(t)
			ctx := context.Background()
			if s.restore {
				if info := f.backup(t, CreateRequest{ID: "base"}); info.Status != StatusSuccess {
					t.Fatalf("backup to restore from: %+v", info)
				}
				for _, c := range []string{"Article", "Multi"} {
					if err := f.db.DeleteClass(c); err != nil {
						t.Fatal(err)
					}
				}
			}

			f.armed.Store(s.faults(f))
			var info Info
			var err error
			if s.restore {
				if _, err = f.mgr.Restore(ctx, "filesystem", RestoreRequest{ID: "base"}); err == nil {
					info = wait(t, func() (Info, error) { return f.mgr.RestoreStatus(ctx, "filesystem", "base", "", "") })
				}
			} else if _, err = f.mgr.Create(ctx, "filesystem", CreateRequest{ID: "faulted"}); err == nil {
				info = wait(t, func() (Info, error) { return f.mgr.CreateStatus(ctx, "filesystem", "faulted", "", "") })
			}
			f.armed.Store(nil)
			switch {
			case err != nil: // refused before a job existed
				if !errors.Is(err, s.want) && !strings.Contains(err.Error(), s.want.Error()) {
					t.Fatalf("request error %q, want it to name %q", err, s.want)
				}
			case info.Status != StatusFailed || !strings.Contains(info.Error, s.want.Error()):
				t.Fatalf("job: %s %q, want FAILED naming %q", info.Status, info.Error, s.want)
			}

			if s.restore {
				if f.db.ClassExists("Article") {
					t.Fatal("class visible after a failed restore")
				}
				if info := f.restore(t, RestoreRequest{ID: "base"}); info.Status != StatusSuccess {
					t.Fatalf("restore once the fault cleared: %+v", info)
				}
			} else if info := f.backup(t, CreateRequest{ID: "next"}); info.Status != StatusSuccess {
				t.Fatalf("backup once the fault cleared: %+v", info)
			}
			sameObjects(t, want, f.objects(t, "Article"))
			if _, err := f.db.UpdateTenants("Multi", []db.Tenant{{Name: "cold", ActivityStatus: db.TenantHot}}); err != nil {
				t.Fatal(err)
			}
			if n, err := f.db.Count(ctx, "Multi", "cold"); err != nil || n != 20 {
				t.Fatalf("objects of the inactive tenant: %d %v, want 20", n, err)
			}
		})
	}
}
