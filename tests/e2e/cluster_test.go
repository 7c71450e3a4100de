package e2e

import (
	"fmt"
	"net/http"
	"testing"
)

// TestClusterServesOneDatabase: three server processes on loopback are one
// database. A class created through one node is on every node; 30,000
// objects imported through one node read back, every one, through each of
// the others; nearVector through any node gives the top 10 of one node
// holding the same data; a delete through one node is gone everywhere.
func TestClusterServesOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	nodes := startCluster(t, []string{"node1", "node2", "node3"}, serverOptions{})
	alone := startServer(t, serverOptions{})

	const class = "ClusterDoc"
	for _, s := range []*server{nodes[0], alone} {
		createClass(t, s, articleClass(class))
	}
	for _, s := range nodes {
		var c struct {
			ShardingConfig map[string]any `json:"shardingConfig"`
		}
		r := s.do(t, http.MethodGet, "/v1/schema/"+class, nil)
		wantStatus(t, r, http.StatusOK)
		r.JSON(t, &c)
		if c.ShardingConfig["desiredCount"] != 3.0 {
			t.Fatalf("%s: desiredCount %v, want one shard per node", s.URL, c.ShardingConfig["desiredCount"])
		}
	}

	objs := genObjects(42, 30_000, 8)
	batchImport(t, nodes[0], class, "", objs, 1000)
	batchImport(t, alone, class, "", objs, 1000)

	for i, s := range nodes[1:] {
		got := listAll(t, s, class, "", 2500)
		checkObjectsMatch(t, class, got, objs)
		for _, o := range objs[:300] {
			r := s.do(t, http.MethodGet, "/v1/objects/"+class+"/"+o.ID+"?include=vector", nil)
			wantStatus(t, r, http.StatusOK)
		}
		t.Logf("node%d: read all %d objects", i+2, len(got))
	}
	for q := range 10 {
		vec := objs[q*997].Vector
		want := nearVectorTop(t, alone, class, "", vec, 10)
		for _, s := range nodes {
			got := nearVectorTop(t, s, class, "", vec, 10)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("query %d through %s:\n got %v\nwant %v", q, s.URL, got, want)
			}
		}
	}

	gone := objs[123].ID
	wantStatus(t, nodes[2].do(t, http.MethodDelete, "/v1/objects/"+class+"/"+gone, nil), http.StatusNoContent)
	for _, s := range nodes {
		wantStatus(t, s.do(t, http.MethodGet, "/v1/objects/"+class+"/"+gone, nil), http.StatusNotFound)
	}

	// /v1/nodes on any node lists every node, sorted, with its own shard.
	for _, s := range nodes {
		list := nodesList(t, s, "/v1/nodes/"+class+"?output=verbose")
		total := 0
		for i, n := range list {
			if n.Name != fmt.Sprintf("node%d", i+1) || n.Status != "HEALTHY" || len(n.Shards) != 1 || n.Stats == nil {
				t.Fatalf("%s: /v1/nodes entry %d: %+v", s.URL, i, n)
			}
			total += n.Stats.ObjectCount
		}
		if len(list) != 3 || total != len(objs)-1 {
			t.Fatalf("%s: %d nodes holding %d objects, want 3 holding %d", s.URL, len(list), total, len(objs)-1)
		}
		for _, n := range nodesList(t, s, "/v1/nodes") {
			if n.Shards != nil || n.Stats != nil {
				t.Fatalf("%s: minimal output lists shards: %+v", s.URL, n)
			}
		}
	}

	// A node that leaves is listed UNAVAILABLE; back, it is HEALTHY again.
	nodes[2].stop()
	list := nodesList(t, nodes[0], "/v1/nodes")
	if len(list) != 3 || list[2].Name != "node3" || list[2].Status != "UNAVAILABLE" || list[0].Status != "HEALTHY" {
		t.Fatalf("with node3 down: %+v", list)
	}
	nodes[2].restart()
	waitAllHealthy(t, nodes)
	waitFor(t, "node3 back", func() bool {
		list := nodesList(t, nodes[0], "/v1/nodes/"+class+"?output=verbose")
		return len(list) == 3 && list[2].Status == "HEALTHY" && list[2].Stats != nil && list[2].Stats.ObjectCount > 0
	})
	checkObjectsMatch(t, class, listAll(t, nodes[1], class, "", 5000), append(objs[:123:123], objs[124:]...))
}

// nodeEntry is one node of a /v1/nodes answer.
type nodeEntry struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Shards []struct {
		Name        string `json:"name"`
		Class       string `json:"class"`
		ObjectCount int    `json:"objectCount"`
	} `json:"shards"`
	Stats *struct {
		ObjectCount int `json:"objectCount"`
		ShardCount  int `json:"shardCount"`
	} `json:"stats"`
}

func nodesList(t testing.TB, s *server, path string) []nodeEntry {
	t.Helper()
	r := s.do(t, http.MethodGet, path, nil)
	wantStatus(t, r, http.StatusOK)
	var out struct {
		Nodes []nodeEntry `json:"nodes"`
	}
	r.JSON(t, &out)
	return out.Nodes
}
