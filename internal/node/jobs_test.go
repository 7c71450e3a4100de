package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"strata/internal/backup"
	"strata/internal/backup/jobs"
)

// TestJobsAreOneAcrossNodes: job records written through any node are on
// every node; a refused command is refused alike; a node restarted after
// the log was compacted has the table back.
func TestJobsAreOneAcrossNodes(t *testing.T) {
	ms := startCluster(t, "node1", "node2", "node3")
	ctx := context.Background()
	job := &jobs.Job{ID: "b1", Kind: jobs.KindBackup, Backend: "s3", Classes: []string{"A"}, Coordinator: "node1",
		Status: backup.StatusStarted, StartedAt: time.Unix(100, 0).UTC(), Deadline: time.Unix(900, 0).UTC(),
		Nodes: map[string]*jobs.NodeState{"node1": {Status: backup.StatusStarted}, "node2": {Status: backup.StatusStarted}}}
	if _, err := ms[1].node.ProposeJob(ctx, jobs.Command{Op: jobs.OpStart, Kind: jobs.KindBackup, ID: "b1", Job: job}); err != nil {
		t.Fatal(err)
	}
	_, err := ms[2].node.ProposeJob(ctx, jobs.Command{Op: jobs.OpStart, Kind: jobs.KindBackup, ID: "b2", Job: &jobs.Job{ID: "b2", Kind: jobs.KindBackup}})
	var invalid *jobs.InvalidError
	if !errors.As(err, &invalid) {
		t.Fatalf("a second backup while one runs: %v", err)
	}
	if _, err := ms[2].node.ProposeJob(ctx, jobs.Command{Op: jobs.OpNode, Kind: jobs.KindBackup, ID: "b1", Node: "node2",
		State: &jobs.NodeState{Status: backup.StatusTransferring, Bytes: 42}}); err != nil {
		t.Fatal(err)
	}
	// Read-your-writes on the node that wrote; the others follow.
	if j, ok := ms[2].node.Jobs().Get(jobs.KindBackup, "b1"); !ok || j.Nodes["node2"].Bytes != 42 {
		t.Fatalf("on the writer: %+v", j)
	}
	for _, m := range ms {
		waitUntil(t, "job on "+m.name, 5*time.Second, func() bool {
			j, ok := m.node.Jobs().Get(jobs.KindBackup, "b1")
			return ok && j.Nodes["node2"].Status == backup.StatusTransferring
		})
	}

	// Every node compacts its log: the restart below comes from a snapshot.
	for _, m := range ms {
		if err := m.node.Raft().Snapshot(); err != nil {
			t.Fatal(err)
		}
	}
	ms[2].stop()
	if _, err := ms[0].node.ProposeJob(ctx, jobs.Command{Op: jobs.OpStatus, Kind: jobs.KindBackup, ID: "b1",
		Status: backup.StatusFailed, Error: "node3 left", At: time.Unix(200, 0).UTC()}); err != nil {
		t.Fatal(err)
	}
	ms[2].start(t)
	waitUntil(t, "restarted node has the job table", 20*time.Second, func() bool {
		j, ok := ms[2].node.Jobs().Get(jobs.KindBackup, "b1")
		return ok && j.Status == backup.StatusFailed && j.Error == "node3 left" && j.Nodes["node2"].Bytes == 42
	})
}
