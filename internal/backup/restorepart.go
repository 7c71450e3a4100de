package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup/archive"
	"strata/internal/db"
	"strata/internal/failpoint"
)

// A restore onto a cluster is made of parts too: each node downloads and
// verifies the shards it restores (from whichever backup node's prefix
// holds them), then places them where the shards live (db.PlaceRestored);
// the coordinator then installs the classes through the log. Parts live
// in memory: a node that restarts has lost its part, and the directories
// it placed are removed as orphans when it opens its database.

// RestorePartRequest asks this node for its part of a cluster restore.
type RestorePartRequest struct {
	ID, Backend, Bucket, Path string
	Shards                    []ShardSource
	CPUPercentage             int
}

// restorePart is this node's part of a cluster restore.
type restorePart struct {
	j      *job
	req    RestorePartRequest
	placed map[string][]string // class → shards moved into place
	// aborted is set (under j.mu) by AbortRestorePart: whichever of the
	// abort and the run's end comes second removes what was placed.
	aborted bool
}

// StartRestorePart reserves this node's restore slot and starts
// downloading, verifying and placing its shards in the background; its
// status is TRANSFERRED once they are placed.
func (m *Manager) StartRestorePart(ctx context.Context, req RestorePartRequest) error {
	be, err := m.backendFor(req.Backend, "backend")
	if err != nil {
		return err
	}
	if err := validateID(req.ID); err != nil {
		return err
	}
	loc, err := be.Locate(req.Bucket, req.Path)
	if err != nil {
		return err
	}
	d, found, err := readDescriptor(ctx, loc.Store, BackupDescriptorKey(req.ID))
	if err != nil || !found {
		return apperr.Invalidf("node %s: backup %s: descriptor not found (%v)", m.opts.Node, req.ID, err)
	}
	key, err := m.keyFor(d)
	if err != nil {
		return apperr.Invalidf("node %s: %v", m.opts.Node, err)
	}
	j := &job{key: key, kind: kindRestore, part: true, id: req.ID, loc: loc, be: be, desc: &Descriptor{
		StartedAt: time.Now().UTC(), ID: req.ID, Status: StatusTransferring, Version: d.Version,
		Nodes: map[string]*NodeStatus{m.opts.Node: {Status: StatusTransferring}}}}
	runCtx, cancel := context.WithCancelCause(context.Background())
	j.cancel = cancel
	if err := m.reserve(j); err != nil {
		cancel(nil)
		return err
	}
	p := &restorePart{j: j, req: req, placed: map[string][]string{}}
	m.mu.Lock()
	m.forgetOldParts()
	m.restoreParts[req.ID] = p
	m.mu.Unlock()
	go m.runRestorePart(runCtx, p, compressionOf(d))
	return nil
}

// BackupDescriptorKey is the key of a backup's descriptor.
func BackupDescriptorKey(id string) string { return kindBackup.descriptorKey(id) }

func (m *Manager) runRestorePart(ctx context.Context, p *restorePart, comp archive.Compression) {
	err := m.stageAndPlace(ctx, p, comp)
	status, msg := StatusTransferred, ""
	switch {
	case err == nil:
	case ctx.Err() != nil:
		status, msg = StatusCanceled, context.Cause(ctx).Error()
	default:
		status, msg = StatusFailed, err.Error()
	}
	p.j.mu.Lock()
	if p.aborted && status == StatusTransferred {
		status, msg = StatusCanceled, "aborted"
	}
	p.j.desc.Status, p.j.desc.Error = status, msg
	if status != StatusTransferred {
		p.j.desc.CompletedAt = time.Now().UTC()
	}
	p.j.mu.Unlock()
	if status != StatusTransferred {
		m.removePlaced(p)
		m.releaseRestorePart(p)
	}
	m.log.Info("restore part staged", "id", p.req.ID, "status", status, "error", msg)
}

// stageAndPlace downloads and verifies the part's shards, then places them.
func (m *Manager) stageAndPlace(ctx context.Context, p *restorePart, comp archive.Compression) error {
	staging := m.path("staging", p.req.ID)
	if err := os.RemoveAll(staging); err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	failpoint.Reach(failpoint.RestorePartDownload)
	manifests := map[string]*NodeManifest{}
	var tasks []chunkTask
	byClass := map[string][]string{} // target class → shards
	stagedAs := map[string]string{}  // target class → its staging directory's name (the backup's)
	for _, s := range p.req.Shards {
		man := manifests[s.Source]
		if man == nil {
			var err error
			if man, err = m.readManifest(ctx, p.j.loc, p.req.ID, s.Source, p.j.key); err != nil {
				return err
			}
			manifests[s.Source] = man
		}
		var cd *ClassDescriptor
		for _, c := range man.Classes {
			if c.Name == s.Class {
				cd = c
			}
		}
		if cd == nil {
			return fmt.Errorf("backup is incomplete: node %s's manifest has no class %s", s.Source, s.Class)
		}
		if err := os.MkdirAll(filepath.Join(staging, s.Class, s.Shard), 0o755); err != nil {
			return err
		}
		byClass[s.target()] = append(byClass[s.target()], s.Shard)
		stagedAs[s.target()] = s.Class
		for _, n := range sortedInts(cd.Chunks) {
			for _, sh := range cd.Chunks[n] {
				if sh == s.Shard {
					tasks = append(tasks, chunkTask{s.Source, cd, n})
				}
			}
		}
	}
	p.j.planRestore(tasks)
	err := runPool(ctx, m.workers(p.req.CPUPercentage), len(tasks), func(ctx context.Context, i int) error {
		lowerPriority() // download, decompress and verify in the background
		_, err := m.fetchChunk(ctx, p.j, tasks[i].node, comp, tasks[i].class, tasks[i].n, filepath.Join(staging, tasks[i].class.Name))
		return err
	})
	if err != nil {
		return err
	}
	classes := make([]string, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.placed[c] = byClass[c] // removed again if placing fails half-way
		if err := m.opts.DB.PlaceRestored(c, filepath.Join(staging, stagedAs[c])); err != nil {
			return fmt.Errorf("node %s: %w", m.opts.Node, err)
		}
	}
	return nil
}

// removePlaced removes what a part placed and did not install.
func (m *Manager) removePlaced(p *restorePart) {
	for class, shards := range p.placed {
		if err := m.opts.DB.RemovePlaced(class, shards); err != nil {
			m.log.Warn("remove placed shards of a failed restore", "id", p.req.ID, "class", class, "err", err)
		}
	}
}

// releaseRestorePart frees the restore slot (the part stays readable).
func (m *Manager) releaseRestorePart(p *restorePart) {
	m.mu.Lock()
	if m.restore == p.j {
		m.restore = nil
		m.mu.Unlock()
		p.j.cancel(nil)
		m.wg.Done()
		return
	}
	m.mu.Unlock()
}

// RestorePartStatus reports this node's part of restore id.
func (m *Manager) RestorePartStatus(id string) PartState {
	m.mu.Lock()
	p := m.restoreParts[id]
	m.mu.Unlock()
	if p == nil {
		return PartState{}
	}
	p.j.mu.Lock()
	defer p.j.mu.Unlock()
	return PartState{Known: true, Status: p.j.desc.Status, Error: p.j.desc.Error, Moved: p.j.moved.Load(),
		Progress: p.j.progress.Load().snapshot(p.j.desc.Status != StatusTransferring)}
}

// AbortRestorePart stops this node's part of restore id and removes what
// it placed (the classes were not installed).
func (m *Manager) AbortRestorePart(id, reason string) {
	m.mu.Lock()
	p := m.restoreParts[id]
	m.mu.Unlock()
	if p == nil {
		return
	}
	p.j.mu.Lock()
	p.aborted = true
	running := p.j.desc.Status == StatusTransferring
	if !running && !p.j.desc.Status.Terminal() { // placed, waiting for the install
		p.j.desc.Status, p.j.desc.Error, p.j.desc.CompletedAt = StatusCanceled, reason, time.Now().UTC()
	}
	p.j.mu.Unlock()
	p.j.cancel(errors.New(reason))
	if !running { // a running part cleans up when it stops
		m.removePlaced(p)
		m.releaseRestorePart(p)
	}
}

// FinishRestorePart ends this node's part once the classes are installed.
func (m *Manager) FinishRestorePart(id string) {
	m.mu.Lock()
	p := m.restoreParts[id]
	delete(m.restoreParts, id)
	m.mu.Unlock()
	if p != nil {
		p.j.mu.Lock()
		p.j.desc.Status = StatusSuccess
		p.j.mu.Unlock()
		m.releaseRestorePart(p)
	}
}

// InstallPlaced installs the classes of a cluster restore (the
// coordinator's step), through the log.
func (m *Manager) InstallPlaced(ctx context.Context, classes []db.RestoredClass) error {
	return m.opts.DB.InstallPlaced(ctx, classes)
}

// CheckedRestore is a cluster restore request that passed CheckRestore.
type CheckedRestore struct {
	Location   *Location
	Descriptor *Descriptor
	// Manifests are every backup node's, by node.
	Manifests map[string]*NodeManifest
	Classes   []string
}

// CheckRestore validates a restore request as Restore does (backend, id,
// include and exclude, the backup's descriptor and version) and reads
// every node's manifest, for a restore onto a cluster.
func (m *Manager) CheckRestore(ctx context.Context, backendName string, req RestoreRequest) (CheckedRestore, error) {
	_, loc, d, err := m.findRestorable(ctx, backendName, req)
	if err != nil {
		return CheckedRestore{}, err
	}
	key, err := m.keyFor(d)
	if err != nil {
		return CheckedRestore{}, err
	}
	out := CheckedRestore{Location: loc, Descriptor: d, Manifests: map[string]*NodeManifest{}}
	var available []string
	for _, node := range sortedKeys(d.Nodes) {
		man, err := m.readManifest(ctx, loc, req.ID, node, key)
		if err != nil {
			return CheckedRestore{}, err
		}
		out.Manifests[node] = man
		for _, c := range man.Classes {
			if !slices.Contains(available, c.Name) {
				available = append(available, c.Name)
			}
		}
	}
	out.Classes, err = pickClasses(available, req.Include, req.Exclude, func(missing []string) error {
		return apperr.Invalidf("class %s doesn't exist in the backup, but does have %v: ", missing[0], available)
	}, "nothing left to restore: please choose from : %v")
	return out, err
}

// ClassExists tells whether this node's database has a class of that name
// (or one being restored under it).
func (m *Manager) ClassExists(name string) bool { return m.opts.DB.ClassExists(name) }

// PutRestoreDescriptor writes a cluster restore's restore_config.json.
func (m *Manager) PutRestoreDescriptor(ctx context.Context, loc *Location, d *Descriptor) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), descriptorWriteTimeout)
	defer cancel()
	return putJSON(wctx, loc.Store, kindRestore.descriptorKey(d.ID), d)
}
