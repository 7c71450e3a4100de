package backup

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup/archive"
	"strata/internal/backup/layout"
	"strata/internal/blob"
	"strata/internal/db"
	"strata/internal/failpoint"
	"strata/internal/sharding"
)

// CreateRequest is a request to create a backup.
type CreateRequest struct {
	ID               string
	Include, Exclude []string
	Bucket, Path     string // overrides
	CPUPercentage    int
	CompressionLevel string
}

// Create validates a backup request, records the backup as STARTED in the
// backend and starts it in the background. Checks run in Weaviate's order.
func (m *Manager) Create(ctx context.Context, backendName string, req CreateRequest) (Info, error) {
	if m.opts.Clustered {
		if _, err := m.CheckCreate(ctx, backendName, req); err != nil {
			return Info{}, err
		}
		return Info{}, errClustered
	}
	c, err := m.CheckCreate(ctx, backendName, req)
	if err != nil {
		return Info{}, err
	}
	be, loc, codec, classes := c.be, c.Location, c.codec, c.Classes
	now := time.Now().UTC()
	j := &job{kind: kindBackup, id: req.ID, loc: loc, be: be, desc: &Descriptor{
		StartedAt: now, ID: req.ID, Status: StatusStarted, Version: FormatVersion,
		ServerVersion: m.opts.ServerVersion, Leader: m.opts.Node,
		CompressionType: string(codec.Compression), StrataFormat: StrataFormat, Encryption: m.encryption(),
		Nodes: map[string]*NodeStatus{m.opts.Node: {Classes: classes, Status: StatusStarted}},
	}, key: m.opts.Encryption}
	runCtx, cancel := context.WithCancelCause(context.Background())
	j.cancel = cancel
	if err := m.reserve(j); err != nil {
		cancel(nil)
		return Info{}, err
	}
	started := false
	defer func() {
		if !started {
			m.release(j)
		}
	}()
	// A run of this id may have finished between the check above and the
	// reservation: check again, now that no other run can start.
	if old, found, err := readDescriptor(ctx, loc.Store, layout.BackupDescriptor(req.ID)); err != nil {
		return Info{}, apperr.Invalidf("check if backup %q exists at %q: %v", req.ID, loc.Home(req.ID), err)
	} else if found && (old.Status == StatusSuccess || old.Status == StatusFailed) {
		return Info{}, apperr.Invalidf("backup %q already exists at %q", req.ID, loc.Home(req.ID))
	}

	// Everything below runs without the manager's lock: status calls and
	// the list are answered meanwhile, and a second create is refused
	// because this one holds the reservation.
	// The snapshot is taken before the response: the backup holds every
	// write acknowledged before it and none acknowledged after.
	snapDir := m.path("snapshots", req.ID)
	snaps, err := m.snapshot(ctx, classes, snapDir)
	if err != nil {
		return Info{}, err
	}
	m.log.Info("backup snapshot taken", "id", req.ID, "classes", len(snaps), "took", time.Since(now))
	if err := m.writeRecord(j, jobRecord{ID: req.ID, Backend: be.Name(), Bucket: req.Bucket, Path: req.Path, Classes: classes}); err != nil {
		m.fs.RemoveAll(snapDir)
		return Info{}, fmt.Errorf("record backup job: %w", err)
	}
	if err := putJSON(context.WithoutCancel(ctx), loc.Store, layout.BackupDescriptor(req.ID), j.desc); err != nil {
		m.fs.RemoveAll(snapDir)
		m.removeRecord(j)
		return Info{}, fmt.Errorf("coordinator: cannot init meta file: %w", err)
	}
	started = true
	go m.runBackup(runCtx, j, snaps, snapDir, codec, m.workers(req.CPUPercentage))
	return j.info(), nil
}

// CheckedCreate is a create request that passed CheckCreate.
type CheckedCreate struct {
	Classes  []string
	Location *Location
	be       Backend
	codec    archive.Codec
}

// CheckCreate validates a create request as Create does, in Weaviate's
// order, without starting anything: the backend, the id, the compression,
// the classes and whether the id is taken at the location.
func (m *Manager) CheckCreate(ctx context.Context, backendName string, req CreateRequest) (CheckedCreate, error) {
	if req.ID == "" {
		return CheckedCreate{}, validateID(req.ID)
	}
	be, err := m.backendFor(backendName, "backend")
	if err != nil {
		return CheckedCreate{}, err
	}
	if err := validateID(req.ID); err != nil {
		return CheckedCreate{}, err
	}
	codec, err := archive.ParseLevel(req.CompressionLevel)
	if err != nil {
		return CheckedCreate{}, apperr.Invalidf("%s", err.Error())
	}
	classes, err := m.selectClasses(req.Include, req.Exclude)
	if err != nil {
		return CheckedCreate{}, err
	}
	loc, err := be.Locate(req.Bucket, req.Path)
	if err != nil {
		return CheckedCreate{}, err
	}
	old, found, err := readDescriptor(ctx, loc.Store, layout.BackupDescriptor(req.ID))
	if err != nil {
		return CheckedCreate{}, apperr.Invalidf("check if backup %q exists at %q: %v", req.ID, loc.Home(req.ID), err)
	}
	// SUCCESS and FAILED ids are taken; CANCELED and never-finished ones
	// (not running here) may be reused.
	if found && (old.Status == StatusSuccess || old.Status == StatusFailed) {
		return CheckedCreate{}, apperr.Invalidf("backup %q already exists at %q", req.ID, loc.Home(req.ID))
	}
	return CheckedCreate{Classes: classes, Location: loc, be: be, codec: codec}, nil
}

// reserve makes j the running job of its kind, unless one runs already
// (or, for a backup, the previous run of the same id has not stored its
// final status yet), or the manager is closing. A reserved job counts in
// m.wg.
func (m *Manager) reserve(j *job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.closing:
		return errShutdown
	default:
	}
	slot := m.running(j.kind)
	if r := *slot; r != nil {
		switch {
		case j.kind == kindRestore:
			return apperr.Invalidf("restoration %s already in progress", r.id)
		case sameJob(r, j.be, j.loc, j.id):
			return apperr.Invalidf("backup %q already exists at %q", j.id, j.loc.Home(j.id))
		default:
			return apperr.Invalidf("backup %s already in progress", r.id)
		}
	}
	for u := range m.unsynced {
		if j.kind == kindBackup && u.kind == kindBackup && sameJob(u, j.be, j.loc, j.id) {
			return apperr.Invalidf("backup %q already exists at %q: its final status %s is not stored in the backend yet", j.id, j.loc.Home(j.id), u.status())
		}
	}
	*slot = j
	m.wg.Add(1)
	return nil
}

// running is where the running job of a kind is kept. Callers hold m.mu.
func (m *Manager) running(kind jobKind) **job {
	if kind == kindRestore {
		return &m.restore
	}
	return &m.backup
}

// release gives up the reservation of a job that did not start.
func (m *Manager) release(j *job) {
	m.mu.Lock()
	if slot := m.running(j.kind); *slot == j {
		*slot = nil
	}
	m.mu.Unlock()
	j.cancel(nil)
	m.wg.Done()
}

// selectClasses applies include/exclude (with * and ? wildcards) to the
// database's classes, with Weaviate's messages.
func (m *Manager) selectClasses(include, exclude []string) ([]string, error) {
	if err := checkIncludeExclude(include, exclude); err != nil {
		return nil, err
	}
	all := m.opts.DB.ClassNames()
	if len(all) == 0 {
		return nil, apperr.Invalidf("no available classes to backup, there's nothing to do here")
	}
	return pickClasses(all, include, exclude, func(missing []string) error {
		msgs := make([]string, len(missing))
		for i, c := range missing {
			msgs[i] = fmt.Sprintf("class %s doesn't exist", c)
		}
		return apperr.Invalidf("%s", strings.Join(msgs, "\n"))
	}, "empty class list: please choose from : %v")
}

// checkIncludeExclude applies the request rules shared by create and restore.
func checkIncludeExclude(include, exclude []string) error {
	if len(include) > 0 && len(exclude) > 0 {
		return apperr.Invalidf("malformed request: 'include' and 'exclude' cannot both contain values")
	}
	seen := map[string]bool{}
	for _, c := range include {
		if seen[c] {
			return apperr.Invalidf("class list 'include' contains duplicate: %s", c)
		}
		seen[c] = true
	}
	return nil
}

// pickClasses resolves include/exclude against the available names.
// Wildcard entries that match nothing are named in the empty-list error.
func pickClasses(available, include, exclude []string, missingErr func([]string) error, emptyFmt string) ([]string, error) {
	isWild := func(s string) bool { return strings.ContainsAny(s, "*?[") }
	var out []string
	var unmatched []string
	if len(include) > 0 {
		var missing []string
		for _, pat := range include {
			if !isWild(pat) {
				if !slices.Contains(available, pat) {
					missing = append(missing, pat)
				} else if !slices.Contains(out, pat) {
					out = append(out, pat)
				}
				continue
			}
			matched := false
			for _, c := range available {
				if ok, _ := path.Match(pat, c); ok {
					matched = true
					if !slices.Contains(out, c) {
						out = append(out, c)
					}
				}
			}
			if !matched {
				unmatched = append(unmatched, pat)
			}
		}
		if len(missing) > 0 {
			return nil, missingErr(missing)
		}
	} else {
		for _, c := range available {
			excluded := false
			for _, pat := range exclude {
				if ok, _ := path.Match(pat, c); ok || pat == c {
					excluded = true
				}
			}
			if !excluded {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		if len(unmatched) > 0 {
			return nil, apperr.Invalidf("empty class list: no class matches %v, please choose from : %v", unmatched, available)
		}
		return nil, apperr.Invalidf(emptyFmt, available)
	}
	return out, nil
}

// chunkPlan is one chunk to write: files of one shard.
type chunkPlan struct {
	class, shard string
	n            int
	files        []planFile
}

type planFile struct {
	name string // entry name inside the archive
	path string // file on disk (in the snapshot)
	size int64
}

func (m *Manager) runBackup(ctx context.Context, j *job, snaps []db.ClassSnapshot, snapDir string, codec archive.Codec, nWorkers int) {
	defer m.wg.Done()
	defer m.fs.RemoveAll(snapDir)
	failpoint.Reach(failpoint.BackupUpload)
	err := m.doBackup(ctx, j, snaps, codec, nWorkers)
	status, msg := StatusSuccess, ""
	switch {
	case err == nil:
	case ctx.Err() != nil: // cancelled by the user or by shutdown
		status, msg = StatusCanceled, context.Cause(ctx).Error()
		if errors.Is(context.Cause(ctx), errShutdown) {
			status = StatusFailed
		}
	default:
		status, msg = StatusFailed, err.Error()
	}
	m.finish(j, status, msg)
}

func (m *Manager) doBackup(ctx context.Context, j *job, snaps []db.ClassSnapshot, codec archive.Codec, nWorkers int) error {
	if err := j.transition(ctx, StatusTransferring); err != nil {
		return err
	}
	t0 := time.Now()
	manifest := &NodeManifest{
		StartedAt: j.desc.StartedAt, ID: j.id, Status: StatusSuccess, Version: FormatVersion,
		ServerVersion: m.opts.ServerVersion, CompressionType: string(codec.Compression), StrataFormat: StrataFormat,
	}
	var plans []*chunkPlan
	descs := map[string]*ClassDescriptor{}
	shardDescs := map[string]*ShardDescriptor{}
	for _, snap := range snaps {
		cd, err := m.classDescriptor(j.id, snap)
		if err != nil {
			return err
		}
		manifest.Classes = append(manifest.Classes, cd)
		descs[snap.Class.Class] = cd
		n := 0
		for _, sh := range snap.Shards {
			sd := &ShardDescriptor{Name: sh.Name, Node: m.opts.Node, Files: []string{}, FileInfo: []ShardFile{}}
			cd.Shards = append(cd.Shards, sd)
			shardDescs[snap.Class.Class+"/"+sh.Name] = sd
			files, err := shardFiles(snap.Class.Class, sh)
			if err != nil {
				return err
			}
			var cur *chunkPlan
			var curSize int64
			for _, f := range files {
				if cur == nil || curSize+f.size > m.opts.ChunkTargetSize && len(cur.files) > 0 {
					n++
					cur = &chunkPlan{class: snap.Class.Class, shard: sh.Name, n: n}
					plans = append(plans, cur)
					curSize = 0
				}
				cur.files = append(cur.files, f)
				curSize += f.size
			}
		}
	}

	planned := map[string]*classCounter{}
	for _, p := range plans {
		var size int64
		for _, f := range p.files {
			size += f.size
		}
		plan(planned, p.class, size, int64(len(p.files)))
	}
	j.progress.Store(newProgress(planned))

	// The chunk uploads and the parts each sends in parallel share one
	// budget from CPUPercentage: two part buffers per worker, so that every
	// worker can fill a part while it sends another, and a lone upload at
	// the end can use the idle workers' share.
	ctx = blob.WithBudget(ctx, blob.NewBudget(2*nWorkers))
	results := make([]chunkResult, len(plans))
	if err := runPool(ctx, nWorkers, len(plans), func(ctx context.Context, i int) error {
		r, err := m.writeChunk(ctx, j, plans[i], codec)
		results[i] = r
		return err
	}); err != nil {
		return err
	}
	m.log.Info("backup chunks written", "id", j.id, "chunks", len(plans), "workers", nWorkers, "took", time.Since(t0))
	var total int64
	for i, p := range plans {
		cd, sd := descs[p.class], shardDescs[p.class+"/"+p.shard]
		if cd.Chunks == nil {
			cd.Chunks, cd.ChunkInfo = map[int][]string{}, map[int]ChunkInfo{}
		}
		cd.Chunks[p.n] = []string{p.shard}
		cd.ChunkInfo[p.n] = results[i].info
		for _, fi := range results[i].files {
			sd.Files = append(sd.Files, fi.Name)
			sd.FileInfo = append(sd.FileInfo, ShardFile{FileInfo: fi, Chunk: p.n})
			cd.PreCompressionSizeBytes += fi.Size
			total += fi.Size
		}
	}
	manifest.PreCompressionSizeBytes = total
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := putSealedJSON(ctx, j.loc.Store, layout.NodeManifest(j.id, m.opts.Node), manifest, j.key); err != nil {
		return fmt.Errorf("write node manifest: %w", err)
	}
	// The descriptor that says SUCCESS is written last, by runBackup; set the size first.
	j.mu.Lock()
	j.desc.PreCompressionSizeBytes = total
	for _, n := range j.desc.Nodes {
		n.PreCompressionSizeBytes = total
	}
	j.mu.Unlock()
	return nil
}

// classDescriptor renders a class's schema and sharding state.
func (m *Manager) classDescriptor(id string, snap db.ClassSnapshot) (*ClassDescriptor, error) {
	schemaJSON, err := json.Marshal(snap.Class)
	if err != nil {
		return nil, err
	}
	var st *sharding.Descriptor
	if snap.Class.MultiTenant() {
		st = &sharding.Descriptor{IndexID: snap.Class.Class, Config: snap.Class.ShardingConfig, Physical: map[string]sharding.Physical{},
			PartitioningEnabled: true, ReplicationFactor: 1}
		for t, status := range snap.Tenants {
			st.Physical[t] = sharding.Physical{Name: t, BelongsToNodes: []string{m.opts.Node}, Status: status}
		}
	} else {
		st = snap.Sharding.Describe(snap.Class.Class, snap.Class.ShardingConfig)
	}
	stateJSON, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return &ClassDescriptor{Name: snap.Class.Class, BackupID: id, Schema: schemaJSON, ShardingState: stateJSON,
		Aliases: []byte("[]"), AliasesIncluded: true, Shards: []*ShardDescriptor{}}, nil
}

// shardFiles lists a shard snapshot's regular files, sorted by name.
func shardFiles(class string, sh db.ShardSnapshot) ([]planFile, error) {
	entries, err := os.ReadDir(sh.Dir)
	if err != nil {
		return nil, fmt.Errorf("list snapshot of shard %s: %w", sh.Name, err)
	}
	var out []planFile
	for _, e := range entries {
		if !e.Type().IsRegular() {
			// Pebble keeps a flat directory; anything else would be silently lost.
			return nil, fmt.Errorf("snapshot of shard %s holds %q, which is not a regular file", sh.Name, e.Name())
		}
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, planFile{name: layout.EntryPrefix(class, sh.Name) + e.Name(), path: filepath.Join(sh.Dir, e.Name()), size: fi.Size()})
	}
	sort.Slice(out, func(i, k int) bool { return out[i].name < out[k].name })
	return out, nil
}

type chunkResult struct {
	info  ChunkInfo
	files []archive.FileInfo
}

// writeChunk streams one chunk: files → tar → compression → hash → store.
func (m *Manager) writeChunk(ctx context.Context, j *job, p *chunkPlan, codec archive.Codec) (chunkResult, error) {
	pr, pw := io.Pipe()
	h := archive.NewHashingWriter(nil)
	var res chunkResult
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lowerPriority()
		err := func() error {
			// Hand the upload side 1 MiB at a time: every pipe write is a
			// switch between two threads.
			bw := bufio.NewWriterSize(pw, 1<<20)
			w, err := archive.NewWriter(bw, codec)
			if err != nil {
				return err
			}
			prog := j.progress.Load()
			w.OnBytes(func(n int64) { prog.bytes(p.class, n) })
			for _, f := range p.files {
				if err := ctx.Err(); err != nil {
					return err
				}
				fi, err := w.AddPath(f.name, f.path)
				if err != nil {
					return fmt.Errorf("add %s: %w", f.name, err)
				}
				prog.files(p.class, 1)
				res.files = append(res.files, fi)
			}
			if err := w.Close(); err != nil {
				return err
			}
			return bw.Flush()
		}()
		pw.CloseWithError(err)
	}()
	key := layout.Chunk(j.id, m.opts.Node, p.class, p.n)
	// The chunk is hashed on the upload side, off the compressing goroutine.
	// The store reads in its own small pieces; each pipe read is a switch
	// between two locked threads, so take the writer's 1 MiB at once.
	src := bufio.NewReaderSize(pr, 1<<20)
	err := j.loc.Store.Put(ctx, key, io.TeeReader(sealed(j.key, src), io.MultiWriter(h, j.movedCounter(""))), -1)
	pr.CloseWithError(errors.New("chunk upload ended"))
	wg.Wait()
	if err != nil {
		return res, fmt.Errorf("write chunk %s: %w", key, err)
	}
	res.info = ChunkInfo{Size: h.Size(), SHA256: h.Sum()}
	return res, nil
}

// runPool runs task(0..n-1), taken in order, on up to size goroutines; the
// first error cancels the rest and is returned. Client requests go first
// without the pool's help: the workers, and the goroutines that compress
// for them, run on background-priority threads (lowerPriority), and the
// server runs with spare Go processors for them (cmd/strata), so the
// kernel gives a request the CPU at once.
func runPool(ctx context.Context, size, n int, task func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(size, n) {
		wg.Go(func() {
			lowerPriority() // the worker's own part: upload, hashing, file writes
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := task(ctx, i); err != nil {
					once.Do(func() { first = err; cancel(err) })
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
