package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes at a fresh directory, or skips
// the test where mounting is not allowed.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small-disk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): this test needs root", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Logf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// waitFor polls cond until it holds, failing after crashRecoveryTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(crashRecoveryTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, crashRecoveryTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fillUpTo fills dir's file system with one file until free bytes remain.
func fillUpTo(t *testing.T, dir string, free int64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * st.Bsize
	if avail <= free {
		t.Fatalf("only %d bytes free in %s", avail, dir)
	}
	if err := os.WriteFile(filepath.Join(dir, "filler"), make([]byte, avail-free), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFullBackupDiskThenCrash: on a full backup disk, a backup whose chunks
// and final descriptor cannot be written, then a create that fails, then
// SIGKILL and restart: the first backup is FAILED (never STARTED forever),
// with the cause; once there is room again it is FAILED on disk too, and a
// new backup succeeds with the data intact.
func TestFullBackupDiskThenCrash(t *testing.T) {
	t.Parallel()
	disk := mountTmpfs(t, 1<<20)
	s := startServer(t, serverOptions{BackupDir: disk})
	createClass(t, s, articleClass("Article"))
	objs := genObjects(7, 500, 64)
	fastImport(t, s, "Article", "", objs, 500)

	// Room for the first descriptor only: one page.
	fillUpTo(t, disk, 4096)
	startBackup(t, s, map[string]any{"id": "first", "config": map[string]any{"CompressionLevel": "NoCompression"}})
	first := pollStatus(t, s, backupsPath(fsBackend)+"/first", backupWaitTimeout)
	wantFinal(t, "backup on a full disk", first, "FAILED")
	if !strings.Contains(first.Final.Error, "no space left on device") {
		t.Fatalf("first backup's error %q, want the cause", first.Final.Error)
	}
	if b, err := os.ReadFile(filepath.Join(disk, "first", "backup_config.json")); err != nil || !strings.Contains(string(b), `"STARTED"`) {
		t.Fatalf("the final descriptor was written after all (%v): the disk was not full enough for this test: %s", err, b)
	}
	r := createBackupRaw(t, s, map[string]any{"id": "second"})
	if r.Status == http.StatusOK {
		t.Fatalf("second create on a full disk: %s", r)
	}

	s.kill()
	s.restart()
	r = backupStatusRaw(t, s, "first", "")
	wantStatus(t, r, http.StatusOK)
	if d := decodeBackupDoc(t, r); d.Status != "FAILED" || d.Error != first.Final.Error {
		t.Fatalf("first backup after the restart: %s %q, want FAILED %q", d.Status, d.Error, first.Final.Error)
	}

	// Room again: the FAILED status reaches the disk, and a backup works.
	if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first backup's FAILED descriptor on disk", func() bool {
		b, _ := os.ReadFile(filepath.Join(disk, "first", "backup_config.json"))
		return strings.Contains(string(b), `"FAILED"`)
	})
	backupAndWait(t, s, map[string]any{"id": "third", "config": map[string]any{"CompressionLevel": "ZstdBestSpeed"}})
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 1000), objs)
}

// TestBackupIDTooLongIs422Everywhere: an id longer than the id rule allows
// (and than a file name may be) gets the same 422 on every backup endpoint,
// never a 500 with a file-system error.
func TestBackupIDTooLongIs422Everywhere(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	long := strings.Repeat("a", 300)
	msg := "invalid backup id: '" + long[:32] + "…' is 300 characters long; at most 128 are allowed"
	base := backupsPath(fsBackend)
	for _, c := range []struct {
		what, method, path string
		body               any
	}{
		{"create", http.MethodPost, base, map[string]any{"id": long}},
		{"status", http.MethodGet, base + "/" + long, nil},
		{"cancel", http.MethodDelete, base + "/" + long, nil},
		{"restore", http.MethodPost, base + "/" + long + "/restore", map[string]any{}},
		{"restore status", http.MethodGet, base + "/" + long + "/restore", nil},
		{"restore cancel", http.MethodDelete, base + "/" + long + "/restore", nil},
	} {
		wantBackupError(t, c.what+" with a 300-character id", s.do(t, c.method, c.path, c.body), http.StatusUnprocessableEntity, msg)
	}
	// The longest allowed id is a working backup on the filesystem backend.
	backupAndWait(t, s, map[string]any{"id": strings.Repeat("b", 128)})
}

// dirBytes is the size of the files under dir.
func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRestoreOntoFullDataDisk: a restore onto a data disk without room for
// the class fails with the cause instead of hanging, whether the disk fills
// while the data is downloaded or while the restored shards are opened;
// nothing is installed, and once there is room the same restore succeeds.
func TestRestoreOntoFullDataDisk(t *testing.T) {
	t.Parallel()
	disk := mountTmpfs(t, 64<<20)
	s := startServer(t, serverOptions{DataDir: filepath.Join(disk, "data")})
	createClass(t, s, articleClass("Article"))
	objs := genObjects(11, 2000, 64)
	fastImport(t, s, "Article", "", objs, 500)
	backupAndWait(t, s, map[string]any{"id": "full-disk", "config": map[string]any{"CompressionLevel": "ZstdBestSpeed"}})
	classBytes := dirBytes(t, filepath.Join(s.DataDir, "classes", "Article"))
	deleteClass(t, s, "Article")

	for _, free := range []int64{64 << 10, classBytes + 64<<10} {
		fillUpTo(t, disk, free)
		startRestore(t, s, "full-disk", nil)
		res := pollStatus(t, s, backupsPath(fsBackend)+"/full-disk/restore", backupWaitTimeout)
		if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
			t.Fatal(err)
		}
		if res.Final.Status == "SUCCESS" {
			// The class fit after all: nothing to test with this much room.
			t.Logf("restore with %d bytes free succeeded", free)
			deleteClass(t, s, "Article")
			continue
		}
		wantFinal(t, "restore onto a full disk", res, "FAILED")
		if !strings.Contains(res.Final.Error, "no space left on device") {
			t.Fatalf("restore with %d bytes free failed with %q, want the cause", free, res.Final.Error)
		}
		if classExists(t, s, "Article") {
			t.Fatalf("a failed restore with %d bytes free installed the class", free)
		}
	}
	restoreAndWait(t, s, "full-disk", nil)
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 1000), objs)
}

// TestStartOnFullDataDisk: while the data disk fills up, a write either
// fails with the cause or is kept, and every acknowledged object stays
// readable; a server SIGKILLed on a full disk (its logs to replay)
// refuses to start, at once and saying why, and starts with every
// acknowledged object once there is room.
func TestStartOnFullDataDisk(t *testing.T) {
	t.Parallel()
	disk := mountTmpfs(t, 64<<20)
	s := startServer(t, serverOptions{DataDir: filepath.Join(disk, "data")})
	createClass(t, s, articleClass("Article"))
	objs := genObjects(13, 1500, 64)
	fastImport(t, s, "Article", "", objs, 500)

	fillUpTo(t, disk, 16<<10)
	extra := genObjects(14, 200, 64)
	var items []map[string]any
	for _, o := range extra {
		items = append(items, o.restJSON("Article"))
	}
	r := s.do(t, http.MethodPost, "/v1/batch/objects", map[string]any{"objects": items})
	acked := slices.Clone(objs)
	t.Logf("a batch on a full disk: %s", truncate(r.Body, 400))
	if r.Status != http.StatusOK {
		if !strings.Contains(string(r.Body), "no space left on device") {
			t.Fatalf("a batch on a full disk fails without the cause: %s", r)
		}
	} else {
		var res []struct {
			ID     string `json:"id"`
			Result struct {
				Status string          `json:"status"`
				Errors json.RawMessage `json:"errors"`
			} `json:"result"`
		}
		r.JSON(t, &res)
		failed := 0
		for i, o := range res {
			switch {
			case o.Result.Status == "SUCCESS":
				acked = append(acked, extra[i])
			case !strings.Contains(string(o.Result.Errors), "no space left on device"):
				t.Fatalf("object %s failed on a full disk without the cause: %s", o.ID, o.Result.Errors)
			default:
				failed++
			}
		}
		t.Logf("a batch of %d on a full disk: %d failed with the cause", len(extra), failed)
	}
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 1000), acked)

	s.kill()
	start := time.Now()
	err := s.waitReady(s.spawn(), readyTimeout)
	if err == nil || !strings.Contains(err.Error(), "exited during start-up") {
		t.Fatalf("start on a full disk after SIGKILL: %v", err)
	}
	s.mu.Lock()
	logPath := s.logs[len(s.logs)-1]
	s.mu.Unlock()
	out, _ := os.ReadFile(logPath)
	if !strings.Contains(string(out), "the data disk is full") || !strings.Contains(string(out), "no space left on device") {
		t.Fatalf("start on a full disk: the log does not say why:\n%s", truncate(out, 1000))
	}
	t.Logf("refused to start after %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(out)))
	if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
		t.Fatal(err)
	}
	s.launch()
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 1000), acked)
	fastImport(t, s, "Article", "", extra, 50)
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 1000), append(objs, extra...))
}
