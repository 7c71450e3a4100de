package dataport

import (
	"context"
	"encoding/gob"
	"fmt"
	"io"
	"net/http"

	"strata/internal/backup"
)

// Parts is this node's parts of cluster backups, as the coordinator on
// another node drives them (backup.Manager).
type Parts interface {
	PreparePart(ctx context.Context, req backup.PartRequest) error
	CommitPart(ctx context.Context, id string) error
	PartStatus(ctx context.Context, req backup.PartRequest) (backup.PartState, error)
	AbortPart(id, reason string)
	StartRestorePart(ctx context.Context, req backup.RestorePartRequest) error
	RestorePartStatus(id string) backup.PartState
	AbortRestorePart(id, reason string)
	FinishRestorePart(id string)
}

const partsPath = "/backup/v1/part"

// Part operations.
const (
	partPrepare = "prepare"
	partCommit  = "commit"
	partStatus  = "status"
	partAbort   = "abort"

	restoreStart  = "restore-start"
	restoreStatus = "restore-status"
	restoreAbort  = "restore-abort"
	restoreFinish = "restore-finish"
)

type partRequest struct {
	Op      string
	Req     backup.PartRequest
	Restore backup.RestorePartRequest // restore-start
	Reason  string                    // abort
}

type partResponse struct {
	Err   *wireError
	State backup.PartState
}

func (s *Server) serveParts(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := withDeadline(w, r)
	defer cancel()
	if s.Parts == nil {
		http.Error(w, "this node takes no part in backups yet", http.StatusServiceUnavailable)
		return
	}
	var req partRequest
	if err := gob.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad part request: "+err.Error(), http.StatusBadRequest)
		return
	}
	var resp partResponse
	var err error
	switch req.Op {
	case partPrepare:
		err = s.Parts.PreparePart(ctx, req.Req)
	case partCommit:
		err = s.Parts.CommitPart(ctx, req.Req.ID)
	case partStatus:
		resp.State, err = s.Parts.PartStatus(ctx, req.Req)
	case partAbort:
		s.Parts.AbortPart(req.Req.ID, req.Reason)
	case restoreStart:
		err = s.Parts.StartRestorePart(ctx, req.Restore)
	case restoreStatus:
		resp.State = s.Parts.RestorePartStatus(req.Req.ID)
	case restoreAbort:
		s.Parts.AbortRestorePart(req.Req.ID, req.Reason)
	case restoreFinish:
		s.Parts.FinishRestorePart(req.Req.ID)
	default:
		err = fmt.Errorf("unknown part operation %q", req.Op)
	}
	resp.Err = toWirePtr(err)
	w.Header().Set("Content-Type", "application/x-gob")
	gob.NewEncoder(w).Encode(resp)
}

// part sends one part operation to node.
func (c *Client) part(ctx context.Context, node string, req partRequest) (backup.PartState, error) {
	var resp partResponse
	if err := c.post(ctx, node, partsPath, req, &resp); err != nil {
		return backup.PartState{}, fmt.Errorf("node %s: backup %s: %w", node, req.Op, err)
	}
	if resp.Err != nil {
		return backup.PartState{}, resp.Err.err(node)
	}
	return resp.State, nil
}

// PreparePart prepares node's part of a backup.
func (c *Client) PreparePart(ctx context.Context, node string, req backup.PartRequest) error {
	_, err := c.part(ctx, node, partRequest{Op: partPrepare, Req: req})
	return err
}

// CommitPart starts node's prepared part of backup id.
func (c *Client) CommitPart(ctx context.Context, node, id string) error {
	_, err := c.part(ctx, node, partRequest{Op: partCommit, Req: backup.PartRequest{ID: id}})
	return err
}

// PartStatus reads node's part of a backup.
func (c *Client) PartStatus(ctx context.Context, node string, req backup.PartRequest) (backup.PartState, error) {
	return c.part(ctx, node, partRequest{Op: partStatus, Req: req})
}

// AbortPart stops node's part of backup id.
func (c *Client) AbortPart(ctx context.Context, node, id, reason string) error {
	_, err := c.part(ctx, node, partRequest{Op: partAbort, Req: backup.PartRequest{ID: id}, Reason: reason})
	return err
}

// StartRestorePart starts node's part of a cluster restore.
func (c *Client) StartRestorePart(ctx context.Context, node string, req backup.RestorePartRequest) error {
	_, err := c.part(ctx, node, partRequest{Op: restoreStart, Restore: req})
	return err
}

// RestorePartStatus reads node's part of restore id.
func (c *Client) RestorePartStatus(ctx context.Context, node, id string) (backup.PartState, error) {
	return c.part(ctx, node, partRequest{Op: restoreStatus, Req: backup.PartRequest{ID: id}})
}

// AbortRestorePart stops node's part of restore id.
func (c *Client) AbortRestorePart(ctx context.Context, node, id, reason string) error {
	_, err := c.part(ctx, node, partRequest{Op: restoreAbort, Req: backup.PartRequest{ID: id}, Reason: reason})
	return err
}

// FinishRestorePart ends node's part of restore id after the install.
func (c *Client) FinishRestorePart(ctx context.Context, node, id string) error {
	_, err := c.part(ctx, node, partRequest{Op: restoreFinish, Req: backup.PartRequest{ID: id}})
	return err
}
