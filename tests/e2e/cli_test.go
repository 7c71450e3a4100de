package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cli runs `strata backup args…` against s as a process and returns its
// exit code, standard output and standard error.
func cli(t *testing.T, s *server, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(s.bin, append([]string{"backup"}, args...)...)
	cmd.Env = []string{"STRATA_URL=" + s.URL, "STRATA_BACKUP_BACKEND=filesystem"}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errOut.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String(), errOut.String()
	}
	t.Fatalf("run the CLI: %v", err)
	return 0, "", ""
}

// TestBackupCLI: `strata backup` as an operator uses it, as a process:
// create with --wait (progress lines on a non-terminal, then the end),
// list and status as JSON, verify (a damaged chunk exits 1 naming it), a
// restore that fails exits 1, a cancelled backup exits 3, a usage error 2.
func TestBackupCLI(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{Env: map[string]string{"STRATA_TEST_PAUSE_AT": "backup-upload:2s"}})
	createClass(t, s, articleClass("Article"))
	fastImport(t, s, "Article", "", genObjects(27, 1000, 32), 500)

	code, out, errOut := cli(t, s, "create", "c1", "--wait")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) < 2 || lines[len(lines)-1] != "c1 SUCCESS" || !strings.HasPrefix(lines[0], "c1 ") {
		t.Fatalf("create --wait: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = cli(t, s, "list", "--json")
	var list []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].ID != "c1" || list[0].Status != "SUCCESS" {
		t.Fatalf("list --json: exit %d: %s", code, out)
	}
	code, out, _ = cli(t, s, "status", "--json", "c1")
	var st struct {
		Status string `json:"status"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Status != "SUCCESS" {
		t.Fatalf("status --json: exit %d: %s", code, out)
	}
	if code, out, errOut = cli(t, s, "verify", "c1", "--full"); code != 0 || !strings.Contains(out, "c1: ok") {
		t.Fatalf("verify --full: exit %d: %s%s", code, out, errOut)
	}

	// A restore onto the existing class fails: exit 1, with the reason.
	if code, out, _ = cli(t, s, "restore", "c1", "--wait"); code != 1 || !strings.Contains(out, "c1 FAILED") || !strings.Contains(out, "already exists") {
		t.Fatalf("restore over an existing class: exit %d: %s", code, out)
	}

	flipMiddleByte(t, filepath.Join(s.BackupDir, "c1", "node1", "Article", "chunk-1"))
	if code, out, _ = cli(t, s, "verify", "c1", "--full"); code != 1 || !strings.Contains(out, "c1/node1/Article/chunk-1") {
		t.Fatalf("verify --full of a damaged chunk: exit %d: %s", code, out)
	}

	// A backup cancelled while the CLI waits for it: exit 3.
	waiting := make(chan [3]any, 1)
	go func() {
		code, out, errOut := cli(t, s, "create", "c2", "--wait")
		waiting <- [3]any{code, out, errOut}
	}()
	deadline := time.Now().Add(time.Minute)
	for { // cancelling an id that does not exist yet does nothing
		if code, out, _ := cli(t, s, "status", "c2"); code == 0 && strings.HasPrefix(out, "c2 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("c2 did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _, errOut := cli(t, s, "cancel", "c2"); code != 0 {
		t.Fatalf("cancel: exit %d: %s", code, errOut)
	}
	res := <-waiting
	if res[0] != 3 || !strings.Contains(res[1].(string), "c2 CANCELED") {
		t.Fatalf("create --wait of a cancelled backup: exit %v: %v%v", res[0], res[1], res[2])
	}

	if code, _, errOut = cli(t, s, "delete", "c1"); code != 0 {
		t.Fatalf("delete: exit %d: %s", code, errOut)
	}
	if code, _, errOut = cli(t, s, "status", "c1"); code != 1 || !strings.Contains(errOut, "404") {
		t.Fatalf("status of a deleted backup: exit %d: %s", code, errOut)
	}
	if code, _, errOut = cli(t, s, "create"); code != 2 || !strings.Contains(errOut, "give one backup id") {
		t.Fatalf("create without an id: exit %d: %s", code, errOut)
	}
	if code, _, _ = cli(t, s, "frobnicate", "x"); code != 2 {
		t.Fatalf("an unknown command: exit %d", code)
	}
}

// TestBackupSchedule: with STRATA_BACKUP_SCHEDULE the server backs up on
// its own, ids from the pattern, and the retention policy keeps the last
// ones; an invalid schedule stops the server at start-up, saying why.
func TestBackupSchedule(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{Env: map[string]string{
		"STRATA_BACKUP_SCHEDULE":            "@every 1s",
		"STRATA_BACKUP_SCHEDULE_ID":         "auto-{time}",
		"STRATA_BACKUP_RETENTION_KEEP_LAST": "2",
	}})
	createClass(t, s, articleClass("Article"))
	fastImport(t, s, "Article", "", genObjects(29, 200, 8), 200)
	waitFor(t, "three scheduled backups, two kept", func() bool {
		code, out, _ := cli(t, s, "list", "--json")
		var list []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
			return false
		}
		done := 0
		for _, b := range list {
			if !strings.HasPrefix(b.ID, "auto-") {
				t.Fatalf("unexpected backup %q", b.ID)
			}
			if b.Status == "SUCCESS" {
				done++
			}
		}
		entries, _ := os.ReadDir(s.BackupDir)
		return done == 2 && len(list) == 2 && len(entries) == 2 && s.logContains("retention deleted")
	})

	bad := startServer(t, serverOptions{Env: map[string]string{"STRATA_BACKUP_SCHEDULE": "at dawn"}, noLaunch: true})
	if err := bad.waitReady(bad.spawn(), readyTimeout); err == nil || !strings.Contains(err.Error(), "exited during start-up") ||
		!bad.logContains(`STRATA_BACKUP_SCHEDULE: "at dawn"`) {
		t.Fatalf("an invalid schedule: %v", err)
	}
}

// flipMiddleByte damages a file of a backup: one bit of its middle byte.
func flipMiddleByte(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
