package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate/entities/models"
)

// TestBackupRoundTrip: a backup of a single-tenant class (10k objects,
// 128 dims) and a multi-tenant class (a HOT and a COLD tenant with data)
// made and restored with the client's wait-for-completion gives back the
// identical schema, tenants, objects (ids, bit-identical vectors,
// properties, timestamps), search results and counts; the backup has the
// documented layout on disk.
func TestBackupRoundTrip(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)
	const dim = 128

	createClass(t, s, articleClass("Article"))
	arts := genObjects(101, 10_000, dim)
	fastImport(t, s, "Article", "", arts, 1000)

	mt := articleClass("MT")
	mt.MultiTenancyConfig = &models.MultiTenancyConfig{Enabled: true}
	createClass(t, s, mt)
	if err := c.Schema().TenantsCreator().WithClassName("MT").
		WithTenants(models.Tenant{Name: "t1"}, models.Tenant{Name: "t2"}).Do(ctx); err != nil {
		t.Fatalf("create tenants: %v", err)
	}
	t1Objs := genObjects(102, 300, dim)
	t2Objs := genObjects(103, 200, dim)
	batchImport(t, s, "MT", "t1", t1Objs, 100)
	batchImport(t, s, "MT", "t2", t2Objs, 100)
	t2Snap := snapshotObjects(t, s, "MT", "t2")
	checkObjectsMatch(t, "MT", listAll(t, s, "MT", "t2", 1000), t2Objs)
	t2Count := aggregateCount(t, s, "MT", "t2")
	if err := c.Schema().TenantsUpdater().WithClassName("MT").
		WithTenants(models.Tenant{Name: "t2", ActivityStatus: "COLD"}).Do(ctx); err != nil {
		t.Fatalf("deactivate t2: %v", err)
	}
	checkTenants(t, s, "MT", map[string]string{"t1": "HOT", "t2": "COLD"})

	// State before the backup.
	schemaBefore := schemaJSON(t, s)
	artSnap := snapshotObjects(t, s, "Article", "")
	t1Snap := snapshotObjects(t, s, "MT", "t1")
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 1000), arts)
	queries := [][]float32{arts[0].Vector, arts[4321].Vector, genObjects(104, 1, dim)[0].Vector}
	var nnBefore, nnT1Before [][]gqlHit
	for _, q := range queries {
		nnBefore = append(nnBefore, nearVectorTop(t, s, "Article", "", q, 10))
		nnT1Before = append(nnT1Before, nearVectorTop(t, s, "MT", "t1", q, 10))
	}
	artCount := aggregateCount(t, s, "Article", "")
	t1Count := aggregateCount(t, s, "MT", "t1")
	if artCount != len(arts) || t1Count != len(t1Objs) || t2Count != len(t2Objs) {
		t.Fatalf("counts before backup: %d %d %d", artCount, t1Count, t2Count)
	}

	// Backup, waiting with the client.
	const id = "rt-1"
	resp, err := c.Backup().Creator().WithBackend(fsBackend).WithBackupID(id).
		WithWaitForCompletion(true).Do(ctx)
	if err != nil {
		t.Fatalf("backup with wait: %v", err)
	}
	if resp.Status == nil || *resp.Status != models.BackupCreateResponseStatusSUCCESS {
		t.Fatalf("backup with wait: status %v error %q", strDeref(resp.Status), resp.Error)
	}
	if resp.ID != id || resp.Backend != fsBackend || resp.Path != filepath.Join(s.BackupDir, id) {
		t.Errorf("backup response id %q backend %q path %q", resp.ID, resp.Backend, resp.Path)
	}
	if !sameSet(resp.Classes, []string{"Article", "MT"}) {
		t.Errorf("backup classes %v, want Article and MT", resp.Classes)
	}
	st, err := c.Backup().CreateStatusGetter().WithBackend(fsBackend).WithBackupID(id).Do(ctx)
	if err != nil {
		t.Fatalf("create status: %v", err)
	}
	if strDeref(st.Status) != "SUCCESS" || st.Size <= 0 || st.Error != "" {
		t.Errorf("create status after SUCCESS: status %s size %v error %q", strDeref(st.Status), st.Size, st.Error)
	}
	if st.ID != id || st.Backend != fsBackend || st.Path != filepath.Join(s.BackupDir, id) {
		t.Errorf("create status: id %q backend %q path %q", st.ID, st.Backend, st.Path)
	}
	if time.Time(st.CompletedAt).Before(time.Time(st.StartedAt)) || time.Time(st.StartedAt).IsZero() {
		t.Errorf("create status: startedAt %v completedAt %v", st.StartedAt, st.CompletedAt)
	}
	raw := backupStatusRaw(t, s, id, "")
	wantStatus(t, raw, http.StatusOK)
	rd := decodeBackupDoc(t, raw)
	checkAPITimestamp(t, "status startedAt", rd.StartedAt)
	checkAPITimestamp(t, "status completedAt", rd.CompletedAt)

	// Layout on disk.
	ct := checkBackupLayout(t, s.BackupDir, id, []string{"Article", "MT"})
	if ct != "gzip" && ct != "zstd" {
		t.Errorf("default compression: compressionType %q, want gzip or zstd", ct)
	}
	// The COLD tenant's data is in the backup (spec §5.2).
	if !nodeDescriptorHasShard(t, s.BackupDir, id, "MT", "t2") {
		t.Errorf("node descriptor: class MT has no chunk holding tenant t2 (inactive tenants must be backed up)")
	}

	// Delete and restore, waiting with the client.
	deleteClass(t, s, "Article")
	deleteClass(t, s, "MT")
	rr, err := c.Backup().Restorer().WithBackend(fsBackend).WithBackupID(id).
		WithWaitForCompletion(true).Do(ctx)
	if err != nil {
		t.Fatalf("restore with wait: %v", err)
	}
	if rr.Status == nil || *rr.Status != models.BackupRestoreResponseStatusSUCCESS {
		t.Fatalf("restore with wait: status %v error %q", strDeref(rr.Status), rr.Error)
	}
	if !sameSet(rr.Classes, []string{"Article", "MT"}) {
		t.Errorf("restore classes %v, want Article and MT", rr.Classes)
	}
	if rr.Path != filepath.Join(s.BackupDir, id) {
		t.Errorf("restore path %q", rr.Path)
	}

	// Everything is as before.
	if after := schemaJSON(t, s); !jsonEqual(t, schemaBefore, after) {
		t.Errorf("schema differs after restore:\nbefore %s\nafter  %s", schemaBefore, after)
	}
	checkTenants(t, s, "MT", map[string]string{"t1": "HOT", "t2": "COLD"})
	compareSnapshots(t, "Article after restore", snapshotObjects(t, s, "Article", ""), artSnap)
	compareSnapshots(t, "MT/t1 after restore", snapshotObjects(t, s, "MT", "t1"), t1Snap)
	for i, q := range queries {
		compareHits(t, fmt.Sprintf("Article nearVector %d", i), nearVectorTop(t, s, "Article", "", q, 10), nnBefore[i])
		compareHits(t, fmt.Sprintf("MT/t1 nearVector %d", i), nearVectorTop(t, s, "MT", "t1", q, 10), nnT1Before[i])
	}
	if n := aggregateCount(t, s, "Article", ""); n != artCount {
		t.Errorf("Article count after restore %d, want %d", n, artCount)
	}
	if n := aggregateCount(t, s, "MT", "t1"); n != t1Count {
		t.Errorf("MT/t1 count after restore %d, want %d", n, t1Count)
	}
	// The COLD tenant's data came back too.
	if err := c.Schema().TenantsUpdater().WithClassName("MT").
		WithTenants(models.Tenant{Name: "t2", ActivityStatus: "HOT"}).Do(ctx); err != nil {
		t.Fatalf("activate t2 after restore: %v", err)
	}
	compareSnapshots(t, "MT/t2 after restore", snapshotObjects(t, s, "MT", "t2"), t2Snap)
	if n := aggregateCount(t, s, "MT", "t2"); n != t2Count {
		t.Errorf("MT/t2 count after restore %d, want %d", n, t2Count)
	}
	// The restored classes take writes.
	extra := genObjects(105, 5, dim)
	batchImport(t, s, "Article", "", extra, 5)
	if n := aggregateCount(t, s, "Article", ""); n != artCount+len(extra) {
		t.Errorf("Article count after writes on the restored class %d, want %d", n, artCount+len(extra))
	}
}

// TestBackupCompressionLevels: every CompressionLevel round-trips; the
// descriptors' compressionType matches the level and the chunk bytes (gzip,
// zstd or a plain tar).
func TestBackupCompressionLevels(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	createClass(t, s, articleClass("Article"))
	fastImport(t, s, "Article", "", genObjects(111, 2000, 64), 500)
	before := snapshotObjects(t, s, "Article", "")
	schemaBefore := classJSON(t, s, "Article")

	levels := []struct{ level, want string }{
		{models.BackupConfigCompressionLevelDefaultCompression, ""}, // gzip per the spec; zstd accepted
		{models.BackupConfigCompressionLevelBestSpeed, "gzip"},
		{models.BackupConfigCompressionLevelBestCompression, "gzip"},
		{models.BackupConfigCompressionLevelZstdBestSpeed, "zstd"},
		{models.BackupConfigCompressionLevelZstdDefaultCompression, "zstd"},
		{models.BackupConfigCompressionLevelZstdBestCompression, "zstd"},
		{models.BackupConfigCompressionLevelNoCompression, "none"},
	}
	for _, lv := range levels {
		t.Run(lv.level, func(t *testing.T) {
			ctx := ctxT(t)
			if !classExists(t, s, "Article") {
				t.Fatal("class Article is missing (an earlier level left it deleted)")
			}
			id := "comp-" + strings.ToLower(lv.level)
			resp, err := c.Backup().Creator().WithBackend(fsBackend).WithBackupID(id).
				WithIncludeClassNames("Article").
				WithConfig(&models.BackupConfig{CompressionLevel: lv.level}).Do(ctx)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if strDeref(resp.Status) != "STARTED" {
				t.Errorf("create response status %s, want STARTED", strDeref(resp.Status))
			}
			st := clientWaitCreate(t, c, id)
			if strDeref(st.Status) != "SUCCESS" {
				t.Fatalf("backup: status %s error %q", strDeref(st.Status), st.Error)
			}
			ct := checkBackupLayout(t, s.BackupDir, id, []string{"Article"})
			switch {
			case lv.want == "" && ct != "gzip" && ct != "zstd":
				t.Errorf("compressionType %q, want gzip (or zstd)", ct)
			case lv.want != "" && ct != lv.want:
				t.Errorf("compressionType %q, want %q", ct, lv.want)
			}

			deleteClass(t, s, "Article")
			rr, err := c.Backup().Restorer().WithBackend(fsBackend).WithBackupID(id).
				WithIncludeClassNames("Article").Do(ctx)
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if strDeref(rr.Status) != "STARTED" || !sameSet(rr.Classes, []string{"Article"}) {
				t.Errorf("restore response: status %s classes %v", strDeref(rr.Status), rr.Classes)
			}
			rs := clientWaitRestore(t, c, id)
			if strDeref(rs.Status) != "SUCCESS" {
				t.Fatalf("restore: status %s error %q", strDeref(rs.Status), rs.Error)
			}
			if !jsonEqual(t, schemaBefore, classJSON(t, s, "Article")) {
				t.Errorf("class definition differs after restore")
			}
			compareSnapshots(t, "Article after restore", snapshotObjects(t, s, "Article", ""), before)
		})
	}
}

// TestBackupPointInTime: mutations made after a backup completed
// (inserts, updates, deletes) are undone by restoring it; objects written
// right before the backup started are in it.
func TestBackupPointInTime(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)
	const dim = 32
	createClass(t, s, articleClass("Article"))
	objs := genObjects(121, 2000, dim)
	batchImport(t, s, "Article", "", objs[:1990], 500)
	// The last ten are written immediately before the backup is created.
	for _, o := range objs[1990:] {
		if _, err := c.Data().Creator().WithClassName("Article").WithID(o.ID).
			WithProperties(map[string]any{"title": o.Title, "wordCount": o.Count}).WithVector(o.Vector).Do(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshotObjects(t, s, "Article", "")
	const id = "pit"
	d := startBackup(t, s, map[string]any{"id": id})
	if !sameSet(d.Classes, []string{"Article"}) {
		t.Errorf("create response classes %v", d.Classes)
	}
	wantFinal(t, "backup", waitBackupRaw(t, s, id, ""), "SUCCESS")

	// Mutations after the backup completed.
	added := genObjects(122, 100, dim)
	batchImport(t, s, "Article", "", added, 100)
	for i := 0; i < 50; i++ {
		o := objs[i]
		if err := c.Data().Updater().WithClassName("Article").WithID(o.ID).
			WithProperties(map[string]any{"title": "changed after the backup", "wordCount": -1}).
			WithVector(genObjects(uint64(1000+i), 1, dim)[0].Vector).Do(ctx); err != nil {
			t.Fatalf("update: %v", err)
		}
	}
	for i := 50; i < 100; i++ {
		if err := c.Data().Deleter().WithClassName("Article").WithID(objs[i].ID).Do(ctx); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	if n := aggregateCount(t, s, "Article", ""); n != len(objs)+len(added)-50 {
		t.Fatalf("count after mutations %d, want %d", n, len(objs)+len(added)-50)
	}
	if g := getObject(t, s, "Article", objs[0].ID, "", false); g.Properties.(map[string]any)["title"] != "changed after the backup" {
		t.Fatalf("update not visible: %v", g.Properties)
	}

	deleteClass(t, s, "Article")
	restoreAndWait(t, s, id, nil)
	compareSnapshots(t, "Article after restore", snapshotObjects(t, s, "Article", ""), before)
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 1000), objs)
	if n := aggregateCount(t, s, "Article", ""); n != len(objs) {
		t.Errorf("count after restore %d, want %d", n, len(objs))
	}
}

// TestBackupList: GET /v1/backups/filesystem lists every backup with id,
// classes, status, size and timestamps, sorted by startedAt (order=asc,
// desc, default desc); directories without a descriptor are skipped.
func TestBackupList(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)

	r := s.do(t, http.MethodGet, backupsPath(fsBackend), nil)
	wantStatus(t, r, http.StatusOK)
	if strings.TrimSpace(string(r.Body)) != "[]" {
		t.Errorf("list without backups: %s, want []", r.Body)
	}

	createClass(t, s, articleClass("Article"))
	mt := articleClass("MT")
	mt.MultiTenancyConfig = &models.MultiTenancyConfig{Enabled: true}
	createClass(t, s, mt)
	if err := c.Schema().TenantsCreator().WithClassName("MT").WithTenants(models.Tenant{Name: "t1"}).Do(ctx); err != nil {
		t.Fatal(err)
	}
	batchImport(t, s, "Article", "", genObjects(131, 100, 16), 100)
	batchImport(t, s, "MT", "t1", genObjects(132, 10, 16), 10)

	ids := []string{"l-1", "l-2", "l-3"}
	classes := map[string][]string{"l-1": {"Article", "MT"}, "l-2": {"Article"}, "l-3": {"MT"}}
	backupAndWait(t, s, map[string]any{"id": "l-1"})
	time.Sleep(5 * time.Millisecond)
	backupAndWait(t, s, map[string]any{"id": "l-2", "include": []string{"Article"}})
	time.Sleep(5 * time.Millisecond)
	backupAndWait(t, s, map[string]any{"id": "l-3", "exclude": []string{"Article"}})
	// A directory without a descriptor is not a backup.
	if err := os.MkdirAll(filepath.Join(s.BackupDir, "stray-dir"), 0o755); err != nil {
		t.Fatal(err)
	}

	list := func(query string) []map[string]any {
		t.Helper()
		r := s.do(t, http.MethodGet, withQuery(backupsPath(fsBackend), query), nil)
		wantStatus(t, r, http.StatusOK)
		var items []map[string]any
		r.JSON(t, &items)
		return items
	}
	check := func(query string, wantOrder []string) {
		t.Helper()
		items := list(query)
		var got []string
		var prev time.Time
		for i, it := range items {
			id, _ := it["id"].(string)
			got = append(got, id)
			for _, k := range []string{"backend", "path"} {
				if _, ok := it[k]; ok {
					t.Errorf("list %q: item %s has field %q (list items have no backend/path)", query, id, k)
				}
			}
			if st, _ := it["status"].(string); st != "SUCCESS" {
				t.Errorf("list %q: item %s status %v", query, id, it["status"])
			}
			if size, _ := it["size"].(float64); size <= 0 {
				t.Errorf("list %q: item %s size %v, want > 0", query, id, it["size"])
			}
			var cls []string
			if arr, ok := it["classes"].([]any); ok {
				for _, c := range arr {
					s, _ := c.(string)
					cls = append(cls, s)
				}
			}
			if want, ok := classes[id]; ok && !sameSet(cls, want) {
				t.Errorf("list %q: item %s classes %v, want %v", query, id, cls, want)
			}
			sa, _ := it["startedAt"].(string)
			ca, _ := it["completedAt"].(string)
			started := checkAPITimestamp(t, "list startedAt", sa)
			completed := checkAPITimestamp(t, "list completedAt", ca)
			if completed.Before(started) {
				t.Errorf("list %q: item %s completedAt %s before startedAt %s", query, id, ca, sa)
			}
			if i > 0 {
				asc := !strings.Contains(query, "desc") && query != ""
				if asc && started.Before(prev) || !asc && started.After(prev) {
					t.Errorf("list %q: item %d (%s) startedAt %s out of order", query, i, id, sa)
				}
			}
			prev = started
		}
		if strings.Join(got, ",") != strings.Join(wantOrder, ",") {
			t.Errorf("list %q: ids %v, want %v", query, got, wantOrder)
		}
	}
	rev := []string{ids[2], ids[1], ids[0]}
	check("order=asc", ids)
	check("order=desc", rev)
	check("", rev)

	// The client's lister.
	l, err := c.Backup().Lister().WithBackend(fsBackend).WithStartedAtAsc(true).Do(ctx)
	if err != nil {
		t.Fatalf("client list asc: %v", err)
	}
	var got []string
	for _, it := range l {
		got = append(got, it.ID)
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("client list asc: %v, want %v", got, ids)
	}
	l, err = c.Backup().Lister().WithBackend(fsBackend).Do(ctx)
	if err != nil {
		t.Fatalf("client list: %v", err)
	}
	got = got[:0]
	for _, it := range l {
		got = append(got, it.ID)
	}
	if strings.Join(got, ",") != strings.Join(rev, ",") {
		t.Errorf("client list (default desc): %v, want %v", got, rev)
	}
}

// TestBackupAuth: with API keys on, every backup endpoint needs the key
// (401 without it); with the key backups and restores work.
func TestBackupAuth(t *testing.T) {
	t.Parallel()
	const key = "backup-key"
	s := startServer(t, serverOptions{APIKey: key})
	ctx := ctxT(t)
	createClass(t, s, articleClass("Article"))
	objs := genObjects(141, 50, 16)
	batchImport(t, s, "Article", "", objs, 50)

	base := backupsPath(fsBackend)
	calls := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, base, map[string]any{"id": "a-1"}},
		{http.MethodGet, base, nil},
		{http.MethodGet, base + "/a-1", nil},
		{http.MethodDelete, base + "/a-1", nil},
		{http.MethodPost, base + "/a-1/restore", map[string]any{}},
		{http.MethodGet, base + "/a-1/restore", nil},
		{http.MethodDelete, base + "/a-1/restore", nil},
	}
	for _, cl := range calls {
		r := s.doNoAuth(t, cl.method, cl.path, cl.body)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s without a key: %s, want 401", cl.method, cl.path, r)
		}
		r = s.doWith(t, cl.method, cl.path, cl.body, http.Header{"Authorization": {"Bearer wrong"}}, true)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s with a wrong key: %s, want 401", cl.method, cl.path, r)
		}
	}
	if _, err := os.Stat(filepath.Join(s.BackupDir, "a-1")); !os.IsNotExist(err) {
		t.Errorf("an unauthenticated create left %s/a-1 behind (stat: %v)", s.BackupDir, err)
	}
	_, err := s.clientWithKey(t, "").Backup().Creator().WithBackend(fsBackend).WithBackupID("a-1").Do(ctx)
	wantClientStatus(t, err, http.StatusUnauthorized)

	// With the key.
	c := s.client(t)
	resp, err := c.Backup().Creator().WithBackend(fsBackend).WithBackupID("a-1").WithWaitForCompletion(true).Do(ctx)
	if err != nil {
		t.Fatalf("backup with key: %v", err)
	}
	if strDeref(resp.Status) != "SUCCESS" {
		t.Fatalf("backup with key: %s %q", strDeref(resp.Status), resp.Error)
	}
	r := s.do(t, http.MethodGet, base, nil)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"a-1"`) {
		t.Errorf("list with key: %s", r.Body)
	}
	deleteClass(t, s, "Article")
	rr, err := c.Backup().Restorer().WithBackend(fsBackend).WithBackupID("a-1").WithWaitForCompletion(true).Do(ctx)
	if err != nil {
		t.Fatalf("restore with key: %v", err)
	}
	if strDeref(rr.Status) != "SUCCESS" {
		t.Fatalf("restore with key: %s %q", strDeref(rr.Status), rr.Error)
	}
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 100), objs)
}

// ---- helpers of this file ---------------------------------------------

func strDeref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// clientWaitCreate polls the create status with the client until it is
// terminal.
func clientWaitCreate(t testing.TB, c *weaviate.Client, id string) *models.BackupCreateStatusResponse {
	t.Helper()
	deadline := time.Now().Add(backupWaitTimeout)
	for {
		st, err := c.Backup().CreateStatusGetter().WithBackend(fsBackend).WithBackupID(id).Do(ctxT(t))
		if err != nil {
			t.Fatalf("create status %s: %v", id, err)
		}
		if st.Status == nil {
			t.Fatalf("create status %s: no status", id)
		}
		if isTerminal(*st.Status) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("backup %s not finished after %s (status %s)", id, backupWaitTimeout, *st.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clientWaitRestore polls the restore status with the client until it is
// terminal.
func clientWaitRestore(t testing.TB, c *weaviate.Client, id string) *models.BackupRestoreStatusResponse {
	t.Helper()
	deadline := time.Now().Add(backupWaitTimeout)
	for {
		st, err := c.Backup().RestoreStatusGetter().WithBackend(fsBackend).WithBackupID(id).Do(ctxT(t))
		if err != nil {
			t.Fatalf("restore status %s: %v", id, err)
		}
		if st.Status == nil {
			t.Fatalf("restore status %s: no status", id)
		}
		if isTerminal(*st.Status) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore %s not finished after %s (status %s)", id, backupWaitTimeout, *st.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// compareHits asserts two nearVector results have the same ids in the same
// order with (nearly) equal distances.
func compareHits(t testing.TB, what string, got, want []gqlHit) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d hits, want %d", what, len(got), len(want))
		return
	}
	for i := range want {
		if got[i].id != want[i].id || math.Abs(got[i].distance-want[i].distance) > 1e-6 {
			t.Errorf("%s: hit %d is %s (%v), want %s (%v)", what, i, got[i].id, got[i].distance, want[i].id, want[i].distance)
		}
	}
}

// checkBackupLayout checks the files of a successful backup (spec §7):
// <root>/<id>/backup_config.json, <root>/<id>/node1/backup.json and the
// chunks <root>/<id>/node1/<Class>/chunk-<n>, their descriptors' fields and
// that every chunk's bytes match the compressionType. It returns the
// compressionType.
func checkBackupLayout(t testing.TB, root, id string, classes []string) string {
	t.Helper()
	home := filepath.Join(root, id)
	top := readJSONFile(t, filepath.Join(home, "backup_config.json"))
	if top["id"] != id || top["status"] != "SUCCESS" || top["version"] != "2.1" {
		t.Errorf("backup_config.json: id %v status %v version %v, want %s SUCCESS 2.1", top["id"], top["status"], top["version"], id)
	}
	if e, _ := top["error"].(string); e != "" {
		t.Errorf("backup_config.json: error %q", e)
	}
	if sv, _ := top["serverVersion"].(string); sv == "" {
		t.Errorf("backup_config.json: no serverVersion")
	}
	if n, _ := top["preCompressionSizeBytes"].(float64); n <= 0 {
		t.Errorf("backup_config.json: preCompressionSizeBytes %v", top["preCompressionSizeBytes"])
	}
	started, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(top["startedAt"]))
	completed, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(top["completedAt"]))
	if err1 != nil || err2 != nil || completed.Before(started) || started.IsZero() {
		t.Errorf("backup_config.json: startedAt %v completedAt %v", top["startedAt"], top["completedAt"])
	}
	ct, _ := top["compressionType"].(string)
	if ct != "gzip" && ct != "zstd" && ct != "none" {
		t.Errorf("backup_config.json: compressionType %q", ct)
	}
	nodes, _ := top["nodes"].(map[string]any)
	node, _ := nodes[nodeName].(map[string]any)
	if len(nodes) != 1 || node == nil {
		t.Errorf("backup_config.json: nodes %v, want exactly %s", top["nodes"], nodeName)
	} else {
		if node["status"] != "SUCCESS" {
			t.Errorf("backup_config.json: nodes.%s.status %v", nodeName, node["status"])
		}
		if got := anyStrings(node["classes"]); !sameSet(got, classes) {
			t.Errorf("backup_config.json: nodes.%s.classes %v, want %v", nodeName, got, classes)
		}
	}

	nd := readJSONFile(t, filepath.Join(home, nodeName, "backup.json"))
	if nd["id"] != id || nd["status"] != "SUCCESS" || nd["version"] != "2.1" {
		t.Errorf("%s/backup.json: id %v status %v version %v", nodeName, nd["id"], nd["status"], nd["version"])
	}
	if nct, _ := nd["compressionType"].(string); nct != ct {
		t.Errorf("%s/backup.json: compressionType %q, backup_config.json says %q", nodeName, nct, ct)
	}
	cds, _ := nd["classes"].([]any)
	var names []string
	for _, x := range cds {
		cd, _ := x.(map[string]any)
		name, _ := cd["name"].(string)
		names = append(names, name)
		// The collection definition.
		if sch, err := base64.StdEncoding.DecodeString(fmt.Sprint(cd["schema"])); err != nil {
			t.Errorf("class %s: schema is not base64: %v", name, err)
		} else {
			var def map[string]any
			if err := json.Unmarshal(sch, &def); err != nil || def["class"] != name {
				t.Errorf("class %s: decoded schema %s", name, truncate(sch, 300))
			}
		}
		// chunks ⇔ files on disk.
		chunks, _ := cd["chunks"].(map[string]any)
		if len(chunks) == 0 {
			t.Errorf("class %s: no chunks in %s/backup.json", name, nodeName)
		}
		listed := map[string]bool{}
		for n := range chunks {
			if _, err := strconv.Atoi(n); err != nil {
				t.Errorf("class %s: chunk key %q is not a number", name, n)
			}
			p := filepath.Join(home, nodeName, name, "chunk-"+n)
			listed[p] = true
			if _, err := os.Stat(p); err != nil {
				t.Errorf("class %s: chunk %s listed but missing: %v", name, n, err)
			}
		}
		files := chunkFiles(t, root, id, name)
		for _, f := range files {
			if !listed[f] {
				t.Errorf("class %s: %s on disk is not listed in backup.json chunks", name, f)
			}
			enc, head := chunkTar(t, f)
			if enc != ct {
				t.Errorf("%s: bytes are %s, compressionType says %s", f, enc, ct)
			}
			if !isTar(head) {
				t.Errorf("%s: (decompressed) content is not a tar archive (no \"ustar\" at offset 257)", f)
			}
		}
	}
	if !sameSet(names, classes) {
		t.Errorf("%s/backup.json: classes %v, want %v", nodeName, names, classes)
	}
	return ct
}

// nodeDescriptorHasShard reports whether the node descriptor lists a chunk
// holding shard (tenant) of class.
func nodeDescriptorHasShard(t testing.TB, root, id, class, shard string) bool {
	t.Helper()
	nd := readJSONFile(t, filepath.Join(root, id, nodeName, "backup.json"))
	cds, _ := nd["classes"].([]any)
	for _, x := range cds {
		cd, _ := x.(map[string]any)
		if cd["name"] != class {
			continue
		}
		chunks, _ := cd["chunks"].(map[string]any)
		for _, shards := range chunks {
			for _, sh := range anyStrings(shards) {
				if sh == shard {
					return true
				}
			}
		}
	}
	return false
}

// anyStrings converts a decoded JSON array of strings.
func anyStrings(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestBackupTerminalStatusIsFinal: once a status endpoint reports a
// terminal status the job is completely over: its descriptor on disk
// (backup_config.json / restore_config.json, written last) says the same,
// and the next backup or restore can start at once (no "already in
// progress"). Clients (wait-for-completion) act on the status immediately.
func TestBackupTerminalStatusIsFinal(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	fastImport(t, s, "Article", "", genObjects(191, 500, 16), 500)
	const rounds = 15
	var descriptorLag, busy int
	for i := 0; i < rounds; i++ {
		id := fmt.Sprintf("seq-%d", i)
		r := createBackupRaw(t, s, map[string]any{"id": id})
		if r.Status != http.StatusOK {
			busy++
			t.Errorf("create %s right after the previous backup reported SUCCESS: %s", id, r)
			time.Sleep(time.Second)
			startBackup(t, s, map[string]any{"id": id})
		}
		wantFinal(t, "backup "+id, waitBackupRaw(t, s, id, ""), "SUCCESS")
		top := readJSONFile(t, filepath.Join(s.BackupDir, id, "backup_config.json"))
		if top["status"] != "SUCCESS" {
			descriptorLag++
			t.Errorf("backup %s: status endpoint says SUCCESS, backup_config.json says %v", id, top["status"])
		}
	}
	for i := 0; i < rounds; i++ {
		id := fmt.Sprintf("seq-%d", i)
		deleteClass(t, s, "Article")
		r := s.do(t, http.MethodPost, backupsPath(fsBackend)+"/"+id+"/restore", map[string]any{})
		if r.Status != http.StatusOK {
			busy++
			t.Errorf("restore %s right after the previous restore reported SUCCESS: %s", id, r)
			time.Sleep(time.Second)
			startRestore(t, s, id, nil)
		}
		wantFinal(t, "restore "+id, waitRestoreRaw(t, s, id, ""), "SUCCESS")
		rc := readJSONFile(t, filepath.Join(s.BackupDir, id, "restore_config.json"))
		if rc["status"] != "SUCCESS" {
			descriptorLag++
			t.Errorf("restore %s: status endpoint says SUCCESS, restore_config.json says %v", id, rc["status"])
		}
	}
	if descriptorLag+busy > 0 {
		t.Errorf("%d of %d jobs: SUCCESS reported before the descriptor was written; %d: the next job was refused as \"already in progress\"",
			descriptorLag, 2*rounds, busy)
	}
}

// TestVerifyBackup: POST /v1/backups/{backend}/{id}/verify checks a backup
// without restoring it — metadata by default, every byte with "full" —
// and names the chunk a flipped byte damaged.
func TestVerifyBackup(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	fastImport(t, s, "Article", "", genObjects(21, 800, 32), 400)
	backupAndWait(t, s, map[string]any{"id": "v1"})
	type report struct {
		OK       bool   `json:"ok"`
		Mode     string `json:"mode"`
		Chunks   int    `json:"chunks"`
		Files    int    `json:"files"`
		Problems []struct {
			File  string `json:"file"`
			Error string `json:"error"`
		} `json:"problems"`
	}
	verify := func(body any) report {
		t.Helper()
		r := s.do(t, http.MethodPost, "/v1/backups/filesystem/v1/verify", body)
		wantStatus(t, r, http.StatusOK)
		var rep report
		r.JSON(t, &rep)
		return rep
	}
	if rep := verify(nil); !rep.OK || rep.Mode != "metadata" || rep.Chunks == 0 || rep.Files == 0 || rep.Problems == nil {
		t.Fatalf("metadata verify of a sound backup: %+v", rep)
	}
	if rep := verify(map[string]any{"mode": "full"}); !rep.OK || rep.Mode != "full" {
		t.Fatalf("full verify of a sound backup: %+v", rep)
	}
	flipMiddleByte(t, filepath.Join(s.BackupDir, "v1", "node1", "Article", "chunk-1"))
	rep := verify(map[string]any{"mode": "full"})
	if rep.OK || len(rep.Problems) != 1 || !strings.HasSuffix(rep.Problems[0].File, "v1/node1/Article/chunk-1") {
		t.Fatalf("full verify of a flipped byte: %+v", rep)
	}
	wantStatus(t, s.do(t, http.MethodPost, "/v1/backups/filesystem/nope/verify", nil), http.StatusNotFound)
	r := s.do(t, http.MethodPost, "/v1/backups/filesystem/v1/verify", map[string]any{"mode": "deep"})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.Body), "mode") {
		t.Fatalf("unknown mode: %s", r)
	}
}

// TestMetrics: GET /metrics serves the Prometheus text format with every
// Strata metric named strata_*: after a backup and a restore, the bytes
// each moved, the jobs by result with their durations, none in flight,
// and the latency of the requests made, by route.
func TestMetrics(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	fastImport(t, s, "Article", "", genObjects(23, 500, 32), 250)
	backupAndWait(t, s, map[string]any{"id": "m1"})
	deleteClass(t, s, "Article")
	restoreAndWait(t, s, "m1", nil)
	r := s.do(t, http.MethodGet, "/metrics", nil)
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q", ct)
	}
	values := map[string]float64{}
	for _, line := range strings.Split(string(r.Body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("not a sample line: %q", line)
		}
		values[line[:i]] = v
	}
	for series, check := range map[string]func(float64) bool{
		`strata_backup_jobs_total{backend="filesystem",kind="backup",status="SUCCESS"}`:                      func(v float64) bool { return v == 1 },
		`strata_backup_jobs_total{backend="filesystem",kind="restore",status="SUCCESS"}`:                     func(v float64) bool { return v == 1 },
		`strata_backup_duration_seconds_count{backend="filesystem",kind="backup",status="SUCCESS"}`:          func(v float64) bool { return v == 1 },
		`strata_backup_bytes_total{backend="filesystem",kind="backup"}`:                                      func(v float64) bool { return v > 1000 },
		`strata_backup_bytes_total{backend="filesystem",kind="restore"}`:                                     func(v float64) bool { return v > 1000 },
		`strata_backup_jobs_in_flight{kind="backup"}`:                                                        func(v float64) bool { return v == 0 },
		`strata_http_request_duration_seconds_count{code="200",method="POST",route="/v1/backups/{backend}"}`: func(v float64) bool { return v == 1 },
		`strata_http_request_duration_seconds_count{code="200",method="POST",route="/v1/batch/objects"}`:     func(v float64) bool { return v == 2 },
	} {
		v, ok := values[series]
		if !ok || !check(v) {
			t.Errorf("%s = %v (present %v)", series, v, ok)
		}
	}
	for name := range values {
		if !strings.HasPrefix(name, "strata_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("metric %q is not named strata_*", name)
		}
	}
}

// TestDeleteAndRetention: DELETE …?purge=true removes an ended backup
// (plain DELETE still cancels, as in Weaviate); POST …/retention applies a
// policy and lists what it deleted; with STRATA_BACKUP_RETENTION_KEEP_LAST
// every successful backup applies it.
func TestDeleteAndRetention(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{Env: map[string]string{"STRATA_BACKUP_RETENTION_KEEP_LAST": "3"}})
	createClass(t, s, articleClass("Article"))
	fastImport(t, s, "Article", "", genObjects(25, 300, 16), 300)
	for _, id := range []string{"k1", "k2", "k3", "k4"} {
		backupAndWait(t, s, map[string]any{"id": id})
	}
	listed := func() string {
		t.Helper()
		r := s.do(t, http.MethodGet, "/v1/backups/filesystem?order=asc", nil)
		wantStatus(t, r, http.StatusOK)
		var items []struct {
			ID string `json:"id"`
		}
		r.JSON(t, &items)
		var ids []string
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return strings.Join(ids, ",")
	}
	// Retention runs right after the SUCCESS is stored.
	waitFor(t, "keeping the last 3 of 4", func() bool { return listed() == "k2,k3,k4" })
	if _, err := os.Stat(filepath.Join(s.BackupDir, "k1")); !os.IsNotExist(err) {
		t.Fatalf("k1's files are left: %v", err)
	}
	wantStatus(t, s.do(t, http.MethodDelete, "/v1/backups/filesystem/k2?purge=true", nil), http.StatusNoContent)
	wantStatus(t, s.do(t, http.MethodDelete, "/v1/backups/filesystem/k2?purge=true", nil), http.StatusNotFound)
	wantStatus(t, s.do(t, http.MethodDelete, "/v1/backups/filesystem/k3?purge=maybe", nil), http.StatusUnprocessableEntity)
	r := s.do(t, http.MethodPost, "/v1/backups/filesystem/retention", map[string]any{"keepLast": 1})
	wantStatus(t, r, http.StatusOK)
	var res struct {
		Deleted []string `json:"deleted"`
	}
	r.JSON(t, &res)
	if strings.Join(res.Deleted, ",") != "k3" || listed() != "k4" {
		t.Fatalf("keep the last one: %s, left %s", r, listed())
	}
	wantStatus(t, s.do(t, http.MethodPost, "/v1/backups/filesystem/retention", map[string]any{"keepWithin": "soon"}), http.StatusUnprocessableEntity)
	deleteClass(t, s, "Article")
	restoreAndWait(t, s, "k4", nil)
}

// TestRestoreRename: a restore body's "rename" restores a class next to
// the live one under a new name, with every object.
func TestRestoreRename(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	objs := genObjects(31, 400, 16)
	fastImport(t, s, "Article", "", objs, 400)
	backupAndWait(t, s, map[string]any{"id": "rn"})
	wantFinal(t, "restore with rename", restoreAndWait(t, s, "rn", map[string]any{"rename": map[string]string{"Article": "ArticleCopy"}}), "SUCCESS")
	checkObjectsMatch(t, "ArticleCopy", listAll(t, s, "ArticleCopy", "", 1000), objs)
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 1000), objs)
	r := s.do(t, http.MethodPost, "/v1/backups/filesystem/rn/restore", map[string]any{"rename": map[string]string{"Article": "no such-name"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
}

// TestEncryptedBackupE2E: with STRATA_BACKUP_ENCRYPTION_KEY no file of
// the backup holds the data in plaintext; a server with another key
// refuses the restore at once; one with the key (from a file) restores
// every object.
func TestEncryptedBackupE2E(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("3c", 32)
	backups := t.TempDir()
	s := startServer(t, serverOptions{BackupDir: backups, Env: map[string]string{"STRATA_BACKUP_ENCRYPTION_KEY": key}})
	createClass(t, s, articleClass("Article"))
	objs := genObjects(33, 300, 8)
	fastImport(t, s, "Article", "", objs, 300)
	backupAndWait(t, s, map[string]any{"id": "sealed", "config": map[string]any{"CompressionLevel": "NoCompression"}})
	title := objs[0].Title
	filepath.WalkDir(filepath.Join(backups, "sealed"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(p) != "backup_config.json" {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(title)) {
				t.Errorf("%s holds plaintext", p)
			}
		}
		return nil
	})
	s.stop()

	wrong := startServer(t, serverOptions{BackupDir: backups, Env: map[string]string{"STRATA_BACKUP_ENCRYPTION_KEY": strings.Repeat("c3", 32)}})
	r := wrong.do(t, http.MethodPost, "/v1/backups/filesystem/sealed/restore", map[string]any{})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.Body), "another key") {
		t.Fatalf("restore with another key: %s", r)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
	right := startServer(t, serverOptions{BackupDir: backups, Env: map[string]string{"STRATA_BACKUP_ENCRYPTION_KEY_FILE": keyFile}})
	restoreAndWait(t, right, "sealed", nil)
	checkObjectsMatch(t, "Article", listAll(t, right, "Article", "", 1000), objs)
}
