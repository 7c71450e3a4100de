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

// transition moves the job to a status (with an error message for failures)
// and writes the descriptor to the backend. Terminal states are final.
func (j *job) transition(ctx context.Context, st Status, errMsg string, size int64) error {
	j.mu.Lock()
	if j.desc.Status.Terminal() {
		j.mu.Unlock()
		return nil
	}
	j.desc.Status, j.desc.Error = st, errMsg
	if size > 0 {
		j.desc.PreCompressionSizeBytes = size
	}
	for _, n := range j.desc.Nodes {
		n.Status, n.Error = st, errMsg
		if size > 0 {
			n.PreCompressionSizeBytes = size
		}
	}
	if st.Terminal() {
		j.desc.CompletedAt = time.Now().UTC()
	}
	b, err := json.MarshalIndent(j.desc, "", " ")
	j.mu.Unlock()
	if err != nil {
		return err
	}
	return j.loc.Store.Put(ctx, j.kind.descriptorKey(j.id), bytes.NewReader(b), int64(len(b)))
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
