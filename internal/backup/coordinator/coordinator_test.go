package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup"
	"strata/internal/backup/jobs"
	"strata/internal/db"
	"strata/internal/schema"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeCluster is a leader applying job commands to its table at once.
type fakeCluster struct {
	mu    sync.Mutex
	table *jobs.Table
	index uint64
}

func (f *fakeCluster) Name() string                   { return "node1" }
func (f *fakeCluster) Members() []string              { return []string{"node1", "node2", "node3"} }
func (f *fakeCluster) IsLeader() bool                 { return true }
func (f *fakeCluster) Sync(ctx context.Context) error { return nil }
func (f *fakeCluster) Jobs() *jobs.Table              { return f.table }

func (f *fakeCluster) ProposeJob(ctx context.Context, c jobs.Command) (jobs.Result, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return jobs.Result{}, err
	}
	f.mu.Lock()
	f.index++
	out := f.table.Apply(f.index, b)
	f.mu.Unlock()
	var r jobs.Result
	json.Unmarshal(out, &r)
	return r, r.Err()
}

// fakeParts are three participants whose behaviour a test sets.
type fakeParts struct {
	mu      sync.Mutex
	refuse  map[string]error            // prepare fails
	status  map[string]backup.PartState // what status answers
	hang    map[string]bool             // status blocks until its deadline
	aborted map[string]bool
}

func newFakeParts() *fakeParts {
	p := &fakeParts{refuse: map[string]error{}, status: map[string]backup.PartState{}, hang: map[string]bool{}, aborted: map[string]bool{}}
	for _, n := range []string{"node1", "node2", "node3"} {
		p.status[n] = backup.PartState{Known: true, Status: backup.StatusTransferring, Bytes: 10}
	}
	return p
}

func (p *fakeParts) set(node string, st backup.PartState) {
	p.mu.Lock()
	p.status[node] = st
	p.mu.Unlock()
}

func (p *fakeParts) Prepare(ctx context.Context, node string, req backup.PartRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if req.Probe == "" {
		return errors.New("no probe")
	}
	return p.refuse[node]
}

func (p *fakeParts) Commit(ctx context.Context, node, id string) error { return nil }

func (p *fakeParts) Status(ctx context.Context, node string, req backup.PartRequest) (backup.PartState, error) {
	p.mu.Lock()
	hang, st := p.hang[node], p.status[node]
	p.mu.Unlock()
	if hang {
		<-ctx.Done()
		return backup.PartState{}, ctx.Err()
	}
	return st, nil
}

func (p *fakeParts) StartRestore(context.Context, string, backup.RestorePartRequest) error {
	return nil
}
func (p *fakeParts) RestoreStatus(context.Context, string, string) (backup.PartState, error) {
	return backup.PartState{}, nil
}
func (p *fakeParts) AbortRestore(context.Context, string, string, string) error { return nil }
func (p *fakeParts) FinishRestore(context.Context, string, string) error        { return nil }

func (p *fakeParts) Abort(ctx context.Context, node, id, reason string) error {
	p.mu.Lock()
	p.aborted[node] = true
	p.mu.Unlock()
	return nil
}

// oneClass is the database of a node, as the checks see it.
type oneClass struct{}

func (oneClass) ClassNames() []string      { return []string{"Doc"} }
func (oneClass) ClassExists(n string) bool { return n == "Doc" }
func (oneClass) Snapshot(context.Context, []string, string) ([]db.ClassSnapshot, error) {
	return nil, errors.New("not here")
}
func (oneClass) Shards(string) ([]db.ShardInfo, error)                    { return nil, nil }
func (oneClass) CheckInstall([]db.RestoredClass) error                    { return nil }
func (oneClass) InstallClasses(context.Context, []db.RestoredClass) error { return nil }
func (oneClass) PlaceRestored(string, string) error                       { return nil }
func (oneClass) RemovePlaced(string, []string) error                      { return nil }
func (oneClass) InstallPlaced(context.Context, []db.RestoredClass) error  { return nil }

func newCoordinator(t *testing.T, parts *fakeParts, tune ...func(*Options)) (*Coordinator, *fakeCluster) {
	t.Helper()
	fsb, err := backup.NewFilesystem(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := backup.New(context.Background(), backup.Options{DB: oneClass{}, DataPath: t.TempDir(), Node: "node1",
		Backends: []backup.Backend{fsb}, Logger: quiet, Clustered: true, CPUs: 2})
	if err != nil {
		t.Fatal(err)
	}
	cl := &fakeCluster{table: jobs.NewTable()}
	opts := Options{Cluster: cl, Parts: parts, Local: mgr, NodeTimeout: 500 * time.Millisecond, Poll: 20 * time.Millisecond, Logger: quiet}
	for _, f := range tune {
		f(&opts)
	}
	c := New(opts)
	t.Cleanup(func() {
		c.Close()
		mgr.Close()
	})
	return c, cl
}

func waitEnd(t *testing.T, c *Coordinator, id string) backup.Info {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := c.CreateStatus(context.Background(), "filesystem", id, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if info.Status.Terminal() {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("backup %s still %s", id, info.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBackupSucceedsWhenEveryPartDoes(t *testing.T) {
	parts := newFakeParts()
	c, _ := newCoordinator(t, parts)
	info, err := c.Create(context.Background(), "filesystem", backup.CreateRequest{ID: "b1"})
	if err != nil || info.Status != backup.StatusStarted {
		t.Fatalf("create: %+v, %v", info, err)
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		parts.set(n, backup.PartState{Known: true, Status: backup.StatusSuccess, Bytes: 100,
			Progress: &backup.Progress{BytesDone: 100, BytesTotal: 100, FilesDone: 2, FilesTotal: 2,
				Classes: map[string]*backup.Progress{"Doc": {BytesDone: 100, BytesTotal: 100, FilesDone: 2, FilesTotal: 2}}}})
	}
	if info := waitEnd(t, c, "b1"); info.Status != backup.StatusSuccess || info.SizeBytes != 300 {
		t.Fatalf("%+v", info)
	}
	// Every node's progress is in the record, summed in the status.
	info, err = c.CreateStatus(context.Background(), "filesystem", "b1", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if p := info.Progress; p == nil || p.BytesDone != 300 || p.BytesTotal != 300 || p.FilesTotal != 6 ||
		len(p.Nodes) != 3 || p.Classes["Doc"].FilesDone != 6 {
		t.Fatalf("progress: %+v", info.Progress)
	}
	// The id is taken now.
	if _, err := c.Create(context.Background(), "filesystem", backup.CreateRequest{ID: "b1"}); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("the id again: %v", err)
	}
}

func TestHungParticipantFailsTheBackupInBoundedTime(t *testing.T) {
	parts := newFakeParts()
	parts.hang["node3"] = true // an open socket that never answers
	c, _ := newCoordinator(t, parts)
	if _, err := c.Create(context.Background(), "filesystem", backup.CreateRequest{ID: "b1"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	info := waitEnd(t, c, "b1")
	if info.Status != backup.StatusFailed || !strings.Contains(info.Error, "node3 did not answer") {
		t.Fatalf("%+v", info)
	}
	// The node timeout is 0.5 s; each status call is cut at 5 s.
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("FAILED after %v", took)
	}
	if !parts.aborted["node1"] || !parts.aborted["node2"] {
		t.Fatalf("the other parts were not aborted: %v", parts.aborted)
	}
}

func TestFailedOrLostPartFailsTheBackup(t *testing.T) {
	for name, st := range map[string]backup.PartState{
		"failed": {Known: true, Status: backup.StatusFailed, Error: "disk full"},
		"lost":   {Known: false},
	} {
		t.Run(name, func(t *testing.T) {
			parts := newFakeParts()
			c, _ := newCoordinator(t, parts)
			if _, err := c.Create(context.Background(), "filesystem", backup.CreateRequest{ID: "b1"}); err != nil {
				t.Fatal(err)
			}
			parts.set("node2", st)
			info := waitEnd(t, c, "b1")
			if info.Status != backup.StatusFailed || !strings.Contains(info.Error, "node2") {
				t.Fatalf("%+v", info)
			}
		})
	}
}

func TestRefusedPrepareIs422AndLeavesTheIDFree(t *testing.T) {
	parts := newFakeParts()
	parts.refuse["node2"] = apperr.Invalidf("class Doc doesn't exist on node node2")
	c, _ := newCoordinator(t, parts)
	_, err := c.Create(context.Background(), "filesystem", backup.CreateRequest{ID: "b1"})
	if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "node2") {
		t.Fatalf("refused prepare: %v", err)
	}
	if _, err := c.CreateStatus(context.Background(), "filesystem", "b1", "", ""); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("status of a refused backup: %v", err)
	}
	delete(parts.refuse, "node2")
	if _, err := c.Create(context.Background(), "filesystem", backup.CreateRequest{ID: "b1"}); err != nil {
		t.Fatalf("the id of a refused backup: %v", err)
	}
}

func TestCancelEndsTheBackup(t *testing.T) {
	parts := newFakeParts()
	c, _ := newCoordinator(t, parts)
	if _, err := c.Create(context.Background(), "filesystem", backup.CreateRequest{ID: "b1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Cancel(context.Background(), "filesystem", "b1", "", ""); err != nil {
		t.Fatal(err)
	}
	if info := waitEnd(t, c, "b1"); info.Status != backup.StatusCanceled {
		t.Fatalf("%+v", info)
	}
	if !parts.aborted["node3"] {
		t.Fatal("the parts were not aborted")
	}
}

// TestStalledPartFailsTheBackup: a participant that answers every poll but
// moves no byte for the stall timeout fails the backup, naming it, while
// the parts that move keep it going until then.
func TestStalledPartFailsTheBackup(t *testing.T) {
	parts := newFakeParts()
	c, _ := newCoordinator(t, parts, func(o *Options) { o.StallTimeout = 400 * time.Millisecond })
	if _, err := c.Create(context.Background(), "filesystem", backup.CreateRequest{ID: "b1"}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // node1 and node2 move a byte every 50 ms; node3 is stuck
		for moved := int64(1); ; moved++ {
			for _, n := range []string{"node1", "node2"} {
				parts.set(n, backup.PartState{Known: true, Status: backup.StatusTransferring, Moved: moved})
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	parts.set("node3", backup.PartState{Known: true, Status: backup.StatusTransferring, Moved: 5})
	info := waitEnd(t, c, "b1")
	if info.Status != backup.StatusFailed || !strings.Contains(info.Error, "node node3 moved no byte of its part of the backup") {
		t.Fatalf("%+v", info)
	}
	if !parts.aborted["node1"] || !parts.aborted["node2"] {
		t.Fatalf("the other parts were not aborted: %v", parts.aborted)
	}
}

// TestNewLeaderEndsARestoreCaughtInstalling: a restore whose coordinator
// stopped while it installed the classes (FINALIZING in the record) is
// ended by the next leader: SUCCESS when the classes are there (the
// install committed), FAILED when they are not.
func TestNewLeaderEndsARestoreCaughtInstalling(t *testing.T) {
	for class, want := range map[string]backup.Status{"Doc": backup.StatusSuccess, "Missing": backup.StatusFailed} {
		t.Run(class, func(t *testing.T) {
			plan, _ := json.Marshal(restorePlan{Placed: []*backup.PlacedClass{{Name: class,
				Restored: db.RestoredClass{Class: &schema.Class{Class: class}}}}})
			job := &jobs.Job{ID: "r1", Kind: jobs.KindRestore, Backend: "filesystem", Classes: []string{class},
				Status: backup.StatusStarted, StartedAt: time.Now().UTC(), Request: plan,
				Nodes: map[string]*jobs.NodeState{"node2": {}, "node3": {}}}
			c, _ := newCoordinator(t, newFakeParts(), func(o *Options) {
				for _, cmd := range []jobs.Command{
					{Op: jobs.OpStart, Job: job},
					{Op: jobs.OpTakeOver, Node: "node9"},
					{Op: jobs.OpCommit},
					{Op: jobs.OpStatus, Status: backup.StatusTransferring},
					{Op: jobs.OpStatus, Status: backup.StatusFinalizing},
				} {
					cmd.Kind, cmd.ID = jobs.KindRestore, "r1"
					if _, err := o.Cluster.ProposeJob(context.Background(), cmd); err != nil {
						t.Fatal(err)
					}
				}
			})
			deadline := time.Now().Add(10 * time.Second)
			for {
				info, err := c.RestoreStatus(context.Background(), "filesystem", "r1", "", "")
				if err != nil {
					t.Fatal(err)
				}
				if info.Status.Terminal() {
					if info.Status != want {
						t.Fatalf("%+v, want %s", info, want)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("restore still %s", info.Status)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
