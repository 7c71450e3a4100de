package backup

import (
	"encoding/json"
	"fmt"
	"time"

	"strata/internal/backup/archive"
)

// Status is the state of a backup or restore, as the API reports it.
type Status string

// Statuses (note CANCELED with one L and CANCELLING with two, as in Weaviate).
const (
	StatusStarted      Status = "STARTED"
	StatusTransferring Status = "TRANSFERRING"
	StatusTransferred  Status = "TRANSFERRED"
	StatusFinalizing   Status = "FINALIZING"
	StatusSuccess      Status = "SUCCESS"
	StatusFailed       Status = "FAILED"
	StatusCancelling   Status = "CANCELLING"
	StatusCanceled     Status = "CANCELED"
)

// Terminal reports whether no more work happens in this status.
func (s Status) Terminal() bool {
	return s == StatusSuccess || s == StatusFailed || s == StatusCanceled
}

// Format versions. Version is the envelope version shared with Weaviate;
// StrataFormat versions what is inside the chunks (pebble shard files).
const (
	FormatVersion = "2.1"
	StrataFormat  = 1
)

// Descriptor is backup_config.json / restore_config.json: the envelope
// Weaviate tools read, with the same field names.
type Descriptor struct {
	StartedAt               time.Time              `json:"startedAt"`
	CompletedAt             time.Time              `json:"completedAt"`
	ID                      string                 `json:"id"`
	Nodes                   map[string]*NodeStatus `json:"nodes"`
	NodeMapping             map[string]string      `json:"node_mapping"`
	Status                  Status                 `json:"status"`
	Version                 string                 `json:"version"`
	ServerVersion           string                 `json:"serverVersion"`
	Leader                  string                 `json:"leader"`
	Error                   string                 `json:"error"`
	PreCompressionSizeBytes int64                  `json:"preCompressionSizeBytes"`
	CompressionType         string                 `json:"compressionType"`
	BaseBackupID            string                 `json:"baseBackupId"`
	// StrataFormat is set on backups Strata wrote; others cannot be restored.
	StrataFormat int `json:"strataFormat,omitempty"`
	// Encryption is set on an encrypted backup: its chunks and manifests
	// are sealed with the key whose check value it records.
	Encryption *Encryption `json:"encryption,omitempty"`
}

// Encryption describes how a backup is encrypted.
type Encryption struct {
	Algorithm string `json:"algorithm"`
	KeyCheck  string `json:"keyCheck"`
}

// NodeStatus is one node's part of a Descriptor.
type NodeStatus struct {
	Classes                 []string `json:"classes"`
	Status                  Status   `json:"status"`
	Error                   string   `json:"error"`
	PreCompressionSizeBytes int64    `json:"preCompressionSizeBytes"`
}

// Classes is the union of every node's classes, in order of first appearance.
func (d *Descriptor) Classes() []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range d.Nodes {
		for _, c := range n.Classes {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// NodeManifest is <id>/<node>/backup.json: everything one node stored.
type NodeManifest struct {
	StartedAt               time.Time          `json:"startedAt"`
	CompletedAt             time.Time          `json:"completedAt"`
	ID                      string             `json:"id"`
	Classes                 []*ClassDescriptor `json:"classes"`
	RbacBackups             string             `json:"rbacBackups"`
	UserBackups             string             `json:"userBackups"`
	Status                  Status             `json:"status"`
	Version                 string             `json:"version"`
	ServerVersion           string             `json:"serverVersion"`
	Error                   string             `json:"error"`
	PreCompressionSizeBytes int64              `json:"preCompressionSizeBytes"`
	CompressionType         string             `json:"compressionType"`
	BaseBackupID            string             `json:"baseBackupId,omitempty"`
	StrataFormat            int                `json:"strataFormat"`
}

// ClassDescriptor describes one class of a node's backup.
type ClassDescriptor struct {
	Name     string             `json:"name"`
	BackupID string             `json:"backupId"`
	Shards   []*ShardDescriptor `json:"shards"`
	// ShardingState and Schema are JSON documents, base64-encoded on the wire.
	ShardingState           []byte           `json:"shardingState"`
	Schema                  []byte           `json:"schema"`
	Aliases                 []byte           `json:"aliases"`
	AliasesIncluded         bool             `json:"aliasesIncluded"`
	Chunks                  map[int][]string `json:"chunks,omitempty"`
	PreCompressionSizeBytes int64            `json:"preCompressionSizeBytes"`
	// ChunkInfo records size and checksum of each chunk object, by chunk number.
	ChunkInfo map[int]ChunkInfo `json:"strataChunkInfo,omitempty"`
}

// ChunkInfo is the size and SHA-256 of a chunk object as stored (compressed).
type ChunkInfo struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ShardDescriptor lists one shard's files.
type ShardDescriptor struct {
	Name  string   `json:"name"`
	Node  string   `json:"node"`
	Files []string `json:"files"`
	// FileInfo has size, checksum and chunk of every file (names as in Files).
	FileInfo []ShardFile `json:"strataFiles"`
}

// ShardFile is one shard file in a backup.
type ShardFile struct {
	archive.FileInfo
	Chunk int `json:"chunk"`
}

// shardingState is the sharding-state document of a class, in Weaviate's
// shape; Strata reads back the shard names and tenant statuses.
func decodeJSON(b []byte, v any, what string) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("corrupted backup file: %s: %w", what, err)
	}
	return nil
}
