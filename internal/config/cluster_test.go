package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestClusterLocalThreeNodes: the variables of Weaviate's local three-node
// setup parse into this node's view of the cluster.
func TestClusterLocalThreeNodes(t *testing.T) {
	c := mustLoad(t, nil, map[string]string{
		"CLUSTER_HOSTNAME":                    "node2",
		"CLUSTER_GOSSIP_BIND_PORT":            "7102",
		"CLUSTER_DATA_BIND_PORT":              "7103",
		"CLUSTER_JOIN":                        "127.0.0.1:7100",
		"CLUSTER_ADVERTISE_ADDR":              "127.0.0.1",
		"CLUSTER_BIND_ADDR":                   "127.0.0.1",
		"RAFT_PORT":                           "8302",
		"RAFT_INTERNAL_RPC_PORT":              "8303",
		"RAFT_JOIN":                           "node1:8300,node2:8302,node3:8304",
		"RAFT_BOOTSTRAP_EXPECT":               "3",
		"RAFT_TIMEOUTS_MULTIPLIER":            "1",
		"STRATA_BACKUP_NODE_TIMEOUT_SECONDS":  "15",
		"STRATA_CLUSTER_DATA_ADVERTISE_PORT":  "9103",
		"STRATA_BACKUP_STALL_TIMEOUT_SECONDS": "120",
	})
	want := Cluster{GossipBindPort: 7102, DataBindPort: 7103, Join: []string{"127.0.0.1:7100"},
		BindAddr: "127.0.0.1", AdvertiseAddr: "127.0.0.1", RaftPort: 8302, RaftInternalRPCPort: 8303,
		RaftJoin:            []RaftPeer{{"node1", 8300}, {"node2", 8302}, {"node3", 8304}},
		RaftBootstrapExpect: 3, RaftTimeoutsMultiplier: 1, BackupNodeTimeout: 15 * time.Second,
		DataAdvertisePort: 9103, BackupStallTimeout: 2 * time.Minute}
	if !reflect.DeepEqual(c.Cluster, want) {
		t.Fatalf("cluster:\n got %+v\nwant %+v", c.Cluster, want)
	}
	if !c.Cluster.Multi(c.NodeName) {
		t.Fatal("a node of three is not part of a cluster")
	}
}

// TestClusterSingleNodeSettings: Weaviate's single-node examples name the
// node alone in RAFT_JOIN; that is no cluster, and a missing port gets
// RAFT_PORT.
func TestClusterSingleNodeSettings(t *testing.T) {
	c := mustLoad(t, nil, map[string]string{"CLUSTER_HOSTNAME": "node1", "RAFT_JOIN": "node1", "RAFT_BOOTSTRAP_EXPECT": "1"})
	if c.Cluster.Multi(c.NodeName) {
		t.Fatalf("a node alone is a cluster: %+v", c.Cluster)
	}
	if got := c.Cluster.RaftJoin; len(got) != 1 || got[0] != (RaftPeer{"node1", 8300}) {
		t.Fatalf("RAFT_JOIN: %+v", got)
	}
}

func TestClusterSettingErrors(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"RAFT_JOIN": "node1,node1"}, "RAFT_JOIN: node \"node1\" is named twice"},
		{map[string]string{"RAFT_JOIN": "node1:99999"}, "RAFT_JOIN: \"node1:99999\""},
		{map[string]string{"RAFT_JOIN": "../x:8300"}, "RAFT_JOIN: \"../x:8300\""},
		{map[string]string{"RAFT_JOIN": "node1,node2", "RAFT_BOOTSTRAP_EXPECT": "3"}, "RAFT_BOOTSTRAP_EXPECT: 3 is more than the 2 voters"},
		{map[string]string{"RAFT_BOOTSTRAP_EXPECT": "0"}, "RAFT_BOOTSTRAP_EXPECT"},
		{map[string]string{"RAFT_TIMEOUTS_MULTIPLIER": "-1"}, "RAFT_TIMEOUTS_MULTIPLIER"},
		{map[string]string{"RAFT_PORT": "70000"}, "RAFT_PORT"},
		{map[string]string{"CLUSTER_JOIN": "127.0.0.1:7946", "RAFT_PORT": "7946"}, "port 7946 is CLUSTER_GOSSIP_BIND_PORT too"},
	} {
		_, err, _ := load(t, nil, tc.vars)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error with %q", tc.vars, err, tc.want)
		}
	}
}
