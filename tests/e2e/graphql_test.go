package e2e

import (
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"
)

// TestGraphQLNearVectorAndAggregate: nearVector through the client's
// GraphQL builder finds the queried object first (distance ~0), orders by
// ascending distance with correct cosine distances; Aggregate meta count is
// exact.
func TestGraphQLNearVectorAndAggregate(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)
	createClass(t, s, articleClass("Article"))
	const n, dim = 300, 32
	objs := genObjects(3, n, dim)
	batchImport(t, s, "Article", "", objs, 100)
	byID := map[string]testObject{}
	for _, o := range objs {
		byID[o.ID] = o
	}

	fields := []graphql.Field{
		{Name: "title"}, {Name: "wordCount"},
		{Name: "_additional", Fields: []graphql.Field{{Name: "id"}, {Name: "distance"}, {Name: "certainty"}}},
	}
	for _, k := range []int{0, 57, 123, n - 1} {
		q := objs[k]
		resp, err := c.GraphQL().Get().WithClassName("Article").WithFields(fields...).
			WithNearVector(c.GraphQL().NearVectorArgBuilder().WithVector(q.Vector)).
			WithLimit(10).Do(ctx)
		if err != nil {
			t.Fatalf("nearVector: %v", err)
		}
		hits := gqlHits(t, resp.Data, resp.Errors != nil, gqlErrors(resp), "Get", "Article")
		if len(hits) != 10 {
			t.Fatalf("nearVector limit 10: %d results", len(hits))
		}
		if hits[0].id != q.ID {
			t.Errorf("nearVector(object %d): first result %s, want the queried object %s", k, hits[0].id, q.ID)
		}
		if math.Abs(hits[0].distance) > 1e-5 {
			t.Errorf("nearVector(object %d): distance to itself %v, want ~0", k, hits[0].distance)
		}
		for i, h := range hits {
			o, ok := byID[h.id]
			if !ok {
				t.Fatalf("unknown id %s in results", h.id)
			}
			if i > 0 && h.distance < hits[i-1].distance {
				t.Errorf("results not in ascending distance: [%d]=%v < [%d]=%v", i, h.distance, i-1, hits[i-1].distance)
			}
			if want := cosineDistance(q.Vector, o.Vector); math.Abs(h.distance-want) > 1e-4 {
				t.Errorf("result %s: distance %v, want %v (cosine)", h.id, h.distance, want)
			}
			if math.Abs(h.certainty-(1-h.distance/2)) > 1e-4 {
				t.Errorf("result %s: certainty %v, want 1-distance/2 = %v", h.id, h.certainty, 1-h.distance/2)
			}
			if h.props["title"] != o.Title || !numberIs(h.props["wordCount"], o.Count) {
				t.Errorf("result %s: properties %v, want title %q wordCount %d", h.id, h.props, o.Title, o.Count)
			}
		}
		// Recall against brute force (HNSW is approximate, but 300 points
		// must be found essentially exactly).
		exact := bruteForce(q.Vector, objs, 10)
		found := 0
		for _, h := range hits {
			if exact[h.id] {
				found++
			}
		}
		if found < 9 {
			t.Errorf("nearVector(object %d): recall %d/10 against brute force", k, found)
		}
	}

	// distance threshold: every result within it, and (up to ties at the
	// boundary) all objects within it returned.
	const maxDist = 0.9
	q := objs[7]
	resp, err := c.GraphQL().Get().WithClassName("Article").WithFields(fields...).
		WithNearVector(c.GraphQL().NearVectorArgBuilder().WithVector(q.Vector).WithDistance(maxDist)).
		WithLimit(n).Do(ctx)
	if err != nil {
		t.Fatalf("nearVector distance: %v", err)
	}
	hits := gqlHits(t, resp.Data, resp.Errors != nil, gqlErrors(resp), "Get", "Article")
	within, margin := 0, 0
	for _, o := range objs {
		d := cosineDistance(q.Vector, o.Vector)
		if d <= maxDist {
			within++
		}
		if math.Abs(d-maxDist) < 1e-4 {
			margin++
		}
	}
	for _, h := range hits {
		if h.distance > maxDist+1e-6 {
			t.Errorf("nearVector distance ≤ %v returned %s at distance %v", maxDist, h.id, h.distance)
		}
	}
	if len(hits) < within-margin-1 || len(hits) > within+margin {
		t.Errorf("nearVector distance ≤ %v: %d results, brute force finds %d", maxDist, len(hits), within)
	}

	// Plain Get: UUID order, distance null.
	resp, err = c.GraphQL().Get().WithClassName("Article").WithFields(fields...).WithLimit(5).Do(ctx)
	if err != nil {
		t.Fatalf("plain Get: %v", err)
	}
	raw, perr := gqlPath(dataMap(resp.Data), "Get", "Article")
	if perr != nil || len(resp.Errors) > 0 {
		t.Fatalf("plain Get: %v %s", perr, gqlErrors(resp))
	}
	list, _ := raw.([]any)
	ids := sortedIDs(objs)
	if len(list) != 5 {
		t.Fatalf("plain Get limit 5: %d results", len(list))
	}
	for i, item := range list {
		id, _ := gqlPath(item, "_additional", "id")
		if id != ids[i] {
			t.Errorf("plain Get [%d]: id %v, want %s (UUID order)", i, id, ids[i])
		}
		if d, _ := gqlPath(item, "_additional", "distance"); d != nil {
			t.Errorf("plain Get [%d]: distance %v, want null without a vector search", i, d)
		}
	}

	// Raw GraphQL: _additional vector is bit-identical, creationTimeUnix is
	// a string of the object's creation time in ms.
	var gq struct {
		Data struct {
			Get struct {
				Article []struct {
					Additional struct {
						ID                 string    `json:"id"`
						Vector             []float32 `json:"vector"`
						CreationTimeUnix   *string   `json:"creationTimeUnix"`
						LastUpdateTimeUnix *string   `json:"lastUpdateTimeUnix"`
					} `json:"_additional"`
				} `json:"Article"`
			} `json:"Get"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	r := s.do(t, http.MethodPost, "/v1/graphql", map[string]any{
		"query": "{ Get { Article(limit: 3) { _additional { id vector creationTimeUnix lastUpdateTimeUnix } } } }",
	})
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &gq)
	if len(gq.Errors) > 0 || len(gq.Data.Get.Article) != 3 {
		t.Fatalf("raw GraphQL Get: %s", r)
	}
	for i, a := range gq.Data.Get.Article {
		if a.Additional.ID != ids[i] {
			t.Errorf("raw GraphQL [%d]: id %s, want %s", i, a.Additional.ID, ids[i])
		}
		wantVector(t, "GraphQL _additional.vector of "+a.Additional.ID, a.Additional.Vector, byID[a.Additional.ID].Vector)
		o := getObject(t, s, "Article", a.Additional.ID, "", false)
		if a.Additional.CreationTimeUnix == nil || *a.Additional.CreationTimeUnix != strconv.FormatInt(o.CreationTimeUnix, 10) {
			t.Errorf("GraphQL _additional.creationTimeUnix %v, want the string %q", a.Additional.CreationTimeUnix, strconv.FormatInt(o.CreationTimeUnix, 10))
		}
		if a.Additional.LastUpdateTimeUnix == nil || *a.Additional.LastUpdateTimeUnix != strconv.FormatInt(o.LastUpdateTimeUnix, 10) {
			t.Errorf("GraphQL _additional.lastUpdateTimeUnix %v, want the string %q", a.Additional.LastUpdateTimeUnix, strconv.FormatInt(o.LastUpdateTimeUnix, 10))
		}
	}

	// Aggregate.
	if cnt := aggregateCount(t, s, "Article", ""); cnt != n {
		t.Errorf("Aggregate meta count %d, want %d", cnt, n)
	}

	// Unknown class: a GraphQL validation error, HTTP 200.
	rawResp, err := c.GraphQL().Raw().WithQuery("{ Get { Nope { title } } }").Do(ctx)
	if err != nil {
		t.Fatalf("raw query: %v", err)
	}
	if msg := gqlErrors(rawResp); !strings.Contains(msg, `Cannot query field "Nope"`) {
		t.Errorf("unknown class: errors %q, want one containing %q", msg, `Cannot query field "Nope"`)
	}
	// Empty query: 422.
	r = s.do(t, http.MethodPost, "/v1/graphql", map[string]any{"query": ""})
	wantErrorMessage(t, r, http.StatusUnprocessableEntity, "query cannot be empty")
}

type gqlHit struct {
	id        string
	distance  float64
	certainty float64
	props     map[string]any
}

// gqlHits extracts data.<op>.<class> as hits.
func gqlHits(t testing.TB, data map[string]models.JSONObject, hasErrors bool, errs string, op, class string) []gqlHit {
	t.Helper()
	if hasErrors {
		t.Fatalf("GraphQL errors: %s", errs)
	}
	v, err := gqlPath(dataMap(data), op, class)
	if err != nil {
		t.Fatalf("GraphQL data: %v (data %v)", err, data)
	}
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("GraphQL data.%s.%s is %T, want a list", op, class, v)
	}
	hits := make([]gqlHit, 0, len(list))
	for _, item := range list {
		m, _ := item.(map[string]any)
		var h gqlHit
		h.props = m
		if id, err := gqlPath(item, "_additional", "id"); err == nil {
			h.id, _ = id.(string)
		}
		if d, err := gqlPath(item, "_additional", "distance"); err == nil {
			h.distance, _ = d.(float64)
		}
		if c, err := gqlPath(item, "_additional", "certainty"); err == nil {
			h.certainty, _ = c.(float64)
		}
		hits = append(hits, h)
	}
	return hits
}

// dataMap turns the client's map[string]models.JSONObject into a plain map.
func dataMap(d map[string]models.JSONObject) map[string]any {
	out := make(map[string]any, len(d))
	for k, v := range d {
		out[k] = v
	}
	return out
}

func cosineDistance(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return 1 - dot/(math.Sqrt(na)*math.Sqrt(nb))
}

// bruteForce returns the ids of the k nearest objects by cosine distance.
func bruteForce(q []float32, objs []testObject, k int) map[string]bool {
	type cand struct {
		id string
		d  float64
	}
	cs := make([]cand, len(objs))
	for i, o := range objs {
		cs[i] = cand{o.ID, cosineDistance(q, o.Vector)}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	out := map[string]bool{}
	for _, c := range cs[:k] {
		out[c.id] = true
	}
	return out
}

// aggregateCount runs { Aggregate { <class>(tenant) { meta { count } } } }
// through the client.
func aggregateCount(t testing.TB, s *server, class, tenant string) int {
	t.Helper()
	c := s.client(t)
	b := c.GraphQL().Aggregate().WithClassName(class).
		WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}})
	if tenant != "" {
		b = b.WithTenant(tenant)
	}
	resp, err := b.Do(ctxT(t))
	if err != nil {
		t.Fatalf("aggregate %s: %v", class, err)
	}
	if len(resp.Errors) > 0 {
		t.Fatalf("aggregate %s: %s", class, gqlErrors(resp))
	}
	v, err := gqlPath(dataMap(resp.Data), "Aggregate", class, 0, "meta", "count")
	if err != nil {
		t.Fatalf("aggregate %s: %v (data %v)", class, err, resp.Data)
	}
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) {
		t.Fatalf("aggregate %s: count %v (%T) is not an integer", class, v, v)
	}
	return int(f)
}
