package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup"
	"strata/internal/backup/jobs"
	"strata/internal/db"
	"strata/internal/metrics"
)

// A restore onto the cluster: the shards are placed on the current nodes
// (backup.PlaceRestore), every node downloads, verifies and places the
// shards it restores, and only then are the classes installed, in one
// schema change through the log. Whatever fails before the install, the
// nodes remove what they placed: no class appears anywhere.

// restorePlan is what a restore's record carries for its coordinator.
type restorePlan struct {
	CPUPercentage int                   `json:"cpuPercentage,omitempty"`
	Placed        []*backup.PlacedClass `json:"placed"`
}

// Restore checks a restore request, places the backup's shards on the
// current nodes, records the job through the log and waits until every
// node has started its part: it answers STARTED, or the refusal that ended
// the job (422).
func (c *Coordinator) Restore(ctx context.Context, backendName string, req backup.RestoreRequest) (backup.Info, error) {
	checked, err := c.opts.Local.CheckRestore(ctx, backendName, req)
	if err != nil {
		return backup.Info{}, err
	}
	placed, err := backup.PlaceRestore(checked.Descriptor, checked.Manifests, req.NodeMapping, c.opts.Cluster.Members(), checked.Classes)
	if err != nil {
		return backup.Info{}, err
	}
	if err := backup.Rename(placed, req.Rename); err != nil {
		return backup.Info{}, err
	}
	c.sync(ctx)
	var exists []string
	for _, pc := range placed {
		if cl := pc.Restored.Class.Class; c.opts.Local.ClassExists(cl) {
			exists = append(exists, fmt.Sprintf("%q: error when trying to restore class: class name %s already exists", cl, cl))
		}
	}
	if len(exists) > 0 {
		return backup.Info{}, apperr.Invalidf("could not restore classes: [%s]", strings.Join(exists, " "))
	}
	plan, err := json.Marshal(restorePlan{CPUPercentage: req.CPUPercentage, Placed: placed})
	if err != nil {
		return backup.Info{}, err
	}
	name, err := c.opts.Local.BackendName(backendName)
	if err != nil {
		return backup.Info{}, err
	}
	job := &jobs.Job{ID: req.ID, Kind: jobs.KindRestore, Backend: name, Bucket: req.Bucket, Path: req.Path,
		Classes: checked.Classes, Status: backup.StatusStarted, Nodes: map[string]*jobs.NodeState{},
		StartedAt: time.Now().UTC(), Request: plan}
	for _, pc := range placed {
		for _, to := range pc.Targets {
			job.Nodes[to] = &jobs.NodeState{}
		}
	}
	j, err := c.startJob(ctx, job)
	if err != nil {
		return backup.Info{}, err
	}
	info := c.info(j, checked.Location.Home(req.ID), checked.Location.Bucket)
	info.Status = backup.StatusStarted
	return info, nil
}

// RestoreStatus reads a cluster restore's record; restores the cluster
// has no record of are read from the backend.
func (c *Coordinator) RestoreStatus(ctx context.Context, backendName, id, bucket, path string) (backup.Info, error) {
	c.sync(ctx)
	if j, home, bkt, ok := c.record(jobs.KindRestore, backendName, id, bucket, path); ok {
		info := c.info(j, home, bkt)
		info.SizeBytes = 0
		return info, nil
	}
	return c.opts.Local.RestoreStatus(ctx, backendName, id, bucket, path)
}

// CancelRestore asks a running cluster restore to stop, before it
// installs its classes.
func (c *Coordinator) CancelRestore(ctx context.Context, backendName, id, bucket, path string) error {
	c.sync(ctx)
	j, _, _, ok := c.record(jobs.KindRestore, backendName, id, bucket, path)
	if !ok {
		return c.opts.Local.CancelRestore(ctx, backendName, id, bucket, path)
	}
	switch j.Status {
	case backup.StatusSuccess:
		return apperr.Invalidf("restore %q already succeeded", id)
	case backup.StatusFinalizing:
		return apperr.Invalidf("restore %q is applying schema changes and cannot be cancelled", id)
	}
	if j.Terminal() {
		return nil
	}
	_, err := c.opts.Cluster.ProposeJob(ctx, jobs.Command{Op: jobs.OpCancel, Kind: jobs.KindRestore, ID: id, Error: "restore canceled by user"})
	var invalid *jobs.InvalidError
	if errors.As(err, &invalid) {
		return nil
	}
	return err
}

// restoreDriver runs one restore on the leader.
type restoreDriver struct {
	jobDriver
	plan restorePlan
}

func (c *Coordinator) driveRestore(j *jobs.Job) {
	defer c.wg.Done()
	defer c.undrive(j)
	ctx, cancel := c.runContext()
	defer cancel()
	j, epoch, previous, ok := c.claim(ctx, j)
	if !ok {
		return
	}
	d := &restoreDriver{jobDriver: jobDriver{c: c, job: j, epoch: epoch, described: j.Committed}}
	if err := json.Unmarshal(j.Request, &d.plan); err != nil {
		d.end(ctx, backup.StatusFailed, fmt.Sprintf("restore %s: unreadable plan in the job record: %v", j.ID, err))
		return
	}
	loc, err := c.opts.Local.Locate(j.Backend, j.ID, j.Bucket, j.Path)
	if err != nil {
		d.end(ctx, backup.StatusFailed, err.Error())
		return
	}
	d.loc = loc
	switch {
	case j.Status == backup.StatusStarted && previous != "":
		d.end(ctx, backup.StatusFailed, fmt.Sprintf("the coordinator %s stopped while the nodes started the restore", previous))
		return
	case j.Status == backup.StatusStarted:
		if !d.start(ctx) {
			return
		}
	case j.Status == backup.StatusFinalizing:
		d.resumeInstall(ctx)
		return
	}
	d.follow(ctx)
}

// start starts every node's part; it reports whether the restore goes on.
func (d *restoreDriver) start(ctx context.Context) bool {
	nodes, errs := d.each(func(n string) error {
		cctx, cancel := context.WithTimeout(ctx, prepareTimeout)
		defer cancel()
		return d.c.opts.Parts.StartRestore(cctx, n, backup.RestorePartRequest{ID: d.job.ID, Backend: d.job.Backend,
			Bucket: d.job.Bucket, Path: d.job.Path, Shards: backup.ShardsOn(d.plan.Placed, n), CPUPercentage: d.plan.CPUPercentage})
	})
	for i, err := range errs {
		if err != nil {
			d.end(ctx, backup.StatusFailed, nodeError(nodes[i], err))
			return false
		}
	}
	if d.propose(ctx, jobs.Command{Op: jobs.OpCommit}) != nil {
		return false
	}
	d.described = true
	d.putDescriptor(ctx, backup.StatusTransferring, "")
	return d.propose(ctx, jobs.Command{Op: jobs.OpStatus, Status: backup.StatusTransferring}) == nil
}

// follow polls the parts until each has placed its shards, then installs.
func (d *restoreDriver) follow(ctx context.Context) {
	status := func(ctx context.Context, n string) (backup.PartState, error) {
		return d.c.opts.Parts.RestoreStatus(ctx, n, d.job.ID)
	}
	cancelled := func(j *jobs.Job) {
		d.job = j
		d.end(ctx, backup.StatusCanceled, j.Error)
	}
	d.c.follow(ctx, jobs.KindRestore, d.job.ID, d.epoch, status, cancelled, func(j *jobs.Job, states map[string]backup.PartState, reason string) bool {
		d.job = j
		if reason != "" {
			d.end(ctx, backup.StatusFailed, reason)
			return true
		}
		if !d.record(ctx, states) {
			return true
		}
		placed := 0
		for _, st := range states {
			if st.Status == backup.StatusTransferred {
				placed++
			}
		}
		if placed < len(j.Nodes) {
			return false
		}
		d.install(ctx)
		return true
	})
}

// classes are the restore's classes as the database installs them.
func (d *restoreDriver) classes() []db.RestoredClass {
	out := make([]db.RestoredClass, len(d.plan.Placed))
	for i, pc := range d.plan.Placed {
		out[i] = pc.Restored
	}
	return out
}

// install registers the classes through the log: from FINALIZING on the
// restore cannot be cancelled.
func (d *restoreDriver) install(ctx context.Context) {
	if d.propose(ctx, jobs.Command{Op: jobs.OpStatus, Status: backup.StatusFinalizing}) != nil {
		return
	}
	d.putDescriptor(ctx, backup.StatusFinalizing, "")
	d.c.log.Info("restore placed on every node; installing the classes", "id", d.job.ID, "since start", time.Since(d.job.StartedAt))
	if err := d.c.opts.Local.InstallPlaced(ctx, d.classes()); err != nil {
		d.end(ctx, backup.StatusFailed, "could not restore classes: "+err.Error())
		return
	}
	d.end(ctx, backup.StatusSuccess, "")
}

// resumeInstall ends a restore whose coordinator stopped while it
// installed: SUCCESS if the install committed, else FAILED.
func (d *restoreDriver) resumeInstall(ctx context.Context) {
	for _, pc := range d.plan.Placed {
		if !d.c.opts.Local.ClassExists(pc.Restored.Class.Class) {
			d.end(ctx, backup.StatusFailed, "the coordinator stopped while it installed the classes")
			return
		}
	}
	d.end(ctx, backup.StatusSuccess, "")
}

// end finishes (after a success) or aborts every part, writes the final
// descriptor and records the end.
func (d *restoreDriver) end(ctx context.Context, status backup.Status, reason string) {
	if status != backup.StatusSuccess {
		d.c.log.Warn("restore failed", "id", d.job.ID, "status", status, "reason", reason)
	}
	d.each(func(n string) error {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		if status == backup.StatusSuccess {
			return d.c.opts.Parts.FinishRestore(cctx, n, d.job.ID)
		}
		return d.c.opts.Parts.AbortRestore(cctx, n, d.job.ID, reason)
	})
	if d.described {
		d.putDescriptor(ctx, status, reason)
	}
	if err := d.propose(ctx, jobs.Command{Op: jobs.OpStatus, Status: status, Error: reason, At: time.Now().UTC()}); err != nil {
		d.c.log.Warn("record the end of a restore", "id", d.job.ID, "status", status, "err", err)
		return
	}
	d.c.log.Info("restore ended", "id", d.job.ID, "status", status, "took", time.Since(d.job.StartedAt))
	metrics.JobEnded("restore", d.job.Backend, string(status), time.Since(d.job.StartedAt))
}

func (d *restoreDriver) putDescriptor(ctx context.Context, status backup.Status, reason string) {
	if d.loc == nil {
		return
	}
	desc := d.c.opts.Local.NewDescriptor(d.job.ID, "", d.job.StartedAt)
	desc.Status, desc.Error = status, reason
	if status.Terminal() {
		desc.CompletedAt = time.Now().UTC()
	}
	for _, n := range sortedNodes(d.job.Nodes) {
		desc.Nodes[n] = &backup.NodeStatus{Classes: d.job.Classes, Status: status, Error: reason}
	}
	if err := d.c.opts.Local.PutRestoreDescriptor(ctx, d.loc, desc); err != nil {
		d.c.log.Warn("write the restore descriptor", "id", d.job.ID, "err", err)
	}
}
