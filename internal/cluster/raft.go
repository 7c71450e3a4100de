package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// StateMachine is what the raft log drives: every node applies the same
// commands in the same order, so every node holds the same state.
type StateMachine interface {
	// Apply applies the command at a log index; its result (or error)
	// goes back to the caller of Raft.Apply. An error is the command's
	// outcome, not a failure of the log: the state must be as before the
	// command. After a restart the log is applied again from the last
	// snapshot, so a state that persists itself skips the indexes it holds.
	Apply(index uint64, cmd []byte) ([]byte, error)
	// Snapshot writes the whole state; Restore replaces the whole state
	// with what a Snapshot wrote.
	Snapshot(w io.Writer) error
	Restore(r io.Reader) error
}

// Raft timeouts before RAFT_TIMEOUTS_MULTIPLIER, as in Weaviate.
const (
	baseHeartbeatTimeout   = time.Second
	baseElectionTimeout    = time.Second
	baseLeaderLeaseTimeout = 500 * time.Millisecond
)

// RaftConfig configures OpenRaft.
type RaftConfig struct {
	ID   string // CLUSTER_HOSTNAME: the raft server ID
	Dir  string // holds raft.db (log and stable store) and snapshots
	Bind string // host:port the transport listens on (RAFT_PORT)
	// Advertise is the host:port the others reach this node's transport
	// at; "" = Bind.
	Advertise string
	// Voters (RAFT_JOIN names) bootstrap the cluster together once
	// BootstrapExpect of them resolve (this node included).
	Voters          []string
	BootstrapExpect int
	// Resolve finds a node's raft address (from membership).
	Resolve func(id string) (string, bool)
	// TimeoutsMultiplier scales the heartbeat, election and lease timeouts
	// (RAFT_TIMEOUTS_MULTIPLIER); 0 = 1.
	TimeoutsMultiplier float64
	Logger             *slog.Logger
}

// Raft is this node's replica of the replicated state.
type Raft struct {
	raft  *raft.Raft
	store *raftboltdb.BoltStore
	trans *raft.NetworkTransport
	fsm   *fsmAdapter
	log   *slog.Logger

	stop chan struct{}
	wg   sync.WaitGroup
}

// OpenRaft starts the raft replica in cfg.Dir, applying to sm. A node with
// no raft state waits in the background until BootstrapExpect voters
// resolve and then bootstraps the cluster with them; a node with state
// rejoins its cluster.
func OpenRaft(cfg RaftConfig, sm StateMachine) (*Raft, error) {
	log := logger(cfg.Logger).With("component", "raft")
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("open raft log: %w", err)
	}
	hl := hclog.New(&hclog.LoggerOptions{Name: "raft", Output: slogWriter{log}, Level: hclog.Info})
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 3, hl)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("open raft snapshots: %w", err)
	}
	advertise := cfg.Advertise
	if advertise == "" {
		advertise = cfg.Bind
	}
	addr, err := net.ResolveTCPAddr("tcp", advertise)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raft advertise address %q: %w", advertise, err)
	}
	trans, err := raft.NewTCPTransportWithLogger(cfg.Bind, addr, 3, 10*time.Second, hl)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raft transport on %s: %w", cfg.Bind, err)
	}
	m := cfg.TimeoutsMultiplier
	if m <= 0 {
		m = 1
	}
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = time.Duration(float64(baseHeartbeatTimeout) * m)
	rc.ElectionTimeout = time.Duration(float64(baseElectionTimeout) * m)
	rc.LeaderLeaseTimeout = time.Duration(float64(baseLeaderLeaseTimeout) * m)
	rc.Logger = hl
	fsm := &fsmAdapter{sm: sm, snaps: snaps}
	fsm.restored() // raft restores the latest snapshot as it starts
	r, err := raft.NewRaft(rc, fsm, store, store, snaps, trans)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n := &Raft{raft: r, store: store, trans: trans, fsm: fsm, log: log, stop: make(chan struct{})}
	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		n.Close()
		return nil, err
	}
	if !existing {
		n.wg.Go(func() { n.bootstrap(cfg) })
	}
	return n, nil
}

// bootstrap waits until BootstrapExpect voters resolve, then bootstraps
// the cluster with them. Every voter does the same with the same list, so
// their first configurations agree; raft ignores a bootstrap once a
// configuration exists.
func (n *Raft) bootstrap(cfg RaftConfig) {
	expect := max(cfg.BootstrapExpect, 1)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var servers []raft.Server
		for _, id := range cfg.Voters {
			if addr, ok := cfg.Resolve(id); ok {
				servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(id), Address: raft.ServerAddress(addr)})
			}
		}
		if len(servers) >= expect && len(servers) == len(cfg.Voters) {
			err := n.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error()
			if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
				n.log.Error("bootstrap failed", "err", err)
			} else {
				n.log.Info("bootstrapped", "voters", len(servers))
			}
			return
		}
		select {
		case <-n.stop:
			return
		case <-tick.C:
		}
	}
}

// Leader is the ID of the current leader ("" while there is none).
func (n *Raft) Leader() string {
	_, id := n.raft.LeaderWithID()
	return string(id)
}

// Voters lists the raft configuration's servers (every node of the
// cluster, up or down), as this node last knew it.
func (n *Raft) Voters() []string {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	var out []string
	for _, s := range f.Configuration().Servers {
		out = append(out, string(s.ID))
	}
	return out
}

// State is this node's raft state: Leader, Follower, Candidate, Shutdown.
func (n *Raft) State() string { return n.raft.State().String() }

// IsLeader tells whether this node leads.
func (n *Raft) IsLeader() bool { return n.raft.State() == raft.Leader }

// ErrNotLeader is returned by ApplyLocal on a node that does not lead.
var ErrNotLeader = errors.New("not the raft leader")

// ApplyLocal appends cmd to the log on the leader and returns the state
// machine's result once the command is committed and applied here, with
// the command's log index.
func (n *Raft) ApplyLocal(ctx context.Context, cmd []byte) ([]byte, uint64, error) {
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	f := n.raft.Apply(cmd, timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return nil, 0, ErrNotLeader
		}
		return nil, 0, err
	}
	res := f.Response().(applyResult)
	return res.out, f.Index(), res.err
}

// WaitApplied waits until this node has applied the log up to index, so a
// read here sees a write the leader acknowledged.
func (n *Raft) WaitApplied(ctx context.Context, index uint64) error {
	for n.AppliedIndex() < index {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for raft index %d (applied %d): %w", index, n.AppliedIndex(), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// AppliedIndex is the index of the last command this node's state machine
// has applied (raft's own counter runs ahead of the state machine).
func (n *Raft) AppliedIndex() uint64 { return n.fsm.applied.Load() }

// Snapshot takes a snapshot of the state machine now (raft also takes them
// on its own as the log grows) and compacts the log behind it.
func (n *Raft) Snapshot() error { return n.raft.Snapshot().Error() }

// Close stops the replica; the node's log and snapshots stay for its
// restart.
func (n *Raft) Close() error {
	close(n.stop)
	err := n.raft.Shutdown().Error()
	n.wg.Wait()
	return errors.Join(err, n.trans.Close(), n.store.Close())
}

// applyResult is what fsmAdapter.Apply returns to raft's future.
type applyResult struct {
	out []byte
	err error
}

// fsmAdapter adapts a StateMachine to raft.FSM and counts what it applied.
type fsmAdapter struct {
	sm      StateMachine
	snaps   raft.SnapshotStore
	applied atomic.Uint64
}

func (f *fsmAdapter) Apply(l *raft.Log) any {
	defer f.advance(l.Index)
	if l.Type != raft.LogCommand {
		return applyResult{}
	}
	out, err := f.sm.Apply(l.Index, l.Data)
	return applyResult{out: out, err: err}
}

func (f *fsmAdapter) advance(index uint64) {
	for {
		cur := f.applied.Load()
		if index <= cur || f.applied.CompareAndSwap(cur, index) {
			return
		}
	}
}

// restored counts the state as applied up to the latest snapshot, which
// raft restores (at start, or when the leader sends one) after storing it.
func (f *fsmAdapter) restored() {
	if metas, err := f.snaps.List(); err == nil && len(metas) > 0 {
		f.advance(metas[0].Index)
	}
}

// Snapshot captures the state now: raft applies later commands while it
// persists the snapshot.
func (f *fsmAdapter) Snapshot() (raft.FSMSnapshot, error) {
	var b bytes.Buffer
	if err := f.sm.Snapshot(&b); err != nil {
		return nil, err
	}
	return stateSnapshot(b.Bytes()), nil
}

func (f *fsmAdapter) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := f.sm.Restore(rc); err != nil {
		return err
	}
	f.restored()
	return nil
}

// stateSnapshot is a captured state, written to raft's sink.
type stateSnapshot []byte

func (s stateSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (stateSnapshot) Release() {}
