// Package dataport carries one node's shard operations to the node that
// holds the shard, over CLUSTER_DATA_BIND_PORT: the Server answers other
// nodes with this node's shards, the Client is the database's Remote.
//
// One POST per operation, gob-encoded both ways (nodes talk only to nodes
// of the same build). Every call has a deadline: the caller's context, or
// Client.Timeout when it has none sooner. It cuts the connection on the
// caller's side and is sent along, so the server stops working and
// writing when the caller has given up. Errors keep their kind (invalid
// input stays a 422 wherever the shard is).
package dataport

import (
	"errors"
	"fmt"

	"github.com/google/uuid"

	"strata/internal/db"
	"strata/internal/filter"
	"strata/internal/shard"
)

// Operations, each a path under pathPrefix.
const (
	opInsert = "insert"
	opPut    = "put"
	opGet    = "get"
	opDelete = "delete"
	opFind   = "find"
	opCount  = "count"
	opMatch  = "match"
)

const pathPrefix = "/shards/v1/"

// nodeShardsPath lists a node's shards (for /v1/nodes).
const nodeShardsPath = "/node/v1/shards"

// timeoutHeader carries the caller's remaining time in milliseconds.
const timeoutHeader = "X-Strata-Timeout-Ms"

// maxRequestBytes bounds one request body (a forwarded batch).
const maxRequestBytes = 1 << 30

// request is one operation on one shard; the fields the operation uses
// are set.
type request struct {
	Class, Shard string
	Objects      []*shard.Object // insert (one), put
	IDs          []uuid.UUID     // get (one), delete
	WithVectors  bool
	Query        db.ShardQuery
	Where        *filter.Clause // count, match
	Limit        int            // match
}

// shardsRequest asks for a node's shards of a class ("" = all).
type shardsRequest struct{ Class string }

// shardsResponse is a node's shards.
type shardsResponse struct {
	Err    *wireError
	Shards []db.ShardInfo
}

// response is an operation's answer; Err is the operation's failure.
type response struct {
	Err     *wireError
	Object  *shard.Object // get; nil: not found
	ObjErrs []wireError   // put: one per object, Set when it failed
	Hits    []db.ShardHit
	Count   int64
	IDs     []uuid.UUID
}

// wireError is an error as it crosses nodes: its kind and message, and
// whether it means the class is unknown.
type wireError struct {
	Set           bool
	Kind          db.Kind
	Msg           string
	ClassNotFound bool
}

func toWire(err error) wireError {
	if err == nil {
		return wireError{}
	}
	return wireError{Set: true, Kind: db.KindOf(err), Msg: err.Error(), ClassNotFound: errors.Is(err, db.ErrClassNotFound)}
}

// toWirePtr is toWire for the response's own error.
func toWirePtr(err error) *wireError {
	if err == nil {
		return nil
	}
	w := toWire(err)
	return &w
}

// err rebuilds the error on the calling node: a *db.Error of the same
// kind; a server fault names the node.
func (w wireError) err(node string) error {
	switch {
	case !w.Set:
		return nil
	case w.ClassNotFound:
		return &db.Error{Kind: db.KindNotFound, Msg: w.Msg, Err: db.ErrClassNotFound}
	case w.Kind == db.KindInternal:
		return fmt.Errorf("node %s: %s", node, w.Msg)
	}
	return &db.Error{Kind: w.Kind, Msg: w.Msg}
}
