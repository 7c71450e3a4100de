package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	"github.com/weaviate/weaviate/entities/models"
)

// TestBatchImportAndCursor imports 10,000 objects with 128-dimensional
// vectors through the client's batcher and reads them all back with the
// cursor API: every id exactly once, ascending UUID order, bit-identical
// vectors, equal properties.
func TestBatchImportAndCursor(t *testing.T) {
	t.Parallel()
	n := 10_000
	if testing.Short() {
		n = 2_000
	}
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	objs := genObjects(1, n, 128)

	start := time.Now()
	batchImport(t, s, "Article", "", objs, 500)
	t.Logf("imported %d objects in %s", n, time.Since(start))

	start = time.Now()
	got := listAll(t, s, "Article", "", 1000)
	t.Logf("listed %d objects in %s", len(got), time.Since(start))
	checkObjectsMatch(t, "Article", got, objs)
	ids := sortedIDs(objs)
	for i, o := range got {
		if string(o.ID) != ids[i] {
			t.Fatalf("cursor position %d: id %s, want %s", i, o.ID, ids[i])
		}
	}

	// Raw listing: default page (no include → no vectors), offset paging,
	// totalResults = page size, and a cursor past the end.
	var page struct {
		Deprecations []any `json:"deprecations"`
		Objects      []struct {
			ID     string    `json:"id"`
			Class  string    `json:"class"`
			Vector []float32 `json:"vector"`
		} `json:"objects"`
		TotalResults *int `json:"totalResults"`
	}
	r := s.do(t, http.MethodGet, "/v1/objects?class=Article&limit=5", nil)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &page)
	if len(page.Objects) != 5 || page.TotalResults == nil || *page.TotalResults != 5 {
		t.Fatalf("limit=5: %d objects, totalResults %v; want 5 and 5", len(page.Objects), page.TotalResults)
	}
	for i, o := range page.Objects {
		if o.ID != ids[i] {
			t.Errorf("limit=5 [%d]: %s, want %s (ascending UUID order)", i, o.ID, ids[i])
		}
		if len(o.Vector) != 0 {
			t.Errorf("limit=5 [%d]: vector returned without include=vector", i)
		}
	}
	r = s.do(t, http.MethodGet, "/v1/objects?class=Article&offset=10&limit=5&include=vector", nil)
	wantStatus(t, r, http.StatusOK)
	page.Objects = nil
	r.JSON(t, &page)
	if len(page.Objects) != 5 {
		t.Fatalf("offset=10&limit=5: %d objects", len(page.Objects))
	}
	byID := map[string]testObject{}
	for _, o := range objs {
		byID[o.ID] = o
	}
	for i, o := range page.Objects {
		if o.ID != ids[10+i] {
			t.Errorf("offset=10 [%d]: %s, want %s", i, o.ID, ids[10+i])
		}
		wantVector(t, "raw include=vector "+o.ID, o.Vector, byID[o.ID].Vector)
	}
	r = s.do(t, http.MethodGet, "/v1/objects?class=Article&limit=100&after="+ids[len(ids)-1], nil)
	wantStatus(t, r, http.StatusOK)
	page.Objects = nil
	r.JSON(t, &page)
	if len(page.Objects) != 0 {
		t.Errorf("after=<last id>: %d objects, want 0", len(page.Objects))
	}
	r = s.do(t, http.MethodGet, "/v1/objects?class=Article&limit=3&after="+ids[99], nil)
	wantStatus(t, r, http.StatusOK)
	page.Objects = nil
	r.JSON(t, &page)
	if len(page.Objects) != 3 || page.Objects[0].ID != ids[100] || page.Objects[2].ID != ids[102] {
		t.Errorf("after=ids[99]&limit=3: got %+v, want ids[100..102]", page.Objects)
	}

	// Aggregate count is exact.
	if cnt := aggregateCount(t, s, "Article", ""); cnt != n {
		t.Errorf("Aggregate meta count %d, want %d", cnt, n)
	}
}

// TestObjectCRUD covers single-object create, get (with and without
// vector), exists, PUT (replace), PATCH (merge), batch upsert and delete.
func TestObjectCRUD(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)
	createClass(t, s, articleClass("Article"))
	objs := genObjects(2, 4, 16)
	o := objs[0]

	// Create.
	created, err := c.Data().Creator().WithClassName("Article").WithID(o.ID).
		WithProperties(map[string]any{"title": o.Title, "wordCount": o.Count}).
		WithVector(o.Vector).Do(ctx)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	co := created.Object
	if string(co.ID) != o.ID || co.Class != "Article" {
		t.Fatalf("create response id %s class %s, want %s Article", co.ID, co.Class, o.ID)
	}
	wantVector(t, "create response", co.Vector, o.Vector)
	if co.CreationTimeUnix <= 0 || co.LastUpdateTimeUnix != co.CreationTimeUnix {
		t.Errorf("create response: creationTimeUnix %d lastUpdateTimeUnix %d; want equal, > 0", co.CreationTimeUnix, co.LastUpdateTimeUnix)
	}
	if now := time.Now().UnixMilli(); co.CreationTimeUnix < now-600_000 || co.CreationTimeUnix > now+600_000 {
		t.Errorf("creationTimeUnix %d is not milliseconds since epoch (now %d)", co.CreationTimeUnix, now)
	}

	// Get with vector: bit-identical; timestamps as created.
	got := getObject(t, s, "Article", o.ID, "", true)
	checkObject(t, "Article", got, o)
	if got.CreationTimeUnix != co.CreationTimeUnix || got.LastUpdateTimeUnix != co.LastUpdateTimeUnix {
		t.Errorf("get: timestamps %d/%d, create said %d/%d", got.CreationTimeUnix, got.LastUpdateTimeUnix, co.CreationTimeUnix, co.LastUpdateTimeUnix)
	}
	// Without include=vector there is no vector.
	if nv := getObject(t, s, "Article", o.ID, "", false); len(nv.Vector) != 0 {
		t.Errorf("get without include=vector returned a vector of length %d", len(nv.Vector))
	}

	// Exists (HEAD).
	for id, want := range map[string]bool{o.ID: true, uuid.NewString(): false} {
		ok, err := c.Data().Checker().WithClassName("Article").WithID(id).Do(ctx)
		if err != nil || ok != want {
			t.Errorf("exists %s = %v, %v; want %v", id, ok, err, want)
		}
	}
	r := s.do(t, http.MethodHead, "/v1/objects/Article/"+o.ID, nil)
	wantStatus(t, r, http.StatusNoContent)
	r = s.do(t, http.MethodHead, "/v1/objects/Article/"+uuid.NewString(), nil)
	wantStatus(t, r, http.StatusNotFound)

	// PUT replaces properties and vector, keeps creationTimeUnix,
	// refreshes lastUpdateTimeUnix.
	time.Sleep(20 * time.Millisecond)
	newVec := objs[1].Vector
	err = c.Data().Updater().WithClassName("Article").WithID(o.ID).
		WithProperties(map[string]any{"title": "replaced"}).WithVector(newVec).Do(ctx)
	if err != nil {
		t.Fatalf("PUT: %v", err)
	}
	put := getObject(t, s, "Article", o.ID, "", true)
	props := put.Properties.(map[string]any)
	if props["title"] != "replaced" {
		t.Errorf("after PUT: title %v, want replaced", props["title"])
	}
	if v, ok := props["wordCount"]; ok && v != nil {
		t.Errorf("after PUT without wordCount: wordCount %v still present (PUT must replace all properties)", v)
	}
	wantVector(t, "after PUT", put.Vector, newVec)
	if put.CreationTimeUnix != co.CreationTimeUnix {
		t.Errorf("after PUT: creationTimeUnix %d, want unchanged %d", put.CreationTimeUnix, co.CreationTimeUnix)
	}
	if put.LastUpdateTimeUnix <= co.LastUpdateTimeUnix {
		t.Errorf("after PUT: lastUpdateTimeUnix %d, want > %d", put.LastUpdateTimeUnix, co.LastUpdateTimeUnix)
	}

	// PATCH merges properties, keeps the vector.
	time.Sleep(20 * time.Millisecond)
	err = c.Data().Updater().WithMerge().WithClassName("Article").WithID(o.ID).
		WithProperties(map[string]any{"wordCount": 42}).Do(ctx)
	if err != nil {
		t.Fatalf("PATCH: %v", err)
	}
	pat := getObject(t, s, "Article", o.ID, "", true)
	props = pat.Properties.(map[string]any)
	if props["title"] != "replaced" || !numberIs(props["wordCount"], 42) {
		t.Errorf("after PATCH: properties %v, want title=replaced wordCount=42", props)
	}
	wantVector(t, "after PATCH without vector", pat.Vector, newVec)
	if pat.CreationTimeUnix != co.CreationTimeUnix || pat.LastUpdateTimeUnix <= put.LastUpdateTimeUnix {
		t.Errorf("after PATCH: timestamps %d/%d; want creation %d and lastUpdate > %d",
			pat.CreationTimeUnix, pat.LastUpdateTimeUnix, co.CreationTimeUnix, put.LastUpdateTimeUnix)
	}
	// PATCH with a vector replaces the vector.
	err = c.Data().Updater().WithMerge().WithClassName("Article").WithID(o.ID).WithVector(objs[2].Vector).Do(ctx)
	if err != nil {
		t.Fatalf("PATCH vector: %v", err)
	}
	pat = getObject(t, s, "Article", o.ID, "", true)
	wantVector(t, "after PATCH with vector", pat.Vector, objs[2].Vector)
	if props := pat.Properties.(map[string]any); props["title"] != "replaced" || !numberIs(props["wordCount"], 42) {
		t.Errorf("after PATCH with vector only: properties %v changed", props)
	}

	// PUT without a vector leaves the object without one.
	err = c.Data().Updater().WithClassName("Article").WithID(o.ID).
		WithProperties(map[string]any{"title": "no vector", "wordCount": 1}).Do(ctx)
	if err != nil {
		t.Fatalf("PUT without vector: %v", err)
	}
	if nv := getObject(t, s, "Article", o.ID, "", true); len(nv.Vector) != 0 {
		t.Errorf("after PUT without vector: vector of length %d remains", len(nv.Vector))
	}

	// PUT / PATCH of a missing object → 404.
	missing := uuid.NewString()
	err = c.Data().Updater().WithClassName("Article").WithID(missing).
		WithProperties(map[string]any{"title": "x"}).WithVector(newVec).Do(ctx)
	wantClientStatus(t, err, http.StatusNotFound)
	err = c.Data().Updater().WithMerge().WithClassName("Article").WithID(missing).
		WithProperties(map[string]any{"title": "x"}).Do(ctx)
	wantClientStatus(t, err, http.StatusNotFound)

	// Create without id: the server generates a v4 UUID.
	gen, err := c.Data().Creator().WithClassName("Article").
		WithProperties(map[string]any{"title": "generated id", "wordCount": 7}).WithVector(objs[3].Vector).Do(ctx)
	if err != nil {
		t.Fatalf("create without id: %v", err)
	}
	if u, err := uuid.Parse(string(gen.Object.ID)); err != nil || u.Version() != 4 {
		t.Errorf("generated id %q: want a v4 UUID (err %v)", gen.Object.ID, err)
	}

	// Batch with an existing id is an upsert (full replace).
	up := objs[3]
	up.ID = o.ID
	up.Title = "upserted"
	resp, err := c.Batch().ObjectsBatcher().WithObjects(up.model("Article")).Do(ctx)
	if err != nil {
		t.Fatalf("batch upsert: %v", err)
	}
	checkBatchResults(t, resp, []testObject{up})
	checkObject(t, "Article", getObject(t, s, "Article", o.ID, "", true), up)

	// Delete, then 404; deleting again is still 204.
	if err := c.Data().Deleter().WithClassName("Article").WithID(o.ID).Do(ctx); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.Data().ObjectsGetter().WithClassName("Article").WithID(o.ID).Do(ctx)
	wantClientStatus(t, err, http.StatusNotFound)
	r = s.do(t, http.MethodGet, "/v1/objects/Article/"+o.ID, nil)
	wantStatus(t, r, http.StatusNotFound)
	if len(r.Body) != 0 {
		t.Errorf("404 on an object: want an empty body, got %q", r.Body)
	}
	if ok, _ := c.Data().Checker().WithClassName("Article").WithID(o.ID).Do(ctx); ok {
		t.Errorf("exists after delete")
	}
	if err := c.Data().Deleter().WithClassName("Article").WithID(o.ID).Do(ctx); err != nil {
		t.Errorf("delete of a deleted object: %v (want 204)", err)
	}
	if err := c.Data().Deleter().WithClassName("Article").WithID(uuid.NewString()).Do(ctx); err != nil {
		t.Errorf("delete of a never-existing object: %v (want 204)", err)
	}
	r = s.do(t, http.MethodDelete, "/v1/objects/Article/"+uuid.NewString(), nil)
	wantStatus(t, r, http.StatusNoContent)

	// Only the generated-id object is left.
	all := listAll(t, s, "Article", "", 100)
	if len(all) != 1 || all[0].ID != gen.Object.ID {
		t.Errorf("remaining objects: %d, want only %s", len(all), gen.Object.ID)
	}
}

// getObject fetches one object with the client, failing on error.
func getObject(t testing.TB, s *server, class, id, tenant string, withVector bool) *models.Object {
	t.Helper()
	g := s.client(t).Data().ObjectsGetter().WithClassName(class).WithID(id)
	if withVector {
		g = g.WithVector()
	}
	if tenant != "" {
		g = g.WithTenant(tenant)
	}
	objs, err := g.Do(ctxT(t))
	if err != nil {
		t.Fatalf("get %s/%s (tenant %q): %v", class, id, tenant, err)
	}
	if len(objs) != 1 || objs[0] == nil {
		t.Fatalf("get %s/%s: %d objects", class, id, len(objs))
	}
	if objs[0].ID != strfmt.UUID(id) {
		t.Fatalf("get %s/%s: returned id %s", class, id, objs[0].ID)
	}
	return objs[0]
}
