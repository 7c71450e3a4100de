package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"strata/internal/blob/azure"
	"strata/internal/blob/gcs"
	"strata/internal/blob/s3"
)

// cloudBackend describes how to point a server at one emulator.
type cloudBackend struct {
	name string
	// setup creates a fresh bucket/container and returns the server's environment.
	setup func(t *testing.T, ctx context.Context, bucket string) map[string]string
}

// emulatorEnv returns an emulator variable, skipping the test when it is
// missing — or failing it under CI, where scripts/test.sh must provide it.
func emulatorEnv(t *testing.T, name, what string) string {
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI: scripts/test.sh must start the %s emulator", name, what)
		}
		t.Skipf("%s emulator not running (%s unset): run ./scripts/test.sh, which starts it", what, name)
	}
	return v
}

var cloudBackends = []cloudBackend{
	{"s3", func(t *testing.T, ctx context.Context, bucket string) map[string]string {
		endpoint := emulatorEnv(t, "S3_ENDPOINT", "S3")
		st, err := s3.New(ctx, s3.Config{Bucket: bucket, Endpoint: endpoint, Region: os.Getenv("AWS_REGION"),
			AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateBucket(ctx); err != nil {
			t.Fatal(err)
		}
		return map[string]string{"ENABLE_MODULES": "backup-s3", "BACKUP_S3_BUCKET": bucket,
			"BACKUP_S3_ENDPOINT": strings.TrimPrefix(endpoint, "http://"), "BACKUP_S3_USE_SSL": "false",
			"AWS_ACCESS_KEY_ID": os.Getenv("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY": os.Getenv("AWS_SECRET_ACCESS_KEY"),
			"AWS_REGION": os.Getenv("AWS_REGION")}
	}},
	{"gcs", func(t *testing.T, ctx context.Context, bucket string) map[string]string {
		host := emulatorEnv(t, "STORAGE_EMULATOR_HOST", "GCS")
		st, err := gcs.New(ctx, gcs.Config{Bucket: bucket, ProjectID: "strata-test"})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.CreateBucket(ctx); err != nil {
			t.Fatal(err)
		}
		return map[string]string{"ENABLE_MODULES": "backup-gcs", "BACKUP_GCS_BUCKET": bucket,
			"BACKUP_GCS_USE_AUTH": "false", "STORAGE_EMULATOR_HOST": host, "GOOGLE_CLOUD_PROJECT": "strata-test"}
	}},
	{"azure", func(t *testing.T, ctx context.Context, container string) map[string]string {
		conn := emulatorEnv(t, "AZURE_STORAGE_CONNECTION_STRING", "Azure")
		st, err := azure.New(ctx, azure.Config{Container: container, ConnectionString: conn})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateContainer(ctx); err != nil {
			t.Fatal(err)
		}
		return map[string]string{"ENABLE_MODULES": "backup-azure", "BACKUP_AZURE_CONTAINER": container,
			"AZURE_STORAGE_CONNECTION_STRING": conn}
	}},
}

// TestCloudBackupRoundTrip backs up to each cloud emulator with the official
// client, deletes the class and restores it: every object comes back
// bit-identical, and a path override works.
func TestCloudBackupRoundTrip(t *testing.T) {
	for _, be := range cloudBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			bucket := fmt.Sprintf("strata-e2e-%s-%d", be.name, time.Now().UnixNano()%1e9)
			env := be.setup(t, ctx, bucket)
			s := startServer(t, serverOptions{Env: env})
			c := s.client(t)
			createClass(t, s, articleClass("Article"))
			batchImport(t, s, "Article", "", genObjects(42, 3000, 64), 500)
			want := snapshotObjects(t, s, "Article", "")

			// With the official client, waiting for completion.
			created, err := c.Backup().Creator().WithBackend(be.name).WithBackupID("cloud-1").WithWaitForCompletion(true).Do(ctx)
			if err != nil || created.Status == nil || *created.Status != "SUCCESS" {
				t.Fatalf("backup to %s: %+v %v", be.name, created, err)
			}
			if !strings.Contains(created.Path, bucket) || !strings.HasSuffix(created.Path, "/cloud-1") {
				t.Errorf("backup path %q does not name the bucket and id", created.Path)
			}
			deleteClass(t, s, "Article")
			restored, err := c.Backup().Restorer().WithBackend(be.name).WithBackupID("cloud-1").WithWaitForCompletion(true).Do(ctx)
			if err != nil || restored.Status == nil || *restored.Status != "SUCCESS" {
				t.Fatalf("restore from %s: %+v %v", be.name, restored, err)
			}
			compareSnapshots(t, be.name+" restore", snapshotObjects(t, s, "Article", ""), want)

			// A path override, with raw HTTP (the client's waiter does not pass ?path=).
			base := "/v1/backups/" + be.name
			r := s.do(t, http.MethodPost, base, map[string]any{"id": "cloud-2", "config": map[string]any{"Path": "custom/root"}})
			if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "custom/root/cloud-2") {
				t.Fatalf("backup with path override: %s", r)
			}
			wantFinal(t, "backup with path override", pollStatus(t, s, base+"/cloud-2?path=custom/root", backupWaitTimeout), "SUCCESS")
			if r := s.do(t, http.MethodGet, base+"/cloud-2", nil); r.Status != http.StatusNotFound {
				t.Errorf("status without the path override: %s, want 404", r)
			}
			deleteClass(t, s, "Article")
			r = s.do(t, http.MethodPost, base+"/cloud-2/restore", map[string]any{"config": map[string]any{"Path": "custom/root"}})
			if r.Status != http.StatusOK {
				t.Fatalf("restore with path override: %s", r)
			}
			wantFinal(t, "restore with path override", pollStatus(t, s, base+"/cloud-2/restore?path=custom/root", backupWaitTimeout), "SUCCESS")
			compareSnapshots(t, be.name+" restore with path override", snapshotObjects(t, s, "Article", ""), want)

			// A bucket (container) override, to a second bucket.
			other := bucket + "-b"
			be.setup(t, ctx, other)
			r = s.do(t, http.MethodPost, base, map[string]any{"id": "cloud-3", "config": map[string]any{"Bucket": other}})
			if r.Status != http.StatusOK || !strings.Contains(string(r.Body), other) {
				t.Fatalf("backup with bucket override: %s", r)
			}
			wantFinal(t, "backup with bucket override", pollStatus(t, s, base+"/cloud-3?bucket="+other, backupWaitTimeout), "SUCCESS")
			if r := s.do(t, http.MethodGet, base+"/cloud-3", nil); r.Status != http.StatusNotFound {
				t.Errorf("status without the bucket override: %s, want 404", r)
			}
			deleteClass(t, s, "Article")
			r = s.do(t, http.MethodPost, base+"/cloud-3/restore", map[string]any{"config": map[string]any{"Bucket": other}})
			if r.Status != http.StatusOK {
				t.Fatalf("restore with bucket override: %s", r)
			}
			wantFinal(t, "restore with bucket override", pollStatus(t, s, base+"/cloud-3/restore?bucket="+other, backupWaitTimeout), "SUCCESS")
			compareSnapshots(t, be.name+" restore with bucket override", snapshotObjects(t, s, "Article", ""), want)
		})
	}
}

// TestMisconfiguredBackendStopsStartup: an enabled cloud backend without its
// required variable stops the server with a message naming the variable.
func TestMisconfiguredBackendStopsStartup(t *testing.T) {
	bin, err := serverBinary()
	if err != nil {
		t.Fatal(err)
	}
	for module, variable := range map[string]string{
		"backup-s3": "BACKUP_S3_BUCKET", "backup-gcs": "BACKUP_GCS_BUCKET", "backup-azure": "BACKUP_AZURE_CONTAINER",
	} {
		cmd := exec.Command(bin, "serve", "--port", "0")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PERSISTENCE_DATA_PATH=" + t.TempDir(), "ENABLE_MODULES=" + module}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), variable) {
			t.Errorf("%s without %s: err %v, output %q", module, variable, err, out)
		}
	}
}
