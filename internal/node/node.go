// Package node runs this server as one node of a cluster: it joins the
// membership, runs the raft replica whose state machine is the database's
// schema, serves the internal RPC that forwards writes to the leader, and
// serves this node's shards to the others on the data port. The database
// uses it as its schema Log, its Remote and for the list of nodes.
package node

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"strata/internal/backup"
	"strata/internal/backup/coordinator"
	"strata/internal/backup/jobs"
	"strata/internal/cluster"
	"strata/internal/config"
	"strata/internal/dataport"
	"strata/internal/db"
)

// Config configures a node.
type Config struct {
	Name    string         // CLUSTER_HOSTNAME
	RaftDir string         // the raft log and snapshots
	Cluster config.Cluster // ports, seeds, voters
	// Local tunes failure detection and raft timeouts for nodes on one
	// machine (tests).
	Local  bool
	Logger *slog.Logger
}

// Node is this server's place in the cluster.
type Node struct {
	cfg     Config
	log     *slog.Logger
	members *cluster.Membership
	raft    *cluster.Raft
	replica atomic.Pointer[cluster.Replica]
	rpc     *http.Server
	data    *http.Server
	remote  *dataport.Client
	jobs    *jobs.Table
	parts   dataport.Parts
	stop    chan struct{} // closed by Close
	wg      sync.WaitGroup
}

// Join joins the membership; Start then starts the replica.
func Join(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := cfg.Cluster
	m, err := cluster.Join(cluster.MembershipConfig{Name: cfg.Name, BindAddr: c.BindAddr, BindPort: c.GossipBindPort,
		AdvertiseAddr: c.AdvertiseAddr, AdvertisePort: c.AdvertisePort, Seeds: c.Join,
		Ports: cluster.Ports{Data: cmp.Or(c.DataAdvertisePort, c.DataBindPort), Raft: c.RaftPort, RaftRPC: c.RaftInternalRPCPort},
		Local: cfg.Local, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("join cluster: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger, members: m, jobs: jobs.NewTable(), stop: make(chan struct{})}
	n.remote = &dataport.Client{Resolve: n.resolve(func(p cluster.Ports) int { return p.Data }),
		HTTP: dataport.NewHTTPClient(), Auth: n.auth()}
	return n, nil
}

func (n *Node) auth() cluster.BasicAuth {
	return cluster.BasicAuth{User: n.cfg.Cluster.AuthUser, Password: n.cfg.Cluster.AuthPassword}
}

// Remote reaches the other nodes' shards (db.Options.Remote).
func (n *Node) Remote() db.Remote { return n.remote }

// Start opens the raft replica over the database's schema and serves the
// internal RPC and the data port; parts (nil: none) serves this node's
// parts of cluster backups.
func (n *Node) Start(d *db.DB, parts dataport.Parts) error {
	c := n.cfg.Cluster
	voters := make([]string, len(c.RaftJoin))
	for i, p := range c.RaftJoin {
		voters[i] = p.Name
	}
	multiplier := float64(c.RaftTimeoutsMultiplier)
	if n.cfg.Local {
		multiplier = 0.2
	}
	r, err := cluster.OpenRaft(cluster.RaftConfig{ID: n.cfg.Name, Dir: n.cfg.RaftDir,
		Bind:      net.JoinHostPort(bindHost(c.BindAddr), strconv.Itoa(c.RaftPort)),
		Advertise: advertise(c, c.RaftPort), Voters: voters, BootstrapExpect: c.RaftBootstrapExpect,
		Resolve: n.resolve(func(p cluster.Ports) int { return p.Raft }), TimeoutsMultiplier: multiplier,
		Logger: n.log}, &stateMachine{d: d, jobs: n.jobs})
	if err != nil {
		return err
	}
	n.raft = r
	ln, err := net.Listen("tcp", net.JoinHostPort(bindHost(c.BindAddr), strconv.Itoa(c.RaftInternalRPCPort)))
	if err != nil {
		r.Close()
		return fmt.Errorf("internal RPC port: %w", err)
	}
	dataLn, err := net.Listen("tcp", net.JoinHostPort(bindHost(c.BindAddr), strconv.Itoa(c.DataBindPort)))
	if err != nil {
		ln.Close()
		r.Close()
		return fmt.Errorf("data port (CLUSTER_DATA_BIND_PORT): %w", err)
	}
	rp := &cluster.Replica{Raft: r, ResolveRPC: n.resolve(func(p cluster.Ports) int { return p.RaftRPC }),
		Client: &http.Client{Timeout: 10 * time.Second}, Auth: n.auth()}
	n.rpc = &http.Server{Handler: rp.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go n.rpc.Serve(ln)
	n.replica.Store(rp)
	n.parts = parts
	data := &dataport.Server{Local: d, Sync: rp.Sync, Parts: parts, Auth: n.auth(), Logger: n.log}
	n.data = &http.Server{Handler: data.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go n.data.Serve(dataLn)
	n.wg.Add(1)
	go n.rejoinVoters()
	return nil
}

// rejoinPeriod is how often a node looks for raft voters that membership
// lost (a node that died and came back is not probed again by gossip).
const rejoinPeriod = 2 * time.Second

// rejoinVoters joins again the raft voters membership does not see alive.
func (n *Node) rejoinVoters() {
	defer n.wg.Done()
	tick := time.NewTicker(rejoinPeriod)
	defer tick.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-tick.C:
		}
		if joined := n.members.Rejoin(n.raft.Voters()); joined > 0 {
			n.log.Info("joined lost cluster members again", "count", joined)
		}
	}
}

func bindHost(addr string) string {
	if addr == "" {
		return "0.0.0.0"
	}
	return addr
}

// advertise is the address others reach port at ("" = the bind address).
func advertise(c config.Cluster, port int) string {
	if c.AdvertiseAddr == "" {
		return ""
	}
	return net.JoinHostPort(c.AdvertiseAddr, strconv.Itoa(port))
}

// resolve finds a node's address for one of its ports through membership
// (where it last saw the node: a node that restarted answers before gossip
// has noticed it is back).
func (n *Node) resolve(port func(cluster.Ports) int) func(string) (string, bool) {
	return func(id string) (string, bool) {
		m, ok := n.members.LastKnown(id)
		if !ok || port(m.Ports) == 0 {
			return "", false
		}
		return m.Addr(port(m.Ports)), true
	}
}

// Propose commits a schema command through the leader (db.Log).
func (n *Node) Propose(ctx context.Context, cmd []byte) ([]byte, error) {
	return n.propose(ctx, tagSchema, cmd)
}

// ProposeJob commits a change to the job table through the leader; the
// error is the command's refusal, if any.
func (n *Node) ProposeJob(ctx context.Context, c jobs.Command) (jobs.Result, error) {
	cmd, err := json.Marshal(c)
	if err != nil {
		return jobs.Result{}, err
	}
	out, err := n.propose(ctx, tagJobs, cmd)
	if err != nil {
		return jobs.Result{}, err
	}
	var r jobs.Result
	if err := json.Unmarshal(out, &r); err != nil {
		return jobs.Result{}, fmt.Errorf("job command result: %w", err)
	}
	return r, r.Err()
}

// Jobs is the replicated table of backup and restore jobs.
func (n *Node) Jobs() *jobs.Table { return n.jobs }

func (n *Node) propose(ctx context.Context, tag byte, cmd []byte) ([]byte, error) {
	rp := n.replica.Load()
	if rp == nil {
		return nil, errors.New("the cluster node is not started")
	}
	return rp.Apply(ctx, append([]byte{tag}, cmd...))
}

// Sync waits until this node has applied every schema change the leader
// acknowledged (db.Log).
func (n *Node) Sync(ctx context.Context) error {
	rp := n.replica.Load()
	if rp == nil {
		return errors.New("the cluster node is not started")
	}
	return rp.Sync(ctx)
}

// Nodes lists the live nodes' names, sorted (db.Options.Nodes).
func (n *Node) Nodes() []string {
	var out []string
	for _, m := range n.members.Members() {
		if m.Alive {
			out = append(out, m.Name)
		}
	}
	return out
}

// Members lists every node of the cluster, sorted: those membership knows
// (alive or suspect) and raft's voters, so that a node that is down is
// still listed.
func (n *Node) Members() []string {
	set := map[string]bool{n.cfg.Name: true}
	for _, m := range n.members.Members() {
		set[m.Name] = true
	}
	if n.raft != nil {
		for _, v := range n.raft.Voters() {
			set[v] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// RaftState is this node's view of raft: the leader's name ("" during an
// election), its own state and the last index it applied.
func (n *Node) RaftState() (leader, state string, applied uint64) {
	if n.raft == nil {
		return "", "Starting", 0
	}
	return n.raft.Leader(), n.raft.State(), n.raft.AppliedIndex()
}

// IsLeader tells whether this node leads the raft cluster.
func (n *Node) IsLeader() bool { return n.raft != nil && n.raft.IsLeader() }

// Participants reaches every node's part of a cluster backup: this node's
// directly, the others' through their data ports.
func (n *Node) Participants() coordinator.Participants {
	return participants{self: n.cfg.Name, local: n.parts, remote: n.remote}
}

type participants struct {
	self   string
	local  dataport.Parts
	remote *dataport.Client
}

func (p participants) Prepare(ctx context.Context, node string, req backup.PartRequest) error {
	if node == p.self {
		return p.local.PreparePart(ctx, req)
	}
	return p.remote.PreparePart(ctx, node, req)
}

func (p participants) Commit(ctx context.Context, node, id string) error {
	if node == p.self {
		return p.local.CommitPart(ctx, id)
	}
	return p.remote.CommitPart(ctx, node, id)
}

func (p participants) Status(ctx context.Context, node string, req backup.PartRequest) (backup.PartState, error) {
	if node == p.self {
		return p.local.PartStatus(ctx, req)
	}
	return p.remote.PartStatus(ctx, node, req)
}

func (p participants) Abort(ctx context.Context, node, id, reason string) error {
	if node == p.self {
		p.local.AbortPart(id, reason)
		return nil
	}
	return p.remote.AbortPart(ctx, node, id, reason)
}

func (p participants) StartRestore(ctx context.Context, node string, req backup.RestorePartRequest) error {
	if node == p.self {
		return p.local.StartRestorePart(ctx, req)
	}
	return p.remote.StartRestorePart(ctx, node, req)
}

func (p participants) RestoreStatus(ctx context.Context, node, id string) (backup.PartState, error) {
	if node == p.self {
		return p.local.RestorePartStatus(id), nil
	}
	return p.remote.RestorePartStatus(ctx, node, id)
}

func (p participants) AbortRestore(ctx context.Context, node, id, reason string) error {
	if node == p.self {
		p.local.AbortRestorePart(id, reason)
		return nil
	}
	return p.remote.AbortRestorePart(ctx, node, id, reason)
}

func (p participants) FinishRestore(ctx context.Context, node, id string) error {
	if node == p.self {
		p.local.FinishRestorePart(id)
		return nil
	}
	return p.remote.FinishRestorePart(ctx, node, id)
}

// Name is this node's name.
func (n *Node) Name() string { return n.cfg.Name }

// NodeShards lists another node's shards of class ("" = all).
func (n *Node) NodeShards(ctx context.Context, node, class string) ([]db.ShardInfo, error) {
	return n.remote.NodeShards(ctx, node, class)
}

// Raft is the node's raft replica (nil before Start).
func (n *Node) Raft() *cluster.Raft { return n.raft }

// Close leaves the cluster: the internal RPC, raft and membership stop.
func (n *Node) Close() error {
	close(n.stop)
	n.wg.Wait()
	var errs []error
	for _, srv := range []*http.Server{n.data, n.rpc} {
		if srv != nil {
			errs = append(errs, srv.Close())
		}
	}
	if n.raft != nil {
		errs = append(errs, n.raft.Close())
	}
	errs = append(errs, n.members.Close(time.Second))
	return errors.Join(errs...)
}

// Every command in the log starts with a tag byte naming the part of the
// state it changes.
const (
	tagSchema byte = 's' // the database's catalog (db.ApplyLog)
	tagJobs   byte = 'j' // the backup and restore jobs (jobs.Table)
)

// stateMachine is the replicated state: the database's catalog and the
// job table.
type stateMachine struct {
	d    *db.DB
	jobs *jobs.Table
}

func (s *stateMachine) Apply(index uint64, cmd []byte) ([]byte, error) {
	if len(cmd) == 0 {
		return nil, errors.New("empty command")
	}
	switch cmd[0] {
	case tagSchema:
		return s.d.ApplyLog(index, cmd[1:]), nil
	case tagJobs:
		return s.jobs.Apply(index, cmd[1:]), nil
	}
	return nil, fmt.Errorf("command with unknown tag %q", cmd[0])
}

// snapshot is the state as a raft snapshot holds it.
type snapshot struct {
	Catalog json.RawMessage `json:"catalog"`
	Jobs    *jobs.Table     `json:"jobs"`
}

func (s *stateMachine) Snapshot(w io.Writer) error {
	var catalog bytes.Buffer
	if err := s.d.WriteCatalog(&catalog); err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(snapshot{Catalog: catalog.Bytes(), Jobs: s.jobs})
}

func (s *stateMachine) Restore(r io.Reader) error {
	snap := snapshot{Jobs: s.jobs}
	if err := json.NewDecoder(r).Decode(&snap); err != nil {
		return fmt.Errorf("read state snapshot: %w", err)
	}
	return s.d.ReadCatalog(bytes.NewReader(snap.Catalog))
}
