package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"strata/internal/db"
)

func (s *Server) getMeta(w http.ResponseWriter, r *http.Request) {
	modules := s.backups.BackendMeta()
	writeJSON(w, http.StatusOK, map[string]any{
		"hostname":           fmt.Sprintf("%s://%s:%d", s.cfg.Scheme, s.cfg.Host, s.cfg.Port),
		"version":            APIVersion,
		"strataVersion":      s.version,
		"modules":            modules,
		"grpcMaxMessageSize": s.cfg.GRPCMaxMessageSize,
	})
}

type nodeShard struct {
	AsyncReplicationStatus []any  `json:"asyncReplicationStatus"`
	Class                  string `json:"class"`
	Compressed             bool   `json:"compressed"`
	Loaded                 bool   `json:"loaded"`
	Name                   string `json:"name"`
	NumberOfReplicas       int    `json:"numberOfReplicas"`
	ObjectCount            int    `json:"objectCount"`
	ReplicationFactor      int    `json:"replicationFactor"`
	VectorIndexingStatus   string `json:"vectorIndexingStatus"`
	VectorQueueLength      int    `json:"vectorQueueLength"`
}

type nodeStatus struct {
	BatchStats      map[string]int `json:"batchStats"`
	Name            string         `json:"name"`
	OperationalMode string         `json:"operationalMode"`
	Shards          []nodeShard    `json:"shards"`
	Stats           *nodeStats     `json:"stats,omitempty"`
	Status          string         `json:"status"`
	Version         string         `json:"version"`
	GitHash         string         `json:"gitHash"`
}

// gitHash is the short commit hash of the build ("unknown" without one, as
// Weaviate's images report it), for /v1/nodes.
var gitHash = sync.OnceValue(func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value[:min(7, len(s.Value))]
			}
		}
	}
	return "unknown"
})

type nodeStats struct {
	ObjectCount int `json:"objectCount"`
	ShardCount  int `json:"shardCount"`
}

// nodesTimeout bounds how long /v1/nodes waits for another node.
const nodesTimeout = 10 * time.Second

func (s *Server) getNodes(w http.ResponseWriter, r *http.Request) {
	output := r.URL.Query().Get("output")
	if output == "" {
		output = "minimal"
	}
	if output != "minimal" && output != "verbose" {
		writeMessage(w, http.StatusUnprocessableEntity, fmt.Sprintf("invalid output: %q, possible values are: \"minimal\", \"verbose\"", output))
		return
	}
	class := pathParam(r, "class")
	local, err := s.db.Shards(class)
	if err != nil {
		if db.KindOf(err) == db.KindNotFound {
			writeMessage(w, http.StatusNotFound, err.Error())
			return
		}
		s.writeError(w, r, err)
		return
	}
	names := []string{s.cfg.NodeName}
	if s.peers != nil {
		names = s.peers.Members()
	}
	out := make([]any, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		if name == s.cfg.NodeName {
			out[i] = s.nodeStatus(name, local, output == "verbose", r.URL.Query().Get("shardName"))
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), nodesTimeout)
			defer cancel()
			shards, err := s.peers.NodeShards(ctx, name, class)
			switch {
			case db.KindOf(err) == db.KindNotFound: // the class is not there yet
				shards, err = nil, nil
			case errors.Is(err, context.DeadlineExceeded):
				out[i] = unavailableNode{Name: name, Status: "TIMEOUT"}
				return
			case err != nil:
				s.log.Debug("node status", "node", name, "err", err)
				out[i] = unavailableNode{Name: name, Status: "UNAVAILABLE"}
				return
			}
			out[i] = s.nodeStatus(name, shards, output == "verbose", r.URL.Query().Get("shardName"))
		})
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, map[string]any{"nodes": out})
}

// unavailableNode is a node /v1/nodes could not reach, as Weaviate lists it.
type unavailableNode struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// nodeStatus is one node's entry of /v1/nodes: shards and stats only when
// verbose, the shards limited to shardName when set.
func (s *Server) nodeStatus(name string, infos []db.ShardInfo, verbose bool, shardName string) nodeStatus {
	node := nodeStatus{
		BatchStats:      map[string]int{"queueLength": 0, "ratePerSecond": 0},
		Name:            name,
		OperationalMode: "ReadWrite",
		Status:          "HEALTHY",
		Version:         APIVersion,
		GitHash:         gitHash(),
	}
	if !verbose {
		return node
	}
	node.Shards = []nodeShard{}
	node.Stats = &nodeStats{}
	for _, in := range infos {
		if shardName != "" && in.Name != shardName {
			continue
		}
		node.Shards = append(node.Shards, nodeShard{
			AsyncReplicationStatus: []any{}, Class: in.Class, Loaded: in.Loaded, Name: in.Name,
			NumberOfReplicas: 1, ObjectCount: in.ObjectCount, ReplicationFactor: 1,
			VectorIndexingStatus: "READY",
		})
		node.Stats.ObjectCount += in.ObjectCount
		node.Stats.ShardCount++
	}
	return node
}

// getClusterStatistics is Weaviate's /v1/cluster/statistics, from this
// node's view: its raft state and the leader it follows.
func (s *Server) getClusterStatistics(w http.ResponseWriter, r *http.Request) {
	leader, state, applied := s.cfg.NodeName, "Leader", uint64(0)
	if s.peers != nil {
		leader, state, applied = s.peers.RaftState()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"statistics": []map[string]any{{
			"name": s.cfg.NodeName, "status": "HEALTHY", "ready": true, "open": true, "isVoter": true,
			"dbLoaded": true, "bootstrapped": leader != "", "leaderId": leader,
			"raft": map[string]any{"state": state, "appliedIndex": strconv.FormatUint(applied, 10)},
		}},
		"synchronized": leader != "",
	})
}
