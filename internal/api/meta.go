package api

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"

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
	infos, err := s.db.Shards(class)
	if err != nil {
		if db.KindOf(err) == db.KindNotFound {
			writeMessage(w, http.StatusNotFound, err.Error())
			return
		}
		s.writeError(w, r, err)
		return
	}
	node := nodeStatus{
		BatchStats:      map[string]int{"queueLength": 0, "ratePerSecond": 0},
		Name:            s.cfg.NodeName,
		OperationalMode: "ReadWrite",
		Status:          "HEALTHY",
		Version:         APIVersion,
		GitHash:         gitHash(),
	}
	if output == "verbose" {
		node.Shards = []nodeShard{}
		node.Stats = &nodeStats{}
		shardName := r.URL.Query().Get("shardName")
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
	}
	writeJSON(w, http.StatusOK, map[string]any{"nodes": []nodeStatus{node}})
}
