package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// crashRecoveryTimeout bounds how long a job interrupted by SIGKILL may
// take after the restart to reach a terminal status.
const crashRecoveryTimeout = 60 * time.Second

// wantInterruptedError asserts the error of a job that was FAILED because
// the server was killed says so.
func wantInterruptedError(t testing.TB, what, errText string) {
	t.Helper()
	low := strings.ToLower(errText)
	if errText == "" || !(strings.Contains(low, "restart") || strings.Contains(low, "interrupt")) {
		t.Errorf("%s: error %q, want a reason mentioning the restart / interruption", what, errText)
	}
}

// largeCrashDuringBackup: SIGKILL while a backup runs; after the restart
// the backup is FAILED with a reason (or completed), never stuck; its id is
// not reusable if FAILED; a new backup succeeds; the data is intact.
func largeCrashDuringBackup(t *testing.T, f *largeFixture) {
	s := f.start(t)
	const id = "crash"
	startBackup(t, s, map[string]any{"id": id, "config": slowBackupConfig})
	// Kill once the backup is transferring (at most 300ms after it began).
	deadline := time.Now().Add(300 * time.Millisecond)
	last := ""
	for time.Now().Before(deadline) {
		d := decodeBackupDoc(t, backupStatusRaw(t, s, id, ""))
		last = d.Status
		if isTerminal(d.Status) {
			t.Fatalf("backup finished (%s) before the kill; the data set is too small", d.Status)
		}
		if d.Status == "TRANSFERRING" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.kill()
	t.Logf("killed the server while the backup was %s", last)
	s.restart()

	res := pollStatus(t, s, backupsPath(fsBackend)+"/"+id, crashRecoveryTimeout)
	t.Logf("after the restart: statuses %v, error %q", res.Seen, res.Final.Error)
	home := filepath.Join(s.BackupDir, id)
	switch res.Final.Status {
	case "FAILED":
		wantInterruptedError(t, "backup interrupted by SIGKILL", res.Final.Error)
		// A FAILED id is not reusable.
		wantBackupError(t, "create with the id of the FAILED backup", createBackupRaw(t, s, map[string]any{"id": id}),
			http.StatusUnprocessableEntity, `backup "crash" already exists at "`+home+`"`)
		// The FAILED backup cannot be restored.
		wantBackupError(t, "restore of the FAILED backup",
			s.do(t, http.MethodPost, backupsPath(fsBackend)+"/"+id+"/restore", map[string]any{}),
			http.StatusUnprocessableEntity, "invalid backup in scheduler "+home+" status: FAILED")
	case "SUCCESS":
		t.Logf("the interrupted backup was resumed and completed")
		checkBackupLayout(t, s.BackupDir, id, []string{largeClass})
	default:
		t.Errorf("backup interrupted by SIGKILL: final status %s (error %q), want FAILED (or a resumed SUCCESS)", res.Final.Status, res.Final.Error)
	}
	r := s.do(t, http.MethodGet, backupsPath(fsBackend), nil)
	wantStatus(t, r, http.StatusOK)
	var items []backupDoc
	r.JSON(t, &items)
	for _, it := range items {
		if it.ID == id && it.Status != res.Final.Status {
			t.Errorf("list shows %s as %s, status endpoint says %s", id, it.Status, res.Final.Status)
		}
	}

	// A new backup can run, and the data is intact.
	backupAndWait(t, s, map[string]any{"id": "after-crash", "config": map[string]any{"CompressionLevel": "ZstdBestSpeed"}})
	checkBackupLayout(t, s.BackupDir, "after-crash", []string{largeClass})
	checkObjectsMatch(t, largeClass, listAll(t, s, largeClass, "", 5000), f.objs)
	if n := aggregateCount(t, s, largeClass, ""); n != len(f.objs) {
		t.Errorf("count after the crash %d, want %d", n, len(f.objs))
	}
}

// largeCrashDuringRestore: SIGKILL while a restore runs; after the restart
// the restore is FAILED (class absent) or completed (class complete), never
// stuck; the restore can run again and succeeds.
func largeCrashDuringRestore(t *testing.T, f *largeFixture) {
	s := f.start(t)
	deleteClass(t, s, largeClass)
	startRestore(t, s, largeBackupID, nil)
	s.kill()
	s.restart()

	res := pollStatus(t, s, backupsPath(fsBackend)+"/"+largeBackupID+"/restore", crashRecoveryTimeout)
	t.Logf("after the restart: restore statuses %v, error %q", res.Seen, res.Final.Error)
	switch res.Final.Status {
	case "FAILED":
		wantInterruptedError(t, "restore interrupted by SIGKILL", res.Final.Error)
		wantClassAbsent(t, s, largeClass, "after a restore interrupted by SIGKILL")
	case "SUCCESS":
		t.Logf("the interrupted restore completed (before the kill or resumed)")
		checkObjectsMatch(t, largeClass, listAll(t, s, largeClass, "", 5000), f.objs)
		deleteClass(t, s, largeClass)
	default:
		t.Errorf("restore interrupted by SIGKILL: final status %s (error %q), want FAILED (or SUCCESS)", res.Final.Status, res.Final.Error)
		if classExists(t, s, largeClass) {
			deleteClass(t, s, largeClass)
		}
	}

	// The restore runs again and succeeds.
	restoreAndWait(t, s, largeBackupID, nil)
	checkObjectsMatch(t, largeClass, listAll(t, s, largeClass, "", 5000), f.objs)
	if n := aggregateCount(t, s, largeClass, ""); n != len(f.objs) {
		t.Errorf("count after the second restore %d, want %d", n, len(f.objs))
	}
	// And the restored class survives another restart.
	s.restart()
	if n := aggregateCount(t, s, largeClass, ""); n != len(f.objs) {
		t.Errorf("count after restore + restart %d, want %d", n, len(f.objs))
	}
}

// TestBackupCorruption: a chunk with a flipped byte, a truncated chunk or a
// missing chunk makes the restore FAIL with an error naming the chunk; the
// class stays absent; an intact backup still restores.
func TestBackupCorruption(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	fastImport(t, s, "Article", "", genObjects(181, 3000, 64), 1000)
	before := snapshotObjects(t, s, "Article", "")

	truncateHalf := func(t testing.TB, p string) {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, st.Size()/2); err != nil {
			t.Fatal(err)
		}
	}
	remove := func(t testing.TB, p string) {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		id, level string
		corrupt   func(testing.TB, string)
	}{
		{"flip-gzip", "BestSpeed", flipMiddleByte},
		{"flip-zstd", "ZstdBestSpeed", flipMiddleByte},
		{"flip-none", "NoCompression", flipMiddleByte},
		{"trunc-gzip", "DefaultCompression", truncateHalf},
		{"trunc-none", "NoCompression", truncateHalf},
		{"gone", "DefaultCompression", remove},
	}
	for _, tc := range cases {
		backupAndWait(t, s, map[string]any{"id": tc.id, "config": map[string]any{"CompressionLevel": tc.level}})
	}
	backupAndWait(t, s, map[string]any{"id": "intact"})
	deleteClass(t, s, "Article")

	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			chunks := chunkFiles(t, s.BackupDir, tc.id, "Article")
			if len(chunks) == 0 {
				t.Fatalf("backup %s has no chunk files", tc.id)
			}
			chunk := largestFile(t, chunks)
			tc.corrupt(t, chunk)
			startRestore(t, s, tc.id, nil)
			res := waitRestoreRaw(t, s, tc.id, "")
			wantFinal(t, "restore of a corrupted backup", res, "FAILED")
			if name := filepath.Base(chunk); !strings.Contains(res.Final.Error, name) {
				t.Errorf("restore of a corrupted backup: error %q does not name the chunk %s", res.Final.Error, name)
			}
			wantClassAbsent(t, s, "Article", "after a failed restore")
		})
	}
	restoreAndWait(t, s, "intact", nil)
	compareSnapshots(t, "Article from the intact backup", snapshotObjects(t, s, "Article", ""), before)
}
