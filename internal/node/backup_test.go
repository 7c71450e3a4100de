package node

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup"
	"strata/internal/backup/coordinator"
	"strata/internal/backup/jobs"
	"strata/internal/blob"
	"strata/internal/db"
	"strata/internal/schema"
)

// gatedBackend holds every chunk upload of one node until its gate opens:
// a participant that is slow (or stuck) in the middle of a backup.
type gatedBackend struct {
	backup.Backend
	gate chan struct{}
}

func (g gatedBackend) Locate(bucket, path string) (*backup.Location, error) {
	loc, err := g.Backend.Locate(bucket, path)
	if err != nil {
		return nil, err
	}
	cp := *loc
	cp.Store = gatedStore{Store: loc.Store, gate: g.gate}
	return &cp, nil
}

type gatedStore struct {
	blob.Store
	gate chan struct{}
}

func (s gatedStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if strings.Contains(key, "/chunk-") {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Store.Put(ctx, key, r, size)
}

// backupMember is a member that also runs backups: its manager and the
// cluster's coordinator.
type backupMember struct {
	*member
	coord *coordinator.Coordinator
}

// startBackupCluster starts three nodes whose filesystem backend is dir
// (each node its own when dirs differ); gates[i], when set, holds node i's
// chunk uploads.
func startBackupCluster(t *testing.T, dirs [3]string, gates [3]chan struct{}) []*backupMember {
	t.Helper()
	return startBackupNodes(t, []string{"node1", "node2", "node3"}, dirs[:], gates[:])
}

// startBackupNodes starts a cluster of the named nodes that run backups.
func startBackupNodes(t *testing.T, names, dirs []string, gates []chan struct{}) []*backupMember {
	t.Helper()
	ms := startClusterWith(t, names, func(i int, m *member) {
		m.withBackups = func(d *db.DB) *backup.Manager {
			fsb, err := backup.NewFilesystem(dirs[i])
			if err != nil {
				t.Fatal(err)
			}
			var be backup.Backend = fsb
			if gates[i] != nil {
				be = gatedBackend{Backend: fsb, gate: gates[i]}
			}
			mgr, err := backup.New(context.Background(), backup.Options{DB: d, DataPath: m.dir, Node: m.name, ServerVersion: "1.39.0",
				Backends: []backup.Backend{be}, Logger: quiet, Clustered: true, CPUs: 2})
			if err != nil {
				t.Fatal(err)
			}
			return mgr
		}
	})
	out := make([]*backupMember, len(ms))
	for i, m := range ms {
		coord := coordinator.New(coordinator.Options{Cluster: m.node, Parts: m.node.Participants(), Local: m.mgr,
			NodeTimeout: 3 * time.Second, Poll: 100 * time.Millisecond, Logger: quiet})
		out[i] = &backupMember{member: m, coord: coord}
		mgr := m.mgr
		t.Cleanup(func() {
			coord.Close()
			mgr.Close()
		})
	}
	waitUntil(t, "a leader, and every node a member on every node", 20*time.Second, func() bool {
		if ms[0].node.Raft().Leader() == "" {
			return false
		}
		for _, m := range ms {
			if len(m.node.Members()) != len(names) {
				return false
			}
		}
		return true
	})
	return out
}

func fillDoc(t *testing.T, d *db.DB, n int) {
	t.Helper()
	if _, err := d.CreateClass(&schema.Class{Class: "Doc", Properties: []*schema.Property{{Name: "n", DataType: []string{"int"}}}}); err != nil {
		t.Fatal(err)
	}
	ins := make([]*db.ObjectInput, n)
	for i := range ins {
		ins[i] = &db.ObjectInput{Class: "Doc", ID: spread(i), RawProperties: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
			Vector: []float32{float32(i), 1}}
	}
	res, err := d.PutObjects(context.Background(), ins)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// spread is object i's id: distinct ids spread over the ring.
func spread(i int) [16]byte {
	sum := sha256.Sum256(fmt.Appendf(nil, "object %d", i))
	var id [16]byte
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// waitBackup polls a backup's status on node until it ends.
func waitBackup(t *testing.T, m *backupMember, id string, within time.Duration) backup.Info {
	t.Helper()
	var info backup.Info
	waitUntil(t, "backup "+id+" ends", within, func() bool {
		var err error
		info, err = m.coord.CreateStatus(context.Background(), "filesystem", id, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return info.Status.Terminal()
	})
	return info
}

// TestClusterBackup: a backup asked of any node is made by every node —
// each uploads its own shards and writes its manifest, the descriptor says
// SUCCESS last — and every node reports it; a second one while it runs is
// refused; a node that stops in the middle fails the backup within the
// node timeout, naming it, and the next backup succeeds once it is back.
func TestClusterBackup(t *testing.T) {
	shared := t.TempDir()
	gate := make(chan struct{})
	ms := startBackupCluster(t, [3]string{shared, shared, shared}, [3]chan struct{}{nil, nil, gate})
	fillDoc(t, ms[0].db, 3000)
	ctx := context.Background()

	info, err := ms[1].coord.Create(ctx, "filesystem", backup.CreateRequest{ID: "b1"})
	if err != nil || info.Status != backup.StatusStarted {
		t.Fatalf("create: %+v, %v", info, err)
	}
	// node3's uploads wait at the gate: the backup runs on.
	if _, err := ms[2].coord.Create(ctx, "filesystem", backup.CreateRequest{ID: "b2"}); apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "backup b1 already in progress") {
		t.Fatalf("a second backup while one runs: %v", err)
	}
	for _, m := range ms {
		if st, err := m.coord.CreateStatus(ctx, "filesystem", "b1", "", ""); err != nil || st.Status.Terminal() {
			t.Fatalf("%s: status while running: %+v, %v", m.name, st, err)
		}
	}
	close(gate)
	for _, m := range ms {
		if info := waitBackup(t, m, "b1", 30*time.Second); info.Status != backup.StatusSuccess || info.SizeBytes == 0 {
			t.Fatalf("%s: %+v", m.name, info)
		}
	}
	var desc backup.Descriptor
	b, err := os.ReadFile(filepath.Join(shared, "b1", "backup_config.json"))
	if err != nil || json.Unmarshal(b, &desc) != nil {
		t.Fatalf("descriptor: %v", err)
	}
	if desc.Status != backup.StatusSuccess || len(desc.Nodes) != 3 || desc.PreCompressionSizeBytes == 0 {
		t.Fatalf("descriptor: %+v", desc)
	}
	for _, m := range ms {
		var man backup.NodeManifest
		b, err := os.ReadFile(filepath.Join(shared, "b1", m.name, "backup.json"))
		if err != nil || json.Unmarshal(b, &man) != nil || len(man.Classes) != 1 || len(man.Classes[0].Shards) != 1 {
			t.Fatalf("%s: manifest %s: %v", m.name, b, err)
		}
	}
}

// TestClusterBackupFailsWhenANodeStops: a participant that stops in the
// middle of a backup fails it within the node timeout, with a reason that
// names it; every node reports FAILED; cancel of an ended job changes
// nothing.
func TestClusterBackupFailsWhenANodeStops(t *testing.T) {
	shared := t.TempDir()
	gate := make(chan struct{})
	ms := startBackupCluster(t, [3]string{shared, shared, shared}, [3]chan struct{}{nil, nil, gate})
	fillDoc(t, ms[0].db, 1000)
	ctx := context.Background()
	if _, err := ms[0].coord.Create(ctx, "filesystem", backup.CreateRequest{ID: "b1"}); err != nil {
		t.Fatal(err)
	}
	// node3 dies while its uploads wait.
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ms[2].coord.Close()
			ms[2].mgr.Close()
			ms[2].stop()
		})
	}
	stop()
	start := time.Now()
	info := waitBackup(t, ms[0], "b1", 20*time.Second)
	if info.Status != backup.StatusFailed || !strings.Contains(info.Error, "node3") {
		t.Fatalf("after node3 stopped: %+v", info)
	}
	t.Logf("FAILED after %v: %s", time.Since(start), info.Error)
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("FAILED after %v; the node timeout is 3s", took)
	}
	if info := waitBackup(t, ms[1], "b1", 5*time.Second); info.Status != backup.StatusFailed {
		t.Fatalf("on node2: %+v", info)
	}
	if err := ms[1].coord.Cancel(ctx, "filesystem", "b1", "", ""); err != nil {
		t.Fatalf("cancel of a failed backup: %v", err)
	}
	close(gate)
}

// TestClusterBackupRefusesUnsharedDirectory: the filesystem backend on
// nodes that do not share the directory is refused with Weaviate's
// message, before anything is written.
func TestClusterBackupRefusesUnsharedDirectory(t *testing.T) {
	shared := t.TempDir()
	ms := startBackupCluster(t, [3]string{shared, shared, t.TempDir()}, [3]chan struct{}{})
	fillDoc(t, ms[0].db, 100)
	_, err := ms[0].coord.Create(context.Background(), "filesystem", backup.CreateRequest{ID: "b1"})
	if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "local filesystem backend is not viable for backing up a node cluster") {
		t.Fatalf("create on unshared directories: %v", err)
	}
	if _, err := os.Stat(filepath.Join(shared, "b1", "backup_config.json")); !os.IsNotExist(err) {
		t.Fatalf("a refused backup wrote its descriptor: %v", err)
	}
}

// TestClusterBackupOrphanedInPrepareFails: a job whose coordinator went
// away while the nodes prepared (a whole-cluster restart) is failed by the
// leader; a status call then reports FAILED on every node.
func TestClusterBackupOrphanedInPrepareFails(t *testing.T) {
	shared := t.TempDir()
	ms := startBackupCluster(t, [3]string{shared, shared, shared}, [3]chan struct{}{})
	req, _ := json.Marshal(backup.CreateRequest{ID: "o1"})
	job := &jobs.Job{ID: "o1", Kind: jobs.KindBackup, Backend: "filesystem", Classes: []string{"Doc"}, Coordinator: "gone",
		Status: backup.StatusStarted, StartedAt: time.Now().UTC(), Request: req,
		Nodes: map[string]*jobs.NodeState{"node1": {}, "node2": {}, "node3": {}}}
	if _, err := ms[1].node.ProposeJob(context.Background(), jobs.Command{Op: jobs.OpStart, Kind: jobs.KindBackup, ID: "o1", Job: job}); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		waitUntil(t, "the orphaned job fails on "+m.name, 15*time.Second, func() bool {
			j, ok := m.node.Jobs().Get(jobs.KindBackup, "o1")
			return ok && j.Status == backup.StatusFailed && strings.Contains(j.Error, "gone")
		})
	}
}

// backupSucceeds makes a backup through m and returns its id: id, or
// id-2, id-3 when a leader change failed the earlier try (a coordinator
// that stops while the nodes prepare fails its job, by design; a loaded
// test machine can delay heartbeats past raft's timeouts).
func backupSucceeds(t *testing.T, m *backupMember, id string) string {
	t.Helper()
	for attempt := 1; ; attempt++ {
		try := id
		if attempt > 1 {
			try = fmt.Sprintf("%s-%d", id, attempt)
		}
		_, err := m.coord.Create(context.Background(), "filesystem", backup.CreateRequest{ID: try})
		info := backup.Info{Error: fmt.Sprint(err)}
		if err == nil {
			if info = waitBackup(t, m, try, 30*time.Second); info.Status == backup.StatusSuccess {
				return try
			}
		}
		if attempt == 3 || !strings.Contains(info.Error, "coordinator") {
			t.Fatalf("backup %s: %+v", try, info)
		}
		t.Logf("backup %s failed with a leader change, again: %s", try, info.Error)
	}
}

// checkDoc checks that every node reads the n objects fillDoc wrote.
func checkDoc(t *testing.T, ms []*backupMember, n int) {
	t.Helper()
	ctx := context.Background()
	for _, m := range ms {
		if c, err := m.db.Count(ctx, "Doc", ""); err != nil || c != int64(n) {
			t.Fatalf("%s: count %d, %v", m.name, c, err)
		}
		for i := 0; i < n; i += 7 {
			o, err := m.db.GetObject(ctx, "Doc", spread(i), "", true)
			if err != nil || string(o.Properties) != fmt.Sprintf(`{"n":%d}`, i) || o.Vector[0] != float32(i) {
				t.Fatalf("%s: object %d: %+v, %v", m.name, i, o, err)
			}
		}
	}
}

// waitRestore polls a restore's status on node until it ends.
func waitRestore(t *testing.T, m *backupMember, id string) backup.Info {
	t.Helper()
	var info backup.Info
	waitUntil(t, "restore "+id+" ends", 60*time.Second, func() bool {
		var err error
		info, err = m.coord.RestoreStatus(context.Background(), "filesystem", id, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return info.Status.Terminal()
	})
	return info
}

// TestClusterRestore: a backup of three nodes restores onto the same
// three (every object back, read through every node), onto two (3 → 2)
// and onto four with renamed nodes (node_mapping); a restore whose node
// fails leaves no class on any node.
func TestClusterRestore(t *testing.T) {
	shared := t.TempDir()
	ms := startBackupCluster(t, [3]string{shared, shared, shared}, [3]chan struct{}{})
	fillDoc(t, ms[0].db, 1500)
	ctx := context.Background()
	id := backupSucceeds(t, ms[0], "b1")
	// A class of that name exists: refused before anything moves.
	if _, err := ms[1].coord.Restore(ctx, "filesystem", backup.RestoreRequest{ID: id}); apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("restore over an existing class: %v", err)
	}
	if err := ms[0].db.DeleteClass("Doc"); err != nil {
		t.Fatal(err)
	}
	info, err := ms[1].coord.Restore(ctx, "filesystem", backup.RestoreRequest{ID: id})
	if err != nil || info.Status != backup.StatusStarted {
		t.Fatalf("restore: %+v, %v", info, err)
	}
	if info := waitRestore(t, ms[2], id); info.Status != backup.StatusSuccess {
		t.Fatalf("restore: %+v", info)
	}
	checkDoc(t, ms, 1500)

	// Renamed: next to the live class, its shards on the same nodes.
	if _, err := ms[0].coord.Restore(ctx, "filesystem", backup.RestoreRequest{ID: id, Rename: map[string]string{"Doc": "DocCopy"}}); err != nil {
		t.Fatal(err)
	}
	if info := waitRestore(t, ms[1], id); info.Status != backup.StatusSuccess {
		t.Fatalf("restore with rename: %+v", info)
	}
	for _, m := range ms {
		if c, err := m.db.Count(ctx, "DocCopy", ""); err != nil || c != 1500 {
			t.Fatalf("%s: DocCopy count %d, %v", m.name, c, err)
		}
		if shards, _ := m.db.Shards("DocCopy"); len(shards) != 1 {
			t.Fatalf("%s holds %d shards of DocCopy", m.name, len(shards))
		}
	}
	checkDoc(t, ms, 1500)
	if err := ms[2].db.DeleteClass("DocCopy"); err != nil {
		t.Fatal(err)
	}

	// 3 → 2: another cluster of two nodes sharing the backup directory.
	two := startBackupNodes(t, []string{"node1", "node2"}, []string{shared, shared}, []chan struct{}{nil, nil})
	if _, err := two[0].coord.Restore(ctx, "filesystem", backup.RestoreRequest{ID: id}); err != nil {
		t.Fatal(err)
	}
	if info := waitRestore(t, two[1], id); info.Status != backup.StatusSuccess {
		t.Fatalf("3 → 2: %+v", info)
	}
	checkDoc(t, two, 1500)
	held := 0
	for _, m := range two {
		shards, _ := m.db.Shards("Doc")
		held += len(shards)
	}
	if held != 3 {
		t.Fatalf("3 → 2: %d shards held, want the backup's 3", held)
	}

	// 3 → 1: a server of its own gathers every node's shards.
	dir := t.TempDir()
	solo, err := db.Open(db.Options{DataPath: dir, Node: "solo", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer solo.Close()
	fsb, err := backup.NewFilesystem(shared)
	if err != nil {
		t.Fatal(err)
	}
	soloMgr, err := backup.New(ctx, backup.Options{DB: solo, DataPath: dir, Node: "solo", ServerVersion: "1.39.0",
		Backends: []backup.Backend{fsb}, Logger: quiet, CPUs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer soloMgr.Close()
	_, err = soloMgr.Restore(ctx, "filesystem", backup.RestoreRequest{ID: id, NodeMapping: map[string]string{"node1": "elsewhere"}})
	if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), `"elsewhere"`) {
		t.Fatalf("3 → 1 mapped to another node: %v", err)
	}
	if _, err := soloMgr.Restore(ctx, "filesystem", backup.RestoreRequest{ID: id}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "3 → 1 restore ends", 60*time.Second, func() bool {
		info, err := soloMgr.RestoreStatus(ctx, "filesystem", id, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if info.Status.Terminal() && info.Status != backup.StatusSuccess {
			t.Fatalf("3 → 1: %+v", info)
		}
		return info.Status == backup.StatusSuccess
	})
	if shards, _ := solo.Shards("Doc"); len(shards) != 3 {
		t.Fatalf("3 → 1: %d shards, want the backup's 3", len(shards))
	}
	checkDoc(t, []*backupMember{{member: &member{name: "solo", db: solo}}}, 1500)

	// node_mapping to renamed nodes; a source that is not in the backup is 422.
	renamed := startBackupNodes(t, []string{"a", "b", "c"}, []string{shared, shared, shared}, []chan struct{}{nil, nil, nil})
	_, err = renamed[0].coord.Restore(ctx, "filesystem", backup.RestoreRequest{ID: id, NodeMapping: map[string]string{"node9": "a"}})
	if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "node9") {
		t.Fatalf("unknown source node: %v", err)
	}
	mapping := map[string]string{"node1": "c", "node2": "a", "node3": "b"}
	if _, err := renamed[1].coord.Restore(ctx, "filesystem", backup.RestoreRequest{ID: id, NodeMapping: mapping}); err != nil {
		t.Fatal(err)
	}
	if info := waitRestore(t, renamed[0], id); info.Status != backup.StatusSuccess {
		t.Fatalf("node_mapping: %+v", info)
	}
	checkDoc(t, renamed, 1500)
	for _, m := range renamed {
		if shards, _ := m.db.Shards("Doc"); len(shards) != 1 {
			t.Fatalf("%s holds %d shards, want 1", m.name, len(shards))
		}
	}

	// node2's chunk is damaged: the restore fails, and no node has the
	// class or any of its data.
	chunk := filepath.Join(shared, id, "node2", "Doc", "chunk-1")
	f, err := os.OpenFile(chunk, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("junk"))
	f.Close()
	if err := ms[0].db.DeleteClass("Doc"); err != nil {
		t.Fatal(err)
	}
	if _, err := ms[2].coord.Restore(ctx, "filesystem", backup.RestoreRequest{ID: id}); err != nil {
		t.Fatal(err)
	}
	info = waitRestore(t, ms[0], id)
	if info.Status != backup.StatusFailed || !strings.Contains(info.Error, "node2") {
		t.Fatalf("restore of a damaged backup: %+v", info)
	}
	for _, m := range ms {
		if m.db.ClassExists("Doc") {
			t.Fatalf("%s has the class of a failed restore", m.name)
		}
		// A part still running when it was aborted cleans up as it stops.
		waitUntil(t, m.name+" removes the placed shards of a failed restore", 10*time.Second, func() bool {
			entries, err := os.ReadDir(filepath.Join(m.dir, "classes", "Doc"))
			return err != nil || len(entries) == 0
		})
	}
}
