package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"
)

// job is a running backup or restore. Its descriptor is the single source
// of its state: every transition updates it in memory and in the backend.
type job struct {
	kind   jobKind
	id     string
	loc    *Location
	be     Backend
	cancel context.CancelCauseFunc

	mu   sync.Mutex
	desc *Descriptor
}

// info renders the job's state.
func (j *job) info() Info {
	j.mu.Lock()
	defer j.mu.Unlock()
	return infoOf(j.desc, j.be.Name(), j.loc)
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
	if err := putJSON(context.Background(), j.loc.Store, j.kind.descriptorKey(j.id), &final); err != nil {
		// The local record stays, so the next start marks the job failed.
		m.log.Error("write final descriptor", "kind", j.kind, "id", j.id, "err", err)
	} else {
		m.removeRecord(j.kind)
	}
	m.mu.Lock()
	j.mu.Lock()
	j.desc = &final
	j.mu.Unlock()
	if j.kind == kindBackup {
		m.backup = nil
	} else {
		m.restore = nil
	}
	m.mu.Unlock()
	m.log.Info(string(j.kind)+" finished", "id", j.id, "status", st, "error", errMsg)
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
