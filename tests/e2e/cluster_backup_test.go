package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"strata/internal/blob"
	"strata/internal/blob/s3"
)

// s3Bucket creates a fresh bucket on the S3 emulator and returns the
// server environment that backs up to it, and the bucket as a store.
func s3Bucket(t *testing.T, ctx context.Context) (map[string]string, blob.Store) {
	t.Helper()
	bucket := fmt.Sprintf("strata-cluster-%d", time.Now().UnixNano()%1e9)
	env := cloudBackends[0].setup(t, ctx, bucket)
	return env, s3Store(t, ctx, bucket)
}

// TestClusterBackupS3: a backup of a 3-node cluster on the S3 emulator,
// asked through one node with the official client (waiting), is SUCCESS on
// every node, with a manifest per node and the descriptor naming them all.
// A participant killed (SIGKILL) in the middle fails the backup within the
// node timeout, naming it; a backup cancelled while a node is dead ends
// CANCELED; once the node is back, the next backup succeeds.
func TestClusterBackupS3(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env, store := s3Bucket(t, ctx)
	env["STRATA_BACKUP_NODE_TIMEOUT_SECONDS"] = "5"
	nodes := startCluster(t, []string{"node1", "node2", "node3"}, serverOptions{Env: env})
	createClass(t, nodes[0], articleClass("Article"))
	objs := genObjects(7, 6000, 32)
	batchImport(t, nodes[0], "Article", "", objs, 1000)

	created, err := nodes[1].client(t).Backup().Creator().WithBackend("s3").WithBackupID("c1").WithWaitForCompletion(true).Do(ctx)
	if err != nil || created.Status == nil || *created.Status != "SUCCESS" {
		t.Fatalf("backup through node2: %+v, %v", created, err)
	}
	for _, s := range nodes {
		r := s.do(t, http.MethodGet, "/v1/backups/s3/c1", nil)
		wantStatus(t, r, http.StatusOK)
		if doc := decodeBackupDoc(t, r); doc.Status != "SUCCESS" {
			t.Fatalf("%s: status %+v", s.URL, doc)
		}
	}
	var desc struct {
		Status string                     `json:"status"`
		Nodes  map[string]json.RawMessage `json:"nodes"`
	}
	readStoreJSON(t, ctx, store, "c1/backup_config.json", &desc)
	if desc.Status != "SUCCESS" || len(desc.Nodes) != 3 {
		t.Fatalf("descriptor: %+v", desc)
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		var man struct {
			Classes []struct {
				Shards []json.RawMessage `json:"shards"`
			} `json:"classes"`
		}
		readStoreJSON(t, ctx, store, "c1/"+n+"/backup.json", &man)
		if len(man.Classes) != 1 || len(man.Classes[0].Shards) != 1 {
			t.Fatalf("%s's manifest: %+v", n, man)
		}
	}

	// Restore through another node with the official client (waiting):
	// every object back, read through every node.
	want := snapshotObjects(t, nodes[0], "Article", "")
	deleteClass(t, nodes[1], "Article")
	restored, err := nodes[2].client(t).Backup().Restorer().WithBackend("s3").WithBackupID("c1").WithWaitForCompletion(true).Do(ctx)
	if err != nil || restored.Status == nil || *restored.Status != "SUCCESS" {
		t.Fatalf("restore through node3: %+v, %v", restored, err)
	}
	for _, s := range nodes {
		compareSnapshots(t, "restored, read through "+s.URL, snapshotObjects(t, s, "Article", ""), want)
	}
	// 3 → 2: a second cluster of two nodes on the same bucket.
	two := startCluster(t, []string{"node1", "node2"}, serverOptions{Env: env})
	r := two[1].do(t, http.MethodPost, "/v1/backups/s3/c1/restore", map[string]any{})
	wantStatus(t, r, http.StatusOK)
	wantFinal(t, "restore 3 → 2", pollStatus(t, two[0], "/v1/backups/s3/c1/restore", time.Minute), "SUCCESS")
	for _, s := range two {
		compareSnapshots(t, "3 → 2, read through "+s.URL, snapshotObjects(t, s, "Article", ""), want)
		for q := range 5 {
			vec := objs[q*1013].Vector
			wantTop, got := nearVectorTop(t, nodes[0], "Article", "", vec, 10), nearVectorTop(t, s, "Article", "", vec, 10)
			if fmt.Sprint(got) != fmt.Sprint(wantTop) {
				t.Fatalf("3 → 2: query %d through %s:\n got %v\nwant %v", q, s.URL, got, wantTop)
			}
		}
	}
	for _, s := range two {
		s.stop()
	}

	// node3 kills itself as its part starts uploading.
	nodes[2].opts.Env["STRATA_TEST_CRASH_AT"] = "backup-part-upload"
	nodes[2].restart()
	waitAllHealthy(t, nodes)
	start := time.Now()
	r = nodes[0].do(t, http.MethodPost, "/v1/backups/s3", map[string]any{"id": "c2"})
	wantStatus(t, r, http.StatusOK)
	res := pollStatus(t, nodes[1], "/v1/backups/s3/c2", time.Minute)
	wantFinal(t, "backup with node3 killed", res, "FAILED")
	if !strings.Contains(res.Final.Error, "node3") {
		t.Fatalf("the reason does not name node3: %q", res.Final.Error)
	}
	t.Logf("FAILED %v after the create: %s", time.Since(start).Round(time.Millisecond), res.Final.Error)

	// A cancel while node3 is dead ends the backup, through any node.
	nodes[2].restart()
	waitAllHealthy(t, nodes)
	r = nodes[0].do(t, http.MethodPost, "/v1/backups/s3", map[string]any{"id": "c3"})
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, nodes[1].do(t, http.MethodDelete, "/v1/backups/s3/c3", nil), http.StatusNoContent)
	res = pollStatus(t, nodes[0], "/v1/backups/s3/c3", time.Minute)
	switch res.Final.Status {
	case "CANCELED":
	case "FAILED": // node3 died before it answered its commit: the job failed before the cancel
		if !strings.Contains(res.Final.Error, "node3") {
			t.Fatalf("backup cancelled with node3 dead: FAILED without naming node3: %q", res.Final.Error)
		}
		t.Logf("the backup failed before the cancel: %s", res.Final.Error)
	default:
		t.Fatalf("backup cancelled with node3 dead: %+v", res.Final)
	}

	// Back for good, the next backup succeeds.
	delete(nodes[2].opts.Env, "STRATA_TEST_CRASH_AT")
	nodes[2].restart()
	waitAllHealthy(t, nodes)
	r = nodes[2].do(t, http.MethodPost, "/v1/backups/s3", map[string]any{"id": "c4"})
	wantStatus(t, r, http.StatusOK)
	wantFinal(t, "backup after node3 came back", pollStatus(t, nodes[0], "/v1/backups/s3/c4", time.Minute), "SUCCESS")
}

// waitAllHealthy waits until every node lists every node HEALTHY.
func waitAllHealthy(t *testing.T, nodes []*server) {
	t.Helper()
	waitFor(t, "every node sees every node", func() bool {
		for _, s := range nodes {
			list := nodesList(t, s, "/v1/nodes")
			if len(list) != len(nodes) {
				return false
			}
			for _, n := range list {
				if n.Status != "HEALTHY" {
					return false
				}
			}
		}
		return true
	})
}

// s3Store opens a bucket of the S3 emulator.
func s3Store(t *testing.T, ctx context.Context, bucket string) blob.Store {
	t.Helper()
	st, err := s3.New(ctx, s3.Config{Bucket: bucket, Endpoint: os.Getenv("S3_ENDPOINT"), Region: os.Getenv("AWS_REGION"),
		AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func readStoreJSON(t *testing.T, ctx context.Context, st blob.Store, key string, v any) {
	t.Helper()
	rc, err := st.Get(ctx, key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil || json.Unmarshal(b, v) != nil {
		t.Fatalf("read %s: %v (%s)", key, err, truncate(b, 300))
	}
}

// leaderOf asks a node which node leads raft.
func leaderOf(t *testing.T, s *server) string {
	t.Helper()
	r := s.do(t, http.MethodGet, "/v1/cluster/statistics", nil)
	wantStatus(t, r, http.StatusOK)
	var st struct {
		Statistics []struct {
			LeaderID string `json:"leaderId"`
		} `json:"statistics"`
	}
	r.JSON(t, &st)
	if len(st.Statistics) == 0 {
		t.Fatalf("no statistics: %s", r)
	}
	return st.Statistics[0].LeaderID
}

// restartAll starts every (stopped) node again, together.
func restartAll(nodes []*server) {
	exits := make([]<-chan struct{}, len(nodes))
	for i, n := range nodes {
		exits[i] = n.spawn()
	}
	for i, n := range nodes {
		n.waitUp(exits[i])
	}
}

// TestClusterBackupSurvivesLeaderAndClusterCrashes: the leader SIGKILLed
// right after a backup started leaves the backup to the new leader, which
// ends it within the node timeout; every node SIGKILLed in the middle of a
// backup and started again ends it too: no job stays STARTED or
// TRANSFERRING, and the next backup succeeds.
func TestClusterBackupSurvivesLeaderAndClusterCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env, _ := s3Bucket(t, ctx)
	env["STRATA_BACKUP_NODE_TIMEOUT_SECONDS"] = "5"
	names := []string{"node1", "node2", "node3"}
	nodes := startCluster(t, names, serverOptions{Env: env})
	createClass(t, nodes[0], articleClass("Article"))
	batchImport(t, nodes[0], "Article", "", genObjects(11, 6000, 32), 1000)
	byName := map[string]*server{}
	for i, n := range names {
		byName[n] = nodes[i]
	}

	// The leader dies right after the create answered.
	leader := leaderOf(t, nodes[0])
	var asker *server
	for _, s := range nodes {
		if s != byName[leader] {
			asker = s
			break
		}
	}
	wantStatus(t, asker.do(t, http.MethodPost, "/v1/backups/s3", map[string]any{"id": "l1"}), http.StatusOK)
	byName[leader].kill()
	start := time.Now()
	res := pollStatus(t, asker, "/v1/backups/s3/l1", time.Minute)
	if st := res.Final.Status; st != "FAILED" && st != "SUCCESS" {
		t.Fatalf("after the leader died: %+v", res)
	}
	if res.Final.Status == "FAILED" && !strings.Contains(res.Final.Error, leader) {
		t.Fatalf("the reason does not name the dead leader %s: %q", leader, res.Final.Error)
	}
	t.Logf("leader %s killed: %s %v later (%s)", leader, res.Final.Status, time.Since(start).Round(time.Millisecond), res.Final.Error)
	byName[leader].restart()
	waitAllHealthy(t, nodes)
	wantStatus(t, nodes[0].do(t, http.MethodPost, "/v1/backups/s3", map[string]any{"id": "l2"}), http.StatusOK)
	wantFinal(t, "backup after the leader came back", pollStatus(t, nodes[1], "/v1/backups/s3/l2", time.Minute), "SUCCESS")

	// Every node dies as its part starts uploading; all come back.
	for _, s := range nodes {
		s.opts.Env["STRATA_TEST_CRASH_AT"] = "backup-part-upload"
		s.restart()
	}
	waitAllHealthy(t, nodes)
	// The node asked dies with the others: its answer may never come.
	if resp, err := rawClient.Post(nodes[2].URL+"/v1/backups/s3", "application/json", strings.NewReader(`{"id":"w1"}`)); err == nil {
		resp.Body.Close()
	}
	// A node kills itself as its part starts: wait for the first, so that
	// the backup was under way when the cluster went down; then the rest
	// die too (those whose commit never came are killed).
	first := make(chan struct{}, len(nodes))
	for _, s := range nodes {
		go func() { <-s.exited(); first <- struct{}{} }()
	}
	select {
	case <-first:
	case <-time.After(time.Minute):
		t.Fatal("no node reached its part's upload within a minute")
	}
	time.Sleep(2 * time.Second)
	for _, s := range nodes {
		s.kill()
		delete(s.opts.Env, "STRATA_TEST_CRASH_AT")
	}
	restartAll(nodes)
	start = time.Now()
	for _, s := range nodes {
		res := pollStatus(t, s, "/v1/backups/s3/w1", time.Minute)
		wantFinal(t, "backup across a whole-cluster restart", res, "FAILED")
	}
	t.Logf("whole-cluster restart: FAILED everywhere %v after the restart", time.Since(start).Round(time.Millisecond))
	waitAllHealthy(t, nodes)
	wantStatus(t, nodes[1].do(t, http.MethodPost, "/v1/backups/s3", map[string]any{"id": "w2"}), http.StatusOK)
	wantFinal(t, "backup after the whole-cluster restart", pollStatus(t, nodes[0], "/v1/backups/s3/w2", time.Minute), "SUCCESS")
}
