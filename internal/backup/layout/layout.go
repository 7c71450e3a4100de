// Package layout owns the names of every object a backup writes to a
// backend. Keys are relative to the backend's root (configured path or a
// per-request override); no other package builds backup keys.
//
//	<id>/backup_config.json          descriptor of the backup (written last with SUCCESS)
//	<id>/restore_config.json         descriptor of the latest restore of <id>
//	<id>/<node>/backup.json          the node's manifest: classes, shards, files, checksums
//	<id>/<node>/<Class>/chunk-<n>    archives of shard files, n = 1, 2, … per class
package layout

import (
	"path"
	"strconv"
	"strings"
)

// Names of the descriptor files.
const (
	BackupDescriptorName  = "backup_config.json"
	RestoreDescriptorName = "restore_config.json"
	NodeManifestName      = "backup.json"
)

// BackupDescriptor is the key of a backup's descriptor.
func BackupDescriptor(id string) string { return path.Join(id, BackupDescriptorName) }

// RestoreDescriptor is the key of the descriptor of a backup's latest restore.
func RestoreDescriptor(id string) string { return path.Join(id, RestoreDescriptorName) }

// NodeManifest is the key of a node's manifest.
func NodeManifest(id, node string) string { return path.Join(id, node, NodeManifestName) }

// Chunk is the key of chunk n of a class on a node.
func Chunk(id, node, class string, n int) string {
	return path.Join(id, node, ChunkKey(class, n))
}

// ChunkKey is a chunk's key relative to its node directory ("<Class>/chunk-<n>").
func ChunkKey(class string, n int) string {
	return path.Join(class, "chunk-"+strconv.Itoa(n))
}

// BackupIDOfDescriptor returns the id if key is "<id>/backup_config.json".
func BackupIDOfDescriptor(key string) (string, bool) {
	id, ok := strings.CutSuffix(key, "/"+BackupDescriptorName)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// EntryPrefix is the prefix of a shard's file names inside a chunk archive:
// "<lowercase class>/<shard>/", relative to the data root as in Weaviate.
func EntryPrefix(class, shard string) string {
	return strings.ToLower(class) + "/" + shard + "/"
}
