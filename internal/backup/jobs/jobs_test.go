package jobs

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"strata/internal/backup"
)

// applier applies commands at increasing log indexes.
type applier struct {
	t     *testing.T
	table *Table
	index uint64
}

func (a *applier) do(c Command) Result {
	a.t.Helper()
	a.index++
	b, err := json.Marshal(c)
	if err != nil {
		a.t.Fatal(err)
	}
	var r Result
	if err := json.Unmarshal(a.table.Apply(a.index, b), &r); err != nil {
		a.t.Fatal(err)
	}
	return r
}

func newJob(id string, nodes ...string) *Job {
	j := &Job{ID: id, Kind: KindBackup, Backend: "s3", Classes: []string{"A"}, Coordinator: "node1",
		Status: backup.StatusStarted, Nodes: map[string]*NodeState{}, StartedAt: time.Unix(100, 0).UTC(),
		Deadline: time.Unix(1000, 0).UTC()}
	for _, n := range nodes {
		j.Nodes[n] = &NodeState{Status: backup.StatusStarted}
	}
	return j
}

func TestOneRunningJobOfAKind(t *testing.T) {
	a := &applier{t: t, table: NewTable()}
	if r := a.do(Command{Op: OpStart, Kind: KindBackup, ID: "b1", Job: newJob("b1", "node1", "node2")}); r.Err() != nil || r.Epoch != 1 {
		t.Fatalf("start: %+v", r)
	}
	r := a.do(Command{Op: OpStart, Kind: KindBackup, ID: "b2", Job: newJob("b2", "node1")})
	if _, invalid := r.Err().(*InvalidError); !invalid || !strings.Contains(r.Error, "backup b1 already in progress") {
		t.Fatalf("second backup while one runs: %+v", r)
	}
	// A restore may run beside a backup.
	rj := newJob("b0", "node1")
	rj.Kind = KindRestore
	if r := a.do(Command{Op: OpStart, Kind: KindRestore, ID: "b0", Job: rj}); r.Err() != nil {
		t.Fatalf("restore beside a backup: %+v", r)
	}
	a.do(Command{Op: OpStatus, Kind: KindBackup, ID: "b1", Status: backup.StatusTransferring})
	if r := a.do(Command{Op: OpStatus, Kind: KindBackup, ID: "b1", Status: backup.StatusFailed, Error: "node2 died", At: time.Unix(200, 0)}); r.Err() != nil {
		t.Fatal(r.Error)
	}
	// Ended, its id stays taken; another id may start.
	r = a.do(Command{Op: OpStart, Kind: KindBackup, ID: "b1", Job: newJob("b1", "node1")})
	if !strings.Contains(r.Error, `backup "b1" already exists`) {
		t.Fatalf("reused id: %+v", r)
	}
	if r := a.do(Command{Op: OpStart, Kind: KindBackup, ID: "b2", Job: newJob("b2", "node1")}); r.Err() != nil {
		t.Fatalf("next backup: %+v", r)
	}
	j, _ := a.table.Get(KindBackup, "b1")
	if j.Status != backup.StatusFailed || j.Error != "node2 died" || !j.CompletedAt.Equal(time.Unix(200, 0)) || !j.Committed {
		t.Fatalf("ended job: %+v", j)
	}
	// A job refused in its prepare phase leaves its id free.
	a.do(Command{Op: OpStatus, Kind: KindBackup, ID: "b2", Status: backup.StatusFailed, Error: "node3 refused"})
	if r := a.do(Command{Op: OpStart, Kind: KindBackup, ID: "b2", Job: newJob("b2", "node1")}); r.Err() != nil {
		t.Fatalf("the id of a refused backup: %+v", r)
	}
}

func TestStatusNeverGoesBackAndEndsOnce(t *testing.T) {
	a := &applier{t: t, table: NewTable()}
	a.do(Command{Op: OpStart, Kind: KindBackup, ID: "b", Job: newJob("b", "node1", "node2")})
	a.do(Command{Op: OpNode, Kind: KindBackup, ID: "b", Node: "node2", State: &NodeState{Status: backup.StatusTransferring}})
	a.do(Command{Op: OpNode, Kind: KindBackup, ID: "b", Node: "node2", State: &NodeState{Status: backup.StatusStarted}})
	a.do(Command{Op: OpStatus, Kind: KindBackup, ID: "b", Status: backup.StatusTransferring})
	a.do(Command{Op: OpStatus, Kind: KindBackup, ID: "b", Status: backup.StatusStarted})
	j, _ := a.table.Get(KindBackup, "b")
	if j.Status != backup.StatusTransferring || j.Nodes["node2"].Status != backup.StatusTransferring {
		t.Fatalf("went back: %s, node2 %s", j.Status, j.Nodes["node2"].Status)
	}
	if r := a.do(Command{Op: OpNode, Kind: KindBackup, ID: "b", Node: "node9", State: &NodeState{Status: backup.StatusSuccess}}); r.Error == "" {
		t.Fatal("a node that takes no part was recorded")
	}
	a.do(Command{Op: OpStatus, Kind: KindBackup, ID: "b", Status: backup.StatusSuccess, At: time.Unix(300, 0)})
	if r := a.do(Command{Op: OpStatus, Kind: KindBackup, ID: "b", Status: backup.StatusFailed}); !strings.Contains(r.Error, "has ended") {
		t.Fatalf("status after the end: %+v", r)
	}
	if j, _ := a.table.Get(KindBackup, "b"); j.Status != backup.StatusSuccess {
		t.Fatalf("ended twice: %s", j.Status)
	}
}

func TestCancelWinsOverALateSuccess(t *testing.T) {
	a := &applier{t: t, table: NewTable()}
	a.do(Command{Op: OpStart, Kind: KindBackup, ID: "b", Job: newJob("b", "node1")})
	a.do(Command{Op: OpCancel, Kind: KindBackup, ID: "b", Error: "backup canceled"})
	if j, _ := a.table.Get(KindBackup, "b"); j.Status != backup.StatusCancelling {
		t.Fatalf("after cancel: %s", j.Status)
	}
	a.do(Command{Op: OpStatus, Kind: KindBackup, ID: "b", Status: backup.StatusSuccess})
	if j, _ := a.table.Get(KindBackup, "b"); j.Status != backup.StatusCanceled {
		t.Fatalf("cancelled then succeeded: %s", j.Status)
	}
}

func TestDeposedCoordinatorIsFenced(t *testing.T) {
	a := &applier{t: t, table: NewTable()}
	first := a.do(Command{Op: OpStart, Kind: KindBackup, ID: "b", Job: newJob("b", "node1", "node2")}).Epoch
	second := a.do(Command{Op: OpTakeOver, Kind: KindBackup, ID: "b", Node: "node2"}).Epoch
	if second <= first {
		t.Fatalf("epochs %d then %d", first, second)
	}
	if r := a.do(Command{Op: OpStatus, Kind: KindBackup, ID: "b", Status: backup.StatusSuccess, Epoch: first}); !strings.Contains(r.Error, "epoch") {
		t.Fatalf("the old coordinator wrote: %+v", r)
	}
	if r := a.do(Command{Op: OpStatus, Kind: KindBackup, ID: "b", Status: backup.StatusFailed, Error: "x", Epoch: second}); r.Err() != nil {
		t.Fatal(r.Error)
	}
	if j, _ := a.table.Get(KindBackup, "b"); j.Coordinator != "node2" || j.Status != backup.StatusFailed {
		t.Fatalf("%+v", j)
	}
}

func TestSnapshotRoundTripAndTrim(t *testing.T) {
	a := &applier{t: t, table: NewTable()}
	for i := range keep + 10 {
		id := fmt.Sprintf("b%03d", i)
		a.do(Command{Op: OpStart, Kind: KindBackup, ID: id, Job: newJob(id, "node1")})
		a.do(Command{Op: OpStatus, Kind: KindBackup, ID: id, Status: backup.StatusSuccess, At: time.Unix(int64(1000+i), 0)})
	}
	a.do(Command{Op: OpStart, Kind: KindBackup, ID: "live", Job: newJob("live", "node1", "node2")})
	if _, ok := a.table.Get(KindBackup, "b000"); ok {
		t.Fatal("the oldest ended job was kept beyond the limit")
	}
	if _, ok := a.table.Get(KindBackup, fmt.Sprintf("b%03d", keep+9)); !ok {
		t.Fatal("the newest ended job was dropped")
	}
	b, err := json.Marshal(a.table)
	if err != nil {
		t.Fatal(err)
	}
	restored := NewTable()
	if err := json.Unmarshal(b, restored); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(restored)
	if string(b) != string(b2) {
		t.Fatal("the snapshot did not round-trip")
	}
	running := restored.Running()
	if len(running) != 1 || running[0].ID != "live" || len(running[0].Nodes) != 2 {
		t.Fatalf("running after restore: %+v", running)
	}
}
