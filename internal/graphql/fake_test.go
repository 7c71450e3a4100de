package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"

	"strata/internal/filter"
	"strata/internal/schema"
)

// fakeBackend is an in-memory Backend that records what it was asked.
type fakeBackend struct {
	classes    map[string]*schema.Class
	results    map[string][]Result // by class
	counts     map[string]int64    // by class + "/" + tenant
	errs       map[string]error    // Search/Count error by class, or by class + "/" + tenant
	queries    []Query
	countReq   []string         // class/tenant of each Count call
	countWhere []*filter.Clause // where of each Count call
}

func (f *fakeBackend) Class(name string) *schema.Class { return f.classes[name] }

func (f *fakeBackend) Search(_ context.Context, q Query) ([]Result, error) {
	f.queries = append(f.queries, q)
	if err := f.err(q.Class, q.Tenant); err != nil {
		return nil, err
	}
	return f.results[q.Class], nil
}

func (f *fakeBackend) Count(_ context.Context, class, tenant string, where *filter.Clause) (int64, error) {
	f.countReq = append(f.countReq, class+"/"+tenant)
	f.countWhere = append(f.countWhere, where)
	if err := f.err(class, tenant); err != nil {
		return 0, err
	}
	return f.counts[class+"/"+tenant], nil
}

func (f *fakeBackend) err(class, tenant string) error {
	if err := f.errs[class]; err != nil {
		return err
	}
	return f.errs[class+"/"+tenant]
}

var (
	id1 = uuid.MustParse("00000000-0000-0000-0000-000000000001")
	id2 = uuid.MustParse("00000000-0000-0000-0000-000000000002")
)

func f32(v float32) *float32 { return &v }

func prop(name string, dataType ...string) *schema.Property {
	return &schema.Property{Name: name, DataType: dataType}
}

// newFake returns a backend with these classes:
//   - Article: cosine legacy vector; text, int, text[], nested object, geo and a reference.
//   - L2: l2-squared legacy vector.
//   - Named: two named vectors (a: cosine, b: dot).
//   - Single: one named vector "only" (dot).
//   - MT: multi-tenant.
func newFake() *fakeBackend {
	meta := prop("meta", "object")
	meta.NestedProperties = []*schema.Property{
		prop("author", "text"),
		{Name: "stats", DataType: []string{"object[]"}, NestedProperties: []*schema.Property{prop("views", "int")}},
	}
	classes := []*schema.Class{
		{Class: "Article", Properties: []*schema.Property{
			prop("title", "text"), prop("wordCount", "int"), prop("tags", "text[]"), meta,
			prop("location", "geoCoordinates"), prop("cites", "Article"),
		}},
		{Class: "L2", Properties: []*schema.Property{prop("name", "text")},
			VectorIndexConfig: map[string]any{"distance": "l2-squared"}},
		{Class: "Named", Properties: []*schema.Property{prop("name", "text")},
			VectorConfig: map[string]schema.VectorConfig{
				"a": {VectorIndexConfig: map[string]any{"distance": "cosine"}},
				"b": {VectorIndexConfig: map[string]any{"distance": "dot"}},
			}},
		{Class: "Single", Properties: []*schema.Property{prop("name", "text")},
			VectorConfig: map[string]schema.VectorConfig{
				"only": {VectorIndexConfig: map[string]any{"distance": "dot"}},
			}},
		{Class: "MT", Properties: []*schema.Property{prop("name", "text")},
			MultiTenancyConfig: &schema.MultiTenancyConfig{Enabled: true}},
	}
	f := &fakeBackend{classes: map[string]*schema.Class{}, results: map[string][]Result{},
		counts: map[string]int64{}, errs: map[string]error{}}
	for _, c := range classes {
		f.classes[c.Class] = c
	}
	f.results["Article"] = []Result{
		{ID: id1, Properties: json.RawMessage(`{"title":"hello world","wordCount":3,"tags":["a","b"],` +
			`"meta":{"author":"ann","stats":[{"views":7},{"views":8}]},"location":{"latitude":52.5,"longitude":13.4}}`),
			Vector: []float32{0.1, 0.2, 0.3}, CreationTimeUnix: 1795636747134, LastUpdateTimeUnix: 1795636770493},
		{ID: id2, Properties: json.RawMessage(`{"title":"second"}`), CreationTimeUnix: 1, LastUpdateTimeUnix: 2},
	}
	return f
}

var errTenant = errors.New("has multi-tenancy enabled, but request was without tenant")

// exec runs a query with the default limits and returns the response body.
func exec(t *testing.T, f *fakeBackend, req Request) string {
	t.Helper()
	return execLimits(t, f, DefaultLimits(), req)
}

// execLimits runs a query with these limits and returns the response body,
// checked to be valid JSON.
func execLimits(t testing.TB, f *fakeBackend, limits Limits, req Request) string {
	t.Helper()
	var body bytes.Buffer
	if err := NewExecutor(f, limits).Execute(context.Background(), req, &body); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if !json.Valid(body.Bytes()) {
		t.Fatalf("response is not valid JSON: %s", body.String())
	}
	return body.String()
}

// lastQuery returns the only Query the backend received.
func lastQuery(t *testing.T, f *fakeBackend) Query {
	t.Helper()
	if len(f.queries) != 1 {
		t.Fatalf("backend got %d queries, want 1: %+v", len(f.queries), f.queries)
	}
	return f.queries[0]
}
