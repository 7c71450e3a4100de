// Package layout owns the names of every object a backup writes to a
// backend. Keys are relative to the backend's root (configured path or a
// per-request override); no other package builds backup keys.
//
//	<id>/backup_config.json          descriptor of the backup (written last with SUCCESS)
//	<id>/restore_config.json         descriptor of the latest restore of <id>
//	<id>/<node>/backup.json          the node's manifest: classes, shards, files, checksums
//	<id>/cluster-probe-<token>       a cluster backup's shared-location probe (removed after the check)
//	<id>/<node>/<Class>/chunk-<n>    archives of shard files, n = 1, 2, … per class
package layout

import (
	"errors"
	"fmt"
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

// Probe is the key of the object a cluster backup's coordinator writes for
// every node to read, to tell that they share the location.
func Probe(id, token string) string { return path.Join(id, "cluster-probe-"+token) }

// ChunkKey is a chunk's key relative to its node directory ("<Class>/chunk-<n>").
func ChunkKey(class string, n int) string {
	return path.Join(class, "chunk-"+strconv.Itoa(n))
}

// EntryPrefix is the prefix of a shard's file names inside a chunk archive:
// "<lowercase class>/<shard>/", relative to the data root as in Weaviate.
func EntryPrefix(class, shard string) string {
	return strings.ToLower(class) + "/" + shard + "/"
}

// MaxIDLength is the longest backup id (and node name): an id is one path
// segment on a filesystem backend and in the local job files (NAME_MAX is
// 255 bytes), and a key such as <id>/<node>/<Class>/chunk-<n> under a root
// path must stay within the 1,024 bytes an S3 key may have.
const MaxIDLength = 128

// CheckID applies the backup id rule: 1 to MaxIDLength characters of
// lowercase letters, digits, _ and -. The error says what is wrong.
func CheckID(id string) error {
	if id == "" {
		return errors.New("'id' is required: set \"id\" to a name of lowercase letters, 0-9, _ and -")
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("'%s' allowed characters are lowercase, 0-9, _, -", id)
		}
	}
	if len(id) > MaxIDLength {
		return fmt.Errorf("'%s…' is %d characters long; at most %d are allowed", id[:32], len(id), MaxIDLength)
	}
	return nil
}

// CheckNode applies the node name rule: a node name is a path segment of
// every backup (<id>/<node>/…), so it is 1 to MaxIDLength characters of
// letters, digits, _, - and . and neither "." nor "..".
func CheckNode(name string) error {
	if name == "" {
		return errors.New("must not be empty")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("%q: allowed characters are letters, 0-9, _, - and .", name)
		}
	}
	if name == "." || name == ".." {
		return fmt.Errorf("%q is not a valid node name", name)
	}
	if len(name) > MaxIDLength {
		return fmt.Errorf("%q is %d characters long; at most %d are allowed", name, len(name), MaxIDLength)
	}
	return nil
}
