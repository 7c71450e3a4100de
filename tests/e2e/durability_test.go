package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate/entities/models"
)

// TestRestartPersistence: after a graceful stop (SIGTERM) and a restart on
// the same data directory, schema, tenants, objects (with vectors and
// timestamps), updates and deletes are all as before, and the server keeps
// working.
func TestRestartPersistence(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)

	createClass(t, s, articleClass("Article"))
	mt := articleClass("MT")
	mt.MultiTenancyConfig = &models.MultiTenancyConfig{Enabled: true}
	createClass(t, s, mt)
	if err := c.Schema().TenantsCreator().WithClassName("MT").
		WithTenants(models.Tenant{Name: "t1"}, models.Tenant{Name: "t2"}).Do(ctx); err != nil {
		t.Fatal(err)
	}

	objs := genObjects(7, 2000, 64)
	batchImport(t, s, "Article", "", objs, 500)
	mtObjs := genObjects(8, 3, 64)
	batchImport(t, s, "MT", "t1", mtObjs, 10)

	// An update and a delete before the restart.
	upd := objs[1]
	upd.Title = "updated before restart"
	upd.Vector = genObjects(9, 1, 64)[0].Vector
	if err := c.Data().Updater().WithClassName("Article").WithID(upd.ID).
		WithProperties(map[string]any{"title": upd.Title, "wordCount": upd.Count}).WithVector(upd.Vector).Do(ctx); err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := c.Data().Deleter().WithClassName("Article").WithID(objs[0].ID).Do(ctx); err != nil {
		t.Fatalf("delete: %v", err)
	}
	want := append([]testObject{upd}, objs[2:]...)

	schemaBefore := s.do(t, http.MethodGet, "/v1/schema", nil)
	wantStatus(t, schemaBefore, http.StatusOK)
	listBefore := listAll(t, s, "Article", "", 1000)
	checkObjectsMatch(t, "Article", listBefore, want)

	for cycle := 1; cycle <= 2; cycle++ {
		s.stop()
		s.restart()

		schemaAfter := s.do(t, http.MethodGet, "/v1/schema", nil)
		wantStatus(t, schemaAfter, http.StatusOK)
		if !jsonEqual(t, schemaBefore.Body, schemaAfter.Body) {
			t.Errorf("cycle %d: schema changed across restart:\nbefore %s\nafter  %s", cycle, schemaBefore.Body, schemaAfter.Body)
		}
		checkTenants(t, s, "MT", map[string]string{"t1": "HOT", "t2": "HOT"})
		listAfter := listAll(t, s, "Article", "", 1000)
		checkObjectsMatch(t, "Article", listAfter, want)
		for i := range listAfter {
			b, a := listBefore[i], listAfter[i]
			if b.ID != a.ID || b.CreationTimeUnix != a.CreationTimeUnix || b.LastUpdateTimeUnix != a.LastUpdateTimeUnix {
				t.Fatalf("cycle %d: object %d: before %s %d/%d, after %s %d/%d", cycle, i,
					b.ID, b.CreationTimeUnix, b.LastUpdateTimeUnix, a.ID, a.CreationTimeUnix, a.LastUpdateTimeUnix)
			}
		}
		checkObjectsMatch(t, "MT", listAll(t, s, "MT", "t1", 100), mtObjs)
		if n := aggregateCount(t, s, "Article", ""); n != len(want) {
			t.Errorf("cycle %d: aggregate %d, want %d", cycle, n, len(want))
		}
		// The vector index answers after the restart.
		q := want[10]
		resp, err := c.GraphQL().Get().WithClassName("Article").
			WithFields(gqlIDField()).WithNearVector(c.GraphQL().NearVectorArgBuilder().WithVector(q.Vector)).
			WithLimit(3).Do(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hits := gqlHits(t, resp.Data, len(resp.Errors) > 0, gqlErrors(resp), "Get", "Article")
		if len(hits) == 0 || hits[0].id != q.ID {
			t.Errorf("cycle %d: nearVector after restart: %+v, want %s first", cycle, hits, q.ID)
		}
		if ok, _ := c.Data().Checker().WithClassName("Article").WithID(objs[0].ID).Do(ctx); ok {
			t.Errorf("cycle %d: deleted object is back after restart", cycle)
		}
	}

	// Writes still work after restarts.
	extra := genObjects(10, 5, 64)
	batchImport(t, s, "Article", "", extra, 5)
	if n := aggregateCount(t, s, "Article", ""); n != len(want)+len(extra) {
		t.Errorf("aggregate after new writes %d, want %d", n, len(want)+len(extra))
	}
}

// TestSigkillDurability: every write that was acknowledged (HTTP 2xx
// received) survives a SIGKILL of the server right after the
// acknowledgement.
func TestSigkillDurability(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)
	const dim = 32
	createClass(t, s, articleClass("Article"))

	// Phase 1: batches, SIGKILL right after the last acknowledgement.
	objs := genObjects(11, 2000, dim)
	batchImport(t, s, "Article", "", objs, 250)
	s.kill()
	s.restart()
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 1000), objs)

	// Phase 2: single-object writes and schema changes, SIGKILL right
	// after the last acknowledgement.
	added := genObjects(12, 1, dim)[0]
	if _, err := c.Data().Creator().WithClassName("Article").WithID(added.ID).
		WithProperties(map[string]any{"title": added.Title, "wordCount": added.Count}).WithVector(added.Vector).Do(ctx); err != nil {
		t.Fatal(err)
	}
	upd := objs[5]
	upd.Title = "updated just before the crash"
	upd.Vector = genObjects(13, 1, dim)[0].Vector
	if err := c.Data().Updater().WithClassName("Article").WithID(upd.ID).
		WithProperties(map[string]any{"title": upd.Title, "wordCount": upd.Count}).WithVector(upd.Vector).Do(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Data().Deleter().WithClassName("Article").WithID(objs[6].ID).Do(ctx); err != nil {
		t.Fatal(err)
	}
	mt := articleClass("Late")
	mt.MultiTenancyConfig = &models.MultiTenancyConfig{Enabled: true}
	createClass(t, s, mt)
	if err := c.Schema().TenantsCreator().WithClassName("Late").WithTenants(models.Tenant{Name: "t1"}).Do(ctx); err != nil {
		t.Fatal(err)
	}
	lateObj := genObjects(14, 1, dim)[0]
	batchImport(t, s, "Late", "t1", []testObject{lateObj}, 1)
	s.kill()
	s.restart()

	want := []testObject{added}
	for i, o := range objs {
		switch i {
		case 5:
			want = append(want, upd)
		case 6:
		default:
			want = append(want, o)
		}
	}
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 1000), want)
	checkTenants(t, s, "Late", map[string]string{"t1": "HOT"})
	checkObjectsMatch(t, "Late", listAll(t, s, "Late", "t1", 10), []testObject{lateObj})

	// Phase 3: a writer streams batches; the server is SIGKILLed while
	// requests are in flight. Acknowledged batches must all be there;
	// the batch in flight may or may not be, but nothing else may appear
	// and whatever is there must be intact.
	stream := genObjects(15, 40*100, dim)
	var (
		mu       sync.Mutex
		acked    []testObject
		inFlight []testObject
	)
	writerCtx, cancelWriter := context.WithCancel(context.Background())
	defer cancelWriter()
	writerDone := make(chan struct{})
	ackedBatches := make(chan int, 100)
	go func() {
		defer close(writerDone)
		for b := 0; b*100 < len(stream); b++ {
			batch := stream[b*100 : (b+1)*100]
			mu.Lock()
			inFlight = append(inFlight, batch...)
			mu.Unlock()
			body := map[string]any{"objects": restObjects("Article", batch)}
			r, err := s.tryDo(writerCtx, http.MethodPost, "/v1/batch/objects", body, nil, false)
			if err != nil {
				return // the server is gone
			}
			if r.Status != http.StatusOK || !allSuccess(r.Body, len(batch)) {
				t.Errorf("streaming batch %d: %s", b, truncate(r.Body, 500))
				return
			}
			mu.Lock()
			acked = append(acked, batch...)
			mu.Unlock()
			ackedBatches <- b
		}
	}()
	// Kill after a few acknowledgements, while the next batch is in flight.
	deadline := time.After(2 * time.Minute)
	for n := 0; n < 8; {
		select {
		case <-ackedBatches:
			n++
		case <-writerDone:
			n = 8
		case <-deadline:
			t.Fatal("writer made no progress")
		}
	}
	s.kill()
	cancelWriter()
	<-writerDone
	s.restart()

	mu.Lock()
	ackedCopy := append([]testObject(nil), acked...)
	maybe := map[string]testObject{}
	for _, o := range inFlight {
		maybe[o.ID] = o
	}
	mu.Unlock()
	t.Logf("phase 3: %d objects acknowledged before SIGKILL, %d sent", len(ackedCopy), len(maybe))

	got := listAll(t, s, "Article", "", 1000)
	wantAll := map[string]testObject{}
	for _, o := range want {
		wantAll[o.ID] = o
	}
	for _, o := range ackedCopy {
		wantAll[o.ID] = o
	}
	seen := map[string]bool{}
	for _, g := range got {
		id := string(g.ID)
		seen[id] = true
		if w, ok := wantAll[id]; ok {
			checkObject(t, "Article", g, w)
		} else if w, ok := maybe[id]; ok {
			checkObject(t, "Article", g, w) // unacknowledged but present: must be intact
		} else {
			t.Fatalf("unexpected object %s after SIGKILL", id)
		}
	}
	missing := 0
	for id := range wantAll {
		if !seen[id] {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged object %s lost after SIGKILL", id)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d acknowledged objects lost after SIGKILL", missing)
	}
	if n := aggregateCount(t, s, "Article", ""); n != len(got) {
		t.Errorf("aggregate count %d after SIGKILL recovery, listing has %d", n, len(got))
	}
}

// restObjects builds the REST batch representation of objs.
func restObjects(class string, objs []testObject) []map[string]any {
	out := make([]map[string]any, len(objs))
	for i, o := range objs {
		out[i] = o.restJSON(class)
	}
	return out
}

// allSuccess reports whether a batch response holds n SUCCESS results.
func allSuccess(body []byte, n int) bool {
	var res []struct {
		Result struct {
			Status string `json:"status"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &res); err != nil || len(res) != n {
		return false
	}
	for _, r := range res {
		if r.Result.Status != "SUCCESS" {
			return false
		}
	}
	return true
}

// gqlIDField is `_additional { id distance }`.
func gqlIDField() graphql.Field {
	return graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "id"}, {Name: "distance"}}}
}
