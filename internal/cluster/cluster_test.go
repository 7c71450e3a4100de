package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// kv is a small state machine: commands set or delete keys, and "fail"
// is refused without changing anything.
type kv struct {
	mu sync.Mutex
	m  map[string]string
}

type kvCmd struct {
	Op, Key, Value string
}

func (s *kv) Apply(_ uint64, cmd []byte) ([]byte, error) {
	var c kvCmd
	if err := json.Unmarshal(cmd, &c); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c.Op {
	case "set":
		s.m[c.Key] = c.Value
		return []byte("ok " + c.Key), nil
	case "fail":
		return nil, fmt.Errorf("refused %s", c.Key)
	}
	return nil, fmt.Errorf("unknown op %q", c.Op)
}

func (s *kv) Snapshot(w io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.NewEncoder(w).Encode(s.m)
}

func (s *kv) Restore(r io.Reader) error {
	m := map[string]string{}
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = m
	return nil
}

func (s *kv) get(k string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	return v, ok
}

func (s *kv) snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// testNode is one node of an in-process cluster on loopback.
type testNode struct {
	name    string
	dir     string
	gossip  int
	ports   Ports
	members *Membership
	raft    *Raft
	replica *Replica
	sm      *kv
	rpc     *http.Server
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newTestNodes(t *testing.T, names ...string) []*testNode {
	t.Helper()
	base := t.TempDir()
	var nodes []*testNode
	for _, name := range names {
		nodes = append(nodes, &testNode{name: name, dir: filepath.Join(base, name), gossip: freePort(t),
			ports: Ports{Data: freePort(t), Raft: freePort(t), RaftRPC: freePort(t)}})
	}
	return nodes
}

// start starts the node's membership, raft and RPC server; seed is a
// gossip address to join ("" for none).
func (n *testNode) start(t *testing.T, seed string, voters []string) {
	t.Helper()
	var seeds []string
	if seed != "" {
		seeds = []string{seed}
	}
	m, err := Join(MembershipConfig{Name: n.name, BindAddr: "127.0.0.1", BindPort: n.gossip, AdvertiseAddr: "127.0.0.1",
		Seeds: seeds, Ports: n.ports, Local: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	n.members = m
	resolve := func(port func(Ports) int) func(string) (string, bool) {
		return func(id string) (string, bool) {
			mem, ok := m.Member(id)
			if !ok || port(mem.Ports) == 0 {
				return "", false
			}
			return mem.Addr(port(mem.Ports)), true
		}
	}
	n.sm = &kv{m: map[string]string{}}
	r, err := OpenRaft(RaftConfig{ID: n.name, Dir: n.dir, Bind: fmt.Sprintf("127.0.0.1:%d", n.ports.Raft),
		Voters: voters, BootstrapExpect: len(voters), Resolve: resolve(func(p Ports) int { return p.Raft }),
		TimeoutsMultiplier: 0.2, Logger: quiet}, n.sm)
	if err != nil {
		t.Fatal(err)
	}
	n.raft = r
	n.replica = &Replica{Raft: r, ResolveRPC: resolve(func(p Ports) int { return p.RaftRPC }),
		Client: &http.Client{Timeout: 5 * time.Second}}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", n.ports.RaftRPC))
	if err != nil {
		t.Fatal(err)
	}
	n.rpc = &http.Server{Handler: n.replica.Handler()}
	go n.rpc.Serve(ln)
}

func (n *testNode) stop() {
	if n.raft == nil {
		return
	}
	n.rpc.Close()
	n.raft.Close()
	n.members.Close(time.Second)
	n.raft = nil
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

func leaderOf(nodes []*testNode) string {
	for _, n := range nodes {
		if n.raft != nil && n.raft.IsLeader() {
			return n.name
		}
	}
	return ""
}

func set(t *testing.T, n *testNode, k, v string) {
	t.Helper()
	cmd, _ := json.Marshal(kvCmd{Op: "set", Key: k, Value: v})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := n.replica.Apply(ctx, cmd)
	if err != nil {
		t.Fatalf("set %s on %s: %v", k, n.name, err)
	}
	if string(out) != "ok "+k {
		t.Fatalf("set %s on %s: result %q", k, n.name, out)
	}
	// Read your write on the node that wrote, at once.
	if got, ok := n.sm.get(k); !ok || got != v {
		t.Fatalf("%s right after its write of %s: %q, %v", n.name, k, got, ok)
	}
}

// TestThreeNodesReplicateThroughAnyNode: three nodes on loopback find each
// other by gossip, bootstrap one raft cluster, and apply commands sent to
// any of them in one order everywhere; a command's own error comes back
// to its caller and changes nothing; after the leader dies the others
// elect a new one and go on; the dead node, restarted from its disk,
// catches up, also from a snapshot.
func TestThreeNodesReplicateThroughAnyNode(t *testing.T) {
	nodes := newTestNodes(t, "node1", "node2", "node3")
	voters := []string{"node1", "node2", "node3"}
	seed := fmt.Sprintf("127.0.0.1:%d", nodes[0].gossip)
	for i, n := range nodes {
		s := seed
		if i == 0 {
			s = ""
		}
		n.start(t, s, voters)
		t.Cleanup(n.stop)
	}
	waitUntil(t, "three members everywhere", 10*time.Second, func() bool {
		for _, n := range nodes {
			if len(n.members.Members()) != 3 {
				return false
			}
		}
		return true
	})
	waitUntil(t, "a leader", 20*time.Second, func() bool { return leaderOf(nodes) != "" })

	for i, n := range nodes {
		set(t, n, fmt.Sprintf("k%d", i), n.name)
	}
	cmd, _ := json.Marshal(kvCmd{Op: "fail", Key: "bad"})
	for _, n := range nodes {
		_, err := n.replica.Apply(context.Background(), cmd)
		var ce *CommandError
		if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "refused bad") {
			t.Fatalf("a refused command through %s: %v", n.name, err)
		}
	}
	want := map[string]string{"k0": "node1", "k1": "node2", "k2": "node3"}
	waitUntil(t, "the same state everywhere", 10*time.Second, func() bool {
		for _, n := range nodes {
			if !maps.Equal(n.sm.snapshot(), want) {
				return false
			}
		}
		return true
	})

	// The leader dies: the two others elect a new one and keep applying.
	var dead *testNode
	var alive []*testNode
	old := leaderOf(nodes)
	for _, n := range nodes {
		if n.name == old {
			dead = n
		} else {
			alive = append(alive, n)
		}
	}
	dead.stop()
	waitUntil(t, "a new leader", 20*time.Second, func() bool { l := leaderOf(alive); return l != "" && l != old })
	set(t, alive[0], "after", "failover")
	set(t, alive[1], "after2", "failover")
	if err := alive[0].raft.raft.Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	set(t, alive[1], "after3", "snapshot")

	// The dead node comes back from its disk and catches up.
	dead.start(t, fmt.Sprintf("127.0.0.1:%d", alive[0].gossip), voters)
	want["after"], want["after2"], want["after3"] = "failover", "failover", "snapshot"
	waitUntil(t, "the restarted node to catch up", 20*time.Second, func() bool { return maps.Equal(dead.sm.snapshot(), want) })
	set(t, dead, "back", "again")
}

// TestJoinWaitsForALateSeed: a node whose seed is not up yet starts and
// joins it once it is.
func TestJoinWaitsForALateSeed(t *testing.T) {
	seedPort, latePort := freePort(t), freePort(t)
	late, err := Join(MembershipConfig{Name: "b", BindAddr: "127.0.0.1", BindPort: latePort, AdvertiseAddr: "127.0.0.1",
		Seeds: []string{fmt.Sprintf("127.0.0.1:%d", seedPort)}, Local: true, Logger: quiet})
	if err != nil {
		t.Fatalf("a node whose seed is down did not start: %v", err)
	}
	defer late.Close(time.Second)
	seed, err := Join(MembershipConfig{Name: "a", BindAddr: "127.0.0.1", BindPort: seedPort, AdvertiseAddr: "127.0.0.1", Local: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close(time.Second)
	waitUntil(t, "both nodes see each other", 10*time.Second, func() bool {
		return len(seed.Members()) == 2 && len(late.Members()) == 2
	})
}
