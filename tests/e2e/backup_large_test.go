package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weaviate/weaviate/entities/models"
)

// The tests that must catch a backup or restore while it runs share one
// data set: a class of largeObjects objects (largeDim-dimensional vectors)
// and a SUCCESS backup of it (largeBackupID), built once by
// TestBackupLarge. Every subtest copies the data and backup directories and
// runs its own server on the copy.
const (
	largeObjects  = 100_000
	largeDim      = 128
	largeClass    = "Big"
	largeBackupID = "tpl"
)

// slowBackupConfig makes a backup of the large class take long enough to
// be observed (gzip level 9 on random floats, one worker).
var slowBackupConfig = map[string]any{"CompressionLevel": "BestCompression", "CPUPercentage": 1}

type largeFixture struct {
	objs      []testObject
	dataDir   string
	backupDir string
}

// buildLargeFixture imports the large class, backs it up and stops the
// server; the directories live as long as t.
func buildLargeFixture(t *testing.T) *largeFixture {
	t.Helper()
	start := time.Now()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass(largeClass))
	objs := genObjects(4242, largeObjects, largeDim)
	fastImport(t, s, largeClass, "", objs, 1000)
	imported := time.Since(start)
	res := backupAndWait(t, s, map[string]any{"id": largeBackupID})
	t.Logf("large fixture: %d objects × %d dims imported in %s, backup %q in %s (statuses %v, size %.3f GiB)",
		largeObjects, largeDim, imported.Round(time.Millisecond), largeBackupID,
		(time.Since(start) - imported).Round(time.Millisecond), res.Seen, res.Final.Size)
	s.stop()
	return &largeFixture{objs: objs, dataDir: s.DataDir, backupDir: s.BackupDir}
}

// start copies the fixture's directories and starts a server on the copy.
func (f *largeFixture) start(t *testing.T) *server {
	t.Helper()
	return f.startOn(t, nil)
}

// startOn is start with the server backing up to bt (nil: the filesystem
// as configured by the harness).
func (f *largeFixture) startOn(t *testing.T, bt *backupTarget) *server {
	t.Helper()
	var env map[string]string
	if bt != nil {
		env = bt.env(t) // first: it skips the test when the emulator is missing
	}
	dir := t.TempDir()
	data, backups := filepath.Join(dir, "data"), filepath.Join(dir, "backups")
	copyDir(t, f.dataDir, data)
	copyDir(t, f.backupDir, backups)
	s := startServer(t, serverOptions{DataDir: data, BackupDir: backups, Env: env})
	if bt != nil {
		bt.srv = s
	}
	if n := aggregateCount(t, s, largeClass, ""); n != len(f.objs) {
		t.Fatalf("copied fixture: %d objects, want %d", n, len(f.objs))
	}
	return s
}

// TestBackupLarge runs the backup/restore tests that need a backup or
// restore to be in progress: one at a time, cancel, live traffic, SIGKILL.
func TestBackupLarge(t *testing.T) {
	t.Parallel()
	f := buildLargeFixture(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *largeFixture)
	}{
		{"InProgress", largeInProgress},
		{"CancelBackup", largeCancelBackup},
		{"CancelRestore", largeCancelRestore},
		{"LiveTraffic", largeLiveTraffic},
		{"ClassCreatedDuringRestore", largeClassCreatedDuringRestore},
		{"CrashDuringBackup", largeCrashDuringBackup},
		{"CrashDuringRestore", largeCrashDuringRestore},
		{"Targets", largeTargets},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, f)
		})
	}
}

// largeInProgress: only one backup and one restore run at a time (422
// naming the running one); a running create reports its real phase and a
// zero completedAt, then SUCCESS with size and timestamps.
func largeInProgress(t *testing.T, f *largeFixture) {
	s := f.start(t)
	startBackup(t, s, map[string]any{"id": "run-a", "config": slowBackupConfig})
	wantBackupError(t, "second create while one runs", createBackupRaw(t, s, map[string]any{"id": "run-b"}),
		http.StatusUnprocessableEntity, "backup run-a already in progress")
	res := waitBackupRaw(t, s, "run-a", "")
	wantFinal(t, "backup run-a", res, "SUCCESS")
	t.Logf("create statuses seen: %v", res.Seen)
	if res.Running == nil {
		t.Errorf("backup run-a finished before the first status poll; the data set is too small to observe it running")
	} else {
		if res.Running.CompletedAt != zeroAPITime {
			t.Errorf("running backup: completedAt %q, want %q", res.Running.CompletedAt, zeroAPITime)
		}
		checkAPITimestamp(t, "running backup startedAt", res.Running.StartedAt)
		if res.Running.Error != "" {
			t.Errorf("running backup has an error: %q", res.Running.Error)
		}
	}
	// Strata reports the real phase (spec §0): a multi-second backup is seen
	// TRANSFERRING.
	if !contains(res.Seen, "TRANSFERRING") {
		t.Errorf("create statuses %v: TRANSFERRING never reported (spec §0: report the real phase)", res.Seen)
	}
	started := checkAPITimestamp(t, "startedAt", res.Final.StartedAt)
	completed := checkAPITimestamp(t, "completedAt", res.Final.CompletedAt)
	if completed.Before(started) || res.Final.Size <= 0 {
		t.Errorf("final status: startedAt %s completedAt %s size %v", res.Final.StartedAt, res.Final.CompletedAt, res.Final.Size)
	}
	// Now the second one can run, as soon as the first reported SUCCESS.
	runB := map[string]any{"id": "run-b", "config": map[string]any{"CompressionLevel": "ZstdBestSpeed"}}
	if r := createBackupRaw(t, s, runB); r.Status != http.StatusOK {
		t.Errorf("create right after the previous backup reported SUCCESS: %s, want 200 "+
			"(a backup must not report SUCCESS while it still holds the backup slot)", r)
		time.Sleep(time.Second)
		startBackup(t, s, runB)
	}
	wantFinal(t, "backup run-b", waitBackupRaw(t, s, "run-b", ""), "SUCCESS")

	// One restore at a time.
	deleteClass(t, s, largeClass)
	startRestore(t, s, largeBackupID, nil)
	wantBackupError(t, "second restore while one runs",
		s.do(t, http.MethodPost, backupsPath(fsBackend)+"/"+largeBackupID+"/restore", map[string]any{}),
		http.StatusUnprocessableEntity, "restoration "+largeBackupID+" already in progress")
	rres := waitRestoreRaw(t, s, largeBackupID, "")
	wantFinal(t, "restore", rres, "SUCCESS")
	t.Logf("restore statuses seen: %v", rres.Seen)
	if rres.Running != nil && rres.Running.Status == "STARTED" {
		t.Logf("note: restore status reported STARTED (Weaviate's first stored restore state is TRANSFERRING)")
	}
	if n := aggregateCount(t, s, largeClass, ""); n != len(f.objs) {
		t.Errorf("count after restore %d, want %d", n, len(f.objs))
	}
}

// largeCancelBackup: cancelling a running backup → 204 and CANCELED; the
// CANCELED backup cannot be restored; its id can be reused (spec §0).
func largeCancelBackup(t *testing.T, f *largeFixture) {
	s := f.start(t)
	c := s.client(t)
	const id = "cx"
	startBackup(t, s, map[string]any{"id": id, "config": slowBackupConfig})
	if err := c.Backup().Canceler().WithBackend(fsBackend).WithBackupID(id).Do(ctxT(t)); err != nil {
		t.Fatalf("cancel running backup: %v (want 204)", err)
	}
	res := waitBackupRaw(t, s, id, "")
	if res.Final.Status == "SUCCESS" {
		t.Fatalf("backup finished before the cancel took effect (statuses %v); the data set is too small", res.Seen)
	}
	wantFinal(t, "cancelled backup", res, "CANCELED")
	t.Logf("cancelled backup: statuses %v, error %q", res.Seen, res.Final.Error)
	wantNoContent(t, "cancel a CANCELED backup", cancelBackupRaw(t, s, id, ""))
	if r := backupStatusRaw(t, s, id, ""); r.Status != http.StatusOK || decodeBackupDoc(t, r).Status != "CANCELED" {
		t.Errorf("status after a second cancel: %s", r)
	}
	home := filepath.Join(s.BackupDir, id)
	wantBackupError(t, "restore of a CANCELED backup",
		s.do(t, http.MethodPost, backupsPath(fsBackend)+"/"+id+"/restore", map[string]any{}),
		http.StatusUnprocessableEntity, "invalid backup in scheduler "+home+" status: CANCELED")
	r := s.do(t, http.MethodGet, backupsPath(fsBackend), nil)
	wantStatus(t, r, http.StatusOK)
	var items []backupDoc
	r.JSON(t, &items)
	found := false
	for _, it := range items {
		if it.ID == id {
			found = true
			if it.Status != "CANCELED" {
				t.Errorf("list: %s has status %s, want CANCELED", id, it.Status)
			}
		}
	}
	if !found {
		t.Errorf("list does not show the CANCELED backup: %s", r.Body)
	}
	if n := aggregateCount(t, s, largeClass, ""); n != len(f.objs) {
		t.Errorf("count after a cancelled backup %d, want %d", n, len(f.objs))
	}

	// A CANCELED id may be reused; that backup restores.
	backupAndWait(t, s, map[string]any{"id": id, "config": map[string]any{"CompressionLevel": "ZstdBestSpeed"}})
	checkBackupLayout(t, s.BackupDir, id, []string{largeClass})
	deleteClass(t, s, largeClass)
	restoreAndWait(t, s, id, nil)
	checkObjectsMatch(t, largeClass, listAll(t, s, largeClass, "", 5000), f.objs)
}

// largeCancelRestore: cancelling a running restore → 204, CANCELED with
// "restore canceled by user", the class absent; the same restore then runs
// again and succeeds.
func largeCancelRestore(t *testing.T, f *largeFixture) {
	s := f.start(t)
	c := s.client(t)
	deleteClass(t, s, largeClass)
	startRestore(t, s, largeBackupID, nil)
	if err := c.Backup().RestoreCanceler().WithBackend(fsBackend).WithBackupID(largeBackupID).Do(ctxT(t)); err != nil {
		t.Fatalf("cancel running restore: %v (want 204)", err)
	}
	res := waitRestoreRaw(t, s, largeBackupID, "")
	if res.Final.Status == "SUCCESS" {
		t.Fatalf("restore finished before the cancel took effect (statuses %v); the data set is too small", res.Seen)
	}
	wantFinal(t, "cancelled restore", res, "CANCELED")
	if res.Final.Error != "restore canceled by user" {
		t.Errorf("cancelled restore: error %q, want %q", res.Final.Error, "restore canceled by user")
	}
	wantClassAbsent(t, s, largeClass, "after a cancelled restore")
	time.Sleep(500 * time.Millisecond)
	wantClassAbsent(t, s, largeClass, "500ms after a cancelled restore")
	wantNoContent(t, "cancel a CANCELED restore", cancelRestoreRaw(t, s, largeBackupID, ""))
	if r := restoreStatusRaw(t, s, largeBackupID, ""); r.Status != http.StatusOK || decodeBackupDoc(t, r).Status != "CANCELED" {
		t.Errorf("restore status after a second cancel: %s", r)
	}

	// The same restore again.
	restoreAndWait(t, s, largeBackupID, nil)
	checkObjectsMatch(t, largeClass, listAll(t, s, largeClass, "", 5000), f.objs)
	wantBackupError(t, "cancel a SUCCESS restore", cancelRestoreRaw(t, s, largeBackupID, ""),
		http.StatusUnprocessableEntity, `restore "`+largeBackupID+`" already succeeded`)
}

// largeLiveTraffic: while a backup of the large class runs, reads (GET by
// id with vector), small batch inserts, updates and deletes all succeed;
// afterwards the live data has every write. The restored backup holds every
// object that existed before it started; whatever it holds of the writes
// made while it ran is a consistent cut (a prefix of the insert sequence;
// each object either in its old or its new version).
func largeLiveTraffic(t *testing.T, f *largeFixture) {
	s := f.start(t)
	const (
		batch = 10
		// mutated: updates go to f.objs[:mutated], deletes to the last
		// mutated objects; readers read the objects in between.
		mutated = 5000
	)
	written := genObjects(9001, 30_000, largeDim)
	newVersions := genObjects(9002, mutated, largeDim)
	const id = "live"
	startBackup(t, s, map[string]any{"id": id, "config": slowBackupConfig})

	var (
		mu           sync.Mutex
		errs         []string
		acked        int                       // written[:acked] are acknowledged
		updated      = map[string]testObject{} // acknowledged updates
		deleted      = map[string]bool{}       // acknowledged deletes
		reads        int
		readsDuring  int
		writesDuring int
		mutsDuring   int
		running      atomic.Bool
		stopping     atomic.Bool
		wg           sync.WaitGroup
	)
	running.Store(true)
	// In-flight requests are never cancelled: every request sent is either
	// acknowledged or reported as an error.
	ctx := context.Background()
	stop := func() { stopping.Store(true) }
	defer stop()
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) < 20 {
			errs = append(errs, strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " ")))
		}
	}
	for w := 0; w < 2; w++ { // readers
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed))
			for !stopping.Load() {
				o := f.objs[mutated+rng.IntN(len(f.objs)-2*mutated)]
				r, err := s.tryDo(ctx, http.MethodGet, "/v1/objects/"+largeClass+"/"+o.ID+"?include=vector", nil, nil, false)
				if err != nil || r.Status != http.StatusOK {
					fail("GET %s during backup: %v %s", o.ID, err, r)
					continue
				}
				var got struct {
					Vector []float32 `json:"vector"`
				}
				if err := json.Unmarshal(r.Body, &got); err != nil {
					fail("GET %s: %v", o.ID, err)
					continue
				}
				if ok, _ := vectorsIdentical(got.Vector, o.Vector); !ok {
					fail("GET %s during backup: vector differs", o.ID)
				}
				mu.Lock()
				reads++
				if running.Load() {
					readsDuring++
				}
				mu.Unlock()
			}
		}(uint64(w + 1))
	}
	wg.Add(1)
	go func() { // inserter
		defer wg.Done()
		for b := 0; (b+1)*batch <= len(written) && !stopping.Load(); b++ {
			objs := written[b*batch : (b+1)*batch]
			r, err := s.tryDo(ctx, http.MethodPost, "/v1/batch/objects", map[string]any{"objects": restObjects(largeClass, objs)}, nil, false)
			if err != nil || r.Status != http.StatusOK || !allSuccess(r.Body, len(objs)) {
				fail("batch %d during backup: %v %s", b, err, r)
				return
			}
			mu.Lock()
			acked = (b + 1) * batch
			if running.Load() {
				writesDuring++
			}
			mu.Unlock()
		}
	}()
	wg.Add(1)
	go func() { // updates and deletes
		defer wg.Done()
		for k := 0; k < 2*mutated && !stopping.Load(); k++ {
			i := k / 2
			if k%2 == 0 {
				u := newVersions[i]
				u.ID = f.objs[i].ID
				r, err := s.tryDo(ctx, http.MethodPut, "/v1/objects/"+largeClass+"/"+u.ID, u.restJSON(largeClass), nil, false)
				if err != nil || r.Status != http.StatusOK {
					fail("PUT %s during backup: %v %s", u.ID, err, r)
					return
				}
				mu.Lock()
				updated[u.ID] = u
			} else {
				o := f.objs[len(f.objs)-1-i]
				r, err := s.tryDo(ctx, http.MethodDelete, "/v1/objects/"+largeClass+"/"+o.ID, nil, nil, false)
				if err != nil || r.Status != http.StatusNoContent {
					fail("DELETE %s during backup: %v %s", o.ID, err, r)
					return
				}
				mu.Lock()
				deleted[o.ID] = true
			}
			if running.Load() {
				mutsDuring++
			}
			mu.Unlock()
		}
	}()

	// Poll the backup (in this goroutine) while the traffic runs.
	var seen []string
	var final backupDoc
	deadline := time.Now().Add(backupWaitTimeout)
	for {
		r, err := s.tryDo(context.Background(), http.MethodGet, backupsPath(fsBackend)+"/"+id, nil, nil, false)
		if err != nil || r.Status != http.StatusOK {
			stop()
			wg.Wait()
			t.Fatalf("status during live traffic: %v %s", err, r)
		}
		d := decodeBackupDoc(t, r)
		if len(seen) == 0 || seen[len(seen)-1] != d.Status {
			seen = append(seen, d.Status)
		}
		if isTerminal(d.Status) || time.Now().After(deadline) {
			final = d
			break
		}
		time.Sleep(pollInterval)
	}
	running.Store(false)
	stop()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("live traffic: statuses %v; %d reads (%d during the backup), %d objects inserted (%d batches during the backup), "+
		"%d updates + %d deletes (%d during the backup)",
		seen, reads, readsDuring, acked, writesDuring, len(updated), len(deleted), mutsDuring)
	if final.Status != "SUCCESS" {
		t.Fatalf("backup under live traffic: status %s error %q (statuses %v)", final.Status, final.Error, seen)
	}
	for _, e := range errs {
		t.Errorf("request failed while a backup was running: %s", e)
	}
	if readsDuring == 0 || writesDuring == 0 || mutsDuring == 0 {
		t.Errorf("no reads (%d), inserts (%d) or updates/deletes (%d) completed while the backup ran; it finished too fast to test live traffic",
			readsDuring, writesDuring, mutsDuring)
	}

	// The live data has every acknowledged write.
	var want []testObject
	for _, o := range f.objs {
		if deleted[o.ID] {
			continue
		}
		if u, ok := updated[o.ID]; ok {
			o = u
		}
		want = append(want, o)
	}
	want = append(want, written[:acked]...)
	checkObjectsMatch(t, largeClass, listAll(t, s, largeClass, "", 5000), want)

	// The backup: everything that existed before it started, and a
	// consistent cut of what happened while it ran.
	deleteClass(t, s, largeClass)
	restoreAndWait(t, s, id, nil)
	got := listAll(t, s, largeClass, "", 5000)
	writtenIdx := map[string]int{}
	for i, o := range written[:acked] {
		writtenIdx[o.ID] = i
	}
	orig := map[string]testObject{}
	for _, o := range f.objs {
		orig[o.ID] = o
	}
	included := map[int]bool{}
	present := map[string]bool{}
	newVersionsIn, deletesIn := 0, 0
	for _, g := range got {
		gid := string(g.ID)
		present[gid] = true
		if w, ok := orig[gid]; ok {
			if u, ok := updated[gid]; ok && sameObject(g, u) {
				newVersionsIn++
				continue
			}
			if !sameObject(g, w) {
				t.Fatalf("restored object %s is neither its version before the backup nor an acknowledged update: %v", gid, g.Properties)
			}
		} else if i, ok := writtenIdx[gid]; ok {
			checkObject(t, largeClass, g, written[i])
			included[i] = true
		} else {
			t.Fatalf("restored backup holds an unknown object %s", gid)
		}
	}
	for id := range orig {
		if !present[id] {
			if !deleted[id] {
				t.Fatalf("restored backup lacks object %s, which existed before the backup and was never deleted", id)
			}
			deletesIn++
		}
	}
	if len(included) > 0 {
		// The included inserts are a prefix of the insert sequence (up to
		// the batch in flight at the snapshot).
		last := 0
		for i := range included {
			last = max(last, i)
		}
		for i := 0; i < last/batch*batch; i++ {
			if !included[i] {
				t.Errorf("restored backup: insert %d missing but the later insert %d is present (not a point-in-time cut)", i, last)
				break
			}
		}
	}
	// Updates and deletes ran one at a time: those in the backup are a
	// prefix of that sequence too.
	gotByID := make(map[string]*models.Object, len(got))
	for _, g := range got {
		gotByID[string(g.ID)] = g
	}
	lastMut := -1
	mutIn := func(k int) bool {
		i := k / 2
		if k%2 == 0 {
			u, ok := updated[f.objs[i].ID]
			if !ok {
				return false
			}
			g, ok := gotByID[u.ID]
			return ok && sameObject(g, u)
		}
		id := f.objs[len(f.objs)-1-i].ID
		return deleted[id] && !present[id]
	}
	for k := 0; k < 2*mutated; k++ {
		if mutIn(k) {
			lastMut = k
		}
	}
	for k := 0; k < lastMut; k++ {
		if !mutIn(k) {
			t.Errorf("restored backup: update/delete %d is missing but the later one %d is in it (not a point-in-time cut)", k, lastMut)
			break
		}
	}
	// The snapshot is taken before the create response: nothing written
	// after it may be in the backup.
	if len(included) > 0 || newVersionsIn > 0 || deletesIn > 0 {
		t.Errorf("the backup holds %d inserts, %d updates and %d deletes made after the create request returned; want none",
			len(included), newVersionsIn, deletesIn)
	}
}

// largeClassCreatedDuringRestore: a class created by a user while a restore
// of the same class is transferring makes the restore FAIL at install time
// ("class name X already exists", spec §0); the user's class and data are
// untouched.
func largeClassCreatedDuringRestore(t *testing.T, f *largeFixture) {
	s := f.start(t)
	deleteClass(t, s, largeClass)
	startRestore(t, s, largeBackupID, nil)
	mine := articleClass(largeClass)
	mine.Description = "created by a user during the restore"
	createClass(t, s, mine)
	obj := genObjects(9003, 1, largeDim)
	batchImport(t, s, largeClass, "", obj, 1)
	before := classJSON(t, s, largeClass)
	res := waitRestoreRaw(t, s, largeBackupID, "")
	if res.Final.Status == "SUCCESS" {
		t.Fatalf("restore succeeded although the class was created meanwhile (statuses %v)", res.Seen)
	}
	wantFinal(t, "restore of a class created meanwhile", res, "FAILED")
	if !strings.Contains(res.Final.Error, "class name "+largeClass+" already exists") {
		t.Errorf("restore of a class created meanwhile: error %q, want it to contain %q", res.Final.Error, "class name "+largeClass+" already exists")
	}
	if !jsonEqual(t, before, classJSON(t, s, largeClass)) {
		t.Errorf("the user's class definition changed")
	}
	checkObjectsMatch(t, largeClass, listAll(t, s, largeClass, "", 100), obj)
	if n := aggregateCount(t, s, largeClass, ""); n != 1 {
		t.Errorf("the user's class has %d objects, want 1", n)
	}
}

// sameObject reports whether a returned object has w's vector (bit for
// bit), title and wordCount.
func sameObject(g *models.Object, w testObject) bool {
	props, _ := g.Properties.(map[string]any)
	ok, _ := vectorsIdentical(g.Vector, w.Vector)
	return ok && props["title"] == w.Title && numberIs(props["wordCount"], w.Count)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
