// Package sharding owns how a class's objects are spread over physical
// shards and nodes: Weaviate's scheme of virtual shards on a murmur3 token
// ring. The state is made once, when a class is created, and stored with
// the class; it is never recomputed, so an object's shard never moves.
package sharding

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"

	"github.com/google/uuid"
	"github.com/spaolacci/murmur3"
)

// Bounds of a class's sharding: physical shards (desiredCount), virtual
// shards per physical shard (virtualPerPhysical, default 128 as in
// Weaviate) and virtual shards in all, which the ring holds in memory.
const (
	MaxShards             = 10_000
	VirtualPerPhysical    = 128
	MaxVirtualPerPhysical = 1_024
	MaxVirtualShards      = 1 << 20
)

// Shard is one physical shard and the nodes that hold it.
type Shard struct {
	Name  string   `json:"name"`
	Nodes []string `json:"nodes"`
}

// Node is the node that holds the shard (the first of Nodes).
func (s Shard) Node() string {
	if len(s.Nodes) == 0 {
		return ""
	}
	return s.Nodes[0]
}

// State is a class's physical shards and the token ring that maps an
// object id to one of them. Uppers (ascending) are the upper tokens of the
// virtual shards and Owners[i] the index in Shards of virtual shard i's
// physical shard. With one physical shard the ring is empty.
type State struct {
	Shards []Shard  `json:"shards"`
	Uppers []uint64 `json:"uppers,omitempty"`
	Owners []int    `json:"owners,omitempty"`
}

// New makes the state of a class with count physical shards of
// virtualPer virtual shards each (0 = VirtualPerPhysical), named by
// newName and placed round robin over nodes starting at a random one.
func New(count, virtualPer int, nodes []string, newName func() string) (*State, error) {
	if virtualPer == 0 {
		virtualPer = VirtualPerPhysical
	}
	if count < 1 || count > MaxShards {
		return nil, fmt.Errorf("desiredCount %d out of range [1, %d]", count, MaxShards)
	}
	if virtualPer < 1 || virtualPer > MaxVirtualPerPhysical || count*virtualPer > MaxVirtualShards {
		return nil, fmt.Errorf("%d shards of %d virtual shards each: at most %d virtual shards in all", count, virtualPer, MaxVirtualShards)
	}
	if len(nodes) == 0 {
		return nil, errors.New("no node to place shards on")
	}
	st := &State{Shards: make([]Shard, count)}
	start := mrand.IntN(len(nodes))
	seen := map[string]bool{}
	for i := range st.Shards {
		name := newName()
		for seen[name] {
			name = newName()
		}
		seen[name] = true
		st.Shards[i] = Shard{Name: name, Nodes: []string{nodes[(start+i)%len(nodes)]}}
	}
	if count > 1 {
		st.Uppers = make([]uint64, count*virtualPer)
		var b [8]byte
		for i := range st.Uppers {
			if _, err := rand.Read(b[:]); err != nil {
				return nil, err
			}
			st.Uppers[i] = binary.LittleEndian.Uint64(b[:])
		}
		slices.Sort(st.Uppers)
		st.Owners = make([]int, len(st.Uppers))
		for i, v := range mrand.Perm(len(st.Uppers)) {
			st.Owners[v] = i % count
		}
	}
	return st, nil
}

// Single is the state of a class with one shard on one node.
func Single(name, node string) *State {
	return &State{Shards: []Shard{{Name: name, Nodes: []string{node}}}}
}

// Place puts the shards on nodes round robin, in shard order: a restore
// places a backup's shards on the nodes it restores to.
func (s *State) Place(nodes []string) {
	for i := range s.Shards {
		s.Shards[i].Nodes = []string{nodes[i%len(nodes)]}
	}
}

// Token is an object's position on the ring: murmur3-64 (seed 0) of the
// 16 bytes of its id, as Weaviate computes it.
func Token(id uuid.UUID) uint64 { return murmur3.Sum64(id[:]) }

// ShardOf returns the index in Shards of the shard that holds id.
func (s *State) ShardOf(id uuid.UUID) int {
	if len(s.Shards) == 1 || len(s.Uppers) == 0 {
		return 0
	}
	t := Token(id)
	i, _ := slices.BinarySearch(s.Uppers, t) // first upper >= t
	if i == len(s.Uppers) {
		i = 0 // past the last upper: the ring wraps
	}
	return s.Owners[i]
}

// Index returns the index of the named shard, or -1.
func (s *State) Index(name string) int {
	return slices.IndexFunc(s.Shards, func(sh Shard) bool { return sh.Name == name })
}

// Names lists the physical shard names in order.
func (s *State) Names() []string {
	out := make([]string, len(s.Shards))
	for i, sh := range s.Shards {
		out[i] = sh.Name
	}
	return out
}

// Validate checks a state read from storage or a backup.
func (s *State) Validate() error {
	if len(s.Shards) == 0 || len(s.Shards) > MaxShards {
		return fmt.Errorf("sharding state: %d shards, want 1 to %d", len(s.Shards), MaxShards)
	}
	seen := map[string]bool{}
	for _, sh := range s.Shards {
		if sh.Name == "" || seen[sh.Name] {
			return fmt.Errorf("sharding state: empty or repeated shard name %q", sh.Name)
		}
		seen[sh.Name] = true
	}
	if len(s.Uppers) != len(s.Owners) {
		return fmt.Errorf("sharding state: %d virtual shards but %d owners", len(s.Uppers), len(s.Owners))
	}
	if len(s.Shards) > 1 && len(s.Uppers) == 0 {
		return fmt.Errorf("sharding state: %d shards without virtual shards", len(s.Shards))
	}
	if !slices.IsSorted(s.Uppers) {
		return errors.New("sharding state: virtual shards out of order")
	}
	owned := make([]bool, len(s.Shards))
	for _, o := range s.Owners {
		if o < 0 || o >= len(s.Shards) {
			return fmt.Errorf("sharding state: virtual shard assigned to shard %d of %d", o, len(s.Shards))
		}
		owned[o] = true
	}
	if len(s.Uppers) > 0 && slices.Contains(owned, false) {
		return errors.New("sharding state: a shard owns no virtual shard")
	}
	return nil
}

// Clone returns a deep copy.
func (s *State) Clone() *State {
	c := &State{Shards: make([]Shard, len(s.Shards)), Uppers: slices.Clone(s.Uppers), Owners: slices.Clone(s.Owners)}
	for i, sh := range s.Shards {
		c.Shards[i] = Shard{Name: sh.Name, Nodes: slices.Clone(sh.Nodes)}
	}
	return c
}
