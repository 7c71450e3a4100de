package backup

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup/layout"
	"strata/internal/blob"
	"strata/internal/blob/faulty"
	"strata/internal/blob/mem"
	"strata/internal/db"
	"strata/internal/fsutil/faultfs"
)

// records lists the job records in the manager's work dir.
func records(t *testing.T, f *fixture) []string {
	t.Helper()
	entries, err := os.ReadDir(f.mgr.path(jobsDir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestFullBackupDiskNeverLeavesABackupStuck: a backup whose final
// descriptor cannot be written (the backup disk is full), then a create
// that fails, then a crash and restart: the first backup is still FAILED
// (from memory while the disk is full, in the backend once it has room),
// because the second create's cleanup removes only its own record.
func TestFullBackupDiskNeverLeavesABackupStuck(t *testing.T) {
	var full atomic.Bool
	rule := func(op faulty.Op, key string) *faulty.Fault {
		if op == faulty.OpPut && full.Load() {
			return &faulty.Fault{Err: syscall.ENOSPC}
		}
		return nil
	}
	f := newFaultyFixture(t, rule)
	f.addObjects(t, "Article", 300, 8)
	ctx := context.Background()
	if _, err := f.mgr.Create(ctx, "filesystem", CreateRequest{ID: "first"}); err != nil {
		t.Fatal(err)
	}
	full.Store(true) // the disk fills up as the backup transfers
	first := wait(t, func() (Info, error) { return f.mgr.CreateStatus(ctx, "filesystem", "first", "", "") })
	if first.Status != StatusFailed || !strings.Contains(first.Error, "no space left on device") {
		t.Fatalf("first backup on a full disk: %+v, want FAILED naming the cause", first)
	}
	if _, err := f.mgr.Create(ctx, "filesystem", CreateRequest{ID: "second"}); err == nil ||
		!strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("second create on a full disk: %v, want its failure", err)
	}
	if recs := records(t, f); len(recs) != 1 || !strings.HasPrefix(recs[0], "backup-first-") {
		t.Fatalf("job records after the second create failed: %v, want the first backup's only", recs)
	}

	// Crash (nothing more is written) and restart, the disk still full.
	f.mgr.Close()
	m2, err := New(ctx, Options{DB: f.db, DataPath: f.data, Node: "node1", ServerVersion: "1.35.0",
		Backends: []Backend{&memBackend{faulty.Wrap(f.store, rule)}}})
	if err != nil {
		t.Fatal(err)
	}
	f.mgr = m2
	info, err := m2.CreateStatus(ctx, "filesystem", "first", "", "")
	if err != nil || info.Status != StatusFailed || info.Error != first.Error {
		t.Fatalf("first backup after the restart: %+v %v, want FAILED with %q", info, err, first.Error)
	}
	// The id stays taken, and the backup is FAILED in the backend once there is room.
	if _, err := m2.Create(ctx, "filesystem", CreateRequest{ID: "first"}); err == nil || apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("create reusing the id of the unsynced FAILED backup: %v", err)
	}
	full.Store(false)
	waitStored(t, f, "first", StatusFailed)
	if recs := records(t, f); len(recs) != 0 {
		t.Fatalf("job records once everything is stored: %v", recs)
	}
	// The next backup works.
	if info := f.backup(t, CreateRequest{ID: "third"}); info.Status != StatusSuccess {
		t.Fatalf("backup after the disk has room again: %+v", info)
	}
}

// waitStored waits for the backend to hold a backup descriptor with status.
func waitStored(t *testing.T, f *fixture, id string, status Status) {
	t.Helper()
	wait(t, func() (Info, error) {
		d, found, err := readDescriptor(context.Background(), f.store, layout.BackupDescriptor(id))
		if err != nil || !found || d.Status != status {
			return Info{}, err
		}
		return Info{Status: d.Status}, nil
	})
}

// TestEveryUnfinishedRecordIsRecovered: records of several jobs (this
// version's, one per job, and an older version's single file) are all
// found after a restart and their jobs marked FAILED.
func TestEveryUnfinishedRecordIsRecovered(t *testing.T) {
	f := newFixture(t)
	f.addObjects(t, "Article", 10, 4)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "legacy"} {
		d := &Descriptor{ID: id, Status: StatusTransferring, Version: FormatVersion,
			Nodes: map[string]*NodeStatus{"node1": {Classes: []string{"Article"}, Status: StatusTransferring}}}
		if err := putJSON(ctx, f.store, layout.BackupDescriptor(id), d); err != nil {
			t.Fatal(err)
		}
		if id == "legacy" {
			if err := os.WriteFile(f.mgr.path("running-backup.json"), []byte(`{"id":"legacy","backend":"filesystem"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := f.mgr.writeRecord(&job{kind: kindBackup, id: id, desc: d}, jobRecord{ID: id, Backend: "filesystem"}); err != nil {
			t.Fatal(err)
		}
	}
	f.mgr.Close()
	m2, err := New(ctx, Options{DB: f.db, DataPath: f.data, Node: "node1", Backends: []Backend{&memBackend{f.store}}})
	if err != nil {
		t.Fatal(err)
	}
	f.mgr = m2
	for _, id := range []string{"a", "b", "legacy"} {
		d, _, err := readDescriptor(ctx, f.store, layout.BackupDescriptor(id))
		if err != nil || d.Status != StatusFailed || !strings.Contains(d.Error, "interrupted by restart") {
			t.Errorf("%s after the restart: %+v %v, want FAILED", id, d, err)
		}
	}
	if recs := records(t, f); len(recs) != 0 {
		t.Fatalf("records left after recovery: %v", recs)
	}
	if _, err := os.Stat(f.mgr.path("running-backup.json")); !os.IsNotExist(err) {
		t.Fatalf("legacy record left after recovery: %v", err)
	}
}

// TestIDsTooLongAreInvalidEverywhere: an id longer than the id rule allows
// is the same 422 on every endpoint, never an error of the backend or
// the file system.
func TestIDsTooLongAreInvalidEverywhere(t *testing.T) {
	f := newFixture(t)
	f.addObjects(t, "Article", 10, 4)
	ctx := context.Background()
	long := strings.Repeat("x", 300)
	want := fmt.Sprintf("invalid backup id: '%s…' is 300 characters long; at most %d are allowed", long[:32], layout.MaxIDLength)
	calls := map[string]func() error{
		"create": func() error {
			_, err := f.mgr.Create(ctx, "filesystem", CreateRequest{ID: long})
			return err
		},
		"status": func() error { _, err := f.mgr.CreateStatus(ctx, "filesystem", long, "", ""); return err },
		"cancel": func() error { return f.mgr.Cancel(ctx, "filesystem", long, "", "") },
		"restore": func() error {
			_, err := f.mgr.Restore(ctx, "filesystem", RestoreRequest{ID: long})
			return err
		},
		"restore status": func() error { _, err := f.mgr.RestoreStatus(ctx, "filesystem", long, "", ""); return err },
		"restore cancel": func() error { return f.mgr.CancelRestore(ctx, "filesystem", long, "", "") },
	}
	for name, call := range calls {
		err := call()
		if apperr.KindOf(err) != apperr.Invalid || err.Error() != want {
			t.Errorf("%s with a 300-character id: %v (kind %v), want Invalid %q", name, err, apperr.KindOf(err), want)
		}
	}
	// The longest allowed id works.
	id := strings.Repeat("y", layout.MaxIDLength)
	if info := f.backup(t, CreateRequest{ID: id}); info.Status != StatusSuccess {
		t.Fatalf("backup with a %d-character id: %+v", len(id), info)
	}
}

// TestCreateDoesNotHoldTheManagerWhileSnapshotting: while a create is
// copying an inactive tenant (blocked on a file), status calls, the list,
// object reads and a second create are answered.
func TestCreateDoesNotHoldTheManagerWhileSnapshotting(t *testing.T) {
	f := newDiskFixture(t)
	objs := f.addObjects(t, "Article", 50, 4)
	f.addColdTenant(t)
	ctx := context.Background()
	if info := f.backup(t, CreateRequest{ID: "earlier"}); info.Status != StatusSuccess {
		t.Fatalf("earlier backup: %+v", info)
	}
	blocked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.armed.Store(&diskFaults{local: func(op faultfs.Op, path string) error {
		if op == faultfs.OpCreate && f.under(path, workDir, "snapshots", "slow", "Multi") {
			once.Do(func() { close(blocked) })
			<-release
		}
		return nil
	}})
	created := make(chan error, 1)
	go func() {
		_, err := f.mgr.Create(ctx, "filesystem", CreateRequest{ID: "slow"})
		created <- err
	}()
	<-blocked
	guard := func(what string, fn func() error) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- fn() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s while a create snapshots: %v", what, err)
			}
		case <-time.After(30 * time.Second): // deadlock guard; the copy stays blocked meanwhile
			close(release)
			t.Fatalf("%s waits behind the create's snapshot", what)
		}
	}
	guard("status of another backup", func() error {
		info, err := f.mgr.CreateStatus(ctx, "filesystem", "earlier", "", "")
		if err == nil && info.Status != StatusSuccess {
			err = fmt.Errorf("status %s", info.Status)
		}
		return err
	})
	guard("status of the backup being created", func() error {
		info, err := f.mgr.CreateStatus(ctx, "filesystem", "slow", "", "")
		if err == nil && info.Status != StatusStarted {
			err = fmt.Errorf("status %s", info.Status)
		}
		return err
	})
	guard("the list", func() error { _, err := f.mgr.List(ctx, "filesystem", "desc"); return err })
	guard("a second create", func() error {
		_, err := f.mgr.Create(ctx, "filesystem", CreateRequest{ID: "other"})
		if err == nil || err.Error() != "backup slow already in progress" {
			return fmt.Errorf("got %v, want it refused as in progress", err)
		}
		return nil
	})
	guard("an object read", func() error {
		_, err := f.db.GetObject(ctx, "Article", firstID(objs), "", false)
		return err
	})
	select {
	case err := <-created:
		t.Fatalf("create returned while its snapshot was blocked: %v", err)
	default:
	}
	close(release)
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	info := wait(t, func() (Info, error) { return f.mgr.CreateStatus(ctx, "filesystem", "slow", "", "") })
	if info.Status != StatusSuccess {
		t.Fatalf("the blocked backup: %+v", info)
	}
}

// hookedStore calls afterGet after every Get and beforePut before every Put.
type hookedStore struct {
	blob.Store
	afterGet  func(key string)
	beforePut func(key string)
}

func (s *hookedStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Store.Get(ctx, key)
	s.afterGet(key)
	return rc, err
}

func (s *hookedStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	s.beforePut(key)
	return s.Store.Put(ctx, key, r, size)
}

// TestCreateOfAnIDThatJustSucceededIsRefused: a create of an id whose
// running backup succeeds between the create's first look at the id and
// its reservation is refused; the SUCCESS backup is not overwritten.
func TestCreateOfAnIDThatJustSucceededIsRefused(t *testing.T) {
	data := t.TempDir()
	d, err := db.Open(db.Options{DataPath: data})
	if err != nil {
		t.Fatal(err)
	}
	st := mem.New()
	chunkGate, readGate, secondRead := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var reads atomic.Int32
	hs := &hookedStore{Store: st,
		beforePut: func(key string) {
			if strings.Contains(key, "chunk-") {
				<-chunkGate // the first backup runs until the test lets it finish
			}
		},
		afterGet: func(key string) {
			if key == layout.BackupDescriptor("x") && reads.Add(1) == 1 {
				close(secondRead) // the second create has seen "x" running...
				<-readGate        // ...and waits until it has finished
			}
		}}
	m, err := New(context.Background(), Options{DB: d, DataPath: data, Node: "node1", ServerVersion: "1.35.0",
		Backends: []Backend{&memBackend{hs}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); d.Close() })
	f := &fixture{db: d, mgr: m, store: st, data: data}
	f.addObjects(t, "Article", 20, 4)
	ctx := context.Background()

	reads.Store(1) // the first create's own look at "x" passes
	if _, err := m.Create(ctx, "filesystem", CreateRequest{ID: "x"}); err != nil {
		t.Fatal(err)
	}
	reads.Store(0)
	second := make(chan error, 1)
	go func() {
		_, err := m.Create(ctx, "filesystem", CreateRequest{ID: "x"})
		second <- err
	}()
	<-secondRead
	close(chunkGate)
	if info := wait(t, func() (Info, error) { return m.CreateStatus(ctx, "filesystem", "x", "", "") }); info.Status != StatusSuccess {
		t.Fatalf("first backup: %+v", info)
	}
	waitStored(t, f, "x", StatusSuccess)
	close(readGate)
	if err := <-second; err == nil || !strings.Contains(err.Error(), `backup "x" already exists`) {
		t.Fatalf("second create of x: %v, want it refused", err)
	}
	if info, err := m.CreateStatus(ctx, "filesystem", "x", "", ""); err != nil || info.Status != StatusSuccess {
		t.Fatalf("x after the refused create: %+v %v", info, err)
	}
}

// TestRestoreDoesNotHoldTheManagerWhileStarting: while a restore writes
// its job record (blocked here), status calls and the list are answered,
// a second restore is refused as in progress, and the restore then runs.
func TestRestoreDoesNotHoldTheManagerWhileStarting(t *testing.T) {
	f := newDiskFixture(t)
	f.addObjects(t, "Article", 20, 4)
	ctx := context.Background()
	if info := f.backup(t, CreateRequest{ID: "base"}); info.Status != StatusSuccess {
		t.Fatalf("backup: %+v", info)
	}
	if err := f.db.DeleteClass("Article"); err != nil {
		t.Fatal(err)
	}
	blocked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.armed.Store(&diskFaults{local: func(op faultfs.Op, path string) error {
		if op == faultfs.OpCreate && f.under(path, workDir, jobsDir) && strings.HasPrefix(filepath.Base(path), ".restore-") {
			once.Do(func() { close(blocked); <-release })
		}
		return nil
	}})
	started := make(chan error, 1)
	go func() {
		_, err := f.mgr.Restore(ctx, "filesystem", RestoreRequest{ID: "base"})
		started <- err
	}()
	<-blocked
	for what, fn := range map[string]func() error{
		"status of the backup": func() error {
			info, err := f.mgr.CreateStatus(ctx, "filesystem", "base", "", "")
			if err == nil && info.Status != StatusSuccess {
				err = fmt.Errorf("status %s", info.Status)
			}
			return err
		},
		"status of the restore being started": func() error {
			info, err := f.mgr.RestoreStatus(ctx, "filesystem", "base", "", "")
			if err == nil && info.Status != StatusTransferring {
				err = fmt.Errorf("status %s", info.Status)
			}
			return err
		},
		"the list": func() error { _, err := f.mgr.List(ctx, "filesystem", "desc"); return err },
		"a second restore": func() error {
			_, err := f.mgr.Restore(ctx, "filesystem", RestoreRequest{ID: "base"})
			if err == nil || err.Error() != "restoration base already in progress" {
				return fmt.Errorf("got %v, want it refused as in progress", err)
			}
			return nil
		},
	} {
		done := make(chan error, 1)
		go func() { done <- fn() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s while a restore starts: %v", what, err)
			}
		case <-time.After(30 * time.Second): // deadlock guard
			close(release)
			t.Fatalf("%s waits behind the restore's record write", what)
		}
	}
	close(release)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if info := wait(t, func() (Info, error) { return f.mgr.RestoreStatus(ctx, "filesystem", "base", "", "") }); info.Status != StatusSuccess {
		t.Fatalf("the restore: %+v", info)
	}
}

// TestAbortDuringPrepareDropsThePart: a cluster coordinator that gives up
// on a part while the node still snapshots it (its abort finds no part
// yet) gets no part that holds the node's backup slot afterwards: the
// prepare fails, and the next one is accepted.
func TestAbortDuringPrepareDropsThePart(t *testing.T) {
	f := newDiskFixture(t)
	f.addObjects(t, "Article", 50, 4)
	f.addColdTenant(t)
	ctx := context.Background()
	blocked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.armed.Store(&diskFaults{local: func(op faultfs.Op, path string) error {
		if op == faultfs.OpCreate && f.under(path, workDir, "snapshots", "p1", "Multi") {
			once.Do(func() { close(blocked) })
			<-release
		}
		return nil
	}})
	req := PartRequest{ID: "p1", Backend: "filesystem", Classes: []string{"Article", "Multi"}}
	prepared := make(chan error, 1)
	go func() { prepared <- f.mgr.PreparePart(ctx, req) }()
	<-blocked
	f.mgr.AbortPart("p1", "the coordinator gave up")
	close(release)
	if err := <-prepared; apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "aborted") {
		t.Fatalf("prepare aborted midway: %v", err)
	}
	if st, err := f.mgr.PartStatus(ctx, req); err != nil || st.Known {
		t.Fatalf("the aborted part is known: %+v, %v", st, err)
	}
	req.ID = "p2"
	if err := f.mgr.PreparePart(ctx, req); err != nil {
		t.Fatalf("the next prepare: %v", err)
	}
	f.mgr.AbortPart("p2", "test over")
}
