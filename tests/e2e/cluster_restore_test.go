package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClusterRestoreOnSharedDirectory: a 2-node cluster backs up to a
// directory the nodes share; a 3-node cluster restores it (2 → 3) with
// every object back and the same nearVector answers through every node. A
// node SIGKILLed as its part of a restore starts downloading fails the
// restore within the node timeout, naming it, and leaves the class on no
// node; once the node is back the restore succeeds.
func TestClusterRestoreOnSharedDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 2- and 3-node clusters")
	}
	shared := t.TempDir()
	env := map[string]string{"STRATA_BACKUP_NODE_TIMEOUT_SECONDS": "5"}
	two := startCluster(t, []string{"node1", "node2"}, serverOptions{BackupDir: shared, Env: env})
	createClass(t, two[0], articleClass("Article"))
	objs := genObjects(13, 8000, 32)
	batchImport(t, two[0], "Article", "", objs, 1000)
	want := snapshotObjects(t, two[0], "Article", "")
	var queries [][]float32
	var answers []string
	for q := range 5 {
		vec := objs[q*1531].Vector
		queries = append(queries, vec)
		answers = append(answers, fmt.Sprint(nearVectorTop(t, two[1], "Article", "", vec, 10)))
	}
	wantStatus(t, two[1].do(t, http.MethodPost, "/v1/backups/filesystem", map[string]any{"id": "f1"}), http.StatusOK)
	wantFinal(t, "backup of 2 nodes", pollStatus(t, two[0], "/v1/backups/filesystem/f1", time.Minute), "SUCCESS")
	// The record keeps each node's last progress: all done.
	var st struct {
		Progress struct {
			BytesDone, BytesTotal, FilesDone, FilesTotal int64
			Nodes                                        map[string]struct{ BytesDone, BytesTotal int64 }
		} `json:"progress"`
	}
	r := two[1].do(t, http.MethodGet, "/v1/backups/filesystem/f1", nil)
	r.JSON(t, &st)
	if p := st.Progress; p.BytesTotal == 0 || p.BytesDone != p.BytesTotal || p.FilesDone != p.FilesTotal || len(p.Nodes) != 2 {
		t.Fatalf("progress of the finished backup: %s", r)
	}
	for _, s := range two {
		s.stop()
	}

	names := []string{"node1", "node2", "node3"}
	three := startCluster(t, names, serverOptions{BackupDir: shared, Env: env})
	restore := func(through *server) pollResult {
		t.Helper()
		wantStatus(t, through.do(t, http.MethodPost, "/v1/backups/filesystem/f1/restore", map[string]any{}), http.StatusOK)
		return pollStatus(t, through, "/v1/backups/filesystem/f1/restore", 2*time.Minute)
	}
	checkRestored := func(what string) {
		t.Helper()
		for _, s := range three {
			compareSnapshots(t, what+", read through "+s.URL, snapshotObjects(t, s, "Article", ""), want)
			for q, vec := range queries {
				if got := fmt.Sprint(nearVectorTop(t, s, "Article", "", vec, 10)); got != answers[q] {
					t.Fatalf("%s: query %d through %s:\n got %s\nwant %s", what, q, s.URL, got, answers[q])
				}
			}
		}
	}
	wantFinal(t, "restore 2 → 3", restore(three[2]), "SUCCESS")
	checkRestored("2 → 3")

	// node2 holds a shard of the backup by name: it kills itself as its
	// part starts downloading.
	deleteClass(t, three[0], "Article")
	three[1].opts.Env["STRATA_TEST_CRASH_AT"] = "restore-part-download"
	three[1].restart()
	waitAllHealthy(t, three)
	start := time.Now()
	res := restore(three[0])
	wantFinal(t, "restore with node2 killed", res, "FAILED")
	if !strings.Contains(res.Final.Error, "node2") {
		t.Fatalf("the reason does not name node2: %q", res.Final.Error)
	}
	t.Logf("FAILED %v after the restore began: %s", time.Since(start).Round(time.Millisecond), res.Final.Error)
	for _, s := range []*server{three[0], three[2]} {
		if r := s.do(t, http.MethodGet, "/v1/schema/Article", nil); r.Status != http.StatusNotFound {
			t.Fatalf("after the failed restore, %s serves the class: %s", s.URL, truncate(r.Body, 200))
		}
	}

	delete(three[1].opts.Env, "STRATA_TEST_CRASH_AT")
	three[1].restart()
	waitAllHealthy(t, three)
	wantStatus(t, three[1].do(t, http.MethodGet, "/v1/schema/Article", nil), http.StatusNotFound)
	wantFinal(t, "restore after node2 came back", restore(three[1]), "SUCCESS")
	checkRestored("restored after node2 came back")
	for _, s := range three {
		s.stop()
	}

	// Renamed nodes: node_mapping sends each backup node's shards to its
	// new name; a source the backup does not have is 422 naming it.
	renamed := startCluster(t, []string{"a", "b", "c"}, serverOptions{BackupDir: shared, Env: env})
	waitAllHealthy(t, renamed)
	r = renamed[0].do(t, http.MethodPost, "/v1/backups/filesystem/f1/restore", map[string]any{"node_mapping": map[string]string{"node9": "a"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.Body), "node9") {
		t.Fatalf("an unknown source node: %s", r)
	}
	wantStatus(t, renamed[1].do(t, http.MethodPost, "/v1/backups/filesystem/f1/restore",
		map[string]any{"node_mapping": map[string]string{"node1": "c", "node2": "a"}}), http.StatusOK)
	wantFinal(t, "restore onto renamed nodes", pollStatus(t, renamed[2], "/v1/backups/filesystem/f1/restore", 2*time.Minute), "SUCCESS")
	held := map[string]int{}
	for _, n := range nodesList(t, renamed[0], "/v1/nodes/Article?output=verbose") {
		held[n.Name] = len(n.Shards)
	}
	if held["a"] != 1 || held["c"] != 1 || held["b"] != 0 {
		t.Fatalf("shards after node_mapping {node1: c, node2: a}: %v", held)
	}
	for _, s := range renamed {
		compareSnapshots(t, "renamed nodes, read through "+s.URL, snapshotObjects(t, s, "Article", ""), want)
	}
}

// TestClusterBackupBlackholedNode: a participant whose data port stops
// forwarding anything (a proxy in front of it drops every byte, while
// gossip and raft still see it alive) fails a backup within the node
// timeout, naming it; once its network is back, the next backup succeeds.
func TestClusterBackupBlackholedNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	names := []string{"node1", "node2", "node3"}
	opts := serverOptions{BackupDir: t.TempDir(), NodeEnv: map[string]map[string]string{},
		Env: map[string]string{"STRATA_BACKUP_NODE_TIMEOUT_SECONDS": "5"}}
	proxies := map[string]*tcpProxy{}
	for _, n := range names {
		bound, advertised := freePort(t), freePort(t)
		proxies[n] = startProxy(t, advertised, bound)
		opts.NodeEnv[n] = map[string]string{"CLUSTER_DATA_BIND_PORT": strconv.Itoa(bound),
			"STRATA_CLUSTER_DATA_ADVERTISE_PORT": strconv.Itoa(advertised)}
	}
	nodes := startCluster(t, names, opts)
	createClass(t, nodes[0], articleClass("Article"))
	batchImport(t, nodes[0], "Article", "", genObjects(17, 6000, 32), 1000)
	wantStatus(t, nodes[0].do(t, http.MethodPost, "/v1/backups/filesystem", map[string]any{"id": "h1"}), http.StatusOK)
	wantFinal(t, "backup through the proxies", pollStatus(t, nodes[1], "/v1/backups/filesystem/h1", time.Minute), "SUCCESS")

	// A node that does not lead waits 10 s before it uploads; its data
	// port goes dark as soon as the backup has started.
	leader := leaderOf(t, nodes[0])
	victim := 0
	for i, n := range names {
		if n != leader {
			victim = i
			break
		}
	}
	name := names[victim]
	nodes[victim].opts.Env["STRATA_TEST_PAUSE_AT"] = "backup-part-upload:10s"
	nodes[victim].restart()
	waitAllHealthy(t, nodes)
	if now := leaderOf(t, nodes[0]); now == name {
		t.Skipf("%s became the leader on its restart: no participant to cut off", name)
	}
	wantStatus(t, nodes[0].do(t, http.MethodPost, "/v1/backups/filesystem", map[string]any{"id": "h2"}), http.StatusOK)
	proxies[name].blackhole()
	start := time.Now()
	res := pollStatus(t, nodes[(victim+1)%3], "/v1/backups/filesystem/h2", time.Minute)
	wantFinal(t, "backup with a blackholed node", res, "FAILED")
	if !strings.Contains(res.Final.Error, name) {
		t.Fatalf("the reason does not name %s: %q", name, res.Final.Error)
	}
	t.Logf("FAILED %v after the blackhole: %s", time.Since(start).Round(time.Millisecond), res.Final.Error)

	proxies[name].forward()
	delete(nodes[victim].opts.Env, "STRATA_TEST_PAUSE_AT")
	nodes[victim].restart()
	waitAllHealthy(t, nodes)
	wantStatus(t, nodes[victim].do(t, http.MethodPost, "/v1/backups/filesystem", map[string]any{"id": "h3"}), http.StatusOK)
	wantFinal(t, "backup with the network back", pollStatus(t, nodes[0], "/v1/backups/filesystem/h3", time.Minute), "SUCCESS")
}
