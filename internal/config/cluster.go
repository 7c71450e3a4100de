package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"strata/internal/backup/layout"
)

// Cluster holds the cluster settings, with Weaviate's variable names and
// defaults. A node none of them turns into a cluster member runs alone.
type Cluster struct {
	GossipBindPort int      // CLUSTER_GOSSIP_BIND_PORT (7946)
	DataBindPort   int      // CLUSTER_DATA_BIND_PORT (gossip + 1)
	Join           []string // CLUSTER_JOIN: gossip seeds, host:port
	BindAddr       string   // CLUSTER_BIND_ADDR
	AdvertiseAddr  string   // CLUSTER_ADVERTISE_ADDR
	AdvertisePort  int      // CLUSTER_ADVERTISE_PORT (0 = the gossip port)
	// DataAdvertisePort is the data port other nodes dial, when a proxy or
	// a port mapping sits in front of CLUSTER_DATA_BIND_PORT:
	// STRATA_CLUSTER_DATA_ADVERTISE_PORT (0 = the bound port).
	DataAdvertisePort int

	RaftPort            int        // RAFT_PORT (8300)
	RaftInternalRPCPort int        // RAFT_INTERNAL_RPC_PORT (8301)
	RaftJoin            []RaftPeer // RAFT_JOIN (default: this node alone)
	RaftBootstrapExpect int        // RAFT_BOOTSTRAP_EXPECT (1)
	// RaftTimeoutsMultiplier scales raft's heartbeat (1 s), election (1 s)
	// and leader-lease (0.5 s) timeouts: RAFT_TIMEOUTS_MULTIPLIER (5).
	RaftTimeoutsMultiplier int

	// AuthUser and AuthPassword are the credential nodes present to each
	// other on the data and internal RPC ports:
	// CLUSTER_BASIC_AUTH_USERNAME, CLUSTER_BASIC_AUTH_PASSWORD (unset: none).
	AuthUser, AuthPassword string

	// BackupNodeTimeout is how long a node may stay silent during a
	// cluster backup before the backup fails naming it:
	// STRATA_BACKUP_NODE_TIMEOUT_SECONDS (60; Weaviate waits 7 minutes).
	BackupNodeTimeout time.Duration
	// BackupStallTimeout is how long a node's part of a cluster backup or
	// restore may move no byte to or from the backend, while it answers,
	// before the job fails naming it: STRATA_BACKUP_STALL_TIMEOUT_SECONDS
	// (600).
	BackupStallTimeout time.Duration
}

// RaftPeer is a voter of RAFT_JOIN: a node name and its raft port.
type RaftPeer struct {
	Name string
	Port int
}

// defaultCluster is Weaviate's defaults.
func defaultCluster() Cluster {
	return Cluster{GossipBindPort: 7946, DataBindPort: 7947, RaftPort: 8300, RaftInternalRPCPort: 8301,
		RaftJoin: []RaftPeer{{Name: "node1", Port: 8300}}, RaftBootstrapExpect: 1, RaftTimeoutsMultiplier: 5,
		BackupNodeTimeout: 60 * time.Second, BackupStallTimeout: 10 * time.Minute}
}

// Multi tells whether the settings make this node one of several: gossip
// seeds, another raft voter, or more than one voter expected. A node named
// alone in RAFT_JOIN (Weaviate's single-node examples) runs alone.
func (c Cluster) Multi(node string) bool {
	if len(c.Join) > 0 || c.RaftBootstrapExpect > 1 {
		return true
	}
	for _, p := range c.RaftJoin {
		if p.Name != node {
			return true
		}
	}
	return false
}

// applyClusterEnv reads the cluster variables (after CLUSTER_HOSTNAME).
func (c *Config) applyClusterEnv(getenv func(string) string, port func(string, *int) error,
	positive func(string, *int) error, list func(string) []string, str func(string, *string)) error {
	cl := &c.Cluster
	dataPort := 0
	nodeTimeout := int(cl.BackupNodeTimeout / time.Second)
	stallTimeout := int(cl.BackupStallTimeout / time.Second)
	for _, p := range []struct {
		name string
		dst  *int
	}{
		{"CLUSTER_GOSSIP_BIND_PORT", &cl.GossipBindPort},
		{"CLUSTER_DATA_BIND_PORT", &dataPort},
		{"CLUSTER_ADVERTISE_PORT", &cl.AdvertisePort},
		{"STRATA_CLUSTER_DATA_ADVERTISE_PORT", &cl.DataAdvertisePort},
		{"RAFT_PORT", &cl.RaftPort},
		{"RAFT_INTERNAL_RPC_PORT", &cl.RaftInternalRPCPort},
	} {
		if err := port(p.name, p.dst); err != nil {
			return err
		}
	}
	cl.DataBindPort = dataPort
	if dataPort == 0 {
		cl.DataBindPort = cl.GossipBindPort + 1
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{
		{"RAFT_BOOTSTRAP_EXPECT", &cl.RaftBootstrapExpect},
		{"RAFT_TIMEOUTS_MULTIPLIER", &cl.RaftTimeoutsMultiplier},
		{"STRATA_BACKUP_NODE_TIMEOUT_SECONDS", &nodeTimeout},
		{"STRATA_BACKUP_STALL_TIMEOUT_SECONDS", &stallTimeout},
	} {
		if err := positive(p.name, p.dst); err != nil {
			return err
		}
	}
	cl.BackupNodeTimeout = time.Duration(nodeTimeout) * time.Second
	cl.BackupStallTimeout = time.Duration(stallTimeout) * time.Second
	cl.Join = list("CLUSTER_JOIN")
	str("CLUSTER_BIND_ADDR", &cl.BindAddr)
	str("CLUSTER_ADVERTISE_ADDR", &cl.AdvertiseAddr)
	str("CLUSTER_BASIC_AUTH_USERNAME", &cl.AuthUser)
	str("CLUSTER_BASIC_AUTH_PASSWORD", &cl.AuthPassword)
	peers, err := parseRaftJoin(list("RAFT_JOIN"), cl.RaftPort)
	if err != nil {
		return err
	}
	if len(peers) == 0 {
		peers = []RaftPeer{{Name: c.NodeName, Port: cl.RaftPort}}
	}
	cl.RaftJoin = peers
	if cl.RaftBootstrapExpect > len(peers) {
		return fmt.Errorf("RAFT_BOOTSTRAP_EXPECT: %d is more than the %d voters RAFT_JOIN names", cl.RaftBootstrapExpect, len(peers))
	}
	used := map[int]string{}
	for _, p := range []struct {
		name string
		port int
	}{
		{"the REST port", c.Port}, {"GRPC_PORT", c.GRPCPort},
		{"CLUSTER_GOSSIP_BIND_PORT", cl.GossipBindPort}, {"CLUSTER_DATA_BIND_PORT", cl.DataBindPort},
		{"RAFT_PORT", cl.RaftPort}, {"RAFT_INTERNAL_RPC_PORT", cl.RaftInternalRPCPort},
	} {
		if other, dup := used[p.port]; dup && c.Cluster.Multi(c.NodeName) && p.port != 0 {
			return fmt.Errorf("%s: port %d is %s too; give each its own port", p.name, p.port, other)
		}
		used[p.port] = p.name
	}
	return nil
}

// parseRaftJoin parses RAFT_JOIN: node names, each with an optional
// ":port" (defaultPort when missing), unique.
func parseRaftJoin(items []string, defaultPort int) ([]RaftPeer, error) {
	var out []RaftPeer
	seen := map[string]bool{}
	for _, item := range items {
		name, portText, hasPort := strings.Cut(item, ":")
		p := RaftPeer{Name: name, Port: defaultPort}
		if hasPort {
			n, err := strconv.Atoi(portText)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("RAFT_JOIN: %q: %q is not a port number", item, portText)
			}
			p.Port = n
		}
		if err := layout.CheckNode(name); err != nil {
			return nil, fmt.Errorf("RAFT_JOIN: %q: %w", item, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("RAFT_JOIN: node %q is named twice", name)
		}
		seen[name] = true
		out = append(out, p)
	}
	return out, nil
}
