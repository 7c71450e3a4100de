package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// gqlBody is a GraphQL response body as sent.
type gqlBody struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// postGraphQL sends a query and decodes the 200 response, failing on
// anything else (an empty or invalid body included).
func postGraphQL(t *testing.T, s *server, query string) gqlBody {
	t.Helper()
	r := s.do(t, http.MethodPost, "/v1/graphql", map[string]any{"query": query})
	wantStatus(t, r, http.StatusOK)
	var body gqlBody
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("GraphQL response is not JSON (%v): %q", err, r.Body)
	}
	return body
}

// wantGraphQLError asserts a response with no data and one error containing substr.
func wantGraphQLError(t *testing.T, body gqlBody, substr string) {
	t.Helper()
	if body.Data != nil || len(body.Errors) != 1 || !strings.Contains(body.Errors[0].Message, substr) {
		t.Fatalf("got data %s errors %+v; want only an error containing %q", body.Data, body.Errors, substr)
	}
}

// TestGraphQLLimits: requests beyond the GraphQL cost limits are refused
// with an error naming the limit's variable, and run no search.
func TestGraphQLLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{Env: map[string]string{"STRATA_GRAPHQL_MAX_BODY_BYTES": "8192", "STRATA_GRAPHQL_MAX_DEPTH": "4"}})
	createClass(t, s, articleClass("Article"))
	r := s.do(t, http.MethodPost, "/v1/schema", map[string]any{"class": "Nested", "vectorizer": "none",
		"properties": []map[string]any{{"name": "a", "dataType": []string{"object"}, "nestedProperties": []map[string]any{
			{"name": "b", "dataType": []string{"object"}, "nestedProperties": []map[string]any{{"name": "c", "dataType": []string{"text"}}}}}}}})
	wantStatus(t, r, http.StatusOK)
	batchImport(t, s, "Article", "", genObjects(41, 20, 4), 20)

	// A 1 KB query of fragments that each spread the previous one twice.
	var q strings.Builder
	q.WriteString("{ Get { Article { ...F30 } } } fragment F0 on Article { title }")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&q, " fragment F%d on Article { ...F%d ...F%d }", i, i-1, i-1)
	}
	wantGraphQLError(t, postGraphQL(t, s, q.String()), "STRATA_GRAPHQL_MAX_SELECTIONS")

	var aliases strings.Builder
	aliases.WriteString("{ Get {")
	for i := range 101 {
		fmt.Fprintf(&aliases, " a%d: Article(limit: 1) { title }", i)
	}
	aliases.WriteString(" } }")
	wantGraphQLError(t, postGraphQL(t, s, aliases.String()), "STRATA_GRAPHQL_MAX_QUERIES")

	wantGraphQLError(t, postGraphQL(t, s, `{ Get { a: Article(limit: 10000) { title } b: Article(limit: 1) { title } } }`),
		"the Get fields ask for 10001 objects (offset+limit summed), the limit is 10000 (STRATA_GRAPHQL_MAX_RESULTS_PER_REQUEST)")
	wantGraphQLError(t, postGraphQL(t, s, `{ Get { Nested { a { b { c } } } } }`),
		"query too deep: fields nested more than 4 levels (STRATA_GRAPHQL_MAX_DEPTH)")
	if body := postGraphQL(t, s, `{ Get { Nested { a { __typename } } } }`); len(body.Errors) != 0 {
		t.Errorf("4 levels: %+v", body.Errors)
	}

	r = s.do(t, http.MethodPost, "/v1/graphql", map[string]any{"query": "{ Get { Article { title } } } #" + strings.Repeat("x", 9000)})
	var cm codeMessage
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	r.JSON(t, &cm)
	if !strings.Contains(cm.Message, "8192 bytes (STRATA_GRAPHQL_MAX_BODY_BYTES)") {
		t.Errorf("413 message %q does not name the limit", cm.Message)
	}

	// Within the limits, the same request shapes answer.
	body := postGraphQL(t, s, `{ Get { a: Article(limit: 9999) { title } b: Article(limit: 1) { title } } }`)
	var get map[string][]json.RawMessage
	if err := json.Unmarshal(body.Data["Get"], &get); err != nil || len(body.Errors) != 0 {
		t.Fatalf("within limits: %s %+v", body.Data, body.Errors)
	}
	if len(get["a"]) != 20 || len(get["b"]) != 1 {
		t.Errorf("within limits: %d and %d results, want 20 and 1", len(get["a"]), len(get["b"]))
	}
}

// TestGraphQLNonFinite: a distance that overflows float32 is answered with
// valid JSON (the largest float32), and query vectors beyond the float32
// range are refused.
func TestGraphQLNonFinite(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	r := s.do(t, http.MethodPost, "/v1/schema", map[string]any{"class": "Far", "vectorizer": "none",
		"vectorIndexConfig": map[string]any{"distance": "l2-squared"},
		"properties":        []map[string]any{{"name": "name", "dataType": []string{"text"}}}})
	wantStatus(t, r, http.StatusOK)
	r = s.do(t, http.MethodPost, "/v1/objects", map[string]any{"class": "Far", "properties": map[string]any{"name": "far"},
		"vector": []float32{1e30, 1e30}})
	wantStatus(t, r, http.StatusOK)

	body := postGraphQL(t, s, `{ Get { Far(nearVector: {vector: [0, 0]}) { name _additional { distance } } } }`)
	if len(body.Errors) != 0 {
		t.Fatalf("errors: %+v", body.Errors)
	}
	if got, want := string(body.Data["Get"]), `{"Far":[{"_additional":{"distance":3.4028235e+38},"name":"far"}]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}

	body = postGraphQL(t, s, `{ Get { Far(nearVector: {vector: [0, 1e39]}) { name } } }`)
	if len(body.Errors) != 1 || !strings.Contains(body.Errors[0].Message, "1e39 at position 1 is not a finite 32-bit float") {
		t.Errorf("vector 1e39: errors %+v", body.Errors)
	}
}
