package backup

import (
	"context"
	"errors"
	"sort"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup/layout"
	"strata/internal/blob"
)

// locate resolves backend and overrides for status and cancel calls.
func (m *Manager) locate(backendName, what, id, bucket, path string) (Backend, *Location, error) {
	be, err := m.backendFor(backendName, what)
	if err != nil {
		return nil, nil, err
	}
	if err := validateID(id); err != nil {
		return nil, nil, err
	}
	loc, err := be.Locate(bucket, path)
	if err != nil {
		return nil, nil, err
	}
	return be, loc, nil
}

// sameJob reports whether a running job is the one addressed.
func sameJob(j *job, be Backend, loc *Location, id string) bool {
	return j != nil && j.id == id && j.be == be && j.loc.Home(id) == loc.Home(id)
}

// CreateStatus reports a backup's state: from memory while it runs here,
// else from its descriptor in the backend.
func (m *Manager) CreateStatus(ctx context.Context, backendName, id, bucket, path string) (Info, error) {
	be, loc, err := m.locate(backendName, "provider", id, bucket, path)
	if err != nil {
		return Info{}, err
	}
	if j := m.find(kindBackup, be, loc, id); j != nil {
		return j.info(), nil
	}
	return m.storedInfo(ctx, be, loc, kindBackup, id)
}

func (m *Manager) storedInfo(ctx context.Context, be Backend, loc *Location, kind jobKind, id string) (Info, error) {
	key := kind.descriptorKey(id)
	d, found, err := readDescriptor(ctx, loc.Store, key)
	if err != nil {
		return Info{}, err
	}
	if !found {
		return Info{}, apperr.NotFoundf("coordinator cannot get status: metadata not found: %q: %s not found in %s", id, key, loc.Store)
	}
	return infoOf(d, be.Name(), loc), nil
}

// Cancel cancels a running backup. Cancelling a finished CANCELED backup or
// an unknown id does nothing; a SUCCESS backup cannot be cancelled.
func (m *Manager) Cancel(ctx context.Context, backendName, id, bucket, path string) error {
	be, loc, err := m.locate(backendName, "provider", id, bucket, path)
	if err != nil {
		return err
	}
	m.mu.Lock()
	j := m.backup
	m.mu.Unlock()
	if sameJob(j, be, loc, id) {
		j.cancel(context.Canceled)
		return nil
	}
	d, found, err := readDescriptor(ctx, loc.Store, layout.BackupDescriptor(id))
	if err != nil {
		return err
	}
	if found && d.Status == StatusSuccess {
		return apperr.Invalidf("backup %q already succeeded", id)
	}
	return nil
}

// List lists the backups under the backend's configured root, newest first
// (order "desc") or oldest first ("asc").
func (m *Manager) List(ctx context.Context, backendName, order string) ([]Info, error) {
	be, err := m.backendFor(backendName, "backend")
	if err != nil {
		return nil, err
	}
	loc, err := be.Locate("", "")
	if err != nil {
		return nil, err
	}
	// One delimiter listing of the backups' directories: the chunks below
	// are never walked. A directory without a descriptor is no backup.
	var ids []string
	err = loc.Store.ListDirs(ctx, "", func(name string) error {
		if layout.CheckID(name) == nil {
			ids = append(ids, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	running := m.backup
	m.mu.Unlock()
	out := make([]Info, 0, len(ids))
	for _, id := range ids {
		if sameJob(running, be, loc, id) {
			out = append(out, running.info())
			continue
		}
		info, err := m.storedInfo(ctx, be, loc, kindBackup, id)
		if errors.Is(err, blob.ErrNotFound) || apperr.KindOf(err) == apperr.NotFound {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	sort.SliceStable(out, func(i, k int) bool {
		if order == "asc" {
			return out[i].StartedAt.Before(out[k].StartedAt)
		}
		return out[i].StartedAt.After(out[k].StartedAt)
	})
	return out, nil
}

// RestoreStatus reports the latest restore of a backup.
func (m *Manager) RestoreStatus(ctx context.Context, backendName, id, bucket, path string) (Info, error) {
	be, loc, err := m.locate(backendName, "provider", id, bucket, path)
	if err != nil {
		return Info{}, err
	}
	if j := m.find(kindRestore, be, loc, id); j != nil {
		return j.info(), nil
	}
	return m.storedInfo(ctx, be, loc, kindRestore, id)
}

// CancelRestore cancels a running restore. A restore that is applying its
// schema (FINALIZING) or has succeeded cannot be cancelled; one that failed
// becomes CANCELED; unknown ids are a no-op.
func (m *Manager) CancelRestore(ctx context.Context, backendName, id, bucket, path string) error {
	be, loc, err := m.locate(backendName, "provider", id, bucket, path)
	if err != nil {
		return err
	}
	m.mu.Lock()
	j := m.restore
	m.mu.Unlock()
	if sameJob(j, be, loc, id) {
		switch j.beginCancel() {
		case StatusFinalizing:
			return apperr.Invalidf("restore %q is applying schema changes and cannot be cancelled", id)
		case StatusSuccess:
			return apperr.Invalidf("restore %q already succeeded", id)
		}
		// CANCELLING is shown from memory; the run writes CANCELED when it stops.
		j.cancel(context.Canceled)
		return nil
	}
	key := layout.RestoreDescriptor(id)
	d, found, err := readDescriptor(ctx, loc.Store, key)
	if err != nil || !found {
		return err
	}
	switch d.Status {
	case StatusCanceled, StatusCancelling:
		return nil
	case StatusSuccess:
		return apperr.Invalidf("restore %q already succeeded", id)
	case StatusFinalizing:
		return apperr.Invalidf("restore %q is applying schema changes and cannot be cancelled", id)
	}
	d.Status, d.Error, d.CompletedAt = StatusCanceled, "restore canceled by user", time.Now().UTC()
	return putJSON(ctx, loc.Store, key, d)
}
