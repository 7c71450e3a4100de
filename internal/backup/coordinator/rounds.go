package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup"
	"strata/internal/backup/jobs"
)

// fanOut calls fn for every node concurrently; errs[i] is nodes[i]'s.
func fanOut(nodes []string, fn func(node string) error) []error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = fn(n) })
	}
	wg.Wait()
	return errs
}

// startJob records a new job and waits until it has left its first phase:
// it returns the job, or the refusal that ended it (422).
func (c *Coordinator) startJob(ctx context.Context, job *jobs.Job) (*jobs.Job, error) {
	_, err := c.opts.Cluster.ProposeJob(ctx, jobs.Command{Op: jobs.OpStart, Kind: job.Kind, ID: job.ID, Job: job})
	var invalid *jobs.InvalidError
	if errors.As(err, &invalid) {
		return nil, apperr.Invalidf("%s", invalid.Msg)
	}
	if err != nil {
		return nil, fmt.Errorf("record %s job: %w", job.Kind, err)
	}
	j, err := c.waitStarted(ctx, job.Kind, job.ID)
	if err != nil {
		return nil, err
	}
	if j.Terminal() && !j.Committed {
		return nil, apperr.Invalidf("%s", j.Error)
	}
	return j, nil
}

// rounds polls a job's parts and tells when one makes the job fail: a
// part that failed, a node that lost its part (it restarted), a node that
// has not answered for the node timeout, or a part that has moved no byte
// for the stall timeout.
type rounds struct {
	c      *Coordinator
	what   string // "backup" or "restore", for reasons
	start  time.Time
	lastOK map[string]time.Time
	moving map[string]progress // the last change of each part's progress
}

// progress is a part's progress and when it was first seen.
type progress struct {
	status backup.Status
	moved  int64
	since  time.Time
}

func (c *Coordinator) newRounds(what string) *rounds {
	return &rounds{c: c, what: what, start: time.Now(), lastOK: map[string]time.Time{}, moving: map[string]progress{}}
}

// stalled tells whether a part that answers has made no progress for the
// stall timeout. A part that is done (uploaded, or placed and waiting for
// the install) is not stalled.
func (r *rounds) stalled(n string, st backup.PartState, now time.Time) bool {
	if st.Status == backup.StatusSuccess || st.Status == backup.StatusTransferred {
		return false
	}
	last, seen := r.moving[n]
	if !seen || last.status != st.Status || last.moved != st.Moved {
		since := now
		if !seen {
			since = r.start
		}
		r.moving[n] = progress{status: st.Status, moved: st.Moved, since: since}
		return false
	}
	return now.Sub(last.since) > r.c.opts.StallTimeout
}

// poll asks every node for its part's state (each call within
// callTimeout); reason is set when the job must fail. The states of the
// nodes that answered are returned.
func (r *rounds) poll(ctx context.Context, nodes []string, status func(ctx context.Context, node string) (backup.PartState, error)) (states map[string]backup.PartState, reason string) {
	var mu sync.Mutex
	states = map[string]backup.PartState{}
	errs := fanOut(nodes, func(n string) error {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		st, err := status(cctx, n)
		if err == nil {
			mu.Lock()
			states[n] = st
			mu.Unlock()
		}
		return err
	})
	for i, n := range nodes {
		if err := errs[i]; err != nil {
			since := r.lastOK[n]
			if since.IsZero() {
				since = r.start
			}
			if time.Since(since) > r.c.opts.NodeTimeout {
				last := strings.TrimPrefix(err.Error(), "node "+n+": ")
				return nil, fmt.Sprintf("node %s did not answer for %s: %s", n, r.c.opts.NodeTimeout, last)
			}
			continue
		}
		now := time.Now()
		r.lastOK[n] = now
		switch st := states[n]; {
		case !st.Known:
			return nil, fmt.Sprintf("node %s lost its part of the %s: it restarted", n, r.what)
		case st.Status == backup.StatusFailed || st.Status == backup.StatusCanceled:
			return nil, nodeError(n, errors.New(st.Error))
		case r.stalled(n, st, now):
			return nil, fmt.Sprintf("node %s moved no byte of its part of the %s for %s (%d bytes in all)", n, r.what, r.c.opts.StallTimeout, st.Moved)
		}
	}
	return states, ""
}

// follow runs status rounds for a job until it ends, this node stops
// leading or its epoch is over. Each round calls step with the current
// record and either the nodes' states or the reason the job must fail;
// step returns true when it ended the job. A cancel is handed to
// cancelled.
func (c *Coordinator) follow(ctx context.Context, kind jobs.Kind, id string, epoch uint64,
	status func(ctx context.Context, node string) (backup.PartState, error),
	cancelled func(j *jobs.Job), step func(j *jobs.Job, states map[string]backup.PartState, reason string) bool) {
	r := c.newRounds(string(kind))
	tick := time.NewTicker(c.opts.Poll)
	defer tick.Stop()
	for {
		j, ok := c.opts.Cluster.Jobs().Get(kind, id)
		if !ok || j.Terminal() || j.Epoch != epoch || !c.opts.Cluster.IsLeader() {
			return
		}
		if j.Status == backup.StatusCancelling {
			cancelled(j)
			return
		}
		states, reason := r.poll(ctx, sortedNodes(j.Nodes), status)
		if ctx.Err() != nil || step(j, states, reason) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
