package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// FuzzExecute runs arbitrary queries and variables with small limits: the
// executor must not panic, must answer valid JSON, and the backend work and
// the results returned must stay within the limits.
func FuzzExecute(f *testing.F) {
	for _, seed := range []string{
		`{ Get { Article { title wordCount tags meta { author stats { views } } location { latitude } _additional { id distance certainty vector creationTimeUnix } } } }`,
		`{ Get { a: Article(limit: 5) { title } b: Article(offset: 3, limit: 4) { title } c: L2(nearVector: {vector: [1, 2], distance: 0.5}) { name } } }`,
		`query($v: [Float], $l: Int) { Get { Article(nearVector: {vector: $v, certainty: 0.7}, limit: $l) { title } } }`,
		`{ Get { Article(where: {operator: Or, operands: [{path: ["title"], operator: Equal, valueText: "x"}, {path: ["wordCount"], operator: GreaterThan, valueInt: 2}]}) { title } } }`,
		`{ Get { Article(after: "00000000-0000-0000-0000-000000000001", limit: 3) { title } MT(tenant: "t1") { name } } }`,
		`{ Aggregate { Article { meta { count } } MT(tenant: "t1") { meta { count } } } __typename }`,
		`{ Get { Named(nearVector: {vector: [1, 0], targetVectors: ["a"]}) { _additional { vectors { a b } } } } }`,
		`{ Get { Article { ...F ... on Article { wordCount @skip(if: true) } } } } fragment F on Article { title ...G } fragment G on Article { tags }`,
		doublingFragments(12),
		`{ Get { Article(nearObject: {id: "00000000-0000-0000-0000-000000000001", distance: 1}) { title } } }`,
	} {
		f.Add(seed, `{"v": [0.5, 1e39], "l": 3}`)
	}
	limits := Limits{DefaultLimit: 4, MaxResults: 8, MaxResultsPerRequest: 12, MaxQueries: 4,
		MaxSelections: 300, MaxDepth: 6, MaxTokens: 400}
	f.Fuzz(func(t *testing.T, query, variables string) {
		fake := newFake()
		for _, class := range []string{"Article", "L2", "Named", "Single", "MT"} {
			fake.results[class] = manyResults(20)
		}
		req := Request{Query: query}
		if json.Unmarshal([]byte(variables), &req.Variables) != nil {
			req.Variables = nil
		}
		var body bytes.Buffer
		if err := NewExecutor(fake, limits).Execute(context.Background(), req, &body); err != nil {
			t.Fatalf("Execute: %v", err)
		}
		var resp struct {
			Data map[string]json.RawMessage
		}
		if err := json.Unmarshal(body.Bytes(), &resp); err != nil {
			t.Fatalf("invalid JSON response %q: %v", body.String(), err)
		}
		if n := len(fake.queries) + len(fake.countReq); n > limits.MaxQueries {
			t.Fatalf("%d backend calls, limit %d", n, limits.MaxQueries)
		}
		total := 0
		for _, q := range fake.queries {
			if q.Limit <= 0 || q.Offset < 0 || q.Offset+q.Limit > limits.MaxResults {
				t.Fatalf("query offset %d limit %d, maximum %d", q.Offset, q.Limit, limits.MaxResults)
			}
			total += q.Offset + q.Limit
		}
		if total > limits.MaxResultsPerRequest {
			t.Fatalf("queries ask for %d results, limit %d", total, limits.MaxResultsPerRequest)
		}
		if n := countResults(t, resp.Data["Get"]); n > limits.MaxResultsPerRequest {
			t.Fatalf("%d results returned, limit %d", n, limits.MaxResultsPerRequest)
		}
	})
}

// manyResults returns n objects with every kind of value set.
func manyResults(n int) []Result {
	out := make([]Result, n)
	for i := range out {
		d := float32(i) / 10
		out[i] = Result{ID: uuid.UUID{15: byte(i + 1)}, Distance: &d, Vector: []float32{float32(i), 1},
			Vectors:    map[string][]float32{"a": {1, 0}, "b": {0, 1}},
			Properties: json.RawMessage(fmt.Sprintf(`{"title":"t%d","wordCount":%d,"tags":["a"],"meta":{"author":"x","stats":[{"views":1}]},"name":"n"}`, i, i))}
	}
	return out
}

// countResults counts the objects in the lists under data.Get.
func countResults(t *testing.T, get json.RawMessage) int {
	if len(get) == 0 || string(get) == "null" {
		return 0
	}
	var classes map[string]json.RawMessage
	if err := json.Unmarshal(get, &classes); err != nil {
		t.Fatalf("data.Get is not an object: %s", get)
	}
	n := 0
	for key, v := range classes {
		if strings.HasPrefix(string(v), "[") {
			var list []json.RawMessage
			if err := json.Unmarshal(v, &list); err != nil {
				t.Fatalf("data.Get.%s: %v", key, err)
			}
			n += len(list)
		}
	}
	return n
}
