// Package coordinator runs a cluster's backups: the raft leader drives
// every job recorded in the replicated job table (internal/backup/jobs)
// through its phases, talking to each node's part (backup.Manager's
// PreparePart, CommitPart, PartStatus, AbortPart) through Participants.
//
// A job is prepared on every node (each checks the request, reserves its
// slot, snapshots its shards and reads the coordinator's probe, so all
// see the same location), then committed: each node uploads its own
// shards and writes <id>/<node>/backup.json; the descriptor with SUCCESS
// is written last. Whatever fails, the job ends: a node that fails, that
// restarted (it has lost its part), that does not answer for NodeTimeout
// or whose part moves no byte for StallTimeout fails it with a reason
// naming the node; a cancel is a
// record written through the log, so it works whichever node died; a new
// leader takes over every job that has not ended (a job caught in its
// prepare phase fails, as its reservations may be gone).
package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup"
	"strata/internal/backup/jobs"
	"strata/internal/metrics"
)

// Cluster is what the coordinator needs of the cluster.
type Cluster interface {
	Name() string
	// Members lists every node, sorted.
	Members() []string
	IsLeader() bool
	// Sync waits until this node has applied what the leader has.
	Sync(ctx context.Context) error
	Jobs() *jobs.Table
	ProposeJob(ctx context.Context, c jobs.Command) (jobs.Result, error)
}

// Participants reaches each node's part of a backup (this node's too).
type Participants interface {
	Prepare(ctx context.Context, node string, req backup.PartRequest) error
	Commit(ctx context.Context, node, id string) error
	Status(ctx context.Context, node string, req backup.PartRequest) (backup.PartState, error)
	Abort(ctx context.Context, node, id, reason string) error

	StartRestore(ctx context.Context, node string, req backup.RestorePartRequest) error
	RestoreStatus(ctx context.Context, node, id string) (backup.PartState, error)
	AbortRestore(ctx context.Context, node, id, reason string) error
	FinishRestore(ctx context.Context, node, id string) error
}

// Defaults.
const (
	DefaultNodeTimeout  = 60 * time.Second
	DefaultStallTimeout = 10 * time.Minute
	defaultPoll         = 100 * time.Millisecond
	// callTimeout bounds one call to a participant.
	callTimeout = 5 * time.Second
	// prepareTimeout bounds a participant's prepare (it snapshots).
	prepareTimeout = 30 * time.Second
	// createWait bounds how long a create waits for the prepare phase.
	createWait = 45 * time.Second
)

// Options configure a Coordinator.
type Options struct {
	Cluster Cluster
	Parts   Participants
	// Local is this node's backup manager: checks, descriptors, and what
	// is not a cluster job (list, restores) are its.
	Local *backup.Manager
	// NodeTimeout is how long a participant may stay silent before its
	// job fails (0: DefaultNodeTimeout).
	NodeTimeout time.Duration
	// StallTimeout is how long a participant that answers may move no
	// byte before its job fails (0: DefaultStallTimeout).
	StallTimeout time.Duration
	Poll         time.Duration // between two status rounds (0: 100 ms)
	Logger       *slog.Logger
}

// Coordinator answers the backup API of a node of a cluster and, while
// this node leads, drives the cluster's jobs.
type Coordinator struct {
	*backup.Manager // list, restore and meta are the local manager's
	opts            Options
	log             *slog.Logger

	mu      sync.Mutex
	driving map[string]bool // "<kind>/<id>" of the jobs this node drives
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
}

// New starts a coordinator; Close stops it.
func New(opts Options) *Coordinator {
	if opts.NodeTimeout <= 0 {
		opts.NodeTimeout = DefaultNodeTimeout
	}
	if opts.StallTimeout <= 0 {
		opts.StallTimeout = DefaultStallTimeout
	}
	if opts.Poll <= 0 {
		opts.Poll = defaultPoll
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Coordinator{Manager: opts.Local, opts: opts, log: opts.Logger.With("component", "backup-coordinator"),
		driving: map[string]bool{}, stop: make(chan struct{})}
	c.wg.Add(1)
	go c.watch()
	return c
}

// Close stops driving jobs (the next leader takes them over).
func (c *Coordinator) Close() {
	c.stopped.Do(func() { close(c.stop) })
	c.wg.Wait()
}

// watch starts a driver for every running job while this node leads.
func (c *Coordinator) watch() {
	defer c.wg.Done()
	tick := time.NewTicker(c.opts.Poll)
	defer tick.Stop()
	for {
		changed := c.opts.Cluster.Jobs().Changed()
		if c.opts.Cluster.IsLeader() {
			for _, j := range c.opts.Cluster.Jobs().Running() {
				key := string(j.Kind) + "/" + j.ID
				c.mu.Lock()
				if !c.driving[key] {
					c.driving[key] = true
					c.wg.Add(1)
					if j.Kind == jobs.KindRestore {
						go c.driveRestore(j)
					} else {
						go c.drive(j)
					}
				}
				c.mu.Unlock()
			}
		}
		select {
		case <-c.stop:
			return
		case <-changed:
		case <-tick.C:
		}
	}
}

// Create checks a backup request on this node, records the job through
// the log and waits until every node has prepared its part: it answers
// STARTED, or the refusal that ended the job (422).
func (c *Coordinator) Create(ctx context.Context, backendName string, req backup.CreateRequest) (backup.Info, error) {
	checked, err := c.opts.Local.CheckCreate(ctx, backendName, req)
	if err != nil {
		return backup.Info{}, err
	}
	name, err := c.opts.Local.BackendName(backendName)
	if err != nil {
		return backup.Info{}, err
	}
	request, err := json.Marshal(req)
	if err != nil {
		return backup.Info{}, err
	}
	now := time.Now().UTC()
	job := &jobs.Job{ID: req.ID, Kind: jobs.KindBackup, Backend: name, Bucket: req.Bucket, Path: req.Path,
		Classes: checked.Classes, Status: backup.StatusStarted, Nodes: map[string]*jobs.NodeState{},
		StartedAt: now, Request: request}
	for _, n := range c.opts.Cluster.Members() {
		job.Nodes[n] = &jobs.NodeState{}
	}
	j, err := c.startJob(ctx, job)
	if err != nil {
		return backup.Info{}, err
	}
	info := c.info(j, checked.Location.Home(req.ID), checked.Location.Bucket)
	info.Status = backup.StatusStarted
	return info, nil
}

// waitStarted waits until a job has left its first phase (or createWait
// passed: it is recorded and will end).
func (c *Coordinator) waitStarted(ctx context.Context, kind jobs.Kind, id string) (*jobs.Job, error) {
	deadline := time.After(createWait)
	for {
		changed := c.opts.Cluster.Jobs().Changed()
		j, ok := c.opts.Cluster.Jobs().Get(kind, id)
		if !ok {
			return nil, fmt.Errorf("%s %s: the job record is gone", kind, id)
		}
		if j.Status != backup.StatusStarted {
			return j, nil
		}
		select {
		case <-changed:
		case <-deadline:
			return j, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// CreateStatus reads a cluster job's record; backups the cluster has no
// record of are read from the backend.
func (c *Coordinator) CreateStatus(ctx context.Context, backendName, id, bucket, path string) (backup.Info, error) {
	c.sync(ctx)
	if j, home, bkt, ok := c.record(jobs.KindBackup, backendName, id, bucket, path); ok {
		return c.info(j, home, bkt), nil
	}
	return c.opts.Local.CreateStatus(ctx, backendName, id, bucket, path)
}

// Cancel asks a running cluster job to stop (a write through the log).
func (c *Coordinator) Cancel(ctx context.Context, backendName, id, bucket, path string) error {
	c.sync(ctx)
	j, _, _, ok := c.record(jobs.KindBackup, backendName, id, bucket, path)
	if !ok {
		return c.opts.Local.Cancel(ctx, backendName, id, bucket, path)
	}
	switch {
	case j.Status == backup.StatusSuccess:
		return apperr.Invalidf("backup %q already succeeded", id)
	case j.Terminal():
		return nil
	}
	_, err := c.opts.Cluster.ProposeJob(ctx, jobs.Command{Op: jobs.OpCancel, Kind: jobs.KindBackup, ID: id, Error: context.Canceled.Error()})
	var invalid *jobs.InvalidError
	if errors.As(err, &invalid) {
		return nil // it ended meanwhile
	}
	return err
}

// Delete removes a backup that has ended (see backup.Manager.Delete); one
// the cluster is making, or restoring, is refused.
func (c *Coordinator) Delete(ctx context.Context, backendName, id, bucket, path string) error {
	c.sync(ctx)
	for _, kind := range []jobs.Kind{jobs.KindBackup, jobs.KindRestore} {
		if j, _, _, ok := c.record(kind, backendName, id, bucket, path); ok && !j.Terminal() {
			return apperr.Invalidf("backup %q has a %s running in the cluster: wait for it or cancel it before deleting the backup", id, kind)
		}
	}
	return c.opts.Local.Delete(ctx, backendName, id, bucket, path)
}

// ApplyRetention deletes, through Delete, the ended backups a policy does
// not keep.
func (c *Coordinator) ApplyRetention(ctx context.Context, backendName string, r backup.Retention) ([]string, error) {
	return c.opts.Local.ApplyRetentionWith(ctx, backendName, r, c.Delete)
}

// syncTimeout bounds the wait for the leader before a status read.
const syncTimeout = 5 * time.Second

// sync brings this node's job table up to the leader's, so that a status
// read on any node sees every change acknowledged before it; without a
// leader it reads what it has.
func (c *Coordinator) sync(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if err := c.opts.Cluster.Sync(sctx); err != nil {
		c.log.Debug("job table not synced with the leader", "err", err)
	}
}

// record finds the cluster job a status or cancel call addresses.
func (c *Coordinator) record(kind jobs.Kind, backendName, id, bucket, path string) (j *jobs.Job, home, bkt string, ok bool) {
	name, err := c.opts.Local.BackendName(backendName)
	if err != nil {
		return nil, "", "", false
	}
	j, ok = c.opts.Cluster.Jobs().Get(kind, id)
	if !ok || j.Backend != name || j.Bucket != bucket || j.Path != path {
		return nil, "", "", false
	}
	if j.Terminal() && !j.Committed {
		return nil, "", "", false // refused: there is no such backup
	}
	loc, err := c.opts.Local.Locate(backendName, id, bucket, path)
	if err != nil {
		return nil, "", "", false
	}
	return j, loc.Home(id), loc.Bucket, true
}

func (c *Coordinator) info(j *jobs.Job, home, bucket string) backup.Info {
	var size int64
	for _, n := range j.Nodes {
		size += n.Bytes
	}
	nodes := map[string]*backup.Progress{}
	for n, st := range j.Nodes {
		if st.Progress != nil {
			nodes[n] = st.Progress
		}
	}
	end := time.Now()
	if j.Terminal() {
		end = j.CompletedAt
	}
	return backup.Info{ID: j.ID, Backend: j.Backend, Home: home, Bucket: bucket, Classes: j.Classes,
		Status: j.Status, Error: j.Error, StartedAt: j.StartedAt, CompletedAt: j.CompletedAt, SizeBytes: size,
		Progress: backup.MergeNodes(nodes, end.Sub(j.StartedAt), j.Terminal())}
}

// jobDriver is what every job's driver on the leader has: the job as last
// read, the epoch that fences its writes, its location.
type jobDriver struct {
	c     *Coordinator
	job   *jobs.Job
	epoch uint64
	loc   *backup.Location
	// described is set once the job's descriptor is in the backend: its
	// end is written there too.
	described bool
	// reported is when each node's progress was last recorded.
	reported map[string]time.Time
}

// progressEvery is how often a node's progress is written to the record
// (its status, whenever it changes).
const progressEvery = time.Second

// record writes to the job's record what changed in the nodes' states:
// a status or size at once, progress at most every progressEvery. It
// reports false when the record cannot be written (the driver stops).
func (d *jobDriver) record(ctx context.Context, states map[string]backup.PartState) bool {
	if d.reported == nil {
		d.reported = map[string]time.Time{}
	}
	for _, n := range slices.Sorted(maps.Keys(states)) {
		st := states[n]
		cur := d.job.Nodes[n]
		changed := cur == nil || cur.Status != st.Status || cur.Bytes != st.Bytes
		moved := st.Progress != nil && (cur == nil || cur.Progress == nil ||
			cur.Progress.BytesDone != st.Progress.BytesDone || cur.Progress.FilesDone != st.Progress.FilesDone)
		if !changed && !(moved && time.Since(d.reported[n]) >= progressEvery) {
			continue
		}
		state := &jobs.NodeState{Status: st.Status, Error: st.Error, Bytes: st.Bytes, Progress: st.Progress}
		if err := d.propose(ctx, jobs.Command{Op: jobs.OpNode, Node: n, State: state}); err != nil {
			return false
		}
		d.reported[n] = time.Now()
	}
	return true
}

// each calls fn for every participant concurrently; errs[i] is node i's.
func (d *jobDriver) each(fn func(node string) error) (nodes []string, errs []error) {
	nodes = sortedNodes(d.job.Nodes)
	return nodes, fanOut(nodes, fn)
}

// propose writes a command about this job, fenced by the driver's epoch.
func (d *jobDriver) propose(ctx context.Context, cmd jobs.Command) error {
	cmd.Kind, cmd.ID, cmd.Epoch = d.job.Kind, d.job.ID, d.epoch
	_, err := d.c.opts.Cluster.ProposeJob(ctx, cmd)
	if err != nil {
		d.c.log.Warn("job record", "kind", d.job.Kind, "id", d.job.ID, "op", cmd.Op, "err", err)
	}
	return err
}

// driver runs one backup on the leader.
type driver struct {
	jobDriver
	req   backup.PartRequest
	codec string
}

// drive takes a job over and runs it to its end, or until this node no
// longer leads.
func (c *Coordinator) drive(j *jobs.Job) {
	defer c.wg.Done()
	defer c.undrive(j)
	ctx, cancel := c.runContext()
	defer cancel()
	j, epoch, previous, ok := c.claim(ctx, j)
	if !ok {
		return
	}
	d := &driver{jobDriver: jobDriver{c: c, job: j, epoch: epoch}}
	if err := d.setup(); err != nil {
		d.fail(ctx, err.Error())
		return
	}
	d.described = j.Committed
	if j.Status == backup.StatusStarted {
		if previous != "" {
			d.fail(ctx, fmt.Sprintf("the coordinator %s stopped while the nodes prepared the backup", previous))
			return
		}
		if !d.prepare(ctx) {
			return
		}
	}
	d.follow(ctx)
}

// runContext is a driver's context: cancelled when the coordinator closes.
func (c *Coordinator) runContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// undrive forgets that this node drives a job.
func (c *Coordinator) undrive(j *jobs.Job) {
	c.mu.Lock()
	delete(c.driving, string(j.Kind)+"/"+j.ID)
	c.mu.Unlock()
}

// claim makes this node the job's coordinator with a new epoch (fencing
// any earlier driver, this node's too). It returns the job as the log has
// it once the takeover is applied here — so every earlier change to it
// too, also right after a restart while the log is still being replayed —
// and the previous coordinator ("" for a job nobody drove yet).
func (c *Coordinator) claim(ctx context.Context, j *jobs.Job) (cur *jobs.Job, epoch uint64, previous string, ok bool) {
	r, err := c.opts.Cluster.ProposeJob(ctx, jobs.Command{Op: jobs.OpTakeOver, Kind: j.Kind, ID: j.ID, Node: c.opts.Cluster.Name()})
	if err != nil {
		c.log.Debug("take over job", "kind", j.Kind, "id", j.ID, "err", err)
		return nil, 0, "", false
	}
	cur, ok = c.opts.Cluster.Jobs().Get(j.Kind, j.ID)
	if !ok || cur.Epoch != r.Epoch {
		return nil, 0, "", false
	}
	return cur, r.Epoch, r.Previous, true
}

// sortedNodes lists a job's participants, sorted.
func sortedNodes(nodes map[string]*jobs.NodeState) []string {
	out := make([]string, 0, len(nodes))
	for n := range nodes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// setup rebuilds what the nodes are asked from the record.
func (d *driver) setup() error {
	var req backup.CreateRequest
	if err := json.Unmarshal(d.job.Request, &req); err != nil {
		return fmt.Errorf("backup %s: unreadable request in the job record: %v", d.job.ID, err)
	}
	loc, err := d.c.opts.Local.Locate(d.job.Backend, d.job.ID, d.job.Bucket, d.job.Path)
	if err != nil {
		return err
	}
	d.loc = loc
	d.codec = req.CompressionLevel
	d.req = backup.PartRequest{ID: d.job.ID, Backend: d.job.Backend, Bucket: d.job.Bucket, Path: d.job.Path,
		Classes: d.job.Classes, CompressionLevel: req.CompressionLevel, CPUPercentage: req.CPUPercentage,
		KeyCheck: d.c.opts.Local.KeyCheck()}
	return nil
}

// prepare prepares every part, writes the STARTED descriptor and commits;
// it reports whether the job goes on.
func (d *driver) prepare(ctx context.Context) bool {
	token := strconv.FormatUint(rand.Uint64(), 36)
	probe, remove, err := d.c.opts.Local.WriteProbe(ctx, d.loc, d.job.ID, token)
	if err != nil {
		d.fail(ctx, err.Error())
		return false
	}
	req := d.req
	req.Probe = probe
	nodes, errs := d.each(func(n string) error {
		cctx, cancel := context.WithTimeout(ctx, prepareTimeout)
		defer cancel()
		return d.c.opts.Parts.Prepare(cctx, n, req)
	})
	remove()
	for i, err := range errs {
		if err != nil {
			d.fail(ctx, nodeError(nodes[i], err))
			return false
		}
	}
	if err := d.propose(ctx, jobs.Command{Op: jobs.OpCommit}); err != nil {
		return false
	}
	d.described = true
	if err := d.c.opts.Local.PutDescriptor(ctx, d.loc, d.descriptor(backup.StatusStarted, "")); err != nil {
		d.fail(ctx, "coordinator: cannot init meta file: "+err.Error())
		return false
	}
	nodes, errs = d.each(func(n string) error {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return d.c.opts.Parts.Commit(cctx, n, d.job.ID)
	})
	for i, err := range errs {
		if err != nil {
			d.fail(ctx, nodeError(nodes[i], err))
			return false
		}
	}
	if err := d.propose(ctx, jobs.Command{Op: jobs.OpStatus, Status: backup.StatusTransferring}); err != nil {
		return false
	}
	// The backend follows: a status read from it never goes back.
	if err := d.c.opts.Local.PutDescriptor(ctx, d.loc, d.descriptor(backup.StatusTransferring, "")); err != nil {
		d.c.log.Warn("write the descriptor", "id", d.job.ID, "err", err)
	}
	return true
}

// nodeError is a participant's error as a job's reason: it names the node
// (errors from the data port already do).
func nodeError(node string, err error) string {
	if msg := err.Error(); strings.HasPrefix(msg, "node "+node) {
		return msg
	}
	return fmt.Sprintf("node %s: %s", node, err)
}

// follow polls the parts until the job ends.
func (d *driver) follow(ctx context.Context) {
	status := func(ctx context.Context, n string) (backup.PartState, error) {
		return d.c.opts.Parts.Status(ctx, n, d.req)
	}
	cancelled := func(j *jobs.Job) {
		d.job = j
		d.end(ctx, backup.StatusCanceled, j.Error)
	}
	d.c.follow(ctx, jobs.KindBackup, d.job.ID, d.epoch, status, cancelled, func(j *jobs.Job, states map[string]backup.PartState, reason string) bool {
		d.job = j
		if reason != "" {
			d.fail(ctx, reason)
			return true
		}
		if !d.record(ctx, states) {
			return true
		}
		done := 0
		for _, st := range states {
			if st.Status == backup.StatusSuccess {
				done++
			}
		}
		if done == len(j.Nodes) {
			d.end(ctx, backup.StatusSuccess, "")
			return true
		}
		return false
	})
}

// fail ends the job as FAILED.
func (d *driver) fail(ctx context.Context, reason string) {
	d.c.log.Warn("backup failed", "id", d.job.ID, "reason", reason)
	d.end(ctx, backup.StatusFailed, reason)
}

// end stops every part that has not ended (unless the job succeeded),
// writes the final descriptor and records the end.
func (d *driver) end(ctx context.Context, status backup.Status, reason string) {
	if j, ok := d.c.opts.Cluster.Jobs().Get(jobs.KindBackup, d.job.ID); ok {
		d.job = j // the parts' last progress
	}
	if status != backup.StatusSuccess && d.loc != nil {
		d.each(func(n string) error {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			return d.c.opts.Parts.Abort(cctx, n, d.job.ID, reason)
		})
	}
	if d.described {
		if err := d.c.opts.Local.PutDescriptor(ctx, d.loc, d.descriptor(status, reason)); err != nil {
			if status == backup.StatusSuccess {
				status, reason = backup.StatusFailed, "write the final descriptor: "+err.Error()
			} else {
				d.c.log.Warn("write the final descriptor", "id", d.job.ID, "err", err)
			}
		}
	}
	if err := d.propose(ctx, jobs.Command{Op: jobs.OpStatus, Status: status, Error: reason, At: time.Now().UTC()}); err != nil {
		d.c.log.Warn("record the end of a backup", "id", d.job.ID, "status", status, "err", err)
		return
	}
	d.c.log.Info("backup ended", "id", d.job.ID, "status", status, "took", time.Since(d.job.StartedAt))
	metrics.JobEnded("backup", d.job.Backend, string(status), time.Since(d.job.StartedAt))
	if status == backup.StatusSuccess {
		d.c.opts.Local.RetainAfterSuccess(d.job.Backend, d.c.Delete)
	}
}

// descriptor renders the job as backup_config.json.
func (d *driver) descriptor(status backup.Status, reason string) *backup.Descriptor {
	desc := d.c.opts.Local.NewDescriptor(d.job.ID, backup.CompressionName(d.codec), d.job.StartedAt)
	desc.Status, desc.Error = status, reason
	if status.Terminal() {
		desc.CompletedAt = time.Now().UTC()
	}
	for n, st := range d.job.Nodes {
		ns := &backup.NodeStatus{Classes: d.job.Classes, Status: status, Error: reason, PreCompressionSizeBytes: st.Bytes}
		desc.Nodes[n] = ns
		desc.PreCompressionSizeBytes += st.Bytes
	}
	return desc
}
