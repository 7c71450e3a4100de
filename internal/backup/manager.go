// Package backup is the backup engine: it creates, restores, lists and
// cancels backups of the database's classes on a backend (blob.Store), in
// Weaviate's envelope format with Strata's verifiable manifest. It owns job
// state (one backup and one restore at a time), persists it at each
// transition locally and in the backend, and recovers it after a crash. It
// knows nothing of HTTP; errors carry apperr kinds.
package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup/crypt"
	"strata/internal/backup/layout"
	"strata/internal/blob"
	"strata/internal/db"
	"strata/internal/fsutil"
	"strata/internal/metrics"
)

// Database is what the backup engine needs of the database on this node:
// the class names, consistent snapshots of its shards, and the all-or-
// nothing install of restored classes. *db.DB implements it.
type Database interface {
	ClassNames() []string
	ClassExists(name string) bool
	// Snapshot copies this node's shards of classes into dir, consistent
	// with every write acknowledged before it.
	Snapshot(ctx context.Context, classes []string, dir string) ([]db.ClassSnapshot, error)
	// Shards lists this node's shards of class.
	Shards(class string) ([]db.ShardInfo, error)
	// CheckInstall validates restored classes as a create would.
	CheckInstall(classes []db.RestoredClass) error
	// InstallClasses installs staged classes, all or none.
	InstallClasses(ctx context.Context, classes []db.RestoredClass) error
	// PlaceRestored, RemovePlaced and InstallPlaced are a cluster
	// restore's steps (see db.PlaceRestored).
	PlaceRestored(class, stagedDir string) error
	RemovePlaced(class string, shards []string) error
	InstallPlaced(ctx context.Context, classes []db.RestoredClass) error
}

// Options configure a Manager.
type Options struct {
	DB            Database
	DataPath      string
	Node          string
	ServerVersion string
	Backends      []Backend
	Logger        *slog.Logger
	// CPUs is the number of CPUs CPUPercentage is a share of (0 = GOMAXPROCS).
	CPUs int
	// ChunkTargetSize is the uncompressed size at which a chunk is closed
	// (a file is never split across chunks). Default 64 MiB.
	ChunkTargetSize int64
	// FS holds the job's local files (job records, snapshot dirs); nil =
	// the operating system's.
	FS fsutil.FS
	// Clustered is set on a node of a cluster of several, whose backups
	// and restores the coordinator (internal/backup/coordinator) runs:
	// this manager serves the node's parts only.
	Clustered bool
	// Retention is applied to a backend after each of its backups that
	// succeeds (STRATA_BACKUP_RETENTION_KEEP_LAST / _KEEP_WITHIN).
	Retention Retention
	// Encryption, when set, encrypts every chunk and manifest of new
	// backups and decrypts backups made with it
	// (STRATA_BACKUP_ENCRYPTION_KEY / _KEY_FILE).
	Encryption *crypt.Key
}

// errClustered refuses a one-node backup or restore on a node of a cluster.
var errClustered = apperr.Invalidf("this node is one of a cluster: its backups and restores are the cluster's (internal error: the request reached one node's engine)")

// Manager runs backup and restore jobs. Safe for concurrent use.
type Manager struct {
	opts     Options
	log      *slog.Logger
	backends map[string]Backend

	fs fsutil.FS

	// mu guards the fields below. Create, status calls and the list do
	// no I/O while holding it.
	mu      sync.Mutex
	backup  *job // the running (or starting) backup, if any
	restore *job // the running restore, if any
	// unsynced holds finished jobs whose final descriptor could not be
	// written yet; their status is answered from memory.
	unsynced map[*job]bool
	// parts are this node's parts of cluster backups (part.go), and
	// restoreParts of cluster restores (restorepart.go).
	parts        map[string]*part
	restoreParts map[string]*restorePart
	// abortedParts holds when an abort came for a backup part this node
	// did not have (yet): a prepare still running then is dropped.
	abortedParts map[string]time.Time
	closing      chan struct{}
	wg           sync.WaitGroup
}

// Info is the state of a backup or restore as the API reports it.
type Info struct {
	ID          string
	Backend     string
	Home        string
	Bucket      string
	Classes     []string
	Status      Status
	Error       string
	StartedAt   time.Time
	CompletedAt time.Time
	SizeBytes   int64 // before compression
	// Progress is the transfer's, while the job is known in memory (nil:
	// not planned yet, or read from the backend).
	Progress *Progress
}

// workDir is where jobs keep local state inside the data path.
const workDir = ".backup"

// New builds a manager and recovers jobs a crash interrupted: they are
// marked FAILED locally and in their backend (a restore that had installed
// its classes SUCCESS), and their temporary files are removed.
func New(ctx context.Context, opts Options) (*Manager, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CPUs <= 0 {
		opts.CPUs = runtime.GOMAXPROCS(0)
	}
	if opts.ChunkTargetSize <= 0 {
		opts.ChunkTargetSize = 64 << 20
	}
	m := &Manager{opts: opts, log: opts.Logger, backends: map[string]Backend{}, fs: fsutil.Or(opts.FS),
		unsynced: map[*job]bool{}, parts: map[string]*part{},
		restoreParts: map[string]*restorePart{}, abortedParts: map[string]time.Time{}, closing: make(chan struct{})}
	for _, b := range opts.Backends {
		m.backends[b.Name()] = b
	}
	if err := m.fs.MkdirAll(m.path(jobsDir), 0o755); err != nil {
		return nil, fmt.Errorf("backup work dir: %w", err)
	}
	if err := m.recover(ctx); err != nil {
		return nil, err
	}
	for _, dir := range []string{"snapshots", "staging"} {
		if err := m.fs.RemoveAll(m.path(dir)); err != nil {
			return nil, fmt.Errorf("remove leftover %s: %w", dir, err)
		}
	}
	metrics.SetJobsInFlight(m.inFlight)
	return m, nil
}

// inFlight counts this node's running jobs of a kind: 0 or 1 (a part of a
// cluster job included).
func (m *Manager) inFlight(kind string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if slot := m.running(jobKind(kind)); *slot != nil {
		return 1
	}
	return 0
}

func (m *Manager) path(elem ...string) string {
	return filepath.Join(append([]string{m.opts.DataPath, workDir}, elem...)...)
}

// Close cancels running jobs and waits for them to stop.
func (m *Manager) Close() {
	m.mu.Lock()
	select {
	case <-m.closing:
	default:
		close(m.closing)
	}
	for _, j := range []*job{m.backup, m.restore} {
		if j != nil {
			j.cancel(errShutdown)
		}
	}
	parts, restoreParts := maps.Clone(m.parts), maps.Clone(m.restoreParts)
	m.mu.Unlock()
	// Parts that wait on their coordinator hold their slot: give it up.
	for id, p := range parts {
		m.dropPrepared(id, p)
	}
	for _, p := range restoreParts {
		p.j.mu.Lock()
		waiting := p.j.desc.Status == StatusTransferred
		p.j.mu.Unlock()
		if waiting {
			m.releaseRestorePart(p) // what it placed is an orphan at the next start
		}
	}
	m.wg.Wait()
	// The backends are the manager's: their clients go with it.
	for name, b := range m.backends {
		if c, ok := b.(io.Closer); ok {
			if err := c.Close(); err != nil {
				m.log.Warn("close backup backend", "backend", name, "err", err)
			}
		}
	}
}

var errShutdown = errors.New("interrupted by server shutdown")

// BackendMeta lists the enabled backends' module meta for /v1/meta.
func (m *Manager) BackendMeta() map[string]any {
	out := map[string]any{}
	for name, b := range m.backends {
		out["backup-"+name] = b.Meta()
	}
	return out
}

// backendFor resolves a backend name from a URL; what is "backend" or
// "provider", as Weaviate's messages differ per endpoint.
func (m *Manager) backendFor(name, what string) (Backend, error) {
	if short, ok := moduleNames[name]; ok {
		if b := m.backends[short]; b != nil {
			return b, nil
		}
	}
	return nil, apperr.Invalidf("no backup %s %q: backup: %s not found, did you enable the right module?", what, name, name)
}

// validateID applies the id rule (layout.CheckID) on every endpoint.
func validateID(id string) error {
	if err := layout.CheckID(id); err != nil {
		return apperr.Invalidf("invalid backup id: %v", err)
	}
	return nil
}

// workers sizes a worker pool from CPUPercentage as Weaviate does:
// max(1, CPUs × p / 100), p = 50 when unset.
func (m *Manager) workers(cpuPercentage int) int {
	if cpuPercentage <= 0 {
		cpuPercentage = 50
	}
	return max(1, m.opts.CPUs*cpuPercentage/100)
}

// readDescriptor reads a descriptor; not found is reported as ok=false.
func readDescriptor(ctx context.Context, st blob.Store, key string) (*Descriptor, bool, error) {
	rc, err := st.Get(ctx, key)
	if blob.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer rc.Close()
	var d Descriptor
	if err := json.NewDecoder(rc).Decode(&d); err != nil {
		return nil, false, fmt.Errorf("parse %s: %w", key, err)
	}
	return &d, true, nil
}

func putJSON(ctx context.Context, st blob.Store, key string, v any) error {
	return putSealedJSON(ctx, st, key, v, nil)
}

// jobRecord is the local trace of a running job, kept until its final
// descriptor is stored, so that a crash can be detected and the job failed
// at the next start. Each job has its own record file (see recordName).
type jobRecord struct {
	Kind      jobKind   `json:"kind,omitempty"` // absent in records of older versions
	ID        string    `json:"id"`
	Backend   string    `json:"backend"`
	Bucket    string    `json:"bucket,omitempty"`
	Path      string    `json:"path,omitempty"`
	StartedAt time.Time `json:"startedAt,omitzero"`
	Classes   []string  `json:"classes,omitempty"`
	// Status and Error are set when the job ended but its final
	// descriptor could not be stored: a restart stores them.
	Status Status `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// Install lists, once a restore installs its classes, each class's
	// shards: recovery then tells whether the install committed.
	Install map[string][]string `json:"install,omitempty"`
}

type jobKind string

const (
	kindBackup  jobKind = "backup"
	kindRestore jobKind = "restore"
)

func (k jobKind) descriptorKey(id string) string {
	if k == kindBackup {
		return layout.BackupDescriptor(id)
	}
	return layout.RestoreDescriptor(id)
}

// jobsDir holds one record per unfinished job.
const jobsDir = "jobs"

// recordName names a job's record: "<kind>-<id>-<start, ns>.json". The
// start time tells apart two runs of one id (one of them finished but not
// yet synced); an id is at most layout.MaxIDLength characters, so the name
// fits in any file system's NAME_MAX.
func recordName(kind jobKind, id string, started time.Time) string {
	return fmt.Sprintf("%s-%s-%d.json", kind, id, started.UnixNano())
}

// writeRecord stores the record of job j, which owns it from then on.
func (m *Manager) writeRecord(j *job, rec jobRecord) error {
	rec.Kind = j.kind
	if rec.StartedAt.IsZero() {
		rec.StartedAt = j.desc.StartedAt
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	path := m.path(jobsDir, recordName(j.kind, j.id, rec.StartedAt))
	if err := fsutil.WriteFileAtomicFS(m.fs, path, b, 0o644); err != nil {
		return err
	}
	j.record, j.rec = path, rec
	return nil
}

// recordFinal notes a finished job's final status in its record, for a
// restart to store if the backend cannot be written now.
func (m *Manager) recordFinal(j *job, st Status, errMsg string) {
	if j.record == "" {
		return
	}
	rec := j.rec
	rec.Status, rec.Error = st, errMsg
	b, err := json.Marshal(rec)
	if err == nil {
		err = fsutil.WriteFileAtomicFS(m.fs, j.record, b, 0o644)
	}
	if err != nil {
		m.log.Error("note final status in job record", "kind", j.kind, "id", j.id, "err", err)
	}
}

// removeRecord removes job j's own record (no other job's).
func (m *Manager) removeRecord(j *job) {
	if j.record == "" {
		return
	}
	if err := m.fs.Remove(j.record); err != nil && !errors.Is(err, os.ErrNotExist) {
		m.log.Error("remove job record", "kind", j.kind, "id", j.id, "err", err)
		return
	}
	j.record = ""
}

// legacyRecords are the record files of older versions: one per kind.
var legacyRecords = map[string]jobKind{"running-backup.json": kindBackup, "running-restore.json": kindRestore}

// recover finishes every job that was running when the server stopped: it
// reads every record (this version's and older ones') and marks its job
// FAILED in the backend, or SUCCESS for a restore whose install committed
// (see Manager.installed). A job whose backend cannot be written now is
// answered as FAILED from memory and synced in the background.
func (m *Manager) recover(ctx context.Context) error {
	var paths []string
	for name := range legacyRecords {
		paths = append(paths, m.path(name))
	}
	entries, err := m.fs.ReadDir(m.path(jobsDir))
	if err != nil {
		return fmt.Errorf("list job records: %w", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
			paths = append(paths, m.path(jobsDir, e.Name()))
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := m.recoverRecord(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// recoverRecord finishes the job of one record.
func (m *Manager) recoverRecord(ctx context.Context, path string) error {
	b, err := m.fs.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read job record %s: %w", path, err)
	}
	var rec jobRecord
	if err := json.Unmarshal(b, &rec); err != nil || layout.CheckID(rec.ID) != nil {
		m.log.Error("unreadable job record; discarding it", "record", path, "err", err)
		m.removeRecord(&job{record: path})
		return nil
	}
	if k, ok := legacyRecords[filepath.Base(path)]; ok {
		rec.Kind = k
	}
	if rec.Kind != kindBackup && rec.Kind != kindRestore {
		m.log.Error("job record of an unknown kind; discarding it", "record", path, "kind", rec.Kind)
		m.removeRecord(&job{record: path})
		return nil
	}
	kind := rec.Kind
	reason := fmt.Sprintf("interrupted by restart: the server stopped while this %s was running", kind)
	be := m.backends[rec.Backend]
	if be == nil {
		m.log.Error("job interrupted by restart on a backend that is no longer enabled", "kind", kind, "id", rec.ID, "backend", rec.Backend)
		m.removeRecord(&job{record: path})
		return nil
	}
	loc, err := be.Locate(rec.Bucket, rec.Path)
	if err != nil {
		m.log.Error("job interrupted by restart at a location that is no longer valid", "kind", kind, "id", rec.ID, "err", err)
		m.removeRecord(&job{record: path})
		return nil
	}
	j := &job{kind: kind, id: rec.ID, loc: loc, be: be, record: path, rec: rec}
	key := kind.descriptorKey(rec.ID)
	d, found, err := readDescriptor(ctx, loc.Store, key)
	switch {
	case err == nil && found && d.Status.Terminal():
		m.removeRecord(j) // the final descriptor was stored; only the record was left
		return nil
	case err == nil && found && d.ID == rec.ID:
		j.desc = d
	default:
		// Unreadable or absent: what the record knows.
		j.desc = &Descriptor{ID: rec.ID, StartedAt: rec.StartedAt, Version: FormatVersion, ServerVersion: m.opts.ServerVersion,
			Leader: m.opts.Node, StrataFormat: StrataFormat,
			Nodes: map[string]*NodeStatus{m.opts.Node: {Classes: rec.Classes}}}
	}
	if rec.Status.Terminal() {
		// The job had ended; only its final descriptor was not stored.
		m.log.Warn("storing the final status of a job that ended before the restart", "kind", kind, "id", rec.ID, "status", rec.Status)
		m.finish(j, rec.Status, rec.Error)
		return nil
	}
	status, msg := StatusFailed, reason
	if kind == kindRestore && m.installed(rec.Install) {
		status, msg = StatusSuccess, "" // the crash came after the install committed
	}
	m.log.Warn("finishing job interrupted by restart", "kind", kind, "id", rec.ID, "status", status)
	m.finish(j, status, msg)
	return nil
}
