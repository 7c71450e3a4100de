package e2e

// Helpers of the backup/restore end-to-end tests (spec:
// /work/shared/spec/backup-api.md). Everything here talks to the server
// through the official Go client or raw HTTP and inspects the backup
// directory on disk.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/weaviate/weaviate/entities/models"
)

const (
	fsBackend = "filesystem"
	// nodeName is the node name the harness gives every server
	// (CLUSTER_HOSTNAME).
	nodeName = "node1"
	// backupWaitTimeout bounds every wait for a backup/restore to finish.
	backupWaitTimeout = 3 * time.Minute
	// pollInterval is how often the raw pollers ask for a status.
	pollInterval = 20 * time.Millisecond
)

// apiTimestamp is the API's timestamp format: RFC 3339, 3 fractional
// digits, UTC, Z suffix (spec §1).
var apiTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

const zeroAPITime = "0001-01-01T00:00:00.000Z"

// validStatuses is the status enum of all backup responses (spec §3.5).
var validStatuses = map[string]int{
	"STARTED":      0,
	"TRANSFERRING": 1,
	"TRANSFERRED":  2,
	"FINALIZING":   3,
	"CANCELLING":   3,
	"SUCCESS":      4,
	"FAILED":       4,
	"CANCELED":     4,
}

func isTerminal(status string) bool {
	return status == "SUCCESS" || status == "FAILED" || status == "CANCELED"
}

// backupDoc is any backup/restore response or status body (the union of
// the fields of spec §3.5).
type backupDoc struct {
	ID          string   `json:"id"`
	Backend     string   `json:"backend"`
	Path        string   `json:"path"`
	Bucket      string   `json:"bucket"`
	Status      string   `json:"status"`
	Error       string   `json:"error"`
	Classes     []string `json:"classes"`
	StartedAt   string   `json:"startedAt"`
	CompletedAt string   `json:"completedAt"`
	Size        float64  `json:"size"`
}

func decodeBackupDoc(t testing.TB, r httpResponse) backupDoc {
	t.Helper()
	var d backupDoc
	r.JSON(t, &d)
	return d
}

// ---- raw endpoints ------------------------------------------------------

func backupsPath(backend string) string { return "/v1/backups/" + backend }

func withQuery(p, query string) string {
	if query == "" {
		return p
	}
	return p + "?" + query
}

// pathQuery is the ?path= query for an override path ("" = none).
func pathQuery(p string) string {
	if p == "" {
		return ""
	}
	return "path=" + url.QueryEscape(p)
}

// createBackupRaw sends POST /v1/backups/filesystem with body.
func createBackupRaw(t testing.TB, s *server, body any) httpResponse {
	t.Helper()
	return createBackupRawOn(t, s, fsBackend, body)
}

// createBackupRawOn sends POST /v1/backups/{backend} with body.
func createBackupRawOn(t testing.TB, s *server, backend string, body any) httpResponse {
	t.Helper()
	return s.do(t, http.MethodPost, backupsPath(backend), body)
}

// configPath returns body.config.Path ("" = none).
func configPath(body map[string]any) string {
	if cfg, ok := body["config"].(map[string]any); ok {
		if p, ok := cfg["Path"].(string); ok {
			return p
		}
	}
	return ""
}

// checkStartedDoc asserts a 200 create/restore response of spec §3.5: id,
// backend, status STARTED and path — <root>/<id> for the filesystem, a
// location ending in /<id> for the cloud backends.
func checkStartedDoc(t testing.TB, s *server, what, backend, id string, body map[string]any, r httpResponse) backupDoc {
	t.Helper()
	d := decodeBackupDoc(t, r)
	var wantPath string
	pathOK := false
	if backend == fsBackend {
		root := s.BackupDir
		if p := configPath(body); p != "" {
			root = p
		}
		wantPath = filepath.Join(root, id)
		pathOK = d.Path == wantPath
	} else {
		wantPath = "…/" + id
		pathOK = strings.HasSuffix(d.Path, "/"+id)
	}
	if d.ID != id || d.Backend != backend || d.Status != "STARTED" || !pathOK {
		t.Fatalf("%s %q: response %s, want id %q backend %q status STARTED path %q",
			what, id, r.Body, id, backend, wantPath)
	}
	return d
}

// startBackup creates a backup (raw) and asserts the 200 response of spec
// §3.5: id, backend, path (= <root>/<id>), status STARTED. It does not wait.
func startBackup(t testing.TB, s *server, body map[string]any) backupDoc {
	t.Helper()
	return startBackupOn(t, s, fsBackend, body)
}

// startBackupOn is startBackup on any backend.
func startBackupOn(t testing.TB, s *server, backend string, body map[string]any) backupDoc {
	t.Helper()
	r := createBackupRawOn(t, s, backend, body)
	if r.Status != http.StatusOK {
		t.Fatalf("create backup on %s %v: %s", backend, body, r)
	}
	id, _ := body["id"].(string)
	d := checkStartedDoc(t, s, "create backup", backend, id, body, r)
	if d.Error != "" {
		t.Errorf("create backup %q: 200 response carries an error: %s", id, r.Body)
	}
	return d
}

// startRestore starts a restore (raw) and asserts the 200 response.
func startRestore(t testing.TB, s *server, id string, body map[string]any) backupDoc {
	t.Helper()
	return startRestoreOn(t, s, fsBackend, id, body)
}

// startRestoreOn is startRestore on any backend.
func startRestoreOn(t testing.TB, s *server, backend, id string, body map[string]any) backupDoc {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	r := s.do(t, http.MethodPost, backupsPath(backend)+"/"+id+"/restore", body)
	if r.Status != http.StatusOK {
		t.Fatalf("restore %q from %s %v: %s", id, backend, body, r)
	}
	return checkStartedDoc(t, s, "restore", backend, id, body, r)
}

// backupStatusRaw is GET /v1/backups/filesystem/{id}[?query].
func backupStatusRaw(t testing.TB, s *server, id, query string) httpResponse {
	t.Helper()
	return backupStatusRawOn(t, s, fsBackend, id, query)
}

// backupStatusRawOn is GET /v1/backups/{backend}/{id}[?query].
func backupStatusRawOn(t testing.TB, s *server, backend, id, query string) httpResponse {
	t.Helper()
	return s.do(t, http.MethodGet, withQuery(backupsPath(backend)+"/"+id, query), nil)
}

// restoreStatusRaw is GET /v1/backups/filesystem/{id}/restore[?query].
func restoreStatusRaw(t testing.TB, s *server, id, query string) httpResponse {
	t.Helper()
	return s.do(t, http.MethodGet, withQuery(backupsPath(fsBackend)+"/"+id+"/restore", query), nil)
}

// cancelBackupRaw is DELETE /v1/backups/filesystem/{id}[?query].
func cancelBackupRaw(t testing.TB, s *server, id, query string) httpResponse {
	t.Helper()
	return cancelBackupRawOn(t, s, fsBackend, id, query)
}

// cancelBackupRawOn is DELETE /v1/backups/{backend}/{id}[?query].
func cancelBackupRawOn(t testing.TB, s *server, backend, id, query string) httpResponse {
	t.Helper()
	return s.do(t, http.MethodDelete, withQuery(backupsPath(backend)+"/"+id, query), nil)
}

// cancelRestoreRaw is DELETE /v1/backups/filesystem/{id}/restore[?query].
func cancelRestoreRaw(t testing.TB, s *server, id, query string) httpResponse {
	t.Helper()
	return s.do(t, http.MethodDelete, withQuery(backupsPath(fsBackend)+"/"+id+"/restore", query), nil)
}

// pollResult is the outcome of waiting for a backup or restore.
type pollResult struct {
	Final backupDoc
	// Seen is the sequence of distinct statuses observed (consecutive
	// duplicates collapsed), ending with the terminal one.
	Seen []string
	// Running holds one status body observed while not terminal (if any).
	Running *backupDoc
}

// waitBackupRaw polls the create status of id until it is terminal.
func waitBackupRaw(t testing.TB, s *server, id, query string) pollResult {
	t.Helper()
	return waitBackupRawOn(t, s, fsBackend, id, query)
}

// waitBackupRawOn is waitBackupRaw on any backend.
func waitBackupRawOn(t testing.TB, s *server, backend, id, query string) pollResult {
	t.Helper()
	return pollStatus(t, s, withQuery(backupsPath(backend)+"/"+id, query), backupWaitTimeout)
}

// waitRestoreRaw polls the restore status of id until it is terminal.
func waitRestoreRaw(t testing.TB, s *server, id, query string) pollResult {
	t.Helper()
	return waitRestoreRawOn(t, s, fsBackend, id, query)
}

// waitRestoreRawOn is waitRestoreRaw on any backend.
func waitRestoreRawOn(t testing.TB, s *server, backend, id, query string) pollResult {
	t.Helper()
	return pollStatus(t, s, withQuery(backupsPath(backend)+"/"+id+"/restore", query), backupWaitTimeout)
}

// pollStatus polls a status endpoint until the status is terminal, asserting
// every answer is 200 with a valid status enum value, and that statuses only
// move forward (STARTED → TRANSFERRING → TRANSFERRED → FINALIZING → terminal).
func pollStatus(t testing.TB, s *server, path string, timeout time.Duration) pollResult {
	t.Helper()
	var res pollResult
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		r := s.do(t, http.MethodGet, path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s while waiting (seen %v): %s", path, res.Seen, r)
		}
		d := decodeBackupDoc(t, r)
		rank, ok := validStatuses[d.Status]
		if !ok {
			t.Fatalf("GET %s: status %q is not in the status enum: %s", path, d.Status, r.Body)
		}
		if d.Status != last {
			if last != "" && rank < validStatuses[last] {
				t.Errorf("GET %s: status went backwards %v → %s", path, res.Seen, d.Status)
			}
			res.Seen = append(res.Seen, d.Status)
			last = d.Status
		}
		if isTerminal(d.Status) {
			res.Final = d
			return res
		}
		if res.Running == nil {
			dd := d
			res.Running = &dd
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: not finished after %s (statuses seen %v, last %s)", path, timeout, res.Seen, r.Body)
		}
		time.Sleep(pollInterval)
	}
}

// wantFinal asserts a finished poll ended with status want.
func wantFinal(t testing.TB, what string, res pollResult, want string) {
	t.Helper()
	if res.Final.Status != want {
		t.Fatalf("%s: final status %s (error %q, statuses seen %v), want %s", what, res.Final.Status, res.Final.Error, res.Seen, want)
	}
}

// backupAndWait creates a backup with raw HTTP and waits for SUCCESS.
func backupAndWait(t testing.TB, s *server, body map[string]any) pollResult {
	t.Helper()
	return backupAndWaitOn(t, s, fsBackend, body)
}

// backupAndWaitOn is backupAndWait on any backend.
func backupAndWaitOn(t testing.TB, s *server, backend string, body map[string]any) pollResult {
	t.Helper()
	d := startBackupOn(t, s, backend, body)
	res := waitBackupRawOn(t, s, backend, d.ID, pathQuery(configPath(body)))
	wantFinal(t, backend+" backup "+d.ID, res, "SUCCESS")
	return res
}

// restoreAndWait restores with raw HTTP and waits for SUCCESS.
func restoreAndWait(t testing.TB, s *server, id string, body map[string]any) pollResult {
	t.Helper()
	return restoreAndWaitOn(t, s, fsBackend, id, body)
}

// restoreAndWaitOn is restoreAndWait on any backend.
func restoreAndWaitOn(t testing.TB, s *server, backend, id string, body map[string]any) pollResult {
	t.Helper()
	startRestoreOn(t, s, backend, id, body)
	res := waitRestoreRawOn(t, s, backend, id, pathQuery(configPath(body)))
	wantFinal(t, backend+" restore "+id, res, "SUCCESS")
	return res
}

// ---- error assertions -----------------------------------------------------

// wantBackupError asserts a handler error ({"error":[{"message":…}]} with
// exactly one item) with the given status and exact message.
func wantBackupError(t testing.TB, what string, r httpResponse, status int, msg string) {
	t.Helper()
	got := backupErrorMessage(t, what, r, status)
	if got != msg {
		t.Errorf("%s: message\n  %q\nwant\n  %q", what, got, msg)
	}
}

// wantBackupErrorContains is wantBackupError with substring matches.
func wantBackupErrorContains(t testing.TB, what string, r httpResponse, status int, substrs ...string) string {
	t.Helper()
	got := backupErrorMessage(t, what, r, status)
	for _, sub := range substrs {
		if !strings.Contains(got, sub) {
			t.Errorf("%s: message %q does not contain %q", what, got, sub)
		}
	}
	return got
}

// backupErrorMessage checks status and the handler-error body shape and
// returns the message ("" after reporting an error).
func backupErrorMessage(t testing.TB, what string, r httpResponse, status int) string {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: want HTTP %d, got %s", what, status, r)
		return ""
	}
	var body struct {
		Error []struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Error) != 1 {
		t.Errorf("%s: body is not {\"error\":[{\"message\":…}]} with exactly one item: %s", what, r)
		return ""
	}
	return body.Error[0].Message
}

// wantBindingError asserts a {"code":…,"message":…} body with the given
// HTTP status, code and exact message.
func wantBindingError(t testing.TB, what string, r httpResponse, status, code int, msg string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: want HTTP %d, got %s", what, status, r)
		return
	}
	var cm codeMessage
	if err := json.Unmarshal(r.Body, &cm); err != nil || cm.Code == nil {
		t.Errorf("%s: body is not {\"code\":…,\"message\":…}: %s", what, r)
		return
	}
	if *cm.Code != code || cm.Message != msg {
		t.Errorf("%s: body %s, want code %d message %q", what, r.Body, code, msg)
	}
}

// wantNoContent asserts 204 with an empty body.
func wantNoContent(t testing.TB, what string, r httpResponse) {
	t.Helper()
	if r.Status != http.StatusNoContent {
		t.Errorf("%s: want HTTP 204, got %s", what, r)
	} else if len(bytes.TrimSpace(r.Body)) != 0 {
		t.Errorf("%s: 204 with a body %q", what, truncate(r.Body, 200))
	}
}

func invalidIDMessage(id string) string {
	return fmt.Sprintf("invalid backup id: '%s' allowed characters are lowercase, 0-9, _, -", id)
}

// ---- data ---------------------------------------------------------------

// fastImport imports objs into class (and tenant) with raw REST batches of
// batchSize, pre-encoded, sent by two concurrent workers; every result must
// be SUCCESS.
func fastImport(t testing.TB, s *server, class, tenant string, objs []testObject, batchSize int) {
	t.Helper()
	type job struct {
		start int
		body  []byte
	}
	jobs := make(chan job, 4)
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				n := min(batchSize, len(objs)-j.start)
				r, err := s.tryDo(ctx, http.MethodPost, "/v1/batch/objects", j.body, nil, false)
				if err == nil && (r.Status != http.StatusOK || !allSuccess(r.Body, n)) {
					err = fmt.Errorf("batch at %d: %s", j.start, truncate(r.Body, 500))
				}
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					cancel()
					return
				}
			}
		}()
	}
	for start := 0; start < len(objs) && ctx.Err() == nil; start += batchSize {
		end := min(start+batchSize, len(objs))
		items := make([]map[string]any, 0, end-start)
		for _, o := range objs[start:end] {
			m := o.restJSON(class)
			if tenant != "" {
				m["tenant"] = tenant
			}
			items = append(items, m)
		}
		b, err := json.Marshal(map[string]any{"objects": items})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case jobs <- job{start: start, body: b}:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatalf("import into %s: %v", class, err)
	default:
	}
}

// classExists reports whether GET /v1/schema/{class} answers 200 (404 =
// absent; anything else fails the test).
func classExists(t testing.TB, s *server, class string) bool {
	t.Helper()
	r := s.do(t, http.MethodGet, "/v1/schema/"+class, nil)
	switch r.Status {
	case http.StatusOK:
		return true
	case http.StatusNotFound:
		return false
	}
	t.Fatalf("GET /v1/schema/%s: %s", class, r)
	return false
}

// wantClassAbsent asserts a class is neither gettable nor in the schema.
func wantClassAbsent(t testing.TB, s *server, class, why string) {
	t.Helper()
	if classExists(t, s, class) {
		t.Errorf("%s: class %s exists, want it absent", why, class)
	}
	r := s.do(t, http.MethodGet, "/v1/schema", nil)
	wantStatus(t, r, http.StatusOK)
	var sch struct {
		Classes []struct {
			Class string `json:"class"`
		} `json:"classes"`
	}
	r.JSON(t, &sch)
	for _, c := range sch.Classes {
		if c.Class == class {
			t.Errorf("%s: class %s is listed in GET /v1/schema", why, class)
		}
	}
}

// deleteClass deletes a class with the client.
func deleteClass(t testing.TB, s *server, class string) {
	t.Helper()
	if err := s.client(t).Schema().ClassDeleter().WithClassName(class).Do(ctxT(t)); err != nil {
		t.Fatalf("delete class %s: %v", class, err)
	}
	if classExists(t, s, class) {
		t.Fatalf("class %s still exists after delete", class)
	}
}

// objSnapshot is the full state of a class (or tenant): id → object with
// vector and timestamps.
type objSnapshot map[string]*models.Object

func snapshotObjects(t testing.TB, s *server, class, tenant string) objSnapshot {
	t.Helper()
	snap := objSnapshot{}
	for _, o := range listAll(t, s, class, tenant, 1000) {
		snap[string(o.ID)] = o
	}
	return snap
}

// compareSnapshots asserts got equals want object by object: same ids,
// bit-identical vectors, equal properties and equal timestamps.
func compareSnapshots(t testing.TB, what string, got, want objSnapshot) {
	t.Helper()
	if len(got) != len(want) {
		missing, extra := 0, 0
		exM, exE := "", ""
		for id := range want {
			if _, ok := got[id]; !ok {
				missing++
				exM = id
			}
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				extra++
				exE = id
			}
		}
		t.Fatalf("%s: %d objects, want %d (%d missing e.g. %s, %d unexpected e.g. %s)", what, len(got), len(want), missing, exM, extra, exE)
	}
	bad := 0
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Fatalf("%s: object %s missing", what, id)
		}
		var problems []string
		if g.Class != w.Class {
			problems = append(problems, fmt.Sprintf("class %q want %q", g.Class, w.Class))
		}
		if ok, i := vectorsIdentical(g.Vector, w.Vector); !ok {
			problems = append(problems, fmt.Sprintf("vector differs at %d", i))
		}
		if !reflect.DeepEqual(g.Properties, w.Properties) {
			problems = append(problems, fmt.Sprintf("properties %v want %v", g.Properties, w.Properties))
		}
		if g.CreationTimeUnix != w.CreationTimeUnix || g.LastUpdateTimeUnix != w.LastUpdateTimeUnix {
			problems = append(problems, fmt.Sprintf("timestamps %d/%d want %d/%d", g.CreationTimeUnix, g.LastUpdateTimeUnix, w.CreationTimeUnix, w.LastUpdateTimeUnix))
		}
		if g.Tenant != w.Tenant {
			problems = append(problems, fmt.Sprintf("tenant %q want %q", g.Tenant, w.Tenant))
		}
		if len(problems) > 0 {
			bad++
			if bad <= 5 {
				t.Errorf("%s: object %s: %s", what, id, strings.Join(problems, "; "))
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d objects differ", what, bad)
	}
}

// schemaJSON returns GET /v1/schema.
func schemaJSON(t testing.TB, s *server) []byte {
	t.Helper()
	r := s.do(t, http.MethodGet, "/v1/schema", nil)
	wantStatus(t, r, http.StatusOK)
	return r.Body
}

// classJSON returns GET /v1/schema/{class}.
func classJSON(t testing.TB, s *server, class string) []byte {
	t.Helper()
	r := s.do(t, http.MethodGet, "/v1/schema/"+class, nil)
	wantStatus(t, r, http.StatusOK)
	return r.Body
}

// nearVectorTop runs a nearVector Get with the client and returns the hits
// (id + distance) in order.
func nearVectorTop(t testing.TB, s *server, class, tenant string, vec []float32, k int) []gqlHit {
	t.Helper()
	c := s.client(t)
	b := c.GraphQL().Get().WithClassName(class).WithFields(gqlIDField()).
		WithNearVector(c.GraphQL().NearVectorArgBuilder().WithVector(vec)).WithLimit(k)
	if tenant != "" {
		b = b.WithTenant(tenant)
	}
	resp, err := b.Do(ctxT(t))
	if err != nil {
		t.Fatalf("nearVector %s: %v", class, err)
	}
	return gqlHits(t, resp.Data, len(resp.Errors) > 0, gqlErrors(resp), "Get", class)
}

// ---- on-disk backup -------------------------------------------------------

// readJSONFile decodes a JSON file into a generic map.
func readJSONFile(t testing.TB, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s is not a JSON object: %v (%s)", path, err, truncate(b, 300))
	}
	return m
}

// chunkFiles lists <root>/<id>/node1/<class>/chunk-* (sorted).
func chunkFiles(t testing.TB, root, id, class string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, id, nodeName, class, "chunk-*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// largestFile returns the biggest of files.
func largestFile(t testing.TB, files []string) string {
	t.Helper()
	best, size := "", int64(-1)
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > size {
			best, size = f, st.Size()
		}
	}
	if best == "" {
		t.Fatal("no files")
	}
	return best
}

// chunkTar returns the (decompressed) beginning of a chunk file according to
// its magic bytes, and the detected encoding: "gzip", "zstd" or "none".
func chunkTar(t testing.TB, path string) (string, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b:
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: gzip header: %v", path, err)
		}
		b, err := io.ReadAll(io.LimitReader(zr, 4096))
		if err != nil {
			t.Fatalf("%s: gunzip: %v", path, err)
		}
		return "gzip", b
	case len(raw) >= 4 && bytes.Equal(raw[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: zstd: %v", path, err)
		}
		defer zr.Close()
		b, err := io.ReadAll(io.LimitReader(zr, 4096))
		if err != nil {
			t.Fatalf("%s: unzstd: %v", path, err)
		}
		return "zstd", b
	default:
		return "none", raw[:min(len(raw), 4096)]
	}
}

// isTar reports whether b starts with a USTAR header ("ustar" at 257).
func isTar(b []byte) bool {
	return len(b) >= 262 && string(b[257:262]) == "ustar"
}

// copyDir copies a directory tree (regular files, directories, symlinks).
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case d.Type().IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			return out.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copy %s → %s: %v", src, dst, err)
	}
}

// dirIsEmpty reports whether dir has no entries.
func dirIsEmpty(t testing.TB, dir string) bool {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(es) == 0
}

// checkAPITimestamp asserts the API timestamp format.
func checkAPITimestamp(t testing.TB, what, ts string) time.Time {
	t.Helper()
	if !apiTimestamp.MatchString(ts) {
		t.Errorf("%s: timestamp %q is not RFC 3339 with 3 fractional digits and Z", what, ts)
		return time.Time{}
	}
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Errorf("%s: %v", what, err)
	}
	return tm
}

// sortedCopy returns a sorted copy of ss.
func sortedCopy(ss []string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	return out
}

// sameSet reports whether a and b hold the same strings (any order).
func sameSet(a, b []string) bool {
	return reflect.DeepEqual(sortedCopy(a), sortedCopy(b))
}
