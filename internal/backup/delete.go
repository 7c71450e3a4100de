package backup

import (
	"context"
	"fmt"
	"sort"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup/layout"
	"strata/internal/blob"
)

// Delete removes backup id from its backend: every object under the
// backup's prefix, its descriptor last, so that a delete cut short leaves
// a backup that is still listed (and that verify reports broken) and that
// a second delete finishes. A running backup, or one a restore reads from
// here, is refused (422); an unknown one is NotFound.
func (m *Manager) Delete(ctx context.Context, backendName, id, bucket, path string) error {
	be, loc, err := m.locate(backendName, "backend", id, bucket, path)
	if err != nil {
		return err
	}
	if j := m.find(kindBackup, be, loc, id); j != nil {
		return apperr.Invalidf("backup %q is running: cancel it before deleting it", id)
	}
	if j := m.find(kindRestore, be, loc, id); j != nil {
		return apperr.Invalidf("backup %q is being restored: wait for the restore or cancel it before deleting the backup", id)
	}
	key := layout.BackupDescriptor(id)
	d, found, err := readDescriptor(ctx, loc.Store, key)
	if err != nil {
		return fmt.Errorf("read backup %q: %w", id, err)
	}
	if !found {
		return apperr.NotFoundf("backup %q does not exist: %s not found in %s", id, key, loc.Store)
	}
	if !d.Status.Terminal() {
		return apperr.Invalidf("backup %q is %s: only a backup that has ended can be deleted", id, d.Status)
	}
	var keys []string
	err = loc.Store.List(ctx, id+"/", func(a blob.Attrs) error {
		if a.Key != key {
			keys = append(keys, a.Key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list backup %q: %w", id, err)
	}
	for _, k := range append(keys, key) {
		if err := loc.Store.Delete(ctx, k); err != nil && !blob.IsNotFound(err) {
			return fmt.Errorf("delete backup %q: %s: %w", id, k, err)
		}
	}
	m.log.Info("backup deleted", "backend", be.Name(), "id", id, "objects", len(keys)+1)
	return nil
}

// Retention says which ended backups of a backend to keep: the KeepLast
// newest successful ones and every one started within KeepWithin. Zero
// values keep nothing by that rule; a policy with neither keeps all.
type Retention struct {
	KeepLast   int
	KeepWithin time.Duration
}

// RetainAfterSuccess applies the configured retention policy to a
// backend after one of its backups succeeded, deleting through del.
func (m *Manager) RetainAfterSuccess(backendName string, del DeleteFunc) {
	if !m.opts.Retention.Active() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	go func() { // Close does not wait for it
		select {
		case <-m.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	deleted, err := m.ApplyRetentionWith(ctx, backendName, m.opts.Retention, del)
	if err != nil {
		m.log.Warn("backup retention", "backend", backendName, "err", err)
	}
	if len(deleted) > 0 {
		m.log.Info("backup retention deleted backups", "backend", backendName, "ids", deleted)
	}
}

// RetentionPolicy is the configured policy (inactive when none is).
func (m *Manager) RetentionPolicy() Retention { return m.opts.Retention }

// Active tells whether the policy deletes anything at all.
func (r Retention) Active() bool { return r.KeepLast > 0 || r.KeepWithin > 0 }

// ApplyRetention deletes the ended backups of a backend (at its default
// location) that the policy does not keep, and returns their ids. Running
// backups are never touched; failed and cancelled ones are kept only by
// KeepWithin.
func (m *Manager) ApplyRetention(ctx context.Context, backendName string, r Retention) ([]string, error) {
	return m.ApplyRetentionWith(ctx, backendName, r, m.Delete)
}

// DeleteFunc deletes one backup (Manager.Delete, or a cluster's).
type DeleteFunc func(ctx context.Context, backendName, id, bucket, path string) error

// ApplyRetentionWith is ApplyRetention deleting through del.
func (m *Manager) ApplyRetentionWith(ctx context.Context, backendName string, r Retention, del DeleteFunc) ([]string, error) {
	if r.KeepLast < 0 || r.KeepWithin < 0 {
		return nil, apperr.Invalidf("retention: keepLast and keepWithin cannot be negative")
	}
	if !r.Active() {
		return nil, nil
	}
	infos, err := m.List(ctx, backendName, "desc")
	if err != nil {
		return nil, err
	}
	sort.SliceStable(infos, func(i, k int) bool { return infos[i].StartedAt.After(infos[k].StartedAt) })
	successes := 0
	var deleted []string
	for _, in := range infos {
		if !in.Status.Terminal() {
			continue
		}
		keep := r.KeepWithin > 0 && time.Since(in.StartedAt) <= r.KeepWithin
		if in.Status == StatusSuccess {
			successes++
			keep = keep || successes <= r.KeepLast
		}
		if keep {
			continue
		}
		if err := del(ctx, backendName, in.ID, "", ""); err != nil && apperr.KindOf(err) != apperr.NotFound {
			return deleted, err
		}
		deleted = append(deleted, in.ID)
	}
	return deleted, nil
}
