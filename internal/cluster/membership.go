package cluster

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Ports are the ports a node serves besides gossip, told to the others in
// its membership metadata so that a node name is all they need.
type Ports struct {
	Data    int `json:"data"`    // CLUSTER_DATA_BIND_PORT: node-to-node data traffic
	Raft    int `json:"raft"`    // RAFT_PORT: the raft transport
	RaftRPC int `json:"raftRPC"` // RAFT_INTERNAL_RPC_PORT: writes forwarded to the leader
}

// Member is a node of the cluster as membership sees it.
type Member struct {
	Name  string
	Host  string // the address it gossips from
	Ports Ports
	Alive bool // false while memberlist suspects it
}

// Addr is host:port for one of the member's ports.
func (m Member) Addr(port int) string { return net.JoinHostPort(m.Host, strconv.Itoa(port)) }

// MembershipConfig configures Join.
type MembershipConfig struct {
	Name          string // CLUSTER_HOSTNAME
	BindAddr      string // CLUSTER_BIND_ADDR ("" = all interfaces)
	BindPort      int    // CLUSTER_GOSSIP_BIND_PORT
	AdvertiseAddr string // CLUSTER_ADVERTISE_ADDR ("" = chosen by memberlist)
	AdvertisePort int    // CLUSTER_ADVERTISE_PORT (0 = BindPort)
	Seeds         []string
	Ports         Ports
	// Local tunes failure detection for one machine (memberlist's local
	// configuration): a dead node is noticed within seconds.
	Local  bool
	Logger *slog.Logger
}

// Membership is this node's view of the cluster's nodes.
type Membership struct {
	list   *memberlist.Memberlist
	stop   chan struct{} // closed by Close
	joined chan struct{} // closed once the seeds were joined (or Close)
	seen   *seenNodes
}

// seenNodes remembers every node ever seen: its gossip address, so that a
// node that died and came back can be joined again (memberlist stops
// probing dead nodes), and its ports, so that it can be reached while
// gossip has not yet noticed it is back.
type seenNodes struct {
	mu      sync.Mutex
	addrs   map[string]string
	members map[string]Member
}

func (s *seenNodes) NotifyJoin(n *memberlist.Node)   { s.note(n) }
func (s *seenNodes) NotifyUpdate(n *memberlist.Node) { s.note(n) }
func (s *seenNodes) NotifyLeave(*memberlist.Node)    {}

func (s *seenNodes) note(n *memberlist.Node) {
	mem := Member{Name: n.Name, Host: n.Addr.String()}
	_ = json.Unmarshal(n.Meta, &mem.Ports)
	s.mu.Lock()
	s.members[n.Name] = mem
	s.addrs[n.Name] = n.Address()
	s.mu.Unlock()
}

// Rejoin joins again, at their last known addresses, the nodes named that
// memberlist does not see alive; it reports how many answered.
func (m *Membership) Rejoin(names []string) int {
	alive := map[string]bool{}
	for _, mem := range m.Members() {
		alive[mem.Name] = mem.Alive
	}
	var addrs []string
	m.seen.mu.Lock()
	for _, n := range names {
		if a, ok := m.seen.addrs[n]; ok && !alive[n] {
			addrs = append(addrs, a)
		}
	}
	m.seen.mu.Unlock()
	if len(addrs) == 0 {
		return 0
	}
	joined, _ := m.list.Join(addrs)
	return joined
}

// Join starts gossip and joins the seeds (none: a cluster of one, which
// others can join).
func Join(cfg MembershipConfig) (*Membership, error) {
	mc := memberlist.DefaultLANConfig()
	if cfg.Local {
		mc = memberlist.DefaultLocalConfig()
	}
	mc.Name = cfg.Name
	if cfg.BindAddr != "" {
		mc.BindAddr = cfg.BindAddr
	}
	mc.BindPort = cfg.BindPort
	mc.AdvertiseAddr = cfg.AdvertiseAddr
	mc.AdvertisePort = cfg.BindPort
	if cfg.AdvertisePort != 0 {
		mc.AdvertisePort = cfg.AdvertisePort
	}
	meta, err := json.Marshal(cfg.Ports)
	if err != nil {
		return nil, err
	}
	mc.Delegate = metaDelegate(meta)
	seen := &seenNodes{addrs: map[string]string{}, members: map[string]Member{}}
	mc.Events = seen
	mc.Logger = log.New(slogWriter{logger(cfg.Logger).With("component", "memberlist")}, "", 0)
	list, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("start gossip on port %d: %w", cfg.BindPort, err)
	}
	m := &Membership{list: list, stop: make(chan struct{}), joined: make(chan struct{}), seen: seen}
	if len(cfg.Seeds) == 0 {
		close(m.joined)
		return m, nil
	}
	if _, err := list.Join(cfg.Seeds); err != nil {
		// The seeds may start after this node (nodes started together):
		// keep trying in the background; raft waits for its voters.
		logger(cfg.Logger).Warn("cannot reach the gossip seeds yet; retrying every second",
			"seeds", strings.Join(cfg.Seeds, ","), "err", err)
		go m.rejoin(cfg.Seeds)
		return m, nil
	}
	close(m.joined)
	return m, nil
}

// rejoin retries joining the seeds until it succeeds or Close is called.
func (m *Membership) rejoin(seeds []string) {
	defer close(m.joined)
	for {
		select {
		case <-m.stop:
			return
		case <-time.After(time.Second):
		}
		if _, err := m.list.Join(seeds); err == nil {
			return
		}
	}
}

// Members lists the nodes memberlist knows alive or suspect, sorted by
// name; dead ones are gone.
func (m *Membership) Members() []Member {
	var out []Member
	for _, n := range m.list.Members() {
		if n.State != memberlist.StateAlive && n.State != memberlist.StateSuspect {
			continue
		}
		mem := Member{Name: n.Name, Host: n.Addr.String(), Alive: n.State == memberlist.StateAlive}
		_ = json.Unmarshal(n.Meta, &mem.Ports) // a node without metadata serves no ports
		out = append(out, mem)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Member returns the member called name, if memberlist knows it.
func (m *Membership) Member(name string) (Member, bool) {
	for _, mem := range m.Members() {
		if mem.Name == name {
			return mem, true
		}
	}
	return Member{}, false
}

// LastKnown returns a node as membership last saw it, alive or not: the
// address to try while gossip has not caught up with a node that is back.
func (m *Membership) LastKnown(name string) (Member, bool) {
	if mem, ok := m.Member(name); ok {
		return mem, true
	}
	m.seen.mu.Lock()
	defer m.seen.mu.Unlock()
	mem, ok := m.seen.members[name]
	return mem, ok
}

// Close leaves the cluster (telling the others, within timeout) and stops
// gossip.
func (m *Membership) Close(timeout time.Duration) error {
	close(m.stop)
	<-m.joined
	err := m.list.Leave(timeout)
	if serr := m.list.Shutdown(); err == nil {
		err = serr
	}
	return err
}

// metaDelegate serves a node's fixed metadata and no broadcasts or state.
type metaDelegate []byte

func (d metaDelegate) NodeMeta(limit int) []byte {
	if len(d) > limit {
		return nil
	}
	return d
}
func (metaDelegate) NotifyMsg([]byte)                           {}
func (metaDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (metaDelegate) LocalState(join bool) []byte                { return nil }
func (metaDelegate) MergeRemoteState(buf []byte, join bool)     {}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

// slogWriter turns the lines of a standard logger (memberlist's, raft's)
// into debug records; their "[WARN]"/"[ERR]" levels become slog levels.
type slogWriter struct{ l *slog.Logger }

var _ io.Writer = slogWriter{}

func (w slogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	switch {
	case strings.Contains(line, "[ERR]") || strings.Contains(line, "[ERROR]"):
		w.l.Error(line)
	case strings.Contains(line, "[WARN]"):
		w.l.Warn(line)
	default:
		w.l.Debug(line)
	}
	return len(p), nil
}
