package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"strata/internal/backup"
	"strata/internal/config"
	"strata/internal/db"
)

// call sends a request to srv and returns the status and body.
func call(t *testing.T, base, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func mustCall(t *testing.T, base, method, path, body string, want int) string {
	t.Helper()
	status, out := call(t, base, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, out, want)
	}
	return out
}

const nilID = "00000000-0000-0000-0000-000000000000"

func TestNilUUIDIsAnID(t *testing.T) {
	srv := newTestServer(t)
	out := mustCall(t, srv.URL, "POST", "/v1/objects", `{"class":"A","id":"`+nilID+`","properties":{"n":1}}`, 200)
	if !strings.Contains(out, `"id":"`+nilID+`"`) {
		t.Fatalf("create answered %s, want the nil id", out)
	}
	mustCall(t, srv.URL, "GET", "/v1/objects/A/"+nilID, "", 200)
	mustCall(t, srv.URL, "POST", "/v1/objects", `{"class":"A","id":"`+nilID+`"}`, 422) // it exists

	out = mustCall(t, srv.URL, "POST", "/v1/batch/objects", `{"objects":[{"class":"B","id":"`+nilID+`"},{"class":"B"}]}`, 200)
	var items []struct {
		ID     string                  `json:"id"`
		Result struct{ Status string } `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != 2 {
		t.Fatalf("batch answered %s (%v)", out, err)
	}
	if items[0].ID != nilID || items[1].ID == nilID || items[1].ID == "" {
		t.Fatalf("batch ids %q, %q: want the nil id as given and a generated one", items[0].ID, items[1].ID)
	}
	list := mustCall(t, srv.URL, "GET", "/v1/objects?class=B&after="+nilID, "", 200)
	if !strings.Contains(list, items[1].ID) || strings.Contains(list, `"id":"`+nilID+`"`) {
		t.Fatalf("cursor after the nil id: %s", list)
	}
	mustCall(t, srv.URL, "DELETE", "/v1/objects/B/"+nilID, "", 204)
	mustCall(t, srv.URL, "GET", "/v1/objects/B/"+nilID, "", 404)
	mustCall(t, srv.URL, "GET", "/v1/objects/B/"+items[1].ID, "", 200)
}

func TestPatchLegacyVectorOnSingleNamedVector(t *testing.T) {
	srv := newTestServer(t)
	mustCall(t, srv.URL, "POST", "/v1/schema", `{"class":"NV","vectorConfig":{"default":{"vectorizer":{"none":{}},"vectorIndexType":"flat"}}}`, 200)
	id := "00000000-0000-0000-0000-0000000000a1"
	mustCall(t, srv.URL, "POST", "/v1/objects", `{"class":"NV","id":"`+id+`","vector":[1,2,3],"properties":{"t":"a"}}`, 200)
	mustCall(t, srv.URL, "PATCH", "/v1/objects/NV/"+id, `{"class":"NV","vector":[4,5,6]}`, 204)
	out := mustCall(t, srv.URL, "GET", "/v1/objects/NV/"+id+"?include=vector", "", 200)
	if !strings.Contains(out, `"vectors":{"default":[4,5,6]}`) || !strings.Contains(out, `"t":"a"`) {
		t.Fatalf("after PATCH: %s", out)
	}
	mustCall(t, srv.URL, "PUT", "/v1/objects/NV/"+id, `{"class":"NV","id":"`+id+`","vector":[7,8,9]}`, 200)
	out = mustCall(t, srv.URL, "GET", "/v1/objects/NV/"+id+"?include=vector", "", 200)
	if !strings.Contains(out, `"vectors":{"default":[7,8,9]}`) {
		t.Fatalf("after PUT: %s", out)
	}
}

func TestBatchAutoTenantClassWithoutTenantFailsPerObject(t *testing.T) {
	srv := newTestServer(t)
	mustCall(t, srv.URL, "POST", "/v1/schema", `{"class":"AT","multiTenancyConfig":{"enabled":true,"autoTenantCreation":true}}`, 200)
	out := mustCall(t, srv.URL, "POST", "/v1/batch/objects", `{"objects":[{"class":"AT","properties":{"a":"x"}},{"class":"AT","tenant":"t1","properties":{"a":"y"}}]}`, 200)
	var items []struct {
		Result struct {
			Status string
			Errors *errorBody
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != 2 {
		t.Fatalf("batch answered %s (%v)", out, err)
	}
	if items[0].Result.Status != "FAILED" || items[0].Result.Errors == nil ||
		items[0].Result.Errors.Error[0].Message != "class AT has multi-tenancy enabled, but request was without tenant" {
		t.Fatalf("object without tenant: %s", out)
	}
	if items[1].Result.Status != "SUCCESS" {
		t.Fatalf("object with tenant: %s", out)
	}
	mustCall(t, srv.URL, "GET", "/v1/schema/AT/tenants/t1", "", 200)
}

func TestNodesCarryGitHash(t *testing.T) {
	srv := newTestServer(t)
	for _, output := range []string{"minimal", "verbose"} {
		var res struct {
			Nodes []map[string]any `json:"nodes"`
		}
		if err := json.Unmarshal([]byte(mustCall(t, srv.URL, "GET", "/v1/nodes?output="+output, "", 200)), &res); err != nil {
			t.Fatal(err)
		}
		if h, _ := res.Nodes[0]["gitHash"].(string); h == "" {
			t.Fatalf("%s: node without gitHash: %v", output, res.Nodes[0])
		}
	}
}

func TestEmptyPropertiesAreEchoed(t *testing.T) {
	srv := newTestServer(t)
	id := "00000000-0000-0000-0000-0000000000b1"
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/v1/objects", `{"class":"E","id":"` + id + `","properties":{}}`},
		{"GET", "/v1/objects/E/" + id, ""},
		{"PUT", "/v1/objects/E/" + id, `{"class":"E","id":"` + id + `","properties":{}}`},
		{"POST", "/v1/batch/objects", `{"objects":[{"class":"E","properties":{}}]}`},
		{"GET", "/v1/objects?class=E", ""},
	} {
		out := mustCall(t, srv.URL, tc.method, tc.path, tc.body, 200)
		if !strings.Contains(out, `"properties":{}`) {
			t.Fatalf("%s %s answered %s, want \"properties\":{}", tc.method, tc.path, out)
		}
	}
}

func TestPercentEncodedPathSegments(t *testing.T) {
	srv := newTestServer(t)
	mustCall(t, srv.URL, "POST", "/v1/schema", `{"class":"MyClass","multiTenancyConfig":{"enabled":true}}`, 200)
	mustCall(t, srv.URL, "POST", "/v1/schema/My%43lass/tenants", `[{"name":"t1"}]`, 200)
	id := "00000000-0000-0000-0000-0000000000c1"
	mustCall(t, srv.URL, "POST", "/v1/objects", `{"class":"MyClass","id":"`+id+`","tenant":"t1"}`, 200)

	if out := mustCall(t, srv.URL, "GET", "/v1/schema/%4DyClass", "", 200); !strings.Contains(out, `"class":"MyClass"`) {
		t.Fatalf("GET schema: %s", out)
	}
	mustCall(t, srv.URL, "GET", "/v1/schema/My%43lass/tenants/t%31", "", 200)
	mustCall(t, srv.URL, "GET", "/v1/objects/My%43lass/"+id+"?tenant=t1", "", 200)
	mustCall(t, srv.URL, "GET", "/v1/objects/MyClass/%30"+id[1:]+"?tenant=t1", "", 200)
	// %25 decodes once, to a '%': not a valid name, so the class is not found.
	mustCall(t, srv.URL, "GET", "/v1/schema/My%2543lass", "", 404)
	// A segment decoding to '/' names nothing.
	mustCall(t, srv.URL, "GET", "/v1/schema/My%2FClass", "", 404)
	mustCall(t, srv.URL, "DELETE", "/v1/schema/My%43lass", "", 200)
	mustCall(t, srv.URL, "GET", "/v1/schema/MyClass", "", 404)
}

func TestBatchBindingErrorsStoreNothing(t *testing.T) {
	srv := newTestServer(t)
	mustCall(t, srv.URL, "POST", "/v1/schema", `{"class":"BE","vectorizer":"none"}`, 200)
	for _, tc := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{"objects":[{"class":"BE"},{"class":"BE","id":"nope"}]}`, 422, `body.objects.1.id in body must be of type uuid: \"nope\"`},
		{`{"objects":[{"class":"BE"},{"class":"BE","vector":"x"}]}`, 422, `body.objects.vector in body must be of type []float32: string`},
		{`{"objects":[{"class":"BE"}]} x`, 400, `invalid character after top-level value`},
		{`{"objects":[{"class":"BE"},`, 400, `unexpected EOF`},
		{`{"objects":[{"class":"BE"}],"fields":3}`, 422, `body.fields in body must be of type []string: number`},
		{`{"objects":[{"class":"BE"},{"class":"BE","properties":"x"}]}`, 422, `body.objects.properties in body must be of type map[string]interface {}: string`},
		{`[]`, 422, `body in body must be of type object: array`},
		{``, 422, `body in body is required`},
		{`{"objects":[]}`, 422, `cannot be empty`},
	} {
		status, out := call(t, srv.URL, "POST", "/v1/batch/objects", tc.body)
		if status != tc.status || !strings.Contains(out, tc.msg) {
			t.Fatalf("%s: %d %s, want %d with %q", tc.body, status, out, tc.status, tc.msg)
		}
	}
	if out := mustCall(t, srv.URL, "GET", "/v1/objects?class=BE", "", 200); !strings.Contains(out, `"totalResults":0`) {
		t.Fatalf("rejected batches stored objects: %s", out)
	}
}

// TestBatchResponseShape checks the streamed response against the shape
// of Weaviate's: the objects as stored, in input order, with results.
func TestBatchResponseShape(t *testing.T) {
	srv := newTestServer(t)
	mustCall(t, srv.URL, "POST", "/v1/schema", `{"class":"BR","vectorizer":"none","properties":[{"name":"n","dataType":["int"]}]}`, 200)
	out := mustCall(t, srv.URL, "POST", "/v1/batch/objects", `{"fields":["ALL"],"objects":[
		{"class":"BR","id":"00000000-0000-0000-0000-000000000001","properties":{"n":1},"vector":[1,0]},
		{"class":"BR","id":"00000000-0000-0000-0000-000000000002","properties":{"n":"bad"},"vector":[0,1]}]}`, 200)
	var items []map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	if err := dec.Decode(&items); err != nil || len(items) != 2 {
		t.Fatalf("batch answered %s (%v)", out, err)
	}
	ok, bad := items[0], items[1]
	if ok["id"] != "00000000-0000-0000-0000-000000000001" || ok["result"].(map[string]any)["status"] != "SUCCESS" ||
		ok["creationTimeUnix"] == nil || ok["deprecations"] != nil || len(ok["vector"].([]any)) != 2 {
		t.Fatalf("stored object: %v", ok)
	}
	res := bad["result"].(map[string]any)
	if bad["id"] != "00000000-0000-0000-0000-000000000002" || res["status"] != "FAILED" ||
		bad["creationTimeUnix"] != ok["creationTimeUnix"] || bad["lastUpdateTimeUnix"] != ok["lastUpdateTimeUnix"] ||
		!strings.Contains(out, "invalid integer property 'n' on class 'BR'") {
		t.Fatalf("failed object: %v", bad)
	}
}

// TestLargeBodiesShareABudget: a large request waits while the budget of
// large bodies is taken, and is served once it is free.
func TestLargeBodiesShareABudget(t *testing.T) {
	cfg := config.Default()
	cfg.DataPath = t.TempDir()
	cfg.MaxBodyBytes = 2 << 20
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(db.Options{DataPath: cfg.DataPath, AutoSchema: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	mgr, err := backup.New(context.Background(), backup.Options{DB: d, DataPath: cfg.DataPath, Node: "node1", ServerVersion: APIVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	s := New(cfg, d, mgr, nil, quiet, "test")
	srv := httptest.NewServer(s)
	defer srv.Close()

	if !s.bodies.TryAcquire(1 << 20) { // half the budget taken
		t.Fatal("budget not free at start")
	}
	big := `{"class":"Big","id":"` + nilID + `","properties":{"pad":"` + strings.Repeat("x", 3<<19) + `"}}`
	done := make(chan string, 1)
	go func() {
		status, out := call(t, srv.URL, "POST", "/v1/objects", big)
		done <- fmt.Sprintf("%d %.100s", status, out)
	}()
	// Wait until the request queues for its 1.5 MiB: a one-byte TryAcquire
	// fails only when someone waits.
	for s.bodies.TryAcquire(1) {
		s.bodies.Release(1)
		select {
		case got := <-done:
			t.Fatalf("a large request was served while the budget was taken: %s", got)
		default:
			runtime.Gosched()
		}
	}
	s.bodies.Release(1 << 20)
	if got := <-done; !strings.HasPrefix(got, "200 ") {
		t.Fatalf("after the budget was freed: %s", got)
	}
	if !s.bodies.TryAcquire(cfg.MaxBodyBytes) {
		t.Fatal("the request did not give its share back")
	}
}

// TestBatchOfManyChunks: a batch stored in several chunks answers every
// object, in input order, and stores them all.
func TestBatchOfManyChunks(t *testing.T) {
	srv := newTestServer(t)
	mustCall(t, srv.URL, "POST", "/v1/schema", `{"class":"Many","vectorizer":"none","vectorIndexType":"flat"}`, 200)
	const n = 20000 // about 1.1 KB each by the chunk estimate: several chunks
	var body strings.Builder
	body.WriteString(`{"objects":[`)
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"class":"Many","id":"00000000-0000-0000-0000-%012d","vector":[%d,1,0,0],"properties":{"i":%d}}`, i, i, i)
	}
	body.WriteString(`]}`)
	out := mustCall(t, srv.URL, "POST", "/v1/batch/objects", body.String(), 200)
	var items []struct {
		ID         string
		Properties struct{ I int }
		Result     struct{ Status string }
	}
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != n {
		t.Fatalf("%d items (%v)", len(items), err)
	}
	for i, it := range items {
		if it.ID != fmt.Sprintf("00000000-0000-0000-0000-%012d", i) || it.Properties.I != i || it.Result.Status != "SUCCESS" {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
	count := mustCall(t, srv.URL, "POST", "/v1/graphql", `{"query":"{Aggregate{Many{meta{count}}}}"}`, 200)
	if !strings.Contains(count, fmt.Sprintf(`"count":%d`, n)) {
		t.Fatalf("stored: %s", count)
	}
}

// TestDefaultNamedVectorIsTheLegacyVector: on a class without named
// vectors, a vector named "default" is the legacy vector (create, PUT and
// PATCH), as in Weaviate.
func TestDefaultNamedVectorIsTheLegacyVector(t *testing.T) {
	srv := newTestServer(t)
	mustCall(t, srv.URL, "POST", "/v1/schema", `{"class":"LV","vectorizer":"none","vectorIndexType":"flat"}`, 200)
	id := "00000000-0000-0000-0000-0000000000e1"
	mustCall(t, srv.URL, "POST", "/v1/objects", `{"class":"LV","id":"`+id+`","vectors":{"default":[1,2,3]}}`, 200)
	for _, step := range []struct{ method, body, want string }{
		{"", "", `"vector":[1,2,3]`},
		{"PATCH", `{"class":"LV","vectors":{"default":[4,5,6]}}`, `"vector":[4,5,6]`},
		{"PUT", `{"class":"LV","id":"` + id + `","vectors":{"default":[7,8,9]}}`, `"vector":[7,8,9]`},
	} {
		if step.method != "" {
			if status, out := call(t, srv.URL, step.method, "/v1/objects/LV/"+id, step.body); status >= 300 {
				t.Fatalf("%s: %d %s", step.method, status, out)
			}
		}
		if out := mustCall(t, srv.URL, "GET", "/v1/objects/LV/"+id+"?include=vector", "", 200); !strings.Contains(out, step.want) || strings.Contains(out, `"vectors"`) {
			t.Fatalf("after %q: %s, want %s", step.method, out, step.want)
		}
	}
}
