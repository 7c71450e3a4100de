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
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"time"

	"strata/internal/activity"
	"strata/internal/apperr"
	"strata/internal/backup/layout"
	"strata/internal/blob"
	"strata/internal/db"
	"strata/internal/fsutil"
)

// Options configure a Manager.
type Options struct {
	DB            *db.DB
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
	// Foreground tells whether clients are being served; while they are, a
	// job's workers beyond the first wait (see runPool). Nil: never.
	Foreground *activity.Tracker
}

// Manager runs backup and restore jobs. Safe for concurrent use.
type Manager struct {
	opts     Options
	log      *slog.Logger
	backends map[string]Backend

	mu      sync.Mutex
	backup  *job // the running backup, if any
	restore *job // the running restore, if any
	// unsynced holds finished jobs whose final descriptor could not be
	// written yet; their status is answered from memory.
	unsynced map[jobKind]*job
	closing  chan struct{}
	wg       sync.WaitGroup
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
}

var idPattern = regexp.MustCompile(`^[a-z0-9_-]+$`)

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
	m := &Manager{opts: opts, log: opts.Logger, backends: map[string]Backend{},
		unsynced: map[jobKind]*job{}, closing: make(chan struct{})}
	for _, b := range opts.Backends {
		m.backends[b.Name()] = b
	}
	if err := os.MkdirAll(m.path(), 0o755); err != nil {
		return nil, fmt.Errorf("backup work dir: %w", err)
	}
	for _, kind := range []jobKind{kindBackup, kindRestore} {
		if err := m.recover(ctx, kind); err != nil {
			return nil, err
		}
	}
	for _, dir := range []string{"snapshots", "staging"} {
		if err := os.RemoveAll(m.path(dir)); err != nil {
			return nil, fmt.Errorf("remove leftover %s: %w", dir, err)
		}
	}
	return m, nil
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
	m.mu.Unlock()
	m.wg.Wait()
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

func validateID(id string) error {
	if id == "" {
		return apperr.Invalidf("invalid backup id: 'id' is required: set \"id\" to a name of lowercase letters, 0-9, _ and -")
	}
	if !idPattern.MatchString(id) {
		return apperr.Invalidf("invalid backup id: '%s' allowed characters are lowercase, 0-9, _, -", id)
	}
	return nil
}

// idle reports whether no foreground request is being served.
func (m *Manager) idle() bool { return !m.opts.Foreground.Busy(activity.Quiet) }

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
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return st.Put(ctx, key, bytesReader(b), int64(len(b)))
}

// jobRecord is the local trace of a running job, kept until it ends so a
// crash can be detected and the job failed at the next start.
type jobRecord struct {
	ID      string `json:"id"`
	Backend string `json:"backend"`
	Bucket  string `json:"bucket,omitempty"`
	Path    string `json:"path,omitempty"`
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

func (m *Manager) recordPath(kind jobKind) string {
	return m.path("running-" + string(kind) + ".json")
}

func (m *Manager) writeRecord(kind jobKind, rec jobRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(m.recordPath(kind), b, 0o644)
}

func (m *Manager) removeRecord(kind jobKind) {
	if err := os.Remove(m.recordPath(kind)); err != nil && !errors.Is(err, os.ErrNotExist) {
		m.log.Error("remove job record", "kind", kind, "err", err)
	}
}

// recover finishes a job that was running when the server stopped: it is
// FAILED, unless it is a restore whose install committed (see
// Manager.installed), which is SUCCESS.
func (m *Manager) recover(ctx context.Context, kind jobKind) error {
	b, err := os.ReadFile(m.recordPath(kind))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s job record: %w", kind, err)
	}
	var rec jobRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		m.log.Error("unreadable job record; discarding it", "kind", kind, "err", err)
		m.removeRecord(kind)
		return nil
	}
	reason := fmt.Sprintf("interrupted by restart: the server stopped while this %s was running", kind)
	be := m.backends[rec.Backend]
	if be == nil {
		m.log.Error("job interrupted by restart on a backend that is no longer enabled", "kind", kind, "id", rec.ID, "backend", rec.Backend)
		m.removeRecord(kind)
		return nil
	}
	loc, err := be.Locate(rec.Bucket, rec.Path)
	status, errMsg := StatusFailed, reason
	if kind == kindRestore && m.installed(rec.Install) {
		status, errMsg = StatusSuccess, "" // the crash came after the install committed
	}
	if err == nil {
		key := kind.descriptorKey(rec.ID)
		var d *Descriptor
		var found bool
		if d, found, err = readDescriptor(ctx, loc.Store, key); err == nil && found && !d.Status.Terminal() {
			d.Status, d.Error, d.CompletedAt = status, errMsg, time.Now().UTC()
			for _, n := range d.Nodes {
				if !n.Status.Terminal() {
					n.Status, n.Error = status, errMsg
				}
			}
			err = putJSON(ctx, loc.Store, key, d)
		}
	}
	if err != nil {
		// Keep the record: the next start tries again, and the API will not
		// report a stale status as running because no job is in memory.
		m.log.Error("could not finish interrupted job", "kind", kind, "id", rec.ID, "status", status, "err", err)
		return nil
	}
	m.log.Warn("finished job interrupted by restart", "kind", kind, "id", rec.ID, "status", status)
	m.removeRecord(kind)
	return nil
}
