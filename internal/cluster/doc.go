// Package cluster is a server's place among several: who the other nodes
// are (membership and failure detection, on hashicorp/memberlist) and the
// state every node applies in the same order (a raft log, on
// hashicorp/raft with raft-boltdb). It knows nothing of schemas, shards or
// HTTP APIs; callers give it a StateMachine and commands as bytes.
package cluster
