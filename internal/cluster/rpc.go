package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The internal RPC (RAFT_INTERNAL_RPC_PORT) carries writes from any node
// to the leader: plain HTTP/JSON, one endpoint.
const (
	applyPath   = "/cluster/v1/apply"
	appliedPath = "/cluster/v1/applied"
)

// maxCommandBytes bounds a forwarded command.
const maxCommandBytes = 64 << 20

type applyRequest struct {
	Command []byte `json:"command"`
}

type applyResponse struct {
	Result []byte `json:"result,omitempty"`
	Index  uint64 `json:"index"`
	Error  string `json:"error,omitempty"`
	// NotLeader is set when the node asked does not lead (any more).
	NotLeader bool `json:"notLeader,omitempty"`
}

// CommandError is a command's own failure, as the state machine returned
// it on the leader.
type CommandError struct{ Msg string }

func (e *CommandError) Error() string { return e.Msg }

// Replica applies commands from any node: locally on the leader,
// forwarded to the leader elsewhere.
type Replica struct {
	Raft *Raft
	// ResolveRPC finds a node's internal RPC address (from membership).
	ResolveRPC func(id string) (string, bool)
	Client     *http.Client
	Auth       BasicAuth
}

// Handler serves the internal RPC.
func (rp *Replica) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+applyPath, func(w http.ResponseWriter, r *http.Request) {
		var req applyRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, maxCommandBytes)).Decode(&req); err != nil {
			http.Error(w, "bad apply request: "+err.Error(), http.StatusBadRequest)
			return
		}
		out, index, err := rp.Raft.ApplyLocal(r.Context(), req.Command)
		resp := applyResponse{Result: out, Index: index}
		switch {
		case errors.Is(err, ErrNotLeader):
			resp.NotLeader = true
		case err != nil && index == 0: // the log failed, not the command
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		case err != nil:
			resp.Error = err.Error()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	mux.HandleFunc("GET "+appliedPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(applyResponse{Index: rp.Raft.AppliedIndex(), NotLeader: !rp.Raft.IsLeader()})
	})
	return rp.Auth.Wrap(mux)
}

// Sync waits until this node has applied every write the leader has
// acknowledged (the leader applies a write before it answers), so that a
// read here sees them: a barrier for reads on a follower. On the leader it
// returns at once.
func (rp *Replica) Sync(ctx context.Context) error {
	backoff := 20 * time.Millisecond
	for {
		index, err := rp.leaderApplied(ctx)
		if err == nil {
			return rp.Raft.WaitApplied(ctx, index)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sync with the raft leader (%v): %w", err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// leaderApplied asks the leader for the last index it applied.
func (rp *Replica) leaderApplied(ctx context.Context) (uint64, error) {
	if rp.Raft.IsLeader() {
		return 0, nil
	}
	leader := rp.Raft.Leader()
	if leader == "" {
		return 0, errors.New("no leader")
	}
	addr, ok := rp.ResolveRPC(leader)
	if !ok {
		return 0, fmt.Errorf("leader %s is not a known member", leader)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+appliedPath, nil)
	if err != nil {
		return 0, err
	}
	rp.Auth.Set(req)
	resp, err := rp.client().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("leader %s: %s", leader, resp.Status)
	}
	var ar applyResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&ar); err != nil {
		return 0, fmt.Errorf("leader %s: %w", leader, err)
	}
	if ar.NotLeader {
		return 0, fmt.Errorf("%s no longer leads", leader)
	}
	return ar.Index, nil
}

func (rp *Replica) client() *http.Client {
	if rp.Client == nil {
		return http.DefaultClient
	}
	return rp.Client
}

// Apply applies cmd through the leader, wherever it is, and returns the
// state machine's result once this node has applied the command too, so
// that a read here right after sees it. It retries while there is no
// leader (an election) until ctx ends. A *CommandError is the command's
// own failure.
func (rp *Replica) Apply(ctx context.Context, cmd []byte) ([]byte, error) {
	backoff := 20 * time.Millisecond
	for {
		out, index, retry, err := rp.applyOnce(ctx, cmd)
		if !retry {
			if index > 0 {
				if werr := rp.Raft.WaitApplied(ctx, index); werr != nil {
					return nil, werr
				}
			}
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("apply: no raft leader answered (%v): %w", err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// applyOnce tries the current leader once; retry tells whether to try
// again (no leader yet, leadership moved, leader unreachable).
func (rp *Replica) applyOnce(ctx context.Context, cmd []byte) (out []byte, index uint64, retry bool, err error) {
	leader := rp.Raft.Leader()
	if leader == "" {
		return nil, 0, true, errors.New("no leader")
	}
	if rp.Raft.IsLeader() {
		out, index, err := rp.Raft.ApplyLocal(ctx, cmd)
		if errors.Is(err, ErrNotLeader) {
			return nil, 0, true, err
		}
		if err != nil && index > 0 {
			err = &CommandError{Msg: err.Error()}
		}
		return out, index, false, err
	}
	addr, ok := rp.ResolveRPC(leader)
	if !ok {
		return nil, 0, true, fmt.Errorf("leader %s is not a known member", leader)
	}
	body, err := json.Marshal(applyRequest{Command: cmd})
	if err != nil {
		return nil, 0, false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+applyPath, bytes.NewReader(body))
	if err != nil {
		return nil, 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	rp.Auth.Set(req)
	resp, err := rp.client().Do(req)
	if err != nil { // Apply retries until its context ends
		return nil, 0, true, fmt.Errorf("forward to leader %s: %w", leader, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, 0, true, fmt.Errorf("leader %s: %s: %s", leader, resp.Status, bytes.TrimSpace(msg))
	}
	var ar applyResponse
	if err := json.NewDecoder(resp.Body).Decode(&ar); err != nil {
		return nil, 0, true, fmt.Errorf("leader %s: %w", leader, err)
	}
	if ar.NotLeader {
		return nil, 0, true, fmt.Errorf("%s no longer leads", leader)
	}
	if ar.Error != "" {
		return ar.Result, ar.Index, false, &CommandError{Msg: ar.Error}
	}
	return ar.Result, ar.Index, false, nil
}
