package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"strata/internal/shard"
)

// Every schema change — a class created, updated or deleted, properties
// or tenants added, tenants activated, deactivated or deleted, classes
// restored — is planned and then committed. Planning runs under the write
// lock against the current catalog: it validates the request and computes
// each changed class's new record. Committing applies the records: it opens
// the shards this node now keeps active, writes the catalog once, adopts
// the records, and closes and removes the shards no longer active or no
// longer there. On one node the commit follows the plan under the same
// lock. In a cluster (Options.Log) the records go through the replicated
// log and every node commits them in log order; each carries the revision
// of the record it replaces, so a plan made on a catalog that has changed
// since is refused everywhere alike and planned again.

// Log replicates schema changes to every node (cluster mode).
type Log interface {
	// Propose appends cmd to the log and returns, once this node has
	// applied it, what ApplyLog returned for it.
	Propose(ctx context.Context, cmd []byte) ([]byte, error)
	// Sync waits until this node has applied every change the cluster
	// acknowledged.
	Sync(ctx context.Context) error
}

// sync brings this node's catalog up to every acknowledged change (cluster
// mode): before a change is planned, before a schema read (the classes, a
// class, its tenants) and before a read reports a class missing. A failure
// is logged; the caller goes on with what it has.
func (d *DB) sync() {
	if !d.clustered() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	if err := d.opts.Log.Sync(ctx); err != nil {
		d.log.Warn("could not sync the schema with the cluster", "err", err)
	}
}

// classChange is one class's new record (nil: the class is deleted),
// replacing the record at revision Base (0: there is none).
type classChange struct {
	Name string       `json:"name"`
	Base uint64       `json:"base"`
	Rec  *classRecord `json:"rec,omitempty"`
}

// plan collects the changes of one schema change.
type plan struct {
	d       *DB
	changes []*classChange
}

// change returns the pending change of a class, or nil.
func (p *plan) change(name string) *classChange {
	for _, ch := range p.changes {
		if ch.Name == name {
			return ch
		}
	}
	return nil
}

// record returns the class's record as the plan leaves it: the pending one
// or the current one (nil: none). It must not be modified; use edit.
func (p *plan) record(name string) *classRecord {
	if ch := p.change(name); ch != nil {
		return ch.Rec
	}
	if col := p.d.classes[name]; col != nil {
		return col.rec
	}
	return nil
}

// edit returns a modifiable copy of an existing class's record, which the
// plan commits (the same copy on later calls).
func (p *plan) edit(name string) *classRecord {
	if ch := p.change(name); ch != nil {
		return ch.Rec
	}
	cur := p.d.classes[name].rec
	rec := *cur
	rec.Tenants = maps.Clone(cur.Tenants)
	if rec.Class.MultiTenant() && rec.Tenants == nil { // an empty map does not survive JSON
		rec.Tenants = map[string]string{}
	}
	rec.TenantNodes = maps.Clone(cur.TenantNodes)
	p.changes = append(p.changes, &classChange{Name: name, Base: cur.Rev, Rec: &rec})
	return &rec
}

// add adds a new class's record.
func (p *plan) add(rec *classRecord) {
	p.changes = append(p.changes, &classChange{Name: rec.Class.Class, Rec: rec})
}

// remove deletes a class.
func (p *plan) remove(name string) {
	if ch := p.change(name); ch != nil {
		ch.Rec = nil
		return
	}
	p.changes = append(p.changes, &classChange{Name: name, Base: p.d.classes[name].rec.Rev})
}

// errStale refuses a change planned on a catalog that has changed since.
var errStale = errors.New("the schema changed while the change was planned")

// maxReplans bounds how often a change refused as stale is planned again.
const maxReplans = 20

// proposeTimeout bounds how long a schema change waits for the log.
const proposeTimeout = 30 * time.Second

// syncTimeout bounds a sync: without a leader, a read answers with what
// this node has after it.
const syncTimeout = 5 * time.Second

// change plans a schema change under the write lock and commits it. dirs
// (may be nil) lists the shard directories the change may close or remove,
// which no snapshot may be copying meanwhile (see lockUnpinned). planFn
// may run more than once in a cluster; it must not have effects outside
// the plan but its results.
func (d *DB) change(dirs func() []string, planFn func(p *plan) error) error {
	d.sync()
	for attempt := 0; ; attempt++ {
		if dirs != nil {
			d.lockUnpinned(dirs)
		} else {
			d.mu.Lock()
		}
		p := &plan{d: d}
		err := planFn(p)
		if err != nil || len(p.changes) == 0 {
			d.mu.Unlock()
			return err
		}
		if d.opts.Log == nil {
			err = d.commitLocked(p.changes, true)
			d.mu.Unlock()
			return err
		}
		d.mu.Unlock()
		err = d.propose(p.changes)
		if !errors.Is(err, errStale) || attempt == maxReplans {
			return err
		}
	}
}

// logResult is what ApplyLog returns for a command: the change's error.
type logResult struct {
	Kind  Kind   `json:"kind,omitempty"`
	Msg   string `json:"msg,omitempty"`
	Stale bool   `json:"stale,omitempty"`
}

// propose commits changes through the log.
func (d *DB) propose(changes []*classChange) error {
	cmd, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), proposeTimeout)
	defer cancel()
	out, err := d.opts.Log.Propose(ctx, cmd)
	if err != nil {
		return fmt.Errorf("schema change: %w", err)
	}
	var res logResult
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("schema change: result: %w", err)
	}
	switch {
	case res.Stale:
		return errStale
	case res.Msg != "":
		return &Error{Kind: res.Kind, Msg: res.Msg}
	}
	return nil
}

// ApplyLog commits a schema change from the replicated log at index. Every
// node applies the same commands in the same order, so each refuses or
// commits a change alike; a change is refused only for what the catalog
// decides (a stale plan, a name taken meanwhile). What this node cannot do
// (open a shard) is logged: the others committed the change too. Commands
// at or below the index the catalog was written at are skipped: a restart
// replays the log from the last snapshot.
func (d *DB) ApplyLog(index uint64, cmd []byte) []byte {
	var changes []*classChange
	if err := json.Unmarshal(cmd, &changes); err != nil {
		d.log.Error("undecodable schema command in the log", "index", index, "err", err)
		return mustJSON(logResult{Kind: KindInvalid, Msg: "undecodable schema command: " + err.Error()})
	}
	d.lockUnpinned(func() []string { return d.retiredDirs(changes) })
	defer d.mu.Unlock()
	if index <= d.applied {
		return mustJSON(logResult{})
	}
	d.applied = index
	err := d.commitLocked(changes, false)
	var res logResult
	switch {
	case errors.Is(err, errStale):
		res.Stale = true
	case err != nil:
		res.Kind, res.Msg = KindOf(err), err.Error()
	}
	return mustJSON(res)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// retiredDirs lists the directories of the local shards changes may close
// or remove. Caller holds d.mu.
func (d *DB) retiredDirs(changes []*classChange) []string {
	var out []string
	for _, ch := range changes {
		if col := d.classes[ch.Name]; col != nil {
			out = append(out, d.shardDirsOf(col, nil)...)
		}
	}
	return out
}

// commitLocked applies changes; strict (one node) undoes everything and
// returns the error when a shard cannot be opened or the catalog not
// written, otherwise (a node applying the log) the failure is logged and
// the change committed. Caller holds d.mu for writing.
func (d *DB) commitLocked(changes []*classChange, strict bool) error {
	for _, ch := range changes {
		col := d.classes[ch.Name]
		var rev uint64
		if col != nil {
			rev = col.rec.Rev
		}
		if rev != ch.Base {
			return errStale
		}
		if col == nil && ch.Rec != nil {
			if err := d.nameFreeLocked(ch.Name); err != nil {
				return err
			}
		}
	}

	// Open the shards each class now keeps active here, all or none.
	works := make([]*collection, len(changes))
	var toOpen []shardRef
	for i, ch := range changes {
		if ch.Rec == nil {
			continue
		}
		shards := map[string]*shard.Shard{}
		if col := d.classes[ch.Name]; col != nil {
			shards = col.shards
		}
		works[i] = &collection{rec: ch.Rec, shards: shards}
		for _, name := range d.hotShards(works[i]) {
			if shards[name] == nil {
				toOpen = append(toOpen, shardRef{i, name})
			}
		}
	}
	undo := func() {
		for _, r := range toOpen {
			d.closeShard(works[r.change], r.name)
			if !d.hadShard(changes[r.change].Name, r.name) {
				os.RemoveAll(d.shardDir(changes[r.change].Name, r.name))
			}
		}
	}
	if err := d.shards.room(len(toOpen)); err != nil && len(toOpen) > 0 {
		if strict {
			return err
		}
		d.log.Warn("schema change opens shards beyond STRATA_MAX_ACTIVE_SHARDS", "err", err)
	}
	for _, r := range toOpen {
		if _, err := d.openShard(works[r.change], r.name, !strict); err != nil {
			if strict {
				undo()
				return err
			}
			d.log.Error("could not open a shard of a committed schema change", "class", changes[r.change].Name, "shard", r.name, "err", err)
		}
	}

	// Write the catalog once, with every record at the new revision.
	d.rev++
	next := d.recordMap()
	for _, ch := range changes {
		if ch.Rec == nil {
			delete(next, ch.Name)
			continue
		}
		ch.Rec.Rev = d.rev
		next[ch.Name] = ch.Rec
	}
	if err := saveCatalog(d.opts.DataPath, d.catalogOf(next)); err != nil {
		if strict {
			d.rev--
			undo()
			return err
		}
		d.log.Error("could not write the schema; the log holds the change", "err", err)
	}

	// Adopt the records; retire what is no longer active or no longer there.
	var errs []error
	for i, ch := range changes {
		old := d.classes[ch.Name]
		if ch.Rec == nil {
			delete(d.classes, ch.Name)
			for name := range old.shards {
				errs = append(errs, d.closeShard(old, name))
			}
			errs = append(errs, os.RemoveAll(d.classDir(ch.Name)))
			continue
		}
		if old == nil {
			d.classes[ch.Name] = works[i]
			continue
		}
		oldLocal := d.localShards(old)
		defChanged := old.rec.Class != ch.Rec.Class
		old.rec = ch.Rec
		if defChanged {
			d.updateInverted(old)
			d.updateVectorIndexes(old)
		}
		hot := d.hotShards(old)
		for name := range old.shards {
			if !slices.Contains(hot, name) {
				errs = append(errs, d.closeShard(old, name))
			}
		}
		local := d.localShards(old)
		for _, name := range oldLocal {
			if !slices.Contains(local, name) {
				errs = append(errs, os.RemoveAll(d.shardDir(ch.Name, name)))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		if strict {
			return err
		}
		d.log.Error("retiring shards of a committed schema change", "err", err)
	}
	return nil
}

// shardRef names one shard of the i-th change.
type shardRef struct {
	change int
	name   string
}

// hadShard tells whether a class had the named shard before a change (so
// undoing the change keeps its directory). Caller holds d.mu.
func (d *DB) hadShard(class, name string) bool {
	col := d.classes[class]
	return col != nil && slices.Contains(d.localShards(col), name)
}

// WriteCatalog writes the catalog as the replicated log's snapshot: every
// class record, the revision and the last log index applied.
func (d *DB) WriteCatalog(w io.Writer) error {
	d.mu.RLock()
	f := d.catalogOf(d.recordMap())
	b, err := json.Marshal(f)
	d.mu.RUnlock()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// ReadCatalog replaces the catalog with a snapshot WriteCatalog wrote (on
// another node, or here before a restart), opening, closing and removing
// shards to match. A snapshot older than what this node has applied is
// ignored.
func (d *DB) ReadCatalog(r io.Reader) error {
	var f catalogFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return fmt.Errorf("read schema snapshot: %w", err)
	}
	revs := map[string]uint64{}
	for _, rec := range f.Classes {
		if rec.Class == nil || !rec.Class.MultiTenant() && rec.Sharding == nil {
			return errors.New("read schema snapshot: a class record without a class or shards")
		}
		revs[rec.Class.Class] = rec.Rev
	}
	var changes []*classChange
	d.mu.RLock()
	for _, rec := range f.Classes {
		ch := &classChange{Name: rec.Class.Class, Rec: rec}
		if col := d.classes[ch.Name]; col != nil {
			ch.Base = col.rec.Rev
		}
		changes = append(changes, ch)
	}
	for name, col := range d.classes {
		if _, ok := revs[name]; !ok {
			changes = append(changes, &classChange{Name: name, Base: col.rec.Rev})
		}
	}
	d.mu.RUnlock()
	d.lockUnpinned(func() []string { return d.retiredDirs(changes) })
	defer d.mu.Unlock()
	if f.Applied <= d.applied {
		return nil
	}
	for _, ch := range changes { // the catalog may have changed since they were listed
		if col := d.classes[ch.Name]; col != nil {
			ch.Base = col.rec.Rev
		} else {
			ch.Base = 0
		}
	}
	// Deletions first, so that a class the snapshot has under a name
	// similar to a deleted one's is no clash.
	var drops, puts []*classChange
	for _, ch := range changes {
		if ch.Rec == nil {
			drops = append(drops, ch)
		} else {
			puts = append(puts, ch)
		}
	}
	for _, batch := range [][]*classChange{drops, puts} {
		if len(batch) == 0 {
			continue
		}
		if err := d.commitLocked(batch, false); err != nil {
			return err
		}
	}
	for _, col := range d.classes { // the revisions every node has
		col.rec.Rev = revs[col.rec.Class.Class]
	}
	d.rev, d.applied = f.Rev, f.Applied
	return saveCatalog(d.opts.DataPath, d.catalogOf(d.recordMap()))
}

// recordMap maps every class name to its record. Caller holds d.mu.
func (d *DB) recordMap() map[string]*classRecord {
	out := make(map[string]*classRecord, len(d.classes))
	for name, col := range d.classes {
		out[name] = col.rec
	}
	return out
}
