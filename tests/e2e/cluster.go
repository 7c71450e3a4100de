package e2e

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
)

// clusterPorts are the ports one node of a local cluster serves besides
// REST and gRPC.
type clusterPorts struct {
	Gossip, Data, Raft, RaftRPC int
}

// startCluster starts one server process per name as a cluster on
// loopback, as Weaviate's local multi-node setup does: distinct ports,
// RAFT_JOIN naming every node with its raft port, the first node's gossip
// port as CLUSTER_JOIN, and RAFT_BOOTSTRAP_EXPECT = the number of nodes.
// The processes start together (a node waits for the others to
// bootstrap) and the call returns once each answers ready.
func startCluster(t testing.TB, names []string, opts serverOptions) []*server {
	t.Helper()
	ports := make([]clusterPorts, len(names))
	var join []string
	for i, name := range names {
		ports[i] = clusterPorts{Gossip: freePort(t), Data: freePort(t), Raft: freePort(t), RaftRPC: freePort(t)}
		join = append(join, fmt.Sprintf("%s:%d", name, ports[i].Raft))
	}
	nodes := make([]*server, len(names))
	for i, name := range names {
		o := opts
		o.Env = maps.Clone(opts.Env)
		if o.Env == nil {
			o.Env = map[string]string{}
		}
		maps.Copy(o.Env, opts.NodeEnv[name])
		for k, v := range map[string]string{
			"CLUSTER_HOSTNAME":         name,
			"CLUSTER_GOSSIP_BIND_PORT": strconv.Itoa(ports[i].Gossip),
			"CLUSTER_DATA_BIND_PORT":   strconv.Itoa(ports[i].Data),
			"CLUSTER_BIND_ADDR":        "127.0.0.1",
			"CLUSTER_ADVERTISE_ADDR":   "127.0.0.1",
			"CLUSTER_JOIN":             fmt.Sprintf("127.0.0.1:%d", ports[0].Gossip),
			"RAFT_PORT":                strconv.Itoa(ports[i].Raft),
			"RAFT_INTERNAL_RPC_PORT":   strconv.Itoa(ports[i].RaftRPC),
			"RAFT_JOIN":                strings.Join(join, ","),
			"RAFT_BOOTSTRAP_EXPECT":    strconv.Itoa(len(names)),
			"RAFT_TIMEOUTS_MULTIPLIER": "1",
		} {
			if _, set := o.Env[k]; !set {
				o.Env[k] = v
			}
		}
		o.noLaunch = true
		nodes[i] = startServer(t, o)
	}
	exits := make([]<-chan struct{}, len(nodes))
	for i, n := range nodes {
		exits[i] = n.spawn()
	}
	for i, n := range nodes {
		n.waitUp(exits[i])
	}
	return nodes
}
