package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup/archive"
	"strata/internal/backup/layout"
	"strata/internal/blob"
	"strata/internal/db"
	"strata/internal/failpoint"
)

// A backup of a cluster is made of parts: each node backs up its own
// shards of the classes under <id>/<node>/ and writes its manifest there;
// the coordinator writes the descriptor. A part is prepared (the request
// checked, this node's backup slot reserved, its shards snapshotted) and
// then committed (uploaded) or aborted. Parts live in memory only: a node
// that restarts has lost its part, and says so when asked, unless its
// manifest was written (the part had succeeded).

// PartRequest asks this node for its part of a cluster's backup.
type PartRequest struct {
	ID, Backend, Bucket, Path string
	Classes                   []string
	CompressionLevel          string
	CPUPercentage             int
	// Probe is a key the coordinator wrote to the location: a node that
	// cannot read it does not share the backend (a node-local directory).
	Probe string
	// KeyCheck is the coordinator's encryption key check ("" without
	// encryption): every node must encrypt with the same key.
	KeyCheck string
}

// PartState is this node's part of a cluster backup.
type PartState struct {
	Known  bool // false: this node has no such part (it restarted)
	Status Status
	Error  string
	Bytes  int64
	// Moved is how many bytes the part has moved to or from the backend
	// so far.
	Moved int64
	// Progress is the part's transfer (nil until it is planned).
	Progress *Progress
}

// prepareHold is how long a prepared part waits for its commit before it
// releases its reservation by itself.
const prepareHold = 30 * time.Second

// part is this node's part of a cluster backup.
type part struct {
	j         *job
	ctx       context.Context // the job's, cancelled by abort
	snaps     []db.ClassSnapshot
	snapDir   string
	codec     archive.Codec
	workers   int
	hold      *time.Timer
	committed bool
}

// PreparePart checks a part request, reserves this node's backup slot and
// snapshots this node's shards of the classes, consistent with every
// write acknowledged before it returns.
func (m *Manager) PreparePart(ctx context.Context, req PartRequest) error {
	started := time.Now()
	be, err := m.backendFor(req.Backend, "backend")
	if err != nil {
		return err
	}
	if err := validateID(req.ID); err != nil {
		return err
	}
	codec, err := archive.ParseLevel(req.CompressionLevel)
	if err != nil {
		return apperr.Invalidf("%s", err.Error())
	}
	loc, err := be.Locate(req.Bucket, req.Path)
	if err != nil {
		return err
	}
	if req.Probe != "" {
		if err := m.readProbe(ctx, loc.Store, req.Probe); err != nil {
			return err
		}
	}
	for _, c := range req.Classes {
		if !m.opts.DB.ClassExists(c) {
			return apperr.Invalidf("class %s doesn't exist on node %s", c, m.opts.Node)
		}
	}
	if own := m.KeyCheck(); own != req.KeyCheck {
		return apperr.Invalidf("node %s has another backup encryption key than the coordinator (key check %q, the coordinator's %q): give every node the same STRATA_BACKUP_ENCRYPTION_KEY", m.opts.Node, own, req.KeyCheck)
	}
	j := &job{key: m.opts.Encryption, kind: kindBackup, part: true, id: req.ID, loc: loc, be: be, desc: &Descriptor{
		StartedAt: time.Now().UTC(), ID: req.ID, Status: StatusStarted, Version: FormatVersion,
		ServerVersion: m.opts.ServerVersion, Leader: m.opts.Node,
		CompressionType: string(codec.Compression), StrataFormat: StrataFormat,
		Nodes: map[string]*NodeStatus{m.opts.Node: {Classes: req.Classes, Status: StatusStarted}},
	}}
	runCtx, cancel := context.WithCancelCause(context.Background())
	j.cancel = cancel
	if err := m.reserve(j); err != nil {
		cancel(nil)
		return err
	}
	snapDir := m.path("snapshots", req.ID)
	snaps, err := m.snapshot(ctx, req.Classes, snapDir)
	if err != nil {
		m.release(j)
		return err
	}
	p := &part{j: j, ctx: runCtx, snaps: snaps, snapDir: snapDir, codec: codec, workers: m.workers(req.CPUPercentage)}
	m.mu.Lock()
	m.forgetOldParts()
	if at, ok := m.abortedParts[req.ID]; ok && at.After(started) {
		// The coordinator gave up on this prepare while it ran.
		m.mu.Unlock()
		m.fs.RemoveAll(snapDir)
		m.release(j)
		return apperr.Invalidf("backup %s was aborted on node %s while it prepared", req.ID, m.opts.Node)
	}
	m.parts[req.ID] = p
	p.hold = time.AfterFunc(prepareHold, func() {
		if m.dropPrepared(req.ID, p) {
			m.log.Warn("backup part prepared but never committed; released", "id", req.ID)
		}
	})
	m.mu.Unlock()
	return nil
}

// partMemory is how long an ended part is remembered for the coordinator.
const partMemory = time.Hour

// forgetOldParts drops the backup and restore parts that ended more than
// partMemory ago. Caller holds m.mu.
func (m *Manager) forgetOldParts() {
	for id, p := range m.parts {
		if p.j.endedBefore(time.Now().Add(-partMemory)) {
			delete(m.parts, id)
		}
	}
	for id, p := range m.restoreParts {
		if p.j.endedBefore(time.Now().Add(-partMemory)) {
			delete(m.restoreParts, id)
		}
	}
	for id, at := range m.abortedParts {
		if time.Since(at) > partMemory {
			delete(m.abortedParts, id)
		}
	}
}

// readProbe reads the coordinator's probe: a node that cannot is not
// looking at the same backend (Weaviate's message for the filesystem).
func (m *Manager) readProbe(ctx context.Context, st blob.Store, key string) error {
	rc, err := st.Get(ctx, key)
	if err == nil {
		rc.Close()
		return nil
	}
	if blob.IsNotFound(err) {
		return apperr.Invalidf("local filesystem backend is not viable for backing up a node cluster, try s3 or gcs: node %s does not see the backup location the others share", m.opts.Node)
	}
	return fmt.Errorf("node %s: read probe: %w", m.opts.Node, err)
}

// snapshot takes the snapshots of a backup into a clean dir.
func (m *Manager) snapshot(ctx context.Context, classes []string, dir string) ([]db.ClassSnapshot, error) {
	if err := m.fs.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("clear snapshot dir: %w", err)
	}
	snaps, err := m.opts.DB.Snapshot(ctx, classes, dir)
	if err != nil {
		m.fs.RemoveAll(dir)
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return snaps, nil
}

// dropPrepared releases a part that was prepared and not committed;
// it reports whether it did.
func (m *Manager) dropPrepared(id string, p *part) bool {
	m.mu.Lock()
	if m.parts[id] != p || p.committed {
		m.mu.Unlock()
		return false
	}
	delete(m.parts, id)
	m.mu.Unlock()
	p.hold.Stop()
	m.fs.RemoveAll(p.snapDir)
	m.release(p.j)
	return true
}

// CommitPart starts uploading a prepared part.
func (m *Manager) CommitPart(ctx context.Context, id string) error {
	m.mu.Lock()
	p := m.parts[id]
	if p == nil {
		m.mu.Unlock()
		return apperr.NotFoundf("backup %s has no prepared part on node %s", id, m.opts.Node)
	}
	if p.committed {
		m.mu.Unlock()
		return nil
	}
	p.committed = true
	m.mu.Unlock()
	p.hold.Stop()
	go m.runPart(p)
	return nil
}

func (m *Manager) runPart(p *part) {
	defer m.wg.Done()
	defer m.fs.RemoveAll(p.snapDir)
	j, ctx := p.j, p.ctx
	failpoint.Reach(failpoint.BackupPartUpload)
	err := m.doBackup(ctx, j, p.snaps, p.codec, p.workers)
	status, msg := StatusSuccess, ""
	switch {
	case err == nil:
	case ctx.Err() != nil:
		status, msg = StatusCanceled, context.Cause(ctx).Error()
		if errors.Is(context.Cause(ctx), errShutdown) {
			status = StatusFailed
		}
	default:
		status, msg = StatusFailed, err.Error()
	}
	m.mu.Lock()
	j.mu.Lock()
	j.desc.Status, j.desc.Error, j.desc.CompletedAt = status, msg, time.Now().UTC()
	j.mu.Unlock()
	if m.backup == j {
		m.backup = nil
	}
	m.mu.Unlock()
	j.cancel(nil)
	m.log.Info("backup part finished", "id", j.id, "status", status, "error", msg)
}

// PartStatus reports this node's part of backup id.
func (m *Manager) PartStatus(ctx context.Context, req PartRequest) (PartState, error) {
	m.mu.Lock()
	p := m.parts[req.ID]
	m.mu.Unlock()
	if p != nil {
		j := p.j
		j.mu.Lock()
		defer j.mu.Unlock()
		return PartState{Known: true, Status: j.desc.Status, Error: j.desc.Error, Bytes: j.desc.PreCompressionSizeBytes,
			Moved: j.moved.Load(), Progress: j.progress.Load().snapshot(j.desc.Status.Terminal())}, nil
	}
	// Not in memory: done before a restart if its manifest is there.
	_, loc, err := m.locate(req.Backend, "backend", req.ID, req.Bucket, req.Path)
	if err != nil {
		return PartState{}, err
	}
	rc, err := loc.Store.Get(ctx, layout.NodeManifest(req.ID, m.opts.Node))
	switch {
	case err == nil:
		rc.Close()
		return PartState{Known: true, Status: StatusSuccess}, nil
	case blob.IsNotFound(err):
		return PartState{}, nil
	}
	return PartState{}, err
}

// AbortPart stops this node's part of backup id: a prepared part is
// released, a running one cancelled, one still preparing is dropped when
// its prepare ends. Unknown ids are no error.
func (m *Manager) AbortPart(id, reason string) {
	m.mu.Lock()
	p := m.parts[id]
	if p == nil {
		m.abortedParts[id] = time.Now()
	}
	m.mu.Unlock()
	if p == nil {
		return
	}
	if !m.dropPrepared(id, p) {
		p.j.cancel(errors.New(reason))
	}
}

// Compression is the compression a checked request asks for, as the
// descriptor names it.
func (c CheckedCreate) Compression() string { return string(c.codec.Compression) }

// PutDescriptor writes a cluster backup's descriptor (the coordinator's
// part).
func (m *Manager) PutDescriptor(ctx context.Context, loc *Location, d *Descriptor) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), descriptorWriteTimeout)
	defer cancel()
	return putJSON(wctx, loc.Store, layout.BackupDescriptor(d.ID), d)
}

// WriteProbe writes a probe for the nodes of a cluster backup to read (see
// PartRequest.Probe); remove deletes it.
func (m *Manager) WriteProbe(ctx context.Context, loc *Location, id, token string) (key string, remove func(), err error) {
	key = layout.Probe(id, token)
	b := []byte(m.opts.Node)
	if err := loc.Store.Put(ctx, key, bytesReader(b), int64(len(b))); err != nil {
		return "", nil, fmt.Errorf("write the cluster probe: %w", err)
	}
	return key, func() {
		dctx, cancel := context.WithTimeout(context.Background(), descriptorWriteTimeout)
		defer cancel()
		if err := loc.Store.Delete(dctx, key); err != nil && !blob.IsNotFound(err) {
			m.log.Warn("remove the cluster probe", "key", key, "err", err)
		}
	}, nil
}

// Locate resolves a backend and location overrides for a cluster job.
func (m *Manager) Locate(backendName, id, bucket, path string) (*Location, error) {
	_, loc, err := m.locate(backendName, "backend", id, bucket, path)
	return loc, err
}

// BackendName is the short name of a backend named in a URL.
func (m *Manager) BackendName(name string) (string, error) {
	be, err := m.backendFor(name, "backend")
	if err != nil {
		return "", err
	}
	return be.Name(), nil
}

// NewDescriptor is the descriptor of a backup this node coordinates.
func (m *Manager) NewDescriptor(id, compression string, started time.Time) *Descriptor {
	return &Descriptor{StartedAt: started, ID: id, Status: StatusStarted, Version: FormatVersion,
		ServerVersion: m.opts.ServerVersion, Leader: m.opts.Node, CompressionType: compression,
		StrataFormat: StrataFormat, Encryption: m.encryption(), Nodes: map[string]*NodeStatus{}}
}

// KeyCheck identifies this node's encryption key ("" without one): the
// nodes of a cluster backup must all have the coordinator's.
func (m *Manager) KeyCheck() string {
	if m.opts.Encryption == nil {
		return ""
	}
	return m.opts.Encryption.Check()
}

// CompressionName is how descriptors name the compression a request's
// CompressionLevel asks for ("" when it names none).
func CompressionName(level string) string {
	codec, err := archive.ParseLevel(level)
	if err != nil {
		return ""
	}
	return string(codec.Compression)
}
