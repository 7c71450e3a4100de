package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weaviate/weaviate/entities/models"
)

// rawWithContentType sends a request with an explicit Content-Type (the
// harness always sends application/json with a body).
func rawWithContentType(t testing.TB, s *server, method, path, ctype string, body []byte) httpResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	if s.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.opts.APIKey)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// oneOf asserts msg equals one of the candidates (for messages that list
// collections in no guaranteed order).
func oneOf(t testing.TB, what, msg string, candidates ...string) {
	t.Helper()
	if msg == "" {
		return // already reported
	}
	for _, c := range candidates {
		if msg == c {
			return
		}
	}
	t.Errorf("%s: message\n  %q\nwant one of\n  %q", what, msg, candidates)
}

const (
	s3NoBackend  = `no backup backend "s3": backup: s3 not found, did you enable the right module?`
	s3NoProvider = `no backup provider "s3": backup: s3 not found, did you enable the right module?`
)

// TestBackupValidation: every request-binding and validation rule of the
// spec (§1, §4.1, §4.2, §4.4–§4.7, with Strata's §0 decisions) that applies
// to a single node, with exact status codes and messages; restoring onto
// existing classes fails without touching them.
func TestBackupValidation(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)
	base := backupsPath(fsBackend)
	unprocessable := http.StatusUnprocessableEntity

	// §4.1 #9: nothing to back up.
	wantBackupError(t, "create on an empty database", createBackupRaw(t, s, map[string]any{"id": "e-1"}),
		unprocessable, "no available classes to backup, there's nothing to do here")

	createClass(t, s, articleClass("Article"))
	mt := articleClass("MT")
	mt.MultiTenancyConfig = &models.MultiTenancyConfig{Enabled: true}
	createClass(t, s, mt)
	if err := c.Schema().TenantsCreator().WithClassName("MT").WithTenants(models.Tenant{Name: "t1"}).Do(ctx); err != nil {
		t.Fatal(err)
	}
	artObjs := genObjects(151, 40, 16)
	batchImport(t, s, "Article", "", artObjs, 40)
	batchImport(t, s, "MT", "t1", genObjects(152, 5, 16), 5)
	artOriginal := snapshotObjects(t, s, "Article", "")

	// ---- §1 request binding (code/message bodies) ----
	const notJSON = `parsing body body from "" failed, because invalid character 'o' in literal null (expecting 'u')`
	wantBindingError(t, "create, body not JSON", createBackupRaw(t, s, "not json"), 400, 400, notJSON)
	wantBindingError(t, "create, empty body", createBackupRaw(t, s, ""), unprocessable, 602, "body in body is required")
	wantBindingError(t, "create, form content type",
		rawWithContentType(t, s, http.MethodPost, base, "application/x-www-form-urlencoded", []byte("id=b-1")),
		http.StatusUnsupportedMediaType, 415,
		`unsupported media type "application/x-www-form-urlencoded", only [application/json application/yaml] are allowed`)
	wantBindingError(t, "create, CPUPercentage 81",
		createBackupRaw(t, s, map[string]any{"id": "b-1", "config": map[string]any{"CPUPercentage": 81}}),
		unprocessable, 608, "config.CPUPercentage in body should be less than or equal to 80")
	wantBindingError(t, "create, CPUPercentage -1",
		createBackupRaw(t, s, map[string]any{"id": "b-1", "config": map[string]any{"CPUPercentage": -1}}),
		unprocessable, 609, "config.CPUPercentage in body should be greater than or equal to 1")
	const badLevel = "config.CompressionLevel in body should be one of [DefaultCompression BestSpeed BestCompression ZstdDefaultCompression ZstdBestSpeed ZstdBestCompression NoCompression]"
	wantBindingError(t, "create, bad CompressionLevel",
		createBackupRaw(t, s, map[string]any{"id": "b-1", "config": map[string]any{"CompressionLevel": "Fastest"}}),
		unprocessable, 606, badLevel)
	// Binding errors come before handler checks (an invalid id too).
	wantBindingError(t, "create, bad CompressionLevel with a bad id",
		createBackupRaw(t, s, map[string]any{"id": "B-1", "config": map[string]any{"CompressionLevel": "Fastest"}}),
		unprocessable, 606, badLevel)
	restorePath := base + "/b-1/restore"
	wantBindingError(t, "restore, body not JSON", s.do(t, http.MethodPost, restorePath, "not json"), 400, 400, notJSON)
	wantBindingError(t, "restore, empty body", s.do(t, http.MethodPost, restorePath, ""), unprocessable, 602, "body in body is required")
	wantBindingError(t, "restore, form content type",
		rawWithContentType(t, s, http.MethodPost, restorePath, "application/x-www-form-urlencoded", []byte("x=1")),
		http.StatusUnsupportedMediaType, 415,
		`unsupported media type "application/x-www-form-urlencoded", only [application/json application/yaml] are allowed`)
	wantBindingError(t, "restore, CPUPercentage 81",
		s.do(t, http.MethodPost, restorePath, map[string]any{"config": map[string]any{"CPUPercentage": 81}}),
		unprocessable, 608, "config.CPUPercentage in body should be less than or equal to 80")
	wantBindingError(t, "restore, CPUPercentage -1",
		s.do(t, http.MethodPost, restorePath, map[string]any{"config": map[string]any{"CPUPercentage": -1}}),
		unprocessable, 609, "config.CPUPercentage in body should be greater than or equal to 1")
	wantBindingError(t, "restore, bad usersOptions",
		s.do(t, http.MethodPost, restorePath, map[string]any{"config": map[string]any{"usersOptions": "some"}}),
		unprocessable, 606, "config.usersOptions in body should be one of [noRestore all]")
	wantBindingError(t, "restore, bad rolesOptions",
		s.do(t, http.MethodPost, restorePath, map[string]any{"config": map[string]any{"rolesOptions": "some"}}),
		unprocessable, 606, "config.rolesOptions in body should be one of [noRestore all]")
	wantBindingError(t, "list, order=up", s.do(t, http.MethodGet, base+"?order=up", nil),
		unprocessable, 606, "order in query should be one of [asc desc]")
	r := s.do(t, http.MethodPut, base, map[string]any{"id": "b-1"})
	wantBindingError(t, "PUT /v1/backups/filesystem", r, http.StatusMethodNotAllowed, 405, "method PUT is not allowed, but [POST,GET] are")
	if allow := strings.Join(r.Header.Values("Allow"), ","); !strings.Contains(allow, "POST") || !strings.Contains(allow, "GET") {
		t.Errorf("405 Allow header %q, want POST and GET", allow)
	}
	wantBindingError(t, "GET /v1/backups", s.do(t, http.MethodGet, "/v1/backups", nil), http.StatusNotFound, 404, "path /v1/backups was not found")
	// None of the rejected requests created anything.
	if r := backupStatusRaw(t, s, "b-1", ""); r.Status != http.StatusNotFound {
		t.Errorf("status of b-1 after rejected requests: %s, want 404", r)
	}

	// ---- §4.1 create ----
	for _, body := range []map[string]any{{}, {"id": ""}, {"id": nil, "include": []string{"Article"}}} {
		msg := wantBackupErrorContains(t, "create without an id", createBackupRaw(t, s, body), unprocessable)
		if msg != "" && !strings.Contains(msg, "id") {
			t.Errorf("create without an id (%v): message %q does not name the id", body, msg)
		}
	}
	for _, b := range []string{"s3", "azure"} {
		want := strings.ReplaceAll(s3NoBackend, "s3", b)
		wantBackupError(t, "create on backend "+b, s.do(t, http.MethodPost, backupsPath(b), map[string]any{"id": "x-1"}), unprocessable, want)
	}
	// The backend check comes before the id check.
	wantBackupError(t, "create on s3 with a bad id", s.do(t, http.MethodPost, backupsPath("s3"), map[string]any{"id": "A1"}), unprocessable, s3NoBackend)
	for _, id := range []string{"A1", "a.b", "../x", "a/b", "a b", "ä"} {
		wantBackupError(t, "create with id "+id, createBackupRaw(t, s, map[string]any{"id": id}), unprocessable, invalidIDMessage(id))
	}
	// The id check comes before include/exclude.
	wantBackupError(t, "create with bad id and include+exclude",
		createBackupRaw(t, s, map[string]any{"id": "A1", "include": []string{"Article"}, "exclude": []string{"MT"}}),
		unprocessable, invalidIDMessage("A1"))
	wantBackupError(t, "create with include and exclude",
		createBackupRaw(t, s, map[string]any{"id": "x-1", "include": []string{"Article"}, "exclude": []string{"MT"}}),
		unprocessable, "malformed request: 'include' and 'exclude' cannot both contain values")
	wantBackupError(t, "create with a duplicate include",
		createBackupRaw(t, s, map[string]any{"id": "x-1", "include": []string{"Article", "MT", "Article"}}),
		unprocessable, "class list 'include' contains duplicate: Article")
	oneOf(t, "create excluding everything",
		backupErrorMessage(t, "create excluding everything",
			createBackupRaw(t, s, map[string]any{"id": "x-1", "exclude": []string{"Article", "MT", "Unknown"}}), unprocessable),
		"empty class list: please choose from : [Article MT]", "empty class list: please choose from : [MT Article]")
	wantBackupErrorContains(t, "create with only non-matching wildcards",
		createBackupRaw(t, s, map[string]any{"id": "x-1", "include": []string{"Nope*", "Zz?"}}),
		unprocessable, "empty class list", "Nope*", "Zz?")
	wantBackupError(t, "create with an unknown class",
		createBackupRaw(t, s, map[string]any{"id": "x-1", "include": []string{"Nope"}}), unprocessable, "class Nope doesn't exist")
	wantBackupError(t, "create with two unknown classes",
		createBackupRaw(t, s, map[string]any{"id": "x-1", "include": []string{"Article", "Nope1", "Nope2"}}),
		unprocessable, "class Nope1 doesn't exist\nclass Nope2 doesn't exist")
	wantBackupError(t, "create with a wrongly cased class",
		createBackupRaw(t, s, map[string]any{"id": "x-1", "include": []string{"article"}}), unprocessable, "class article doesn't exist")
	if _, err := os.Stat(filepath.Join(s.BackupDir, "x-1")); !os.IsNotExist(err) {
		t.Errorf("rejected creates left %s/x-1 behind (stat: %v)", s.BackupDir, err)
	}

	// Wildcards expand (in include order); nulls, zero CPUPercentage and
	// unknown/ignored fields are accepted.
	for _, tc := range []struct {
		body map[string]any
		want []string
	}{
		{map[string]any{"id": "w-1", "include": []string{"Art*"}}, []string{"Article"}},
		{map[string]any{"id": "w-2", "include": []string{"M?", "Nope*"}}, []string{"MT"}},
		{map[string]any{"id": "w-3", "exclude": []string{"A*"}}, []string{"MT"}},
		{map[string]any{"id": "w-4", "include": nil, "exclude": nil, "unknownField": true,
			"config": map[string]any{"CPUPercentage": 0, "ChunkSize": 512, "Endpoint": "ignored"}}, []string{"Article", "MT"}},
	} {
		d := startBackup(t, s, tc.body)
		if !sameSet(d.Classes, tc.want) {
			t.Errorf("create %v: classes %v, want %v", tc.body, d.Classes, tc.want)
		}
		wantFinal(t, "backup "+d.ID, waitBackupRaw(t, s, d.ID, ""), "SUCCESS")
	}
	// include order is kept after expansion.
	d := startBackup(t, s, map[string]any{"id": "w-5", "include": []string{"MT", "Art*"}})
	if strings.Join(d.Classes, ",") != "MT,Article" {
		t.Errorf("create include [MT Art*]: classes %v, want [MT Article] (include order)", d.Classes)
	}
	wantFinal(t, "backup w-5", waitBackupRaw(t, s, "w-5", ""), "SUCCESS")

	// The backend alias.
	r = s.do(t, http.MethodGet, backupsPath("backup-filesystem")+"/w-1", nil)
	wantStatus(t, r, http.StatusOK)
	if d := decodeBackupDoc(t, r); d.Backend != "backup-filesystem" || d.Status != "SUCCESS" {
		t.Errorf("status via backup-filesystem: %s", r.Body)
	}

	// A successful backup of everything.
	const id = "v-1"
	backupAndWait(t, s, map[string]any{"id": id})
	home := filepath.Join(s.BackupDir, id)
	wantBackupError(t, "create with an existing id", createBackupRaw(t, s, map[string]any{"id": id}),
		unprocessable, `backup "v-1" already exists at "`+home+`"`)

	// ---- §4.2 create status, §4.3 list ----
	r = backupStatusRaw(t, s, "never-1", "")
	backupErrorMessage(t, "status of an unknown id", r, http.StatusNotFound)
	for _, bad := range []string{"A1", "a.b"} {
		wantBackupErrorContains(t, "status of id "+bad, backupStatusRaw(t, s, bad, ""), unprocessable, "invalid backup id")
	}
	wantBackupError(t, "status on s3", s.do(t, http.MethodGet, backupsPath("s3")+"/"+id, nil), unprocessable, s3NoProvider)
	wantBackupError(t, "list on s3", s.do(t, http.MethodGet, backupsPath("s3"), nil), unprocessable, s3NoBackend)

	// ---- §4.4 cancel ----
	wantBackupError(t, "cancel a SUCCESS backup", cancelBackupRaw(t, s, id, ""), unprocessable, `backup "v-1" already succeeded`)
	wantNoContent(t, "cancel an unknown id", cancelBackupRaw(t, s, "never-2", ""))
	wantBackupError(t, "cancel id A1", cancelBackupRaw(t, s, "A1", ""), unprocessable, invalidIDMessage("A1"))
	wantBackupError(t, "cancel on s3", s.do(t, http.MethodDelete, backupsPath("s3")+"/"+id, nil), unprocessable, s3NoProvider)
	if st := waitBackupRaw(t, s, id, ""); st.Final.Status != "SUCCESS" {
		t.Errorf("a rejected cancel changed the backup: %+v", st.Final)
	}
	if err := c.Backup().Canceler().WithBackend(fsBackend).WithBackupID("never-3").Do(ctx); err != nil {
		t.Errorf("client cancel of an unknown id: %v (want 204)", err)
	}

	// ---- §4.5 restore (rejected synchronously) ----
	rp := func(id string) string { return base + "/" + id + "/restore" }
	wantBackupError(t, "restore on s3", s.do(t, http.MethodPost, backupsPath("s3")+"/"+id+"/restore", map[string]any{}), unprocessable, s3NoBackend)
	wantBackupError(t, "restore on s3 with include+exclude",
		s.do(t, http.MethodPost, backupsPath("s3")+"/"+id+"/restore", map[string]any{"include": []string{"Article"}, "exclude": []string{"MT"}}),
		unprocessable, s3NoBackend)
	wantBackupError(t, "restore with include and exclude",
		s.do(t, http.MethodPost, rp(id), map[string]any{"include": []string{"Article"}, "exclude": []string{"MT"}}),
		unprocessable, "malformed request: 'include' and 'exclude' cannot both contain values")
	wantBackupError(t, "restore with a duplicate include",
		s.do(t, http.MethodPost, rp(id), map[string]any{"include": []string{"MT", "MT"}}),
		unprocessable, "class list 'include' contains duplicate: MT")
	wantBackupErrorContains(t, "restore of a missing backup", s.do(t, http.MethodPost, rp("nope-1"), map[string]any{}),
		http.StatusNotFound, `backup id "nope-1" does not exist`)
	for _, bad := range []string{"A1", "a.b"} {
		wantBackupErrorContains(t, "restore of id "+bad, s.do(t, http.MethodPost, rp(bad), map[string]any{}), unprocessable, "invalid backup id")
	}
	msg := backupErrorMessage(t, "restore of a class not in the backup",
		s.do(t, http.MethodPost, rp("w-1"), map[string]any{"include": []string{"MT"}}), unprocessable)
	oneOf(t, "restore of a class not in the backup", msg, "class MT doesn't exist in the backup, but does have [Article]: ")
	msg = backupErrorMessage(t, "restore of an unknown class",
		s.do(t, http.MethodPost, rp(id), map[string]any{"include": []string{"Nope"}}), unprocessable)
	oneOf(t, "restore of an unknown class", msg,
		"class Nope doesn't exist in the backup, but does have [Article MT]: ",
		"class Nope doesn't exist in the backup, but does have [MT Article]: ")
	msg = backupErrorMessage(t, "restore excluding everything",
		s.do(t, http.MethodPost, rp(id), map[string]any{"exclude": []string{"Article", "MT"}}), unprocessable)
	oneOf(t, "restore excluding everything", msg,
		"nothing left to restore: please choose from : [Article MT]",
		"nothing left to restore: please choose from : [MT Article]")
	wantBackupErrorContains(t, "restore with only non-matching wildcards",
		s.do(t, http.MethodPost, rp(id), map[string]any{"include": []string{"Nope*"}}), unprocessable, "empty class list", "Nope*")

	// ---- §4.6 restore status, §4.7 restore cancel ----
	backupErrorMessage(t, "restore status of a never-restored backup", restoreStatusRaw(t, s, id, ""), http.StatusNotFound)
	backupErrorMessage(t, "restore status of an unknown id", restoreStatusRaw(t, s, "never-4", ""), http.StatusNotFound)
	for _, bad := range []string{"A1", "a.b"} {
		wantBackupErrorContains(t, "restore status of id "+bad, restoreStatusRaw(t, s, bad, ""), unprocessable, "invalid backup id")
	}
	wantBackupErrorContains(t, "restore status on s3", s.do(t, http.MethodGet, backupsPath("s3")+"/"+id+"/restore", nil),
		unprocessable, `"s3"`, "s3 not found, did you enable the right module?")
	wantBackupError(t, "restore cancel on s3", s.do(t, http.MethodDelete, backupsPath("s3")+"/"+id+"/restore", nil), unprocessable, s3NoProvider)
	wantBackupError(t, "restore cancel of id A1", cancelRestoreRaw(t, s, "A1", ""), unprocessable, invalidIDMessage("A1"))
	wantNoContent(t, "restore cancel of an unknown id", cancelRestoreRaw(t, s, "never-5", ""))

	// ---- restore onto existing classes: 200, then FAILED naming them;
	// the existing data is untouched ----
	newObj := genObjects(153, 1, 16)
	batchImport(t, s, "Article", "", newObj, 1)
	if err := c.Data().Deleter().WithClassName("Article").WithID(artObjs[0].ID).Do(ctx); err != nil {
		t.Fatal(err)
	}
	schemaBefore := schemaJSON(t, s)
	artBefore := snapshotObjects(t, s, "Article", "")
	mtBefore := snapshotObjects(t, s, "MT", "t1")
	d = startRestore(t, s, id, nil)
	if !sameSet(d.Classes, []string{"Article", "MT"}) {
		t.Errorf("restore response classes %v", d.Classes)
	}
	res := waitRestoreRaw(t, s, id, "")
	wantFinal(t, "restore onto existing classes", res, "FAILED")
	for _, cls := range []string{"Article", "MT"} {
		if !strings.Contains(res.Final.Error, "class name "+cls+" already exists") {
			t.Errorf("restore onto existing classes: error %q does not contain %q", res.Final.Error, "class name "+cls+" already exists")
		}
	}
	if !jsonEqual(t, schemaBefore, schemaJSON(t, s)) {
		t.Errorf("a failed restore changed the schema")
	}
	compareSnapshots(t, "Article after a failed restore", snapshotObjects(t, s, "Article", ""), artBefore)
	compareSnapshots(t, "MT/t1 after a failed restore", snapshotObjects(t, s, "MT", "t1"), mtBefore)
	// The FAILED status is persistent.
	r = restoreStatusRaw(t, s, id, "")
	wantStatus(t, r, http.StatusOK)
	if d := decodeBackupDoc(t, r); d.Status != "FAILED" || d.Error == "" || d.Path != home || d.ID != id || d.Backend != fsBackend {
		t.Errorf("restore status after the failure: %s", r.Body)
	}
	// Only Article included: the error names Article only.
	startRestore(t, s, id, map[string]any{"include": []string{"Article"}})
	res = waitRestoreRaw(t, s, id, "")
	wantFinal(t, "restore of Article onto an existing Article", res, "FAILED")
	if !strings.Contains(res.Final.Error, "class name Article already exists") || strings.Contains(res.Final.Error, "MT") {
		t.Errorf("restore of Article onto an existing Article: error %q", res.Final.Error)
	}
	compareSnapshots(t, "Article after a failed restore", snapshotObjects(t, s, "Article", ""), artBefore)

	// After deleting the class, the same backup restores it as it was.
	deleteClass(t, s, "Article")
	d = startRestore(t, s, id, map[string]any{"include": []string{"Article"}})
	if !sameSet(d.Classes, []string{"Article"}) {
		t.Errorf("restore include [Article]: classes %v", d.Classes)
	}
	wantFinal(t, "restore of Article", waitRestoreRaw(t, s, id, ""), "SUCCESS")
	compareSnapshots(t, "Article restored", snapshotObjects(t, s, "Article", ""), artOriginal)
	compareSnapshots(t, "MT/t1 untouched", snapshotObjects(t, s, "MT", "t1"), mtBefore)
	wantBackupError(t, "restore cancel of a SUCCESS restore", cancelRestoreRaw(t, s, id, ""), unprocessable, `restore "v-1" already succeeded`)
	if err := c.Backup().RestoreCanceler().WithBackend(fsBackend).WithBackupID("never-6").Do(ctx); err != nil {
		t.Errorf("client restore cancel of an unknown id: %v (want 204)", err)
	}
}

// TestBackupPathEscape: override paths outside the backup root (relative
// with .., absolute elsewhere, through a symlink) and ids that are not
// plain names are rejected with 422 on every endpoint; nothing outside the
// root is written or read.
func TestBackupPathEscape(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	objs := genObjects(161, 30, 16)
	batchImport(t, s, "Article", "", objs, 30)
	unprocessable := http.StatusUnprocessableEntity

	// A valid backup, also copied to a place outside the root.
	backupAndWait(t, s, map[string]any{"id": "p-ok"})
	outside := t.TempDir()
	copyDir(t, filepath.Join(s.BackupDir, "p-ok"), filepath.Join(outside, "p-ok"))
	empty := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(s.BackupDir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(empty, filepath.Join(s.BackupDir, "link-empty")); err != nil {
		t.Fatal(err)
	}

	escapes := []string{
		"../outside",
		"..",
		"sub/../../outside",
		"/etc",
		outside,
		empty,
		filepath.Join(s.BackupDir, "..", "escape"),
		s.BackupDir + "/../escape",
		filepath.Join(s.BackupDir, "link"),
		filepath.Join(s.BackupDir, "link-empty"),
		filepath.Join(s.BackupDir, "link-empty", "sub"),
	}
	for _, p := range escapes {
		q := pathQuery(p)
		backupErrorMessage(t, "create with Path "+p,
			createBackupRaw(t, s, map[string]any{"id": "p-1", "config": map[string]any{"Path": p}}), unprocessable)
		backupErrorMessage(t, "status with path "+p, backupStatusRaw(t, s, "p-ok", q), unprocessable)
		backupErrorMessage(t, "cancel with path "+p, cancelBackupRaw(t, s, "p-ok", q), unprocessable)
		backupErrorMessage(t, "restore with Path "+p,
			s.do(t, http.MethodPost, backupsPath(fsBackend)+"/p-ok/restore", map[string]any{"config": map[string]any{"Path": p}}), unprocessable)
		backupErrorMessage(t, "restore status with path "+p, restoreStatusRaw(t, s, "p-ok", q), unprocessable)
		backupErrorMessage(t, "restore cancel with path "+p, cancelRestoreRaw(t, s, "p-ok", q), unprocessable)
	}
	// Nothing was written outside the root.
	if !dirIsEmpty(t, empty) {
		t.Errorf("files were written outside the backup root, in %s", empty)
	}
	if es, _ := os.ReadDir(outside); len(es) != 1 {
		t.Errorf("files were written outside the backup root, in %s: %v", outside, es)
	}
	for _, p := range []string{
		filepath.Join(s.BackupDir, "..", "outside"), filepath.Join(s.BackupDir, "..", "escape"),
		"/etc/p-1", filepath.Join(s.BackupDir, "p-1"),
	} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after rejected requests (stat: %v)", p, err)
		}
	}

	// Nothing outside the root is read: restoring the copy outside (with
	// the class deleted) does not bring the class back.
	deleteClass(t, s, "Article")
	for _, p := range []string{outside, filepath.Join(s.BackupDir, "link")} {
		r := s.do(t, http.MethodPost, backupsPath(fsBackend)+"/p-ok/restore", map[string]any{"config": map[string]any{"Path": p}})
		backupErrorMessage(t, "restore from "+p, r, unprocessable)
	}
	// An id directory that is a symlink to a backup outside the root.
	if err := os.Symlink(filepath.Join(outside, "p-ok"), filepath.Join(s.BackupDir, "p-sym")); err != nil {
		t.Fatal(err)
	}
	r := s.do(t, http.MethodPost, backupsPath(fsBackend)+"/p-sym/restore", map[string]any{})
	if r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusNotFound {
		t.Errorf("restore of a symlinked backup directory pointing outside the root: %s, want 422 (or 404)", r)
		if r.Status == http.StatusOK {
			waitRestoreRaw(t, s, "p-sym", "")
		}
	}
	wantClassAbsent(t, s, "Article", "after restores from outside the root")

	// Ids that are not plain names, on every endpoint that takes one.
	wantBackupError(t, "create with id ../x", createBackupRaw(t, s, map[string]any{"id": "../x"}), unprocessable, invalidIDMessage("../x"))
	for _, id := range []string{"..%2Fx", "..", "..%2F..%2Fetc", "A1", "a.b", "%2Fetc"} {
		p := backupsPath(fsBackend) + "/" + id
		backupErrorMessage(t, "GET status of id "+id, s.do(t, http.MethodGet, p, nil), unprocessable)
		backupErrorMessage(t, "DELETE of id "+id, s.do(t, http.MethodDelete, p, nil), unprocessable)
		backupErrorMessage(t, "POST restore of id "+id, s.do(t, http.MethodPost, p+"/restore", map[string]any{}), unprocessable)
		backupErrorMessage(t, "GET restore status of id "+id, s.do(t, http.MethodGet, p+"/restore", nil), unprocessable)
		backupErrorMessage(t, "DELETE restore of id "+id, s.do(t, http.MethodDelete, p+"/restore", nil), unprocessable)
	}

	// The legitimate backup still restores.
	restoreAndWait(t, s, "p-ok", nil)
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 100), objs)
}

// TestBackupPathOverride: config.Path pointing into a subdirectory of the
// root stores the backup there; status and restore need the same ?path= /
// config.Path; list does not show it.
func TestBackupPathOverride(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	objs := genObjects(171, 200, 16)
	batchImport(t, s, "Article", "", objs, 200)
	before := snapshotObjects(t, s, "Article", "")
	sub := filepath.Join(s.BackupDir, "sub")
	q := pathQuery(sub)
	const id = "o-1"

	d := startBackup(t, s, map[string]any{"id": id, "config": map[string]any{"Path": sub}})
	if d.Path != filepath.Join(sub, id) {
		t.Errorf("create response path %q, want %q", d.Path, filepath.Join(sub, id))
	}
	res := waitBackupRaw(t, s, id, q)
	wantFinal(t, "backup with a path override", res, "SUCCESS")
	if res.Final.Path != filepath.Join(sub, id) {
		t.Errorf("status path %q, want %q", res.Final.Path, filepath.Join(sub, id))
	}
	backupErrorMessage(t, "status without ?path=", backupStatusRaw(t, s, id, ""), http.StatusNotFound)
	checkBackupLayout(t, sub, id, []string{"Article"})
	if _, err := os.Stat(filepath.Join(s.BackupDir, id)); !os.IsNotExist(err) {
		t.Errorf("%s exists: the override must replace the root (stat: %v)", filepath.Join(s.BackupDir, id), err)
	}
	r := s.do(t, http.MethodGet, backupsPath(fsBackend), nil)
	wantStatus(t, r, http.StatusOK)
	var items []backupDoc
	r.JSON(t, &items)
	for _, it := range items {
		if it.ID == id {
			t.Errorf("list shows the backup made under an override path: %s", r.Body)
		}
	}
	wantBackupError(t, "create with an existing id under the same path",
		createBackupRaw(t, s, map[string]any{"id": id, "config": map[string]any{"Path": sub}}),
		http.StatusUnprocessableEntity, `backup "o-1" already exists at "`+filepath.Join(sub, id)+`"`)
	wantBackupError(t, "cancel with ?path= of a SUCCESS backup", cancelBackupRaw(t, s, id, q),
		http.StatusUnprocessableEntity, `backup "o-1" already succeeded`)

	// Restore from the override path.
	deleteClass(t, s, "Article")
	backupErrorMessage(t, "restore without config.Path", s.do(t, http.MethodPost, backupsPath(fsBackend)+"/"+id+"/restore", map[string]any{}), http.StatusNotFound)
	d = startRestore(t, s, id, map[string]any{"config": map[string]any{"Path": sub}})
	if d.Path != filepath.Join(sub, id) {
		t.Errorf("restore response path %q", d.Path)
	}
	rs := waitRestoreRaw(t, s, id, q)
	wantFinal(t, "restore with a path override", rs, "SUCCESS")
	backupErrorMessage(t, "restore status without ?path=", restoreStatusRaw(t, s, id, ""), http.StatusNotFound)
	compareSnapshots(t, "Article restored from the override path", snapshotObjects(t, s, "Article", ""), before)
	wantBackupError(t, "restore cancel with ?path= of a SUCCESS restore", cancelRestoreRaw(t, s, id, q),
		http.StatusUnprocessableEntity, `restore "o-1" already succeeded`)

	// The same id in the default root is a different backup.
	backupAndWait(t, s, map[string]any{"id": id})
	r = s.do(t, http.MethodGet, backupsPath(fsBackend), nil)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"o-1"`) {
		t.Errorf("list does not show the backup in the default root: %s", r.Body)
	}
}
