package backup

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"strata/internal/apperr"
	"strata/internal/schema"
	"strata/internal/sharding"
)

// clusterBackup is a backup of a class with one shard on each of nodes,
// and a multi-tenant class with one tenant on each: a descriptor and each
// node's manifest.
func clusterBackup(t *testing.T, nodes ...string) (*Descriptor, map[string]*NodeManifest) {
	t.Helper()
	n := 0
	st, err := sharding.New(len(nodes), 4, nodes, func() string { n++; return fmt.Sprintf("shard%d", n) })
	if err != nil {
		t.Fatal(err)
	}
	docSchema, _ := json.Marshal(&schema.Class{Class: "Doc"})
	docState, _ := json.Marshal(st.Describe("Doc", nil))
	mtSchema, _ := json.Marshal(&schema.Class{Class: "MT", MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true}})
	mt := &sharding.Descriptor{IndexID: "MT", Physical: map[string]sharding.Physical{}, PartitioningEnabled: true}
	d := &Descriptor{ID: "b", Nodes: map[string]*NodeStatus{}}
	manifests := map[string]*NodeManifest{}
	for i, node := range nodes {
		tenant := fmt.Sprintf("t%d", i)
		mt.Physical[tenant] = sharding.Physical{Name: tenant, BelongsToNodes: []string{node}, Status: "HOT"}
		d.Nodes[node] = &NodeStatus{Classes: []string{"Doc", "MT"}}
		var own []*ShardDescriptor // the shards the state places on node
		for _, sh := range st.Shards {
			if sh.Nodes[0] == node {
				own = append(own, &ShardDescriptor{Name: sh.Name, Node: node})
			}
		}
		manifests[node] = &NodeManifest{ID: "b", Classes: []*ClassDescriptor{
			{Name: "Doc", Schema: docSchema, ShardingState: docState, Shards: own},
			{Name: "MT", Schema: mtSchema, Shards: []*ShardDescriptor{{Name: tenant, Node: node}}},
		}}
	}
	mtState, _ := json.Marshal(mt)
	for _, m := range manifests {
		m.Classes[1].ShardingState = mtState
	}
	return d, manifests
}

// owners maps each node to the shards it restores, of both classes.
func owners(placed []*PlacedClass, nodes ...string) map[string]int {
	out := map[string]int{}
	for _, n := range nodes {
		out[n] = len(ShardsOn(placed, n))
	}
	return out
}

func TestPlaceRestoreKeepsNodesOfTheSameName(t *testing.T) {
	d, ms := clusterBackup(t, "node1", "node2", "node3")
	placed, err := PlaceRestore(d, ms, nil, []string{"node1", "node2", "node3"}, []string{"Doc", "MT"})
	if err != nil {
		t.Fatal(err)
	}
	for _, pc := range placed {
		for sh, to := range pc.Targets {
			if from := pc.Sources[sh]; from != to {
				t.Fatalf("%s/%s: restored on %s from %s's files, want the same node", pc.Restored.Class.Class, sh, to, from)
			}
		}
	}
	doc := placed[0].Restored.Sharding
	for _, sh := range doc.Shards {
		if len(sh.Nodes) != 1 || sh.Nodes[0] != placed[0].Targets[sh.Name] {
			t.Fatalf("the sharding state places %s on %v", sh.Name, sh.Nodes)
		}
	}
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(placed[1].Restored.TenantNodes) != 3 || placed[1].Restored.Tenants["t0"] != "HOT" {
		t.Fatalf("tenants: %+v %+v", placed[1].Restored.TenantNodes, placed[1].Restored.Tenants)
	}
}

func TestPlaceRestoreFollowsNodeMapping(t *testing.T) {
	d, ms := clusterBackup(t, "node1", "node2", "node3")
	mapping := map[string]string{"node1": "a", "node2": "b", "node3": "c"}
	placed, err := PlaceRestore(d, ms, mapping, []string{"a", "b", "c"}, []string{"Doc", "MT"})
	if err != nil {
		t.Fatal(err)
	}
	for _, pc := range placed {
		for sh, to := range pc.Targets {
			if mapping[pc.Sources[sh]] != to {
				t.Fatalf("%s: on %s, from %s", sh, to, pc.Sources[sh])
			}
		}
	}
	_, err = PlaceRestore(d, ms, map[string]string{"node9": "a"}, []string{"a", "b", "c"}, []string{"Doc"})
	if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), `"node9" is not a node of this backup`) {
		t.Fatalf("unknown source node: %v", err)
	}
	_, err = PlaceRestore(d, ms, map[string]string{"node1": "z"}, []string{"a", "b", "c"}, []string{"Doc"})
	if apperr.KindOf(err) != apperr.Invalid || !strings.Contains(err.Error(), `"z", which is not a node of this cluster`) {
		t.Fatalf("unknown target node: %v", err)
	}
}

func TestPlaceRestoreOntoFewerAndMoreNodes(t *testing.T) {
	d, ms := clusterBackup(t, "node1", "node2", "node3")
	placed, err := PlaceRestore(d, ms, nil, []string{"node1", "node2"}, []string{"Doc", "MT"})
	if err != nil {
		t.Fatal(err)
	}
	got := owners(placed, "node1", "node2")
	if got["node1"]+got["node2"] != 6 || got["node1"] < 2 || got["node2"] < 2 {
		t.Fatalf("3 → 2: %v", got)
	}
	placed, err = PlaceRestore(d, ms, nil, []string{"solo"}, []string{"Doc", "MT"})
	if err != nil || owners(placed, "solo")["solo"] != 6 {
		t.Fatalf("3 → 1: %v, %v", owners(placed, "solo"), err)
	}
	d2, ms2 := clusterBackup(t, "node1", "node2")
	placed, err = PlaceRestore(d2, ms2, nil, []string{"node1", "node2", "node3"}, []string{"Doc", "MT"})
	if err != nil {
		t.Fatal(err)
	}
	if got := owners(placed, "node1", "node2", "node3"); got["node1"] != 2 || got["node2"] != 2 {
		t.Fatalf("2 → 3: %v", got)
	}
}

func TestPlaceRestoreRefusesAnIncompleteBackup(t *testing.T) {
	d, ms := clusterBackup(t, "node1", "node2", "node3")
	ms["node2"].Classes[0].Shards = nil // node2's shard of Doc has no files
	_, err := PlaceRestore(d, ms, nil, []string{"node1", "node2", "node3"}, []string{"Doc"})
	if err == nil || !strings.Contains(err.Error(), "missing from the backup") {
		t.Fatalf("incomplete backup: %v", err)
	}
	d, ms = clusterBackup(t, "node1", "node2", "node3")
	ms["node3"].Classes[0].Shards = append(ms["node3"].Classes[0].Shards, ms["node1"].Classes[0].Shards[0])
	if _, err := PlaceRestore(d, ms, nil, []string{"node1", "node2", "node3"}, []string{"Doc"}); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("a shard in two manifests: %v", err)
	}
}
