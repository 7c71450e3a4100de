package dataport

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"strata/internal/cluster"
	"strata/internal/db"
)

// Local is the database as the server uses it: this node's shards.
type Local interface {
	LocalShard(class, shard string, fn func(db.ShardOps) error) error
	Shards(class string) ([]db.ShardInfo, error)
}

// Server answers other nodes' shard operations with this node's shards.
type Server struct {
	Local Local
	// Sync waits until this node has applied the schema the leader
	// acknowledged. A request for a class or shard this node does not
	// know yet (the change that placed it here is still on its way) is
	// tried once more after it.
	Sync func(ctx context.Context) error
	// Parts serves this node's parts of cluster backups (nil: refused).
	Parts  Parts
	Auth   cluster.BasicAuth
	Logger *slog.Logger
}

// Handler serves the data port.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathPrefix+"{op}", s.serve)
	mux.HandleFunc("POST "+nodeShardsPath, s.serveShards)
	mux.HandleFunc("POST "+partsPath, s.serveParts)
	return s.Auth.Wrap(mux)
}

// withDeadline applies the caller's deadline (timeoutHeader) to the
// request's context and to the connection.
func withDeadline(w http.ResponseWriter, r *http.Request) (context.Context, context.CancelFunc) {
	ms, err := strconv.ParseInt(r.Header.Get(timeoutHeader), 10, 64)
	if err != nil || ms <= 0 {
		return r.Context(), func() {}
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(ms)*time.Millisecond)
	// The caller is gone at the deadline: stop reading and writing too.
	deadline, _ := ctx.Deadline()
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(deadline)
	rc.SetWriteDeadline(deadline)
	return ctx, cancel
}

func (s *Server) serveShards(w http.ResponseWriter, r *http.Request) {
	_, cancel := withDeadline(w, r)
	defer cancel()
	var req shardsRequest
	if err := gob.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad shards request: "+err.Error(), http.StatusBadRequest)
		return
	}
	shards, err := s.Local.Shards(req.Class)
	w.Header().Set("Content-Type", "application/x-gob")
	gob.NewEncoder(w).Encode(shardsResponse{Err: toWirePtr(err), Shards: shards})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op := r.PathValue("op")
	if !knownOp(op) {
		http.Error(w, fmt.Sprintf("unknown shard operation %q", op), http.StatusNotFound)
		return
	}
	ctx, cancel := withDeadline(w, r)
	defer cancel()
	var req request
	if err := gob.NewDecoder(io.LimitReader(r.Body, maxRequestBytes)).Decode(&req); err != nil {
		http.Error(w, "bad shard request: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp := s.run(ctx, op, &req)
	w.Header().Set("Content-Type", "application/x-gob")
	if err := gob.NewEncoder(w).Encode(resp); err != nil && s.Logger != nil {
		s.Logger.Debug("data port: answer not sent", "op", op, "class", req.Class, "shard", req.Shard, "err", err)
	}
}

// run runs the operation on the local shard, once more after a schema
// sync when the shard is not known here yet.
func (s *Server) run(ctx context.Context, op string, req *request) *response {
	var resp response
	attempt := func() error {
		resp = response{}
		return s.Local.LocalShard(req.Class, req.Shard, func(ops db.ShardOps) error {
			return apply(ctx, op, ops, req, &resp)
		})
	}
	err := attempt()
	if (errors.Is(err, db.ErrClassNotFound) || errors.Is(err, db.ErrShardNotLocal)) && s.Sync != nil {
		if serr := s.Sync(ctx); serr == nil {
			err = attempt()
		}
	}
	if err != nil {
		resp = response{Err: toWirePtr(err)}
	}
	return &resp
}

func knownOp(op string) bool {
	switch op {
	case opInsert, opPut, opGet, opDelete, opFind, opCount, opMatch:
		return true
	}
	return false
}

// apply runs one operation on ops, filling resp.
func apply(ctx context.Context, op string, ops db.ShardOps, req *request, resp *response) error {
	switch op {
	case opInsert:
		if len(req.Objects) != 1 {
			return errors.New("insert takes one object")
		}
		return ops.Insert(ctx, req.Objects[0])
	case opPut:
		errs, err := ops.Put(ctx, req.Objects)
		if err != nil {
			return err
		}
		resp.ObjErrs = make([]wireError, len(errs))
		for i, e := range errs {
			resp.ObjErrs[i] = toWire(e)
		}
		return nil
	case opGet:
		if len(req.IDs) != 1 {
			return errors.New("get takes one id")
		}
		o, err := ops.Get(ctx, req.IDs[0], req.WithVectors)
		resp.Object = o
		return err
	case opDelete:
		return ops.Delete(ctx, req.IDs)
	case opFind:
		hits, err := ops.Find(ctx, req.Query)
		resp.Hits = hits
		return err
	case opCount:
		n, err := ops.Count(ctx, req.Where)
		resp.Count = n
		return err
	case opMatch:
		ids, err := ops.Match(ctx, req.Where, req.Limit)
		resp.IDs = ids
		return err
	}
	return fmt.Errorf("unknown shard operation %q", op)
}
