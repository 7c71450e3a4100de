package node

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"strata/internal/backup"
	"strata/internal/config"
	"strata/internal/dataport"
	"strata/internal/db"
	"strata/internal/schema"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// handedOut holds every port freePort returned, so that nodes started
// together never get the same one.
var (
	handedOutMu sync.Mutex
	handedOut   = map[int]bool{}
)

func freePort(t *testing.T) int {
	t.Helper()
	handedOutMu.Lock()
	defer handedOutMu.Unlock()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !handedOut[port] {
			handedOut[port] = true
			return port
		}
	}
}

// member is one node of an in-process cluster: its node and database,
// and its backup manager when the test made one (withBackups).
type member struct {
	name string
	dir  string
	cfg  config.Cluster
	node *Node
	db   *db.DB
	// withBackups, when set, makes the backup manager that serves the
	// node's parts of cluster backups.
	withBackups func(d *db.DB) *backup.Manager
	mgr         *backup.Manager
}

func (m *member) start(t *testing.T) {
	t.Helper()
	n, err := Join(Config{Name: m.name, RaftDir: filepath.Join(m.dir, "raft"), Cluster: m.cfg, Local: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(db.Options{DataPath: m.dir, Node: m.name, Nodes: n.Nodes, Log: n, Remote: n.Remote(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var parts dataport.Parts
	if m.withBackups != nil {
		m.mgr = m.withBackups(d)
		parts = m.mgr
	}
	if err := n.Start(d, parts); err != nil {
		t.Fatal(err)
	}
	m.node, m.db = n, d
}

func (m *member) stop() {
	if m.node == nil {
		return
	}
	m.node.Close()
	m.db.Close()
	m.node, m.db = nil, nil
}

func startCluster(t *testing.T, names ...string) []*member {
	t.Helper()
	return startClusterWith(t, names, nil)
}

// startClusterWith is startCluster with setup(i, m) called on each member
// before it starts.
func startClusterWith(t *testing.T, names []string, setup func(i int, m *member)) []*member {
	t.Helper()
	base := t.TempDir()
	var peers []config.RaftPeer
	ms := make([]*member, len(names))
	for i, name := range names {
		g := freePort(t)
		ms[i] = &member{name: name, dir: filepath.Join(base, name), cfg: config.Cluster{
			GossipBindPort: g, DataBindPort: freePort(t), BindAddr: "127.0.0.1", AdvertiseAddr: "127.0.0.1",
			RaftPort: freePort(t), RaftInternalRPCPort: freePort(t), RaftBootstrapExpect: len(names), RaftTimeoutsMultiplier: 1}}
		peers = append(peers, config.RaftPeer{Name: name, Port: ms[i].cfg.RaftPort})
	}
	for i, m := range ms {
		m.cfg.RaftJoin = peers
		if i > 0 {
			m.cfg.Join = []string{fmt.Sprintf("127.0.0.1:%d", ms[0].cfg.GossipBindPort)}
		}
	}
	for i, m := range ms {
		if setup != nil {
			setup(i, m)
		}
		m.start(t)
	}
	t.Cleanup(func() {
		for _, m := range ms {
			m.stop()
		}
	})
	waitUntil(t, "all nodes see each other", 20*time.Second, func() bool {
		for _, m := range ms {
			if len(m.node.Nodes()) != len(ms) {
				return false
			}
		}
		return true
	})
	return ms
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func propNames(c *schema.Class) []string {
	var out []string
	for _, p := range c.Properties {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

// TestSchemaIsOneAcrossNodes: a schema change made through any node is
// visible on every node once answered; a class's shards are spread over
// the nodes, each opening only its own; tenants are placed on nodes;
// concurrent changes to one class from different nodes all land; a
// refused change is refused alike; a node restarted after the log was
// compacted comes back with the same schema.
func TestSchemaIsOneAcrossNodes(t *testing.T) {
	ms := startCluster(t, "node1", "node2", "node3")

	c, err := ms[1].db.CreateClass(&schema.Class{Class: "Article", Properties: []*schema.Property{{Name: "title", DataType: []string{"text"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.ShardingConfig["desiredCount"] != 3.0 {
		t.Fatalf("desiredCount %v, want the 3 nodes", c.ShardingConfig["desiredCount"])
	}
	// Read-your-write on the node that wrote; the others follow at once.
	waitUntil(t, "class on every node", 5*time.Second, func() bool {
		for _, m := range ms {
			if !m.db.ClassExists("Article") {
				return false
			}
		}
		return true
	})
	seen := map[string]bool{}
	for _, m := range ms {
		shards, err := m.db.Shards("Article")
		if err != nil || len(shards) != 1 {
			t.Fatalf("%s holds %d shards of Article (%v), want 1", m.name, len(shards), err)
		}
		seen[shards[0].Name] = true
	}
	if len(seen) != 3 {
		t.Fatalf("shards held: %v, want 3 distinct", seen)
	}

	// The same name twice, or a similar one, is refused wherever it is sent.
	if _, err := ms[2].db.CreateClass(&schema.Class{Class: "article"}); db.KindOf(err) != db.KindInvalid {
		t.Fatalf("duplicate class through node3: %v", err)
	}

	// Concurrent property additions from every node all land.
	var wg sync.WaitGroup
	errs := make([]error, 9)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = ms[i%3].db.AddProperty("Article", &schema.Property{Name: fmt.Sprintf("p%d", i), DataType: []string{"int"}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("add property %d: %v", i, err)
		}
	}
	want := []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "title"}
	waitUntil(t, "properties on every node", 5*time.Second, func() bool {
		for _, m := range ms {
			if c, err := m.db.GetClass("Article"); err != nil || !slices.Equal(propNames(c), want) {
				return false
			}
		}
		return true
	})

	// Tenants are placed on nodes; each node opens only its own.
	if _, err := ms[0].db.CreateClass(&schema.Class{Class: "MT", MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	var tenants []db.Tenant
	for i := range 6 {
		tenants = append(tenants, db.Tenant{Name: fmt.Sprintf("t%d", i)})
	}
	if err := ms[2].db.AddTenants("MT", tenants); err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, m := range ms {
		waitUntil(t, "tenants on "+m.name, 5*time.Second, func() bool {
			ts, err := m.db.Tenants("MT")
			return err == nil && len(ts) == 6
		})
		shards, _ := m.db.Shards("MT")
		if len(shards) != 2 {
			t.Fatalf("%s holds %d tenant shards, want 2 of 6", m.name, len(shards))
		}
		held += len(shards)
	}
	if held != 6 {
		t.Fatalf("%d tenant shards held in all, want 6", held)
	}

	// A node restarted after the log was compacted into a snapshot comes
	// back with the same schema, from its own disk.
	if err := ms[0].node.Raft().Snapshot(); err != nil {
		t.Fatal(err)
	}
	ms[2].stop()
	if err := ms[0].db.DeleteClass("MT"); err != nil {
		t.Fatal(err)
	}
	if _, err := ms[0].db.AddProperty("Article", &schema.Property{Name: "late", DataType: []string{"text"}}); err != nil {
		t.Fatal(err)
	}
	// Its first schema reads already see both changes.
	ms[2].start(t)
	if c, err := ms[2].db.GetClass("Article"); err != nil || !slices.Contains(propNames(c), "late") {
		t.Fatalf("restarted node's first read of Article: %v, %v", c, err)
	}
	if _, err := ms[2].db.GetClass("MT"); db.KindOf(err) != db.KindNotFound {
		t.Fatalf("restarted node's first read of the deleted MT: %v", err)
	}
	if _, err := ms[2].db.Tenants("MT"); err == nil || !strings.Contains(err.Error(), "class not found") {
		t.Fatalf("restarted node's first tenants read of the deleted MT: %v", err)
	}
	for _, c := range ms[2].db.Classes() {
		if c.Class == "MT" {
			t.Fatal("restarted node's first schema read lists the deleted MT")
		}
	}
	shards, _ := ms[2].db.Shards("Article")
	if len(shards) != 1 || !seen[shards[0].Name] {
		t.Fatalf("restarted node holds %+v", shards)
	}
}
