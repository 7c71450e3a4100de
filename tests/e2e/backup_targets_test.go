package e2e

// Backup targets: the tests in this file run unchanged against every
// backup backend — the filesystem and the s3, gcs and azure emulators
// (backup_cloud_test.go). A backupTarget gives the server environment for a
// backend and direct access to the backup root as a blob.Store, so that a
// test can inspect or damage a backup the same way on every backend.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"strata/internal/blob"
	"strata/internal/blob/azure"
	"strata/internal/blob/fs"
	"strata/internal/blob/gcs"
	"strata/internal/blob/s3"

	"github.com/weaviate/weaviate/entities/models"
)

// backupTarget is one backup backend as seen by a test. Use a fresh value
// per test (allTargets returns fresh ones): env records the bucket it
// creates, and store opens that bucket.
type backupTarget struct {
	// name is the backend name of the URL (/v1/backups/{name}).
	name string
	// cloud is the emulator setup; nil for the filesystem.
	cloud *cloudBackend
	// bucket is the bucket/container created by env (cloud only).
	bucket string
	// srv is the server whose BackupDir is the root (filesystem only).
	srv *server
}

// bucketSeq keeps bucket names unique among parallel tests.
var bucketSeq atomic.Int64

// allTargets returns one fresh target per backend, filesystem first.
func allTargets() []*backupTarget {
	out := []*backupTarget{{name: fsBackend}}
	for i := range cloudBackends {
		out = append(out, &backupTarget{name: cloudBackends[i].name, cloud: &cloudBackends[i]})
	}
	return out
}

// env returns the extra server environment for the target: nothing for the
// filesystem; for a cloud backend, a fresh bucket on its emulator (the test
// is skipped when the emulator is not configured, failed under CI).
func (bt *backupTarget) env(t testing.TB) map[string]string {
	t.Helper()
	if bt.cloud == nil {
		return nil
	}
	tt, ok := t.(*testing.T)
	if !ok {
		t.Fatalf("backupTarget.env needs a *testing.T")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bt.bucket = fmt.Sprintf("strata-e2e-%s-%d-%d", bt.name, time.Now().UnixNano()%1e9, bucketSeq.Add(1))
	return bt.cloud.setup(tt, ctx, bt.bucket)
}

// start starts a server backing up to the target.
func (bt *backupTarget) start(t testing.TB, opts serverOptions) *server {
	t.Helper()
	if e := bt.env(t); len(e) > 0 {
		if opts.Env == nil {
			opts.Env = map[string]string{}
		}
		for k, v := range e {
			opts.Env[k] = v
		}
	}
	s := startServer(t, opts)
	bt.srv = s
	return s
}

// store gives direct access to the backup root of the target: the server's
// BackupDir for the filesystem, the bucket created by env for the cloud.
func (bt *backupTarget) store(t testing.TB) blob.Store {
	t.Helper()
	var (
		st  blob.Store
		err error
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	switch bt.name {
	case fsBackend:
		if bt.srv == nil {
			t.Fatal("filesystem target: store before start")
		}
		st, err = fs.New(bt.srv.BackupDir)
	case "s3":
		st, err = s3.New(ctx, s3.Config{Bucket: bt.bucket, Endpoint: os.Getenv("S3_ENDPOINT"), Region: os.Getenv("AWS_REGION"),
			AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")})
	case "gcs":
		st, err = gcs.New(ctx, gcs.Config{Bucket: bt.bucket, ProjectID: "strata-test"})
	case "azure":
		st, err = azure.New(ctx, azure.Config{Container: bt.bucket, ConnectionString: os.Getenv("AZURE_STORAGE_CONNECTION_STRING")})
	default:
		t.Fatalf("unknown backup target %q", bt.name)
	}
	if err != nil {
		t.Fatalf("%s target store: %v", bt.name, err)
	}
	if c, ok := st.(io.Closer); ok {
		t.Cleanup(func() { c.Close() })
	}
	return st
}

// keys lists the keys under prefix (sorted).
func (bt *backupTarget) keys(t testing.TB, prefix string) []string {
	t.Helper()
	var out []string
	err := bt.store(t).List(ctxT(t), prefix, func(a blob.Attrs) error {
		out = append(out, a.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: list %q: %v", bt.name, prefix, err)
	}
	sort.Strings(out)
	return out
}

// chunkKey returns the key of chunk-1 of class in backup id (or, should
// there be no chunk-1, the first chunk).
func (bt *backupTarget) chunkKey(t testing.TB, id, class string) string {
	t.Helper()
	prefix := path.Join(id, nodeName, class) + "/chunk-"
	chunks := bt.keys(t, prefix)
	if len(chunks) == 0 {
		t.Fatalf("%s: backup %s has no chunks under %s", bt.name, id, prefix)
	}
	for _, k := range chunks {
		if k == prefix+"1" {
			return k
		}
	}
	return chunks[0]
}

func (bt *backupTarget) get(t testing.TB, key string) []byte {
	t.Helper()
	rc, err := bt.store(t).Get(ctxT(t), key)
	if err != nil {
		t.Fatalf("%s: get %s: %v", bt.name, key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("%s: read %s: %v", bt.name, key, err)
	}
	return b
}

func (bt *backupTarget) put(t testing.TB, key string, b []byte) {
	t.Helper()
	if err := bt.store(t).Put(ctxT(t), key, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatalf("%s: put %s: %v", bt.name, key, err)
	}
}

// corruptChunk flips a byte in the middle of a chunk of class in backup id
// and returns its key.
func (bt *backupTarget) corruptChunk(t testing.TB, id, class string) string {
	t.Helper()
	k := bt.chunkKey(t, id, class)
	b := bt.get(t, k)
	if len(b) == 0 {
		t.Fatalf("%s: chunk %s is empty", bt.name, k)
	}
	b[len(b)/2] ^= 0xff
	bt.put(t, k, b)
	return k
}

// truncateChunk cuts a chunk of class in backup id to half its size and
// returns its key.
func (bt *backupTarget) truncateChunk(t testing.TB, id, class string) string {
	t.Helper()
	k := bt.chunkKey(t, id, class)
	b := bt.get(t, k)
	bt.put(t, k, b[:len(b)/2])
	return k
}

// deleteChunk deletes a chunk of class in backup id and returns its key.
func (bt *backupTarget) deleteChunk(t testing.TB, id, class string) string {
	t.Helper()
	k := bt.chunkKey(t, id, class)
	if err := bt.store(t).Delete(ctxT(t), k); err != nil {
		t.Fatalf("%s: delete %s: %v", bt.name, k, err)
	}
	if _, err := bt.store(t).Stat(ctxT(t), k); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("%s: %s still there after delete (stat: %v)", bt.name, k, err)
	}
	return k
}

// checkStoredBackup asserts the backup's files exist in the store:
// backup_config.json, node1/backup.json and at least one chunk per class.
func (bt *backupTarget) checkStoredBackup(t testing.TB, id string, classes []string) {
	t.Helper()
	keys := bt.keys(t, id+"/")
	has := map[string]bool{}
	for _, k := range keys {
		has[k] = true
	}
	for _, k := range []string{id + "/backup_config.json", id + "/" + nodeName + "/backup.json"} {
		if !has[k] {
			t.Errorf("%s: backup %s has no %s (keys %v)", bt.name, id, k, keys)
		}
	}
	for _, c := range classes {
		if !has[path.Join(id, nodeName, c)+"/chunk-1"] {
			t.Errorf("%s: backup %s has no chunk-1 for class %s (keys %v)", bt.name, id, c, keys)
		}
	}
}

// setTenantStatus sets a tenant's activity status with the client.
func setTenantStatus(t testing.TB, s *server, class, tenant, status string) {
	t.Helper()
	if err := s.client(t).Schema().TenantsUpdater().WithClassName(class).
		WithTenants(models.Tenant{Name: tenant, ActivityStatus: status}).Do(ctxT(t)); err != nil {
		t.Fatalf("set tenant %s/%s %s: %v", class, tenant, status, err)
	}
}

// TestBackupTargetsRoundTrip: on every backend, a backup of a class and of
// a multi-tenant class (one tenant COLD) restores bit-identical objects.
func TestBackupTargetsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, bt := range allTargets() {
		t.Run(bt.name, func(t *testing.T) {
			t.Parallel()
			s := bt.start(t, serverOptions{})
			c := s.client(t)
			ctx := ctxT(t)
			createClass(t, s, articleClass("Article"))
			fastImport(t, s, "Article", "", genObjects(301, 4000, 64), 1000)
			mt := articleClass("MT")
			mt.MultiTenancyConfig = &models.MultiTenancyConfig{Enabled: true}
			createClass(t, s, mt)
			if err := c.Schema().TenantsCreator().WithClassName("MT").
				WithTenants(models.Tenant{Name: "t1"}, models.Tenant{Name: "t2"}).Do(ctx); err != nil {
				t.Fatalf("create tenants: %v", err)
			}
			batchImport(t, s, "MT", "t1", genObjects(302, 200, 64), 100)
			batchImport(t, s, "MT", "t2", genObjects(303, 150, 64), 100)
			t2Snap := snapshotObjects(t, s, "MT", "t2")
			setTenantStatus(t, s, "MT", "t2", "COLD")
			artSnap := snapshotObjects(t, s, "Article", "")
			t1Snap := snapshotObjects(t, s, "MT", "t1")

			const id = "rt-target"
			res := backupAndWaitOn(t, s, bt.name, map[string]any{"id": id})
			if res.Final.Size <= 0 || res.Final.Error != "" {
				t.Errorf("backup status: size %v error %q", res.Final.Size, res.Final.Error)
			}
			bt.checkStoredBackup(t, id, []string{"Article", "MT"})

			deleteClass(t, s, "Article")
			deleteClass(t, s, "MT")
			restoreAndWaitOn(t, s, bt.name, id, nil)
			compareSnapshots(t, bt.name+": Article after restore", snapshotObjects(t, s, "Article", ""), artSnap)
			compareSnapshots(t, bt.name+": MT/t1 after restore", snapshotObjects(t, s, "MT", "t1"), t1Snap)
			checkTenants(t, s, "MT", map[string]string{"t1": "HOT", "t2": "COLD"})
			setTenantStatus(t, s, "MT", "t2", "HOT")
			compareSnapshots(t, bt.name+": MT/t2 after restore", snapshotObjects(t, s, "MT", "t2"), t2Snap)
		})
	}
}

// TestBackupTargetsCorruption: on every backend, a chunk with a flipped
// byte, a truncated chunk or a missing chunk makes the restore FAIL with an
// error naming the chunk; the class stays absent; an intact backup still
// restores.
func TestBackupTargetsCorruption(t *testing.T) {
	t.Parallel()
	for _, bt := range allTargets() {
		t.Run(bt.name, func(t *testing.T) {
			t.Parallel()
			s := bt.start(t, serverOptions{})
			createClass(t, s, articleClass("Article"))
			fastImport(t, s, "Article", "", genObjects(381, 3000, 64), 1000)
			before := snapshotObjects(t, s, "Article", "")
			cases := []struct {
				id, level string
				corrupt   func(testing.TB, string, string) string
			}{
				{"flip-gzip", "BestSpeed", bt.corruptChunk},
				{"flip-zstd", "ZstdBestSpeed", bt.corruptChunk},
				{"flip-none", "NoCompression", bt.corruptChunk},
				{"trunc-gzip", "DefaultCompression", bt.truncateChunk},
				{"trunc-none", "NoCompression", bt.truncateChunk},
				{"gone", "DefaultCompression", bt.deleteChunk},
			}
			for _, tc := range cases {
				backupAndWaitOn(t, s, bt.name, map[string]any{"id": tc.id, "config": map[string]any{"CompressionLevel": tc.level}})
			}
			backupAndWaitOn(t, s, bt.name, map[string]any{"id": "intact"})
			deleteClass(t, s, "Article")

			for _, tc := range cases {
				t.Run(tc.id, func(t *testing.T) {
					key := tc.corrupt(t, tc.id, "Article")
					startRestoreOn(t, s, bt.name, tc.id, nil)
					res := waitRestoreRawOn(t, s, bt.name, tc.id, "")
					wantFinal(t, bt.name+": restore of a corrupted backup", res, "FAILED")
					if name := path.Base(key); !strings.Contains(res.Final.Error, name) {
						t.Errorf("%s: restore of a corrupted backup: error %q does not name the chunk %s", bt.name, res.Final.Error, name)
					}
					wantClassAbsent(t, s, "Article", "after a failed restore")
				})
			}
			restoreAndWaitOn(t, s, bt.name, "intact", nil)
			compareSnapshots(t, bt.name+": Article from the intact backup", snapshotObjects(t, s, "Article", ""), before)
		})
	}
}

// largeTargets runs the cancel and crash tests of a running backup on
// every backend, on a copy of the large fixture's data.
func largeTargets(t *testing.T, f *largeFixture) {
	for _, bt := range allTargets() {
		t.Run(bt.name, func(t *testing.T) {
			t.Parallel()
			t.Run("CancelBackup", func(t *testing.T) { largeCancelBackupOn(t, f, bt) })
			t.Run("CrashDuringBackup", func(t *testing.T) { largeCrashDuringBackupOn(t, f, bt) })
		})
	}
}

// largeCancelBackupOn: cancelling a running backup → 204 and CANCELED; it
// cannot be restored; its id can be reused and that backup restores.
func largeCancelBackupOn(t *testing.T, f *largeFixture, bt *backupTarget) {
	s := f.startOn(t, bt)
	const id = "cx-target"
	d := startBackupOn(t, s, bt.name, map[string]any{"id": id, "config": slowBackupConfig})
	wantNoContent(t, bt.name+": cancel a running backup", cancelBackupRawOn(t, s, bt.name, id, ""))
	// Known server deviation (azure, intermittent): a cancel that arrives
	// while the TRANSFERRING descriptor is being uploaded can let that upload
	// land after the CANCELED one, so the status stays TRANSFERRING forever
	// although the log says "backup finished status=CANCELED".
	res := waitBackupRawOn(t, s, bt.name, id, "")
	if res.Final.Status == "SUCCESS" {
		t.Fatalf("%s: backup finished before the cancel took effect (statuses %v); the data set is too small", bt.name, res.Seen)
	}
	wantFinal(t, bt.name+": cancelled backup", res, "CANCELED")
	wantNoContent(t, bt.name+": cancel a CANCELED backup", cancelBackupRawOn(t, s, bt.name, id, ""))
	wantBackupError(t, bt.name+": restore of a CANCELED backup",
		s.do(t, http.MethodPost, backupsPath(bt.name)+"/"+id+"/restore", map[string]any{}),
		http.StatusUnprocessableEntity, "invalid backup in scheduler "+d.Path+" status: CANCELED")
	if n := aggregateCount(t, s, largeClass, ""); n != len(f.objs) {
		t.Errorf("%s: count after a cancelled backup %d, want %d", bt.name, n, len(f.objs))
	}
	// A CANCELED id may be reused; that backup restores.
	backupAndWaitOn(t, s, bt.name, map[string]any{"id": id, "config": map[string]any{"CompressionLevel": "ZstdBestSpeed"}})
	bt.checkStoredBackup(t, id, []string{largeClass})
	deleteClass(t, s, largeClass)
	restoreAndWaitOn(t, s, bt.name, id, nil)
	checkObjectsMatch(t, largeClass, listAll(t, s, largeClass, "", 5000), f.objs)
}

// largeCrashDuringBackupOn: SIGKILL while a backup runs; after the restart
// the backup is FAILED with a reason; a new backup succeeds and restores.
func largeCrashDuringBackupOn(t *testing.T, f *largeFixture, bt *backupTarget) {
	s := f.startOn(t, bt)
	const id = "crash-target"
	d := startBackupOn(t, s, bt.name, map[string]any{"id": id, "config": slowBackupConfig})
	deadline := time.Now().Add(300 * time.Millisecond)
	last := ""
	for time.Now().Before(deadline) {
		st := decodeBackupDoc(t, backupStatusRawOn(t, s, bt.name, id, ""))
		last = st.Status
		if isTerminal(st.Status) {
			t.Fatalf("%s: backup finished (%s) before the kill; the data set is too small", bt.name, st.Status)
		}
		if st.Status == "TRANSFERRING" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.kill()
	t.Logf("%s: killed the server while the backup was %s", bt.name, last)
	s.restart()

	res := pollStatus(t, s, backupsPath(bt.name)+"/"+id, crashRecoveryTimeout)
	t.Logf("%s: after the restart: statuses %v, error %q", bt.name, res.Seen, res.Final.Error)
	wantFinal(t, bt.name+": backup interrupted by SIGKILL", res, "FAILED")
	wantInterruptedError(t, bt.name+": backup interrupted by SIGKILL", res.Final.Error)
	wantBackupError(t, bt.name+": create with the id of the FAILED backup",
		createBackupRawOn(t, s, bt.name, map[string]any{"id": id}),
		http.StatusUnprocessableEntity, `backup "`+id+`" already exists at "`+d.Path+`"`)

	// A new backup runs, and restores.
	backupAndWaitOn(t, s, bt.name, map[string]any{"id": "after-crash", "config": map[string]any{"CompressionLevel": "ZstdBestSpeed"}})
	bt.checkStoredBackup(t, "after-crash", []string{largeClass})
	deleteClass(t, s, largeClass)
	restoreAndWaitOn(t, s, bt.name, "after-crash", nil)
	checkObjectsMatch(t, largeClass, listAll(t, s, largeClass, "", 5000), f.objs)
}
