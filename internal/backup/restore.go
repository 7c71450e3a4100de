package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup/archive"
	"strata/internal/backup/crypt"
	"strata/internal/backup/layout"
	"strata/internal/blob"
	"strata/internal/db"
	"strata/internal/failpoint"
	"strata/internal/schema"
	"strata/internal/sharding"
)

// RestoreRequest is a request to restore a backup.
type RestoreRequest struct {
	ID               string
	Include, Exclude []string
	Bucket, Path     string
	CPUPercentage    int
	NodeMapping      map[string]string
	// Rename installs classes under other names ({"Old": "New"}), next to
	// the live ones (an extension of Weaviate's API).
	Rename map[string]string
}

// Restore validates a restore request against the backup, records the
// restore as TRANSFERRING and runs it in the background: chunks are
// downloaded, verified and staged; only when everything checks out are the
// classes installed, all in one step.
func (m *Manager) Restore(ctx context.Context, backendName string, req RestoreRequest) (Info, error) {
	if m.opts.Clustered {
		return Info{}, errClustered
	}
	be, loc, d, err := m.findRestorable(ctx, backendName, req)
	if err != nil {
		return Info{}, err
	}
	key, err := m.keyFor(d)
	if err != nil {
		return Info{}, err
	}
	sources, err := m.sourceNodes(d, req.NodeMapping)
	if err != nil {
		return Info{}, err
	}
	var available []string
	byName := map[string]*classSources{}
	for _, node := range sources {
		manifest, err := m.readManifest(ctx, loc, req.ID, node, key)
		if err != nil {
			return Info{}, err
		}
		for _, c := range manifest.Classes {
			cs := byName[c.Name]
			if cs == nil {
				merged := *c
				merged.Shards = nil
				cs = &classSources{merged: &merged}
				byName[c.Name] = cs
				available = append(available, c.Name)
			}
			cs.merged.Shards = append(cs.merged.Shards, c.Shards...)
			cs.parts = append(cs.parts, classPart{node: node, desc: c})
		}
	}
	classes, err := pickClasses(available, req.Include, req.Exclude, func(missing []string) error {
		return apperr.Invalidf("class %s doesn't exist in the backup, but does have %v: ", missing[0], available)
	}, "nothing left to restore: please choose from : %v")
	if err != nil {
		return Info{}, err
	}
	targets, err := restoreTargets(classes, req.Rename)
	if err != nil {
		return Info{}, err
	}
	for _, c := range classes {
		byName[c].target = targets[c]
	}

	now := time.Now().UTC()
	rd := &Descriptor{StartedAt: now, ID: req.ID, Status: StatusTransferring, Version: d.Version,
		ServerVersion: m.opts.ServerVersion, Leader: m.opts.Node, CompressionType: d.CompressionType,
		PreCompressionSizeBytes: d.PreCompressionSizeBytes, StrataFormat: d.StrataFormat, NodeMapping: req.NodeMapping,
		Nodes: map[string]*NodeStatus{m.opts.Node: {Classes: classes, Status: StatusTransferring}}}
	j := &job{kind: kindRestore, id: req.ID, loc: loc, be: be, desc: rd, key: key}
	runCtx, cancel := context.WithCancelCause(context.Background())
	j.cancel = cancel
	if err := m.reserve(j); err != nil {
		cancel(nil)
		return Info{}, err
	}
	// The record and the first descriptor are written without the
	// manager's lock: status calls are answered meanwhile, and a second
	// restore is refused because this one holds the reservation.
	if err := m.writeRecord(j, jobRecord{ID: req.ID, Backend: be.Name(), Bucket: req.Bucket, Path: req.Path, Classes: classes}); err != nil {
		m.release(j)
		return Info{}, fmt.Errorf("record restore job: %w", err)
	}
	if err := putJSON(context.WithoutCancel(ctx), loc.Store, layout.RestoreDescriptor(req.ID), rd); err != nil {
		m.removeRecord(j)
		m.release(j)
		return Info{}, fmt.Errorf("put initial metadata: %w", err)
	}
	descs := make([]*classSources, len(classes))
	for i, c := range classes {
		descs[i] = byName[c]
	}
	go m.runRestore(runCtx, j, compressionOf(d), descs, m.workers(req.CPUPercentage))
	info := j.info()
	info.Status = StatusStarted // the response says STARTED, as in Weaviate
	return info, nil
}

// findRestorable checks a restore request (backend, include and exclude,
// id) and finds the backup it names: its descriptor must say SUCCESS, for
// this id, in a format this build reads.
func (m *Manager) findRestorable(ctx context.Context, backendName string, req RestoreRequest) (Backend, *Location, *Descriptor, error) {
	be, err := m.backendFor(backendName, "backend")
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkIncludeExclude(req.Include, req.Exclude); err != nil {
		return nil, nil, nil, err
	}
	if err := validateID(req.ID); err != nil {
		return nil, nil, nil, err
	}
	loc, err := be.Locate(req.Bucket, req.Path)
	if err != nil {
		return nil, nil, nil, err
	}
	home := loc.Home(req.ID)
	d, found, err := readDescriptor(ctx, loc.Store, layout.BackupDescriptor(req.ID))
	if err != nil {
		return nil, nil, nil, apperr.Invalidf("find backup %s: %v", home, err)
	}
	if !found {
		return nil, nil, nil, apperr.NotFoundf("backup id %q does not exist: %s not found in %s: metadata not found", req.ID, layout.BackupDescriptor(req.ID), loc.Store)
	}
	if d.ID != req.ID {
		return nil, nil, nil, apperr.Invalidf("wrong backup file: restore request asked for %q but %s holds backup %q", req.ID, home, d.ID)
	}
	if d.Status != StatusSuccess {
		return nil, nil, nil, apperr.Invalidf("invalid backup in scheduler %s status: %s", home, d.Status)
	}
	if err := checkVersion(d); err != nil {
		return nil, nil, nil, err
	}
	return be, loc, d, nil
}

func compressionOf(d *Descriptor) archive.Compression {
	if d.CompressionType == "" {
		return archive.Gzip
	}
	return archive.Compression(d.CompressionType)
}

func checkVersion(d *Descriptor) error {
	var missing []string
	if d.ID == "" {
		missing = append(missing, "id")
	}
	if d.Version == "" || d.ServerVersion == "" {
		missing = append(missing, "versions")
	}
	if d.StartedAt.IsZero() {
		missing = append(missing, "time")
	}
	if d.Error != "" {
		missing = append(missing, "error")
	}
	if len(missing) > 0 {
		return apperr.Invalidf("corrupted backup file: attribute mismatch: %v", missing)
	}
	if len(d.Nodes) == 0 {
		return apperr.Invalidf("corrupted backup file: empty list of node descriptors")
	}
	if major, _, _ := strings.Cut(d.Version, "."); major > "2" || len(major) > 1 {
		return apperr.Invalidf("unable to restore backup as it was produced by a higher version: %s > %s", d.Version, FormatVersion)
	}
	if d.StrataFormat == 0 {
		return apperr.Invalidf("backup %q was not written by Strata: its shard files are in another database's internal format and cannot be restored here", d.ID)
	}
	if d.StrataFormat > StrataFormat {
		return apperr.Invalidf("unable to restore backup as it was produced by a newer Strata (format %d > %d)", d.StrataFormat, StrataFormat)
	}
	switch compressionOf(d) {
	case archive.Gzip, archive.Zstd, archive.None:
	default:
		return apperr.Invalidf("corrupted backup file: unknown compressionType %q", d.CompressionType)
	}
	return nil
}

// classSources is one class of a restore: its descriptor with the shards
// of every backup node (merged), and each node's own descriptor, whose
// chunks are under that node's prefix.
type classSources struct {
	merged *ClassDescriptor
	parts  []classPart
	target string // the name it is installed under
}

type classPart struct {
	node string
	desc *ClassDescriptor
}

// sourceNodes lists the backup's nodes whose data this node restores,
// sorted. A backup of one node is restored from a node of the same name,
// or through node_mapping; a backup of several nodes is gathered here,
// every shard of every node (the shard is the unit). node_mapping may
// name only the backup's nodes, and only this node as their target.
func (m *Manager) sourceNodes(d *Descriptor, mapping map[string]string) ([]string, error) {
	for _, from := range sortedKeys(mapping) {
		if _, ok := d.Nodes[from]; !ok {
			return nil, apperr.Invalidf("node_mapping: %q is not a node of this backup (its nodes: %v)", from, sortedKeys(d.Nodes))
		}
		if to := mapping[from]; to != m.opts.Node {
			return nil, apperr.Invalidf("node_mapping: %q maps to %q, which is not a node of this cluster (this node is %q)", from, to, m.opts.Node)
		}
	}
	nodes := sortedKeys(d.Nodes)
	if len(nodes) == 1 {
		n := nodes[0]
		if _, mapped := mapping[n]; !mapped && n != m.opts.Node {
			return nil, apperr.Invalidf("backup node %q has no counterpart in this cluster (this node is %q): restore with \"node_mapping\": {%q: %q}", n, m.opts.Node, n, m.opts.Node)
		}
	}
	return nodes, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (m *Manager) readManifest(ctx context.Context, loc *Location, id, node string, enc *crypt.Key) (*NodeManifest, error) {
	key := layout.NodeManifest(id, node)
	rc, err := loc.Store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("fetch meta of node %q: %w", node, err)
	}
	defer rc.Close()
	var nm NodeManifest
	if err := json.NewDecoder(opened(enc, rc)).Decode(&nm); err != nil {
		return nil, apperr.Invalidf("fetch meta of node %q: corrupted %s: %v", node, key, err)
	}
	if nm.ID != id || nm.StrataFormat == 0 {
		return nil, apperr.Invalidf("fetch meta of node %q: %s does not belong to backup %q", node, key, id)
	}
	return &nm, nil
}

func (m *Manager) runRestore(ctx context.Context, j *job, comp archive.Compression, classes []*classSources, nWorkers int) {
	defer m.wg.Done()
	err := m.doRestore(ctx, j, comp, classes, nWorkers)
	status, msg := StatusSuccess, ""
	switch {
	case err == nil:
	case ctx.Err() != nil && !errors.Is(context.Cause(ctx), errShutdown) && j.status() != StatusFinalizing:
		status, msg = StatusCanceled, "restore canceled by user"
	case ctx.Err() != nil:
		status, msg = StatusFailed, context.Cause(ctx).Error()
	default:
		status, msg = StatusFailed, err.Error()
	}
	m.finish(j, status, msg)
}

func (m *Manager) doRestore(ctx context.Context, j *job, comp archive.Compression, sources []*classSources, nWorkers int) error {
	classes := make([]*ClassDescriptor, len(sources))
	for i, cs := range sources {
		classes[i] = cs.merged
	}
	// Fail at once, before transferring anything, if a class exists.
	var exists []string
	for _, cs := range sources {
		if name := cs.target; m.opts.DB.ClassExists(name) {
			exists = append(exists, fmt.Sprintf("%q: error when trying to restore class: class name %s already exists", name, name))
		}
	}
	if len(exists) > 0 {
		return fmt.Errorf("could not restore classes: [%s]", strings.Join(exists, " "))
	}
	staging := m.path("staging", j.id)
	if err := os.RemoveAll(staging); err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	// Check the definitions as a create would, and their shards against
	// the manifest, before transferring anything.
	restored := make([]db.RestoredClass, len(classes))
	for i, c := range classes {
		rc, err := restoredClass(c, filepath.Join(staging, c.Name), m.opts.Node)
		if err != nil {
			return err
		}
		rc.Class.Class = sources[i].target
		restored[i] = rc
	}
	if err := m.opts.DB.CheckInstall(restored); err != nil {
		return fmt.Errorf("could not restore classes: %w", err)
	}
	var tasks []chunkTask
	for i, c := range classes {
		rc := restored[i]
		if err := os.MkdirAll(rc.StagedDir, 0o755); err != nil {
			return err
		}
		for _, sd := range c.Shards {
			// Every shard gets a directory, also one whose files are all in other chunks or none.
			if err := os.MkdirAll(filepath.Join(rc.StagedDir, sd.Name), 0o755); err != nil {
				return err
			}
		}
		for _, part := range sources[i].parts {
			for _, n := range sortedInts(part.desc.Chunks) {
				tasks = append(tasks, chunkTask{part.node, part.desc, n})
			}
		}
	}
	t0 := time.Now()
	j.planRestore(tasks)
	var mu sync.Mutex
	extracted := map[string]archive.FileInfo{}
	err := runPool(ctx, nWorkers, len(tasks), func(ctx context.Context, i int) error {
		lowerPriority() // download, decompress and verify in the background
		files, err := m.fetchChunk(ctx, j, tasks[i].node, comp, tasks[i].class, tasks[i].n, filepath.Join(staging, tasks[i].class.Name))
		mu.Lock()
		for _, f := range files {
			extracted[tasks[i].class.Name+"\x00"+f.Name] = f
		}
		mu.Unlock()
		return err
	})
	if err != nil {
		return err
	}
	for _, c := range classes {
		for _, sd := range c.Shards {
			for _, f := range sd.FileInfo {
				if _, ok := extracted[c.Name+"\x00"+f.Name]; !ok {
					return fmt.Errorf("backup is incomplete: file %q of class %s is in no chunk", f.Name, c.Name)
				}
			}
		}
	}
	m.log.Info("restore chunks verified and staged", "id", j.id, "chunks", len(tasks), "workers", nWorkers, "took", time.Since(t0))
	if err := j.transition(ctx, StatusTransferred); err != nil {
		return err
	}
	if err := j.transition(ctx, StatusFinalizing); err != nil {
		return err
	}
	// From here on the restore is not cancellable. The record says what is
	// installed, so that after a crash recovery can tell whether the
	// install committed.
	rec := j.rec
	rec.Install = map[string][]string{}
	for _, rc := range restored {
		rec.Install[rc.Class.Class] = shardNames(rc)
	}
	if err := m.writeRecord(j, rec); err != nil {
		return fmt.Errorf("record restore job: %w", err)
	}
	if err := m.opts.DB.InstallClasses(context.WithoutCancel(ctx), restored); err != nil {
		return fmt.Errorf("could not restore classes: %w", err)
	}
	failpoint.Reach(failpoint.RestoreAfterInstall)
	m.log.Info("restore installed", "id", j.id, "classes", len(restored), "took", time.Since(t0))
	return nil
}

// shardNames lists a restored class's shards, sorted.
func shardNames(rc db.RestoredClass) []string {
	if rc.Class.MultiTenant() {
		return sortedKeys(rc.Tenants)
	}
	return rc.Sharding.Names()
}

// installed reports whether the classes a restore was installing (class →
// shards, as its job record lists them) all exist with exactly those
// shards: the install's single schema write committed before the server
// stopped. Until recovery is done nothing else can create a class.
func (m *Manager) installed(install map[string][]string) bool {
	if len(install) == 0 {
		return false
	}
	for class, want := range install {
		shards, err := m.opts.DB.Shards(class)
		if err != nil || len(shards) != len(want) {
			return false
		}
		for i, s := range shards { // sorted, as want is
			if s.Class != class || s.Name != want[i] {
				return false
			}
		}
	}
	return true
}

func sortedInts(m map[int][]string) []int {
	out := make([]int, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// restoredClass decodes a class descriptor into what the database installs.
// Its shards are placed on node.
func restoredClass(c *ClassDescriptor, stagedDir, node string) (db.RestoredClass, error) {
	var cls schema.Class
	if err := decodeJSON(c.Schema, &cls, "schema of class "+c.Name); err != nil {
		return db.RestoredClass{}, err
	}
	if cls.Class != c.Name || !schema.ValidClassName(cls.Class) {
		return db.RestoredClass{}, fmt.Errorf("corrupted backup file: class descriptor %q holds the schema of %q", c.Name, cls.Class)
	}
	var st sharding.Descriptor
	if err := decodeJSON(c.ShardingState, &st, "sharding state of class "+c.Name); err != nil {
		return db.RestoredClass{}, err
	}
	rc := db.RestoredClass{Class: &cls, StagedDir: stagedDir}
	if cls.MultiTenant() {
		rc.Tenants = map[string]string{}
		for name, p := range st.Physical {
			if !schema.ValidTenantName(name) {
				return db.RestoredClass{}, fmt.Errorf("corrupted backup file: class %s has an invalid tenant name %q", c.Name, name)
			}
			status := p.Status
			if status == "" || status == db.TenantFrozen {
				status = db.TenantCold
			}
			rc.Tenants[name] = status
		}
	} else {
		state, err := st.State()
		if err != nil {
			return db.RestoredClass{}, fmt.Errorf("corrupted backup file: %w", err)
		}
		for _, sh := range state.Shards {
			if !schema.ValidTenantName(sh.Name) {
				return db.RestoredClass{}, fmt.Errorf("corrupted backup file: class %s has an invalid shard name %q", c.Name, sh.Name)
			}
		}
		state.Place([]string{node})
		rc.Sharding = state
	}
	if err := checkManifestShards(c, rc); err != nil {
		return db.RestoredClass{}, fmt.Errorf("corrupted backup file: class %s: %w", c.Name, err)
	}
	return rc, nil
}

// checkManifestShards reports a mismatch between the shards whose files
// the manifest lists (and whose chunks it names) and the class's shards:
// data of a shard the class does not have would be restored where nothing
// reads it, and a shard without data would come back empty.
func checkManifestShards(c *ClassDescriptor, rc db.RestoredClass) error {
	classHas := func(name string) bool {
		if rc.Tenants != nil {
			_, ok := rc.Tenants[name]
			return ok
		}
		return rc.Sharding.Index(name) >= 0
	}
	listed := map[string]bool{}
	for _, sd := range c.Shards {
		switch {
		case !schema.ValidTenantName(sd.Name):
			return fmt.Errorf("invalid shard name %q", sd.Name)
		case listed[sd.Name]:
			return fmt.Errorf("shard %q is listed twice", sd.Name)
		case !classHas(sd.Name):
			return fmt.Errorf("the backup has files of shard %q, which is not a shard of the class (its sharding state)", sd.Name)
		}
		listed[sd.Name] = true
	}
	for _, name := range shardNames(rc) {
		if !listed[name] {
			return fmt.Errorf("shard %q of the class (its sharding state) is missing from the backup", name)
		}
	}
	for _, n := range sortedInts(c.Chunks) {
		for _, name := range c.Chunks[n] {
			if !listed[name] {
				return fmt.Errorf("chunk %d holds shard %q, which the backup does not list", n, name)
			}
		}
	}
	return nil
}

// chunkTask is one chunk a restore downloads: a backup node's chunk n of a
// class (the class as that node's manifest describes it).
type chunkTask struct {
	node  string
	class *ClassDescriptor
	n     int
}

// planRestore sets a restore's progress totals: the stored bytes of its
// chunks and the files in them, per class.
func (j *job) planRestore(tasks []chunkTask) {
	planned := map[string]*classCounter{}
	for _, t := range tasks {
		plan(planned, t.class.Name, max(t.class.ChunkInfo[t.n].Size, 0), int64(len(chunkFiles(t.class, t.n))))
	}
	j.progress.Store(newProgress(planned))
}

// chunkFiles are the files the manifest puts in a class's chunk n, by
// name.
func chunkFiles(c *ClassDescriptor, n int) map[string]archive.FileInfo {
	out := map[string]archive.FileInfo{}
	for _, sd := range c.Shards {
		for _, f := range sd.FileInfo {
			if f.Chunk == n {
				out[f.Name] = f.FileInfo
			}
		}
	}
	return out
}

// fetchChunk downloads one chunk, extracts it into classDir verifying every
// file, and checks the chunk's own size and checksum.
func (m *Manager) fetchChunk(ctx context.Context, j *job, srcNode string, comp archive.Compression, c *ClassDescriptor, n int, classDir string) ([]archive.FileInfo, error) {
	key := layout.Chunk(j.id, srcNode, c.Name, n)
	shards := map[string]bool{}
	for _, s := range c.Chunks[n] {
		shards[s] = true
	}
	want := chunkFiles(c, n)
	accept := func(name string) (string, error) {
		for s := range shards {
			if rest, ok := strings.CutPrefix(name, layout.EntryPrefix(c.Name, s)); ok && rest != "" && !strings.Contains(rest, "/") {
				if _, listed := want[name]; !listed {
					return "", fmt.Errorf("unexpected file %q", name)
				}
				return filepath.Join(s, rest), nil
			}
		}
		return "", fmt.Errorf("entry %q does not belong to this chunk's shards", name)
	}
	files, _, err := readChunk(ctx, j.loc.Store, key, c, n, j.key, j.movedCounter(c.Name), func(r io.Reader) ([]archive.FileInfo, error) {
		return archive.Extract(ctx, r, comp, classDir, accept, want)
	})
	if err != nil {
		return nil, fmt.Errorf("chunk %s: %w", key, err)
	}
	j.progress.Load().files(c.Name, int64(len(files)))
	if missing := missingFiles(want, files); len(missing) > 0 {
		return nil, fmt.Errorf("chunk %s: file %q is missing", key, missing[0])
	}
	return files, nil
}

// readChunk streams chunk n of class c, stored under key, through read,
// which extracts or verifies its entries: the chunk is read up to its
// recorded size only, decrypted with enc when there is one, and its size
// and SHA-256 are checked once read is done. tee, when set, sees the
// stored bytes. It returns read's files and the stored bytes read.
func readChunk(ctx context.Context, st blob.Store, key string, c *ClassDescriptor, n int, enc *crypt.Key, tee io.Writer,
	read func(io.Reader) ([]archive.FileInfo, error)) ([]archive.FileInfo, int64, error) {
	info, ok := c.ChunkInfo[n]
	if !ok || info.Size < 0 {
		return nil, 0, errors.New("the manifest has no size and checksum for it")
	}
	rc, err := openResuming(ctx, st, key)
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	var src io.Reader = rc
	if tee != nil {
		src = io.TeeReader(rc, tee)
	}
	hr := archive.NewHashingReader(&sizeBoundReader{r: src, size: info.Size, left: info.Size})
	files, err := read(opened(enc, hr))
	if err == nil {
		err = hr.Verify(info.Size, info.SHA256)
	}
	return files, hr.Size(), err
}

// missingFiles lists, sorted, the files of want that files lacks.
func missingFiles(want map[string]archive.FileInfo, files []archive.FileInfo) []string {
	if len(files) == len(want) {
		return nil // every file read was one of want, once (the archive checks both)
	}
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f.Name] = true
	}
	var out []string
	for _, name := range sortedKeys(want) {
		if !seen[name] {
			out = append(out, name)
		}
	}
	return out
}

// sizeBoundReader fails as soon as its source yields more than size bytes:
// a stored chunk longer than its manifest records is refused before its
// excess is decoded.
type sizeBoundReader struct {
	r          io.Reader
	size, left int64
}

func (b *sizeBoundReader) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.tooLarge()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte past the size tells whether there is more
	}
	n, err := b.r.Read(p)
	if b.left -= int64(n); b.left < 0 {
		return 0, b.tooLarge()
	}
	return n, err
}

func (b *sizeBoundReader) tooLarge() error {
	return fmt.Errorf("the stored chunk is larger than the %d bytes its manifest records", b.size)
}
