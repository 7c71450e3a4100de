package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"strata/internal/backup/crypt"
	"strata/internal/metrics"
)

// job is a running backup or restore. Its descriptor is the single source
// of its state: every transition updates it in memory and in the backend.
type job struct {
	kind jobKind
	// part is set on this node's part of a cluster backup, whose
	// descriptor the coordinator writes: its status lives in memory.
	part   bool
	id     string
	loc    *Location
	be     Backend
	cancel context.CancelCauseFunc
	// record is the path of the job's local record ("" = none or removed),
	// used by whoever starts or finishes the job, one at a time.
	record string
	rec    jobRecord // what the record holds

	mu   sync.Mutex
	desc *Descriptor

	// moved counts the bytes moved to or from the backend so far: a
	// part's progress, which its coordinator watches.
	moved atomic.Int64
	// progress counts the transfer per class once it is planned.
	progress atomic.Pointer[progress]
	// key seals (a backup) or opens (a restore) the backup's objects; nil
	// when it is not encrypted.
	key *crypt.Key
}

// movedCounter is a writer that counts what passes through it as bytes
// moved; with a class, as that class's progress too.
func (j *job) movedCounter(class string) io.Writer {
	total := metrics.BackupBytes.WithLabelValues(string(j.kind), j.be.Name())
	return writerFunc(func(p []byte) (int, error) {
		j.moved.Add(int64(len(p)))
		total.Add(float64(len(p)))
		if class != "" {
			j.progress.Load().bytes(class, int64(len(p)))
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// endedBefore tells whether the job ended before t.
func (j *job) endedBefore(t time.Time) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.desc.Status.Terminal() && j.desc.CompletedAt.Before(t)
}

// info renders the job's state.
func (j *job) info() Info {
	j.mu.Lock()
	defer j.mu.Unlock()
	info := infoOf(j.desc, j.be.Name(), j.loc)
	info.Progress = j.progress.Load().snapshot(j.desc.Status.Terminal())
	return info
}

func infoOf(d *Descriptor, backend string, loc *Location) Info {
	return Info{
		ID: d.ID, Backend: backend, Home: loc.Home(d.ID), Bucket: loc.Bucket,
		Classes: d.Classes(), Status: d.Status, Error: d.Error,
		StartedAt: d.StartedAt, CompletedAt: d.CompletedAt, SizeBytes: d.PreCompressionSizeBytes,
	}
}

// status returns the job's current status.
func (j *job) status() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.desc.Status
}

// transition moves a running job to a non-terminal status and writes the
// descriptor to the backend (terminal states go through Manager.finish).
func (j *job) transition(ctx context.Context, st Status) error {
	j.mu.Lock()
	if j.desc.Status == StatusCancelling {
		j.mu.Unlock()
		return context.Canceled // a cancel won the race; the run stops
	}
	j.desc.Status, j.desc.Error = st, ""
	for _, n := range j.desc.Nodes {
		n.Status, n.Error = st, ""
	}
	if j.part {
		j.mu.Unlock()
		return ctx.Err()
	}
	b, err := json.MarshalIndent(j.desc, "", " ")
	j.mu.Unlock()
	if err != nil {
		return err
	}
	// The write is not cut short by a cancel: an abandoned request could
	// still land after the terminal descriptor and overwrite it.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), descriptorWriteTimeout)
	defer cancel()
	if err := j.loc.Store.Put(wctx, j.kind.descriptorKey(j.id), bytes.NewReader(b), int64(len(b))); err != nil {
		return err
	}
	return ctx.Err()
}

// descriptorWriteTimeout bounds one descriptor write.
const descriptorWriteTimeout = time.Minute

// beginCancel moves a running restore to CANCELLING unless it is past the
// point of no return (FINALIZING). It reports the status that refused it.
func (j *job) beginCancel() (refused Status) {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch j.desc.Status {
	case StatusFinalizing, StatusSuccess:
		return j.desc.Status
	}
	j.desc.Status = StatusCancelling
	for _, n := range j.desc.Nodes {
		n.Status = StatusCancelling
	}
	return ""
}

// finish ends a job: the terminal descriptor is written first (also when the
// job's context is cancelled), and only then does the job leave memory, so
// nobody sees a terminal status that the backend does not hold yet, or a
// finished job that still blocks the next one.
func (m *Manager) finish(j *job, st Status, errMsg string) {
	j.mu.Lock()
	final := *j.desc
	final.Status, final.Error, final.CompletedAt = st, errMsg, time.Now().UTC()
	final.Nodes = map[string]*NodeStatus{}
	for name, n := range j.desc.Nodes {
		cp := *n
		cp.Status, cp.Error = st, errMsg
		final.Nodes[name] = &cp
	}
	j.mu.Unlock()
	err := putJSON(context.Background(), j.loc.Store, j.kind.descriptorKey(j.id), &final)
	if err != nil {
		m.recordFinal(j, st, errMsg) // before syncFinal may remove the record
	}
	// Counted before the end is visible, so that whoever sees it sees it counted.
	metrics.JobEnded(string(j.kind), j.be.Name(), string(st), final.CompletedAt.Sub(final.StartedAt))
	m.mu.Lock()
	j.mu.Lock()
	j.desc = &final
	j.mu.Unlock()
	if m.backup == j {
		m.backup = nil
	}
	if m.restore == j {
		m.restore = nil
	}
	if err != nil {
		// The backend is unreachable: answer from memory meanwhile, keep
		// the local record (a restart stores the final status), and keep trying.
		m.log.Error("write final descriptor; retrying in the background", "kind", j.kind, "id", j.id, "err", err)
		m.unsynced[j] = true
		m.wg.Add(1)
		go m.syncFinal(j, &final)
	}
	m.mu.Unlock()
	if err == nil {
		m.removeRecord(j)
	}
	m.log.Info(string(j.kind)+" finished", "id", j.id, "status", st, "error", errMsg)
	if j.kind == kindBackup && st == StatusSuccess && !j.part {
		m.RetainAfterSuccess(j.be.Name(), m.Delete)
	}
}

// syncFinal retries writing a finished job's descriptor until it is stored
// or the manager closes.
func (m *Manager) syncFinal(j *job, final *Descriptor) {
	defer m.wg.Done()
	delay := time.Second
	for {
		select {
		case <-m.closing:
			return
		case <-time.After(delay):
		}
		if err := putJSON(context.Background(), j.loc.Store, j.kind.descriptorKey(j.id), final); err != nil {
			delay = min(2*delay, 30*time.Second)
			continue
		}
		m.removeRecord(j)
		m.mu.Lock()
		delete(m.unsynced, j)
		m.mu.Unlock()
		m.log.Info("final descriptor written", "kind", j.kind, "id", j.id)
		return
	}
}

// find returns the job of a kind addressed by backend, location and id:
// the running one, or a finished one whose descriptor is not stored yet.
func (m *Manager) find(kind jobKind, be Backend, loc *Location, id string) *job {
	m.mu.Lock()
	defer m.mu.Unlock()
	j := m.backup
	if kind == kindRestore {
		j = m.restore
	}
	if sameJob(j, be, loc, id) {
		return j
	}
	for u := range m.unsynced {
		if u.kind == kind && sameJob(u, be, loc, id) {
			return u
		}
	}
	return nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
