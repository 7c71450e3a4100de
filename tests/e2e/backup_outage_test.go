package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"strata/internal/backup/layout"
	"strata/internal/blob/s3"
)

// startVersitygw runs a private S3 server on addr over dir.
func startVersitygw(t *testing.T, bin, addr, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "--port", addr, "posix", dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY=testkey", "ROOT_SECRET_KEY=testsecret")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw on %s not ready", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCloudBackendOutageMidBackup stops the S3 server while a backup uploads:
// the backup ends FAILED with the backend's error (never SUCCESS), and once
// the server is back the stored descriptor says FAILED too.
func TestCloudBackendOutageMidBackup(t *testing.T) {
	bin := emulatorEnv(t, "STRATA_VERSITYGW_BIN", "S3")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	dir := t.TempDir()
	gw := startVersitygw(t, bin, addr, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	st, err := s3.New(ctx, s3.Config{Bucket: "outage", Endpoint: "http://" + addr, Region: "us-east-1",
		AccessKeyID: "testkey", SecretAccessKey: "testsecret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateBucket(ctx); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, serverOptions{Env: map[string]string{"ENABLE_MODULES": "backup-s3", "BACKUP_S3_BUCKET": "outage",
		"BACKUP_S3_ENDPOINT": addr, "BACKUP_S3_USE_SSL": "false", "AWS_ACCESS_KEY_ID": "testkey",
		"AWS_SECRET_ACCESS_KEY": "testsecret", "AWS_REGION": "us-east-1"}})
	createClass(t, s, articleClass("Article"))
	fastImport(t, s, "Article", "", genObjects(7, 30000, 128), 1000)

	r := s.do(t, http.MethodPost, "/v1/backups/s3", map[string]any{"id": "outage-1",
		"config": map[string]any{"CompressionLevel": "BestCompression", "CPUPercentage": 1}})
	if r.Status != http.StatusOK {
		t.Fatalf("create: %s", r)
	}
	// Stop the S3 server while the backup is transferring.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		d := decodeBackupDoc(t, s.do(t, http.MethodGet, "/v1/backups/s3/outage-1", nil))
		if d.Status == "TRANSFERRING" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	gw.Process.Kill()
	gw.Wait()

	var final backupDoc
	deadline = time.Now().Add(2 * time.Minute)
	for {
		r := s.do(t, http.MethodGet, "/v1/backups/s3/outage-1", nil)
		if r.Status == http.StatusOK {
			final = decodeBackupDoc(t, r)
			if isTerminal(final.Status) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("backup not finished after the S3 outage: last %s", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if final.Status != "FAILED" || final.Error == "" {
		t.Fatalf("backup during an S3 outage: status %s error %q, want FAILED with the backend's error", final.Status, final.Error)
	}
	t.Logf("backup failed with: %s", final.Error)

	// The server comes back: the stored descriptor becomes FAILED, never SUCCESS.
	startVersitygw(t, bin, addr, dir)
	deadline = time.Now().Add(90 * time.Second)
	for {
		rc, err := st.Get(ctx, layout.BackupDescriptor("outage-1"))
		if err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			if strings.Contains(string(b), `"status": "SUCCESS"`) {
				t.Fatalf("descriptor says SUCCESS after a failed backup: %s", b)
			}
			if strings.Contains(string(b), `"status": "FAILED"`) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored descriptor never became FAILED (last error %v)", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
