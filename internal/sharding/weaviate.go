package sharding

import (
	"fmt"
	"slices"
	"sort"
)

// Descriptor is Weaviate's JSON form of a sharding state, as backups carry
// it (base64 in a class descriptor's shardingState).
type Descriptor struct {
	IndexID             string              `json:"indexID"`
	Config              map[string]any      `json:"config"`
	Physical            map[string]Physical `json:"physical"`
	Virtual             []Virtual           `json:"virtual"`
	PartitioningEnabled bool                `json:"partitioningEnabled"`
	ReplicationFactor   int                 `json:"replicationFactor"`
}

// Physical is one physical shard (or tenant) in a Descriptor.
type Physical struct {
	Name           string   `json:"name"`
	OwnsVirtual    []string `json:"ownsVirtual,omitempty"`
	OwnsPercentage float64  `json:"ownsPercentage"`
	// LegacyBelongsToNode is the field of Weaviate before 1.17.
	LegacyBelongsToNode string   `json:"belongsToNode,omitempty"`
	BelongsToNodes      []string `json:"belongsToNodes"`
	Status              string   `json:"status,omitempty"`
}

// Node is the node holding the shard.
func (p Physical) Node() string {
	if len(p.BelongsToNodes) > 0 {
		return p.BelongsToNodes[0]
	}
	return p.LegacyBelongsToNode
}

// Virtual is one virtual shard in a Descriptor.
type Virtual struct {
	Name               string  `json:"name"`
	Upper              uint64  `json:"upper"`
	OwnsPercentage     float64 `json:"ownsPercentage"`
	AssignedToPhysical string  `json:"assignedToPhysical"`
}

// Describe renders the state of a class without multi-tenancy in
// Weaviate's form.
func (s *State) Describe(class string, config map[string]any) *Descriptor {
	d := &Descriptor{IndexID: class, Config: config, Physical: map[string]Physical{}, ReplicationFactor: 1}
	for _, sh := range s.Shards {
		d.Physical[sh.Name] = Physical{Name: sh.Name, BelongsToNodes: slices.Clone(sh.Nodes), Status: "HOT"}
	}
	if len(s.Uppers) == 0 {
		p := d.Physical[s.Shards[0].Name]
		p.OwnsPercentage = 1
		d.Physical[s.Shards[0].Name] = p
		return d
	}
	d.Virtual = make([]Virtual, len(s.Uppers))
	for i, up := range s.Uppers {
		// A virtual shard owns the tokens after the previous upper (the
		// first one wraps around from the last).
		var prev uint64
		if i > 0 {
			prev = s.Uppers[i-1]
		} else {
			prev = s.Uppers[len(s.Uppers)-1]
		}
		share := float64(up-prev) / (1 << 64)
		name := fmt.Sprintf("v%016x", up)
		phys := s.Shards[s.Owners[i]].Name
		d.Virtual[i] = Virtual{Name: name, Upper: up, OwnsPercentage: share, AssignedToPhysical: phys}
		p := d.Physical[phys]
		p.OwnsVirtual = append(p.OwnsVirtual, name)
		p.OwnsPercentage += share
		d.Physical[phys] = p
	}
	return d
}

// State reads the state of a class without multi-tenancy from Weaviate's
// form, keeping its token ring so that every object stays in its shard.
func (d *Descriptor) State() (*State, error) {
	if len(d.Physical) == 0 {
		return nil, fmt.Errorf("sharding state of %s has no physical shard", d.IndexID)
	}
	names := make([]string, 0, len(d.Physical))
	for name := range d.Physical {
		names = append(names, name)
	}
	sort.Strings(names)
	st := &State{Shards: make([]Shard, len(names))}
	index := map[string]int{}
	for i, name := range names {
		p := d.Physical[name]
		if p.Name != "" && p.Name != name {
			return nil, fmt.Errorf("sharding state of %s: shard %q is named %q", d.IndexID, name, p.Name)
		}
		st.Shards[i] = Shard{Name: name}
		if n := p.Node(); n != "" {
			st.Shards[i].Nodes = []string{n}
		}
		index[name] = i
	}
	if len(names) > 1 {
		virtual := slices.Clone(d.Virtual)
		sort.SliceStable(virtual, func(i, j int) bool { return virtual[i].Upper < virtual[j].Upper })
		for _, v := range virtual {
			i, ok := index[v.AssignedToPhysical]
			if !ok {
				return nil, fmt.Errorf("sharding state of %s: virtual shard %q assigned to unknown shard %q", d.IndexID, v.Name, v.AssignedToPhysical)
			}
			st.Uppers = append(st.Uppers, v.Upper)
			st.Owners = append(st.Owners, i)
		}
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("class %s: %w", d.IndexID, err)
	}
	return st, nil
}
