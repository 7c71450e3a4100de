package backup

import (
	"cmp"
	"slices"
	"sort"

	"strata/internal/apperr"
	"strata/internal/db"
	"strata/internal/sharding"
)

// A restore onto a cluster takes the shard, not the node, as its unit:
// every shard of every class is restored by one current node (its target)
// from the prefix of the backup node that wrote it (its source), so a
// backup of N nodes restores onto M.

// ShardSource is one shard a node restores: where its files are.
type ShardSource struct {
	Class, Shard string // as the backup has them
	// Source is the backup node whose prefix holds the shard's chunks.
	Source string
	// Target is the class the shard is restored into (Class unless the
	// restore renames it).
	Target string
}

// target is the class s is restored into.
func (s ShardSource) target() string {
	if s.Target != "" {
		return s.Target
	}
	return s.Class
}

// PlacedClass is a class of a backup placed on the current nodes.
type PlacedClass struct {
	// Name is the class's name in the backup.
	Name string `json:"name,omitempty"`
	// Restored is the class to install (under its new name, if renamed): its definition and its sharding
	// state placed on the targets (or its tenants and their nodes); its
	// StagedDir is unset.
	Restored db.RestoredClass
	// Targets maps each shard to the node that restores it.
	Targets map[string]string
	// Sources maps each shard to the backup node that holds its files.
	Sources map[string]string
}

// Rename installs placed classes under the names targets gives them (see
// restoreTargets).
func Rename(placed []*PlacedClass, rename map[string]string) error {
	names := make([]string, len(placed))
	for i, pc := range placed {
		names[i] = pc.Name
	}
	targets, err := restoreTargets(names, rename)
	if err != nil {
		return err
	}
	for _, pc := range placed {
		pc.Restored.Class.Class = targets[pc.Name]
	}
	return nil
}

// PlaceRestore places the classes of a backup on the cluster's nodes.
// Each shard goes to the node node_mapping maps its backup node to, else
// to the node of the same name, else to the current node with the fewest
// shards so far (ties by name). The manifests are every backup node's
// (by node); mapping keys must be nodes of the backup and its values
// nodes of the cluster.
func PlaceRestore(d *Descriptor, manifests map[string]*NodeManifest, mapping map[string]string, nodes, classes []string) ([]*PlacedClass, error) {
	for from, to := range mapping {
		if _, ok := d.Nodes[from]; !ok {
			return nil, apperr.Invalidf("node_mapping: %q is not a node of this backup (its nodes: %v)", from, sortedKeys(d.Nodes))
		}
		if !slices.Contains(nodes, to) {
			return nil, apperr.Invalidf("node_mapping: %q maps to %q, which is not a node of this cluster (its nodes: %v)", from, to, nodes)
		}
	}
	load := map[string]int{}
	target := func(old string) string {
		if to, ok := mapping[old]; ok {
			return to
		}
		if slices.Contains(nodes, old) {
			return old
		}
		best := nodes[0]
		for _, n := range nodes[1:] {
			if load[n] < load[best] {
				best = n
			}
		}
		return best
	}
	var out []*PlacedClass
	for _, name := range classes {
		pc, err := placeClass(name, manifests, target, load)
		if err != nil {
			return nil, err
		}
		out = append(out, pc)
	}
	return out, nil
}

// placeClass merges a class's descriptors from every manifest and places
// its shards; load counts the shards each node was given.
func placeClass(name string, manifests map[string]*NodeManifest, target func(string) string, load map[string]int) (*PlacedClass, error) {
	pc := &PlacedClass{Name: name, Targets: map[string]string{}, Sources: map[string]string{}}
	// The class as one descriptor: its definition and sharding state (the
	// same in every manifest) and the shards of every node.
	var merged *ClassDescriptor
	for _, node := range sortedKeys(manifests) {
		for _, c := range manifests[node].Classes {
			if c.Name != name {
				continue
			}
			if merged == nil {
				merged = &ClassDescriptor{Name: c.Name, Schema: c.Schema, ShardingState: c.ShardingState}
			}
			for _, sd := range c.Shards {
				if _, dup := pc.Sources[sd.Name]; !dup {
					pc.Sources[sd.Name] = node
				}
				merged.Shards = append(merged.Shards, sd)
			}
		}
	}
	if merged == nil {
		return nil, apperr.Invalidf("class %s is in no node's manifest of this backup", name)
	}
	// Checked as one node's restore checks it: every shard of the class
	// has files, once, and no files belong to a shard it does not have.
	rc, err := restoredClass(merged, "", "")
	if err != nil {
		return nil, err
	}
	var st sharding.Descriptor
	if err := decodeJSON(merged.ShardingState, &st, "sharding state of class "+name); err != nil {
		return nil, err
	}
	var shards []string
	if rc.Tenants != nil {
		shards = sortedKeys(rc.Tenants)
	} else {
		shards = rc.Sharding.Names()
		sort.Strings(shards)
	}
	for _, sh := range shards {
		old := ""
		if p, ok := st.Physical[sh]; ok && len(p.BelongsToNodes) > 0 {
			old = p.BelongsToNodes[0]
		}
		to := target(old)
		pc.Targets[sh] = to
		load[to]++
	}
	if rc.Tenants != nil {
		rc.TenantNodes = pc.Targets
	} else {
		for i := range rc.Sharding.Shards {
			rc.Sharding.Shards[i].Nodes = []string{pc.Targets[rc.Sharding.Shards[i].Name]}
		}
	}
	pc.Restored = rc
	return pc, nil
}

// ShardsOn lists the shards node restores, in class and shard order.
func ShardsOn(placed []*PlacedClass, node string) []ShardSource {
	var out []ShardSource
	for _, pc := range placed {
		for _, sh := range sortedKeys(pc.Targets) {
			if pc.Targets[sh] == node {
				out = append(out, ShardSource{Class: cmp.Or(pc.Name, pc.Restored.Class.Class), Shard: sh, Source: pc.Sources[sh],
					Target: pc.Restored.Class.Class})
			}
		}
	}
	return out
}
