package graphql

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestGetRendering(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{{
		name:  "properties and _additional without search",
		query: `{ Get { Article { title wordCount _additional { id distance certainty vector creationTimeUnix lastUpdateTimeUnix } } } }`,
		want: `{"data":{"Get":{"Article":[` +
			`{"_additional":{"certainty":null,"creationTimeUnix":"1795636747134","distance":null,"id":"00000000-0000-0000-0000-000000000001","lastUpdateTimeUnix":"1795636770493","vector":[0.1,0.2,0.3]},"title":"hello world","wordCount":3},` +
			`{"_additional":{"certainty":null,"creationTimeUnix":"1","distance":null,"id":"00000000-0000-0000-0000-000000000002","lastUpdateTimeUnix":"2","vector":null},"title":"second","wordCount":null}]}}}`,
	}, {
		name:  "arrays, nested objects, geo, aliases and __typename",
		query: `{ Get { __typename Article { t: title tags meta { author stats { views __typename } } location { latitude } __typename } } }`,
		want: `{"data":{"Get":{"Article":[` +
			`{"__typename":"Article","location":{"latitude":52.5},"meta":{"author":"ann","stats":[{"__typename":"Article_meta_stats_object","views":7},{"__typename":"Article_meta_stats_object","views":8}]},"t":"hello world","tags":["a","b"]},` +
			`{"__typename":"Article","location":null,"meta":null,"t":"second","tags":null}],"__typename":"GetObjectsObj"}}}`,
	}, {
		name:  "fragments, inline fragments and directives",
		query: `query { Get { Article { ...F ... on Article { wordCount } tags @skip(if: true) _additional @include(if: false) { id } } } } fragment F on Article { title }`,
		want:  `{"data":{"Get":{"Article":[{"title":"hello world","wordCount":3},{"title":"second","wordCount":null}]}}}`,
	}, {
		name:  "same class twice under aliases, merged selections",
		query: `{ Get { a: Article(limit: 1) { title } a: Article(limit: 1) { wordCount } b: Article { _additional { id } } } }`,
		want: `{"data":{"Get":{"a":[{"title":"hello world","wordCount":3}],` +
			`"b":[{"_additional":{"id":"00000000-0000-0000-0000-000000000001"}},{"_additional":{"id":"00000000-0000-0000-0000-000000000002"}}]}}}`,
	}, {
		name:  "root __typename",
		query: `{ __typename }`,
		want:  `{"data":{"__typename":"WeaviateObj"}}`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exec(t, newFake(), Request{Query: tc.query}); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// The example response of spec §7.1.
func TestGetNearVectorResponse(t *testing.T) {
	f := newFake()
	f.results["Article"] = []Result{{ID: id1, Properties: json.RawMessage(`{"title":"overwrite via batch"}`),
		Vector: []float32{0, 0, 1}, CreationTimeUnix: 1795636770493, Distance: f32(0.19821626)}}
	got := exec(t, f, Request{Query: `{ Get { Article(nearVector: {vector: [0.1, 0.2, 0.3], certainty: 0.7}, limit: 2, offset: 0, tenant: "t1")
		{ title wordCount _additional { id distance certainty vector creationTimeUnix } } } }`})
	want := `{"data":{"Get":{"Article":[{"_additional":{"certainty":0.9008918702602386,"creationTimeUnix":"1795636770493","distance":0.19821626,` +
		`"id":"00000000-0000-0000-0000-000000000001","vector":[0,0,1]},"title":"overwrite via batch","wordCount":null}]}}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	wantQ := Query{Class: "Article", Tenant: "t1", Vector: []float32{0.1, 0.2, 0.3}, MaxDistance: f32(2 * (1 - 0.7)),
		Limit: 2, WithVector: true}
	if q := lastQuery(t, f); !reflect.DeepEqual(q, wantQ) {
		t.Errorf("query %+v\nwant  %+v", q, wantQ)
	}
}

func TestGetNamedVectors(t *testing.T) {
	f := newFake()
	f.results["Named"] = []Result{{ID: id1, Vectors: map[string][]float32{"a": {1, 2}, "b": {3}}}}
	got := exec(t, f, Request{Query: `{ Get { Named { _additional { vectors { a b __typename } } } } }`})
	want := `{"data":{"Get":{"Named":[{"_additional":{"vectors":{"__typename":"NamedAdditionalVectors","a":[1,2],"b":[3]}}}]}}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if q := lastQuery(t, f); !q.WithVector {
		t.Errorf("WithVector not set: %+v", q)
	}
}

func TestGetQueryPassThrough(t *testing.T) {
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  Query
	}{
		{"defaults", `{ Get { Article { title } } }`, nil,
			Query{Class: "Article", Limit: 100}},
		{"limit and offset", `{ Get { Article(limit: 5, offset: 10) { title } } }`, nil,
			Query{Class: "Article", Limit: 5, Offset: 10}},
		{"negative limit means default", `{ Get { Article(limit: -1) { title } } }`, nil,
			Query{Class: "Article", Limit: 100}},
		{"after", `{ Get { Article(limit: 2, after: "00000000-0000-0000-0000-000000000001") { title } } }`, nil,
			Query{Class: "Article", Limit: 2, After: &id1}},
		{"empty after starts at the beginning", `{ Get { Article(after: "") { title } } }`, nil,
			Query{Class: "Article", Limit: 100}},
		{"tenant", `{ Get { MT(tenant: "t1", consistencyLevel: ONE) { name } } }`, nil,
			Query{Class: "MT", Tenant: "t1", Limit: 100}},
		{"nearVector with distance", `{ Get { Article(nearVector: {vector: [0.1, 0.2, 0.3], distance: 0.5}, limit: 3) { title } } }`, nil,
			Query{Class: "Article", Vector: []float32{0.1, 0.2, 0.3}, MaxDistance: f32(0.5), Limit: 3}},
		{"nearVector without distance uses the default limit", `{ Get { Article(nearVector: {vector: [1, 2]}) { title } } }`, nil,
			Query{Class: "Article", Vector: []float32{1, 2}, Limit: 100}},
		{"certainty without limit searches by distance", `{ Get { Article(nearVector: {vector: [1], certainty: 0.7}, offset: 4) { title } } }`, nil,
			Query{Class: "Article", Vector: []float32{1}, MaxDistance: f32(2 * (1 - 0.7)), Limit: 10000 - 4, Offset: 4}},
		{"named target vector", `{ Get { Named(nearVector: {vector: [1], targetVectors: ["b"]}) { name } } }`, nil,
			Query{Class: "Named", Vector: []float32{1}, VectorName: "b", Limit: 100}},
		{"only named vector is the default", `{ Get { Single(nearVector: {vector: [1], distance: 2}) { name } } }`, nil,
			Query{Class: "Single", Vector: []float32{1}, VectorName: "only", MaxDistance: f32(2), Limit: 10000}},
		{"_additional vector", `{ Get { Article { _additional { vector } } } }`, nil,
			Query{Class: "Article", Limit: 100, WithVector: true}},
		{"variables",
			`query Q($v: [Float]!, $l: Int, $t: String, $d: Float) { Get { MT(nearVector: {vector: $v, distance: $d}, limit: $l, tenant: $t) { name } } }`,
			map[string]any{"v": []any{0.5, json.Number("1e-1"), 2}, "l": float64(3), "t": "t1", "d": float32(0.25)},
			Query{Class: "MT", Tenant: "t1", Vector: []float32{0.5, 0.1, 2}, MaxDistance: f32(0.25), Limit: 3}},
		{"typed Go slice as variable", `query($v: [Float]!) { Get { Article(nearVector: {vector: $v}) { title } } }`,
			map[string]any{"v": []float32{0.1, 0.2}},
			Query{Class: "Article", Vector: []float32{0.1, 0.2}, Limit: 100}},
		{"variable default", `query($l: Int = 7) { Get { Article(limit: $l) { title } } }`, nil,
			Query{Class: "Article", Limit: 7}},
		{"unset variable leaves the argument out", `query($l: Int, $d: Float) { Get { Article(limit: $l, nearVector: {vector: [1], distance: $d}) { title } } }`, nil,
			Query{Class: "Article", Vector: []float32{1}, Limit: 100}},
		{"null variable leaves the argument out", `query($l: Int) { Get { Article(limit: $l) { title } } }`, map[string]any{"l": nil},
			Query{Class: "Article", Limit: 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			got := exec(t, f, Request{Query: tc.query, Variables: tc.vars})
			if len(f.queries) != 1 {
				t.Fatalf("no query reached the backend; response %s", got)
			}
			if q := f.queries[0]; !reflect.DeepEqual(q, tc.want) {
				t.Errorf("query %+v\nwant  %+v", q, tc.want)
			}
		})
	}
}

func TestGetLimitZeroSkipsTheBackend(t *testing.T) {
	f := newFake()
	got := exec(t, f, Request{Query: `{ Get { Article(limit: 0) { title } } }`})
	if want := `{"data":{"Get":{"Article":[]}}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if len(f.queries) != 0 {
		t.Errorf("backend was queried: %+v", f.queries)
	}
}

// execError is the body of a Get whose only class failed at execution.
func execError(class string, column int, msg string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as the executor writes
	enc.Encode(map[string]any{
		"data":   map[string]any{"Get": map[string]any{class: nil}},
		"errors": []*Error{{Locations: []Location{{Column: column, Line: 1}}, Message: msg, Path: []any{"Get", class}}},
	})
	return strings.TrimSuffix(b.String(), "\n")
}

func TestGetExecutionErrors(t *testing.T) {
	const cursor = "cursor api: invalid 'after' parameter: "
	tests := []struct {
		name, query, want string
	}{
		{"certainty argument on l2-squared", `{ Get { L2(nearVector: {vector: [1], certainty: 0.7}) { name } } }`,
			execError("L2", 9, "can't compute and return certainty when vector index is configured with l2-squared distance")},
		{"_additional certainty on l2-squared", `{ Get { L2 { _additional { certainty } } } }`,
			execError("L2", 9, "can't compute and return certainty when vector index is configured with l2-squared distance")},
		{"certainty on the default named vector (dot)", `{ Get { Single(nearVector: {vector: [1]}) { _additional { certainty } } } }`,
			execError("Single", 9, "can't compute and return certainty when vector index is configured with dot distance")},
		{"after with nearVector", `{ Get { Article(after: "00000000-0000-0000-0000-000000000001", nearVector: {vector: [1]}) { title } } }`,
			execError("Article", 9, cursor+"other params cannot be set with after and limit parameters")},
		{"after with offset", `{ Get { Article(after: "00000000-0000-0000-0000-000000000001", offset: 1) { title } } }`,
			execError("Article", 9, cursor+"offset cannot be set with after and limit parameters")},
		{"after with where and offset", `{ Get { Article(after: "", offset: 2, where: {path: ["x"], operator: Equal, valueInt: 1}) { title } } }`,
			execError("Article", 9, cursor+"offset,where cannot be set with after and limit parameters")},
		{"after with where", `{ Get { Article(after: "", where: {path: ["x"], operator: Equal, valueInt: 1}) { title } } }`,
			execError("Article", 9, cursor+"where cannot be set with after and limit parameters")},
		{"after not a uuid", `{ Get { Article(after: "abc") { title } } }`,
			execError("Article", 9, cursor+"after parameter 'abc' is not a valid uuid: invalid UUID length: 3")},
		{"bm25", `{ Get { Article(bm25: {query: "x"}) { title } } }`,
			execError("Article", 9, "the bm25 argument is not supported yet")},
		{"distance and certainty", `{ Get { Article(nearVector: {vector: [1], distance: 1, certainty: 0.5}) { title } } }`,
			execError("Article", 9, "cannot provide distance and certainty")},
		{"nearVector without vector", `{ Get { Article(nearVector: {distance: 1}) { title } } }`,
			execError("Article", 9, `nearVector: field "vector" is required`)},
		{"nearVector unknown field", `{ Get { Article(nearVector: {vector: [1], nope: 1}) { title } } }`,
			execError("Article", 9, `unknown field "nope" in argument "nearVector"`)},
		{"vector of strings", `{ Get { Article(nearVector: {vector: ["a"]}) { title } } }`,
			execError("Article", 9, `invalid value for argument "nearVector.vector": expected [Float], found ["a"]`)},
		{"several named vectors, no target", `{ Get { Named(nearVector: {vector: [1]}) { name } } }`,
			execError("Named", 9, "class Named has multiple vectors, but no target vectors were provided")},
		{"unknown target vector", `{ Get { Named(nearVector: {vector: [1], targetVectors: ["c"]}) { name } } }`,
			execError("Named", 9, "class Named does not have named vector c configured. Available named vectors [a b]")},
		{"two target vectors", `{ Get { Named(nearVector: {vector: [1], targetVectors: ["a", "b"]}) { name } } }`,
			execError("Named", 9, "multiple target vectors are not supported yet")},
		{"offset+limit over the maximum", `{ Get { Article(limit: 9000, offset: 1001) { title } } }`,
			execError("Article", 9, "query maximum results exceeded")},
		{"limit of the wrong type", `{ Get { Article(limit: "ten") { title } } }`,
			execError("Article", 9, `invalid value for argument "limit": expected Int, found "ten"`)},
		{"negative offset", `{ Get { Article(offset: -1) { title } } }`,
			execError("Article", 9, `invalid value for argument "offset": must not be negative, found -1`)},
		{"cross-reference property", `{ Get { Article { cites { ... on Article { title } } } } }`,
			execError("Article", 9, "cross-reference properties are not supported yet")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if got := exec(t, f, Request{Query: tc.query}); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if len(f.queries) != 0 {
				t.Errorf("backend was queried: %+v", f.queries)
			}
		})
	}
}

func TestGetBackendError(t *testing.T) {
	f := newFake()
	f.errs["MT"] = errTenant
	got := exec(t, f, Request{Query: `{ Get { Article(limit: 1) { title } MT { name } } }`})
	want := `{"data":{"Get":{"Article":[{"title":"hello world"}],"MT":null}},` +
		`"errors":[{"locations":[{"column":37,"line":1}],"message":"has multi-tenancy enabled, but request was without tenant","path":["Get","MT"]}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// An object that cannot be rendered is null in its list, with its index in
// the error's path; the objects around it are still returned.
func TestGetCorruptProperties(t *testing.T) {
	f := newFake()
	f.results["Article"] = []Result{{ID: id1, Properties: json.RawMessage(`{"title":`)}, {ID: id2, Properties: json.RawMessage(`{"title":"ok"}`)}}
	got := exec(t, f, Request{Query: `{ Get { Article { title } } }`})
	want := `{"data":{"Get":{"Article":[null,{"title":"ok"}]}},"errors":[{"locations":[{"column":9,"line":1}],` +
		`"message":"object 00000000-0000-0000-0000-000000000001: decode properties: unexpected EOF","path":["Get","Article",0]}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// No properties selected: nothing to decode, no error.
	got = exec(t, f, Request{Query: `{ Get { Article { _additional { id } } } }`})
	if want := `{"data":{"Get":{"Article":[{"_additional":{"id":"00000000-0000-0000-0000-000000000001"}},{"_additional":{"id":"00000000-0000-0000-0000-000000000002"}}]}}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestGetContextErrorIsReported(t *testing.T) {
	f := newFake()
	f.errs["Article"] = errors.New("context canceled")
	got := exec(t, f, Request{Query: `{ Get { Article { title } } }`})
	if want := execError("Article", 9, "context canceled"); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
