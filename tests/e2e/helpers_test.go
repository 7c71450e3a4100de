package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/auth"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate/entities/models"
)

func TestMain(m *testing.M) {
	// Build the server once, up front, so a build failure is reported once
	// and clearly instead of by every test.
	if _, err := serverBinary(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: cannot build the server: %v\n", err)
		cleanupBinary()
		os.Exit(1)
	}
	code := m.Run()
	cleanupBinary()
	os.Exit(code)
}

// client returns an official Go client for the server, authenticated with
// the server's API key when it has one.
func (s *server) client(t testing.TB) *weaviate.Client {
	t.Helper()
	return s.clientWithKey(t, s.opts.APIKey)
}

// clientWithKey returns a client using the given API key ("" = anonymous).
func (s *server) clientWithKey(t testing.TB, key string) *weaviate.Client {
	t.Helper()
	cfg := weaviate.Config{Host: s.Host, Scheme: "http", Timeout: 2 * time.Minute}
	if key != "" {
		cfg.AuthConfig = auth.ApiKey{Value: key}
	}
	c, err := weaviate.NewClient(cfg)
	if err != nil {
		t.Fatalf("weaviate.NewClient: %v", err)
	}
	return c
}

// ctxT returns a context bounded by the test and a generous timeout.
func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// clientErr unwraps a client error into the innermost WeaviateClientError
// that carries an HTTP status code.
func clientErr(err error) *fault.WeaviateClientError {
	var last *fault.WeaviateClientError
	for err != nil {
		var w *fault.WeaviateClientError
		if !errors.As(err, &w) {
			break
		}
		last = w
		if w.IsUnexpectedStatusCode {
			return w
		}
		err = w.DerivedFromError
	}
	return last
}

// wantClientStatus asserts err is a client error for the given HTTP status
// whose body contains every one of substrs.
func wantClientStatus(t testing.TB, err error, status int, substrs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error with HTTP status %d, got success", status)
	}
	w := clientErr(err)
	if w == nil || !w.IsUnexpectedStatusCode {
		t.Fatalf("expected HTTP status %d, got a non-HTTP error: %v", status, err)
	}
	if w.StatusCode != status {
		t.Fatalf("expected HTTP status %d, got %d: %s", status, w.StatusCode, w.Msg)
	}
	for _, s := range substrs {
		if !strings.Contains(w.Msg, s) {
			t.Fatalf("HTTP %d body %q does not contain %q", status, w.Msg, s)
		}
	}
}

// errorMessages extracts the messages of a {"error":[{"message":…}]} body.
func errorMessages(t testing.TB, r httpResponse) []string {
	t.Helper()
	var body struct {
		Error []struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("%s: body is not an {\"error\":[…]} object: %v", r, err)
	}
	if len(body.Error) == 0 {
		t.Fatalf("%s: no error messages in body", r)
	}
	msgs := make([]string, len(body.Error))
	for i, e := range body.Error {
		msgs[i] = e.Message
	}
	return msgs
}

// wantStatus asserts a raw response's status code.
func wantStatus(t testing.TB, r httpResponse, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("want HTTP %d, got %s", status, r)
	}
}

// wantErrorMessage asserts status and that one of the {"error":[…]}
// messages contains substr.
func wantErrorMessage(t testing.TB, r httpResponse, status int, substr string) {
	t.Helper()
	wantStatus(t, r, status)
	msgs := errorMessages(t, r)
	for _, m := range msgs {
		if strings.Contains(m, substr) {
			return
		}
	}
	t.Fatalf("HTTP %d: no error message contains %q; messages: %q", status, substr, msgs)
}

// codeMessage is the go-openapi binding error shape {"code":N,"message":…}.
type codeMessage struct {
	Code    *int   `json:"code"`
	Message string `json:"message"`
}

// wantCodeMessage asserts a {"code":code,"message":…} body with the given
// HTTP status.
func wantCodeMessage(t testing.TB, r httpResponse, status, code int) codeMessage {
	t.Helper()
	wantStatus(t, r, status)
	var cm codeMessage
	if err := json.Unmarshal(r.Body, &cm); err != nil {
		t.Fatalf("%s: body is not {\"code\":…,\"message\":…}: %v", r, err)
	}
	if cm.Code == nil || *cm.Code != code {
		t.Fatalf("%s: want body code %d", r, code)
	}
	if cm.Message == "" {
		t.Fatalf("%s: empty message", r)
	}
	return cm
}

// ---- data generation ----------------------------------------------------

// testObject is one object of the generated data set.
type testObject struct {
	ID     string
	Title  string
	Count  int64
	Vector []float32
}

// genObjects generates n objects with deterministic random UUIDs and
// dim-dimensional random float32 vectors (values in [-1,1), including
// values that need all 24 mantissa bits).
func genObjects(seed uint64, n, dim int) []testObject {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	objs := make([]testObject, n)
	seen := make(map[string]bool, n)
	for i := range objs {
		var id uuid.UUID
		for {
			for j := range id {
				id[j] = byte(rng.Uint32())
			}
			id[6] = (id[6] & 0x0f) | 0x40 // version 4
			id[8] = (id[8] & 0x3f) | 0x80 // RFC 4122 variant
			if !seen[id.String()] {
				break
			}
		}
		seen[id.String()] = true
		v := make([]float32, dim)
		for j := range v {
			v[j] = rng.Float32()*2 - 1
		}
		objs[i] = testObject{
			ID:     id.String(),
			Title:  fmt.Sprintf("article %d about %x", i, rng.Uint32()),
			Count:  int64(i),
			Vector: v,
		}
	}
	return objs
}

// model converts a test object into a client object of class.
func (o testObject) model(class string) *models.Object {
	return &models.Object{
		Class: class,
		ID:    strfmt.UUID(o.ID),
		Properties: map[string]any{
			"title":     o.Title,
			"wordCount": o.Count,
		},
		Vector: models.C11yVector(slices.Clone(o.Vector)),
	}
}

// restJSON is the REST body of the object (for raw requests).
func (o testObject) restJSON(class string) map[string]any {
	return map[string]any{
		"class":      class,
		"id":         o.ID,
		"properties": map[string]any{"title": o.Title, "wordCount": o.Count},
		"vector":     o.Vector,
	}
}

// articleClass is the class of the backup journey: vectorizer none, a text
// and an int property.
func articleClass(name string) *models.Class {
	return &models.Class{
		Class:       name,
		Description: "A news article",
		Vectorizer:  "none",
		Properties: []*models.Property{
			{Name: "title", DataType: []string{"text"}},
			{Name: "wordCount", DataType: []string{"int"}},
		},
	}
}

// createClass creates a class with the client, failing the test on error.
func createClass(t testing.TB, s *server, class *models.Class) {
	t.Helper()
	if err := s.client(t).Schema().ClassCreator().WithClass(class).Do(ctxT(t)); err != nil {
		t.Fatalf("create class %s: %v", class.Class, err)
	}
}

// batchImport imports objs in batches of batchSize with the client's REST
// batcher and asserts every result is SUCCESS, in input order.
func batchImport(t testing.TB, s *server, class, tenant string, objs []testObject, batchSize int) {
	t.Helper()
	c := s.client(t)
	for start := 0; start < len(objs); start += batchSize {
		end := min(start+batchSize, len(objs))
		batch := make([]*models.Object, 0, end-start)
		for _, o := range objs[start:end] {
			m := o.model(class)
			m.Tenant = tenant
			batch = append(batch, m)
		}
		resp, err := c.Batch().ObjectsBatcher().WithObjects(batch...).Do(ctxT(t))
		if err != nil {
			t.Fatalf("batch %d..%d: %v", start, end, err)
		}
		checkBatchResults(t, resp, objs[start:end])
	}
}

// checkBatchResults asserts one SUCCESS result per object, in order.
func checkBatchResults(t testing.TB, resp []models.ObjectsGetResponse, objs []testObject) {
	t.Helper()
	if len(resp) != len(objs) {
		t.Fatalf("batch: %d results for %d objects", len(resp), len(objs))
	}
	for i, r := range resp {
		if r.Result == nil || r.Result.Status == nil || *r.Result.Status != "SUCCESS" {
			var msg string
			if r.Result != nil && r.Result.Errors != nil {
				b, _ := json.Marshal(r.Result.Errors)
				msg = string(b)
			}
			st := "<missing>"
			if r.Result != nil && r.Result.Status != nil {
				st = *r.Result.Status
			}
			t.Fatalf("batch result %d (id %s): status %s, errors %s", i, objs[i].ID, st, msg)
		}
		if string(r.ID) != objs[i].ID {
			t.Fatalf("batch result %d: id %s, want %s (results must keep input order)", i, r.ID, objs[i].ID)
		}
	}
}

// listAll pages through a class with the cursor API (after + limit,
// include=vector) using the client, and asserts strictly ascending ids.
func listAll(t testing.TB, s *server, class, tenant string, pageSize int) []*models.Object {
	t.Helper()
	c := s.client(t)
	var all []*models.Object
	after := ""
	for page := 0; ; page++ {
		g := c.Data().ObjectsGetter().WithClassName(class).WithLimit(pageSize).WithVector()
		if after != "" {
			g = g.WithAfter(after)
		}
		if tenant != "" {
			g = g.WithTenant(tenant)
		}
		objs, err := g.Do(ctxT(t))
		if err != nil {
			t.Fatalf("list %s page %d (after %q): %v", class, page, after, err)
		}
		if len(objs) > pageSize {
			t.Fatalf("list %s page %d: %d objects for limit %d", class, page, len(objs), pageSize)
		}
		if len(objs) == 0 {
			return all
		}
		for _, o := range objs {
			id := string(o.ID)
			if after != "" && !(uuidLess(after, id)) {
				t.Fatalf("list %s page %d: id %s does not follow %s (want ascending UUID order)", class, page, id, after)
			}
			after = id
			all = append(all, o)
		}
		if page > 1_000_000 {
			t.Fatal("cursor does not terminate")
		}
	}
}

// uuidLess compares two UUIDs by their 16 bytes.
func uuidLess(a, b string) bool {
	ua, ea := uuid.Parse(a)
	ub, eb := uuid.Parse(b)
	if ea != nil || eb != nil {
		return a < b
	}
	return string(ua[:]) < string(ub[:])
}

// sortedIDs returns the ids of objs in ascending UUID order.
func sortedIDs(objs []testObject) []string {
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
	}
	sort.Slice(ids, func(i, j int) bool { return uuidLess(ids[i], ids[j]) })
	return ids
}

// vectorsIdentical reports whether a and b are bit-identical; if not it
// returns the first differing index (or -1 for a length mismatch).
func vectorsIdentical(a, b []float32) (bool, int) {
	if len(a) != len(b) {
		return false, -1
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false, i
		}
	}
	return true, 0
}

// wantVector asserts got is bit-identical to want.
func wantVector(t testing.TB, what string, got, want []float32) {
	t.Helper()
	if ok, i := vectorsIdentical(got, want); !ok {
		if i < 0 {
			t.Fatalf("%s: vector length %d, want %d", what, len(got), len(want))
		}
		t.Fatalf("%s: vector[%d] = %v (bits %08x), want %v (bits %08x)", what, i,
			got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
	}
}

// checkObjectsMatch asserts that got (e.g. from listAll) holds exactly the
// objects want (any order in want), each exactly once, with bit-identical
// vectors and equal properties.
func checkObjectsMatch(t testing.TB, class string, got []*models.Object, want []testObject) {
	t.Helper()
	byID := make(map[string]testObject, len(want))
	for _, o := range want {
		byID[o.ID] = o
	}
	seen := make(map[string]bool, len(got))
	for _, g := range got {
		id := string(g.ID)
		if seen[id] {
			t.Fatalf("object %s returned more than once", id)
		}
		seen[id] = true
		w, ok := byID[id]
		if !ok {
			t.Fatalf("unexpected object %s", id)
		}
		checkObject(t, class, g, w)
	}
	if len(seen) != len(want) {
		missing := 0
		example := ""
		for id := range byID {
			if !seen[id] {
				missing++
				example = id
			}
		}
		t.Fatalf("got %d objects, want %d (%d missing, e.g. %s)", len(seen), len(want), missing, example)
	}
}

// checkObject asserts one returned object equals the test object.
func checkObject(t testing.TB, class string, g *models.Object, w testObject) {
	t.Helper()
	if g.Class != class {
		t.Fatalf("object %s: class %q, want %q", w.ID, g.Class, class)
	}
	wantVector(t, "object "+w.ID, g.Vector, w.Vector)
	props, ok := g.Properties.(map[string]any)
	if !ok {
		t.Fatalf("object %s: properties %T %v, want an object", w.ID, g.Properties, g.Properties)
	}
	if props["title"] != w.Title {
		t.Fatalf("object %s: title %#v, want %q", w.ID, props["title"], w.Title)
	}
	if !numberIs(props["wordCount"], w.Count) {
		t.Fatalf("object %s: wordCount %#v, want %d", w.ID, props["wordCount"], w.Count)
	}
	if g.CreationTimeUnix <= 0 || g.LastUpdateTimeUnix <= 0 {
		t.Fatalf("object %s: creationTimeUnix %d lastUpdateTimeUnix %d, want > 0", w.ID, g.CreationTimeUnix, g.LastUpdateTimeUnix)
	}
}

// numberIs reports whether a decoded JSON number equals n.
func numberIs(v any, n int64) bool {
	switch x := v.(type) {
	case float64:
		return x == float64(n)
	case json.Number:
		i, err := x.Int64()
		return err == nil && i == n
	case int64:
		return x == n
	case int:
		return int64(x) == n
	}
	return false
}

// gqlPath walks a decoded GraphQL/JSON value by keys and indexes.
func gqlPath(v any, path ...any) (any, error) {
	cur := v
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("at %q: %T is not an object", k, cur)
			}
			cur, ok = m[k]
			if !ok {
				return nil, fmt.Errorf("key %q missing", k)
			}
		case int:
			a, ok := cur.([]any)
			if !ok {
				return nil, fmt.Errorf("at [%d]: %T is not an array", k, cur)
			}
			if k >= len(a) {
				return nil, fmt.Errorf("index %d out of range (len %d)", k, len(a))
			}
			cur = a[k]
		}
	}
	return cur, nil
}

// gqlErrors formats GraphQL errors for failure messages.
func gqlErrors(resp *models.GraphQLResponse) string {
	if resp == nil || len(resp.Errors) == 0 {
		return ""
	}
	var msgs []string
	for _, e := range resp.Errors {
		msgs = append(msgs, e.Message)
	}
	return strings.Join(msgs, "; ")
}

// jsonEqual compares two JSON documents semantically.
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("invalid JSON %q: %v", truncate(a, 300), err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("invalid JSON %q: %v", truncate(b, 300), err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}
