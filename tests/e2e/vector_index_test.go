package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate/entities/models"
)

// TestHNSWSameTopTenAfterRestore: backup, delete the class, restore — the
// same top-10 (ids and distances) for 100 fixed queries, and the index
// settings given at creation are back in the schema.
func TestHNSWSameTopTenAfterRestore(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := s.client(t)
	ctx := ctxT(t)
	const dim = 64
	cls := articleClass("Indexed")
	cls.VectorIndexType = "hnsw"
	cls.VectorIndexConfig = map[string]any{"distance": "l2-squared", "ef": 64, "efConstruction": 96, "maxConnections": 16}
	createClass(t, s, cls)
	objs := genObjects(201, 20_000, dim)
	fastImport(t, s, "Indexed", "", objs, 1000)
	// Updates and deletes leave tombstones in the graph being backed up.
	if err := c.Data().Deleter().WithClassName("Indexed").WithID(objs[1].ID).Do(ctx); err != nil {
		t.Fatal(err)
	}
	moved := genObjects(202, 1, dim)[0].Vector
	if err := c.Data().Updater().WithClassName("Indexed").WithID(objs[2].ID).WithVector(moved).
		WithProperties(map[string]any{"title": objs[2].Title, "wordCount": objs[2].Count}).Do(ctx); err != nil {
		t.Fatal(err)
	}

	r := rand.New(rand.NewPCG(203, 0))
	queries := make([][]float32, 100)
	for i := range queries {
		q := append([]float32(nil), objs[r.IntN(len(objs))].Vector...)
		for j := range q {
			q[j] += float32(r.NormFloat64()) * 0.3
		}
		queries[i] = q
	}
	before := make([][]gqlHit, len(queries))
	for i, q := range queries {
		before[i] = nearVectorTop(t, s, "Indexed", "", q, 10)
		if len(before[i]) != 10 {
			t.Fatalf("query %d: %d hits before the backup", i, len(before[i]))
		}
	}
	schemaBefore := classJSON(t, s, "Indexed")

	const id = "hnsw-same-top10"
	resp, err := c.Backup().Creator().WithBackend(fsBackend).WithBackupID(id).WithWaitForCompletion(true).Do(ctx)
	if err != nil || resp.Status == nil || *resp.Status != models.BackupCreateResponseStatusSUCCESS {
		t.Fatalf("backup: %v %+v", err, resp)
	}
	if err := c.Schema().ClassDeleter().WithClassName("Indexed").Do(ctx); err != nil {
		t.Fatal(err)
	}
	rr, err := c.Backup().Restorer().WithBackend(fsBackend).WithBackupID(id).WithWaitForCompletion(true).Do(ctx)
	if err != nil || rr.Status == nil || *rr.Status != models.BackupRestoreResponseStatusSUCCESS {
		t.Fatalf("restore: %v %+v", err, rr)
	}
	if after := classJSON(t, s, "Indexed"); !jsonEqual(t, schemaBefore, after) {
		t.Errorf("class after restore:\n%s\nbefore:\n%s", after, schemaBefore)
	}
	var cfg struct {
		VectorIndexConfig map[string]any `json:"vectorIndexConfig"`
	}
	if err := json.Unmarshal(schemaBefore, &cfg); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]float64{"ef": 64, "efConstruction": 96, "maxConnections": 16} {
		if got, _ := cfg.VectorIndexConfig[k].(float64); got != want {
			t.Errorf("vectorIndexConfig.%s = %v, want %v", k, cfg.VectorIndexConfig[k], want)
		}
	}
	for i, q := range queries {
		compareHits(t, fmt.Sprintf("query %d after restore", i), nearVectorTop(t, s, "Indexed", "", q, 10), before[i])
	}
}

// TestSigkillDuringHeavyImport: SIGKILL while batches are being imported;
// after the restart every acknowledged object is found by a search for its
// own vector.
func TestSigkillDuringHeavyImport(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	const dim = 32
	createClass(t, s, articleClass("Heavy"))
	objs := genObjects(211, 40_000, dim)

	const batch = 250
	var mu sync.Mutex
	var acked []testObject
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 2 {
		wg.Go(func() {
			for start := range next {
				end := min(start+batch, len(objs))
				items := make([]map[string]any, 0, end-start)
				for _, o := range objs[start:end] {
					items = append(items, o.restJSON("Heavy"))
				}
				body, _ := json.Marshal(map[string]any{"objects": items})
				r, err := s.tryDo(ctx, http.MethodPost, "/v1/batch/objects", body, nil, false)
				if err != nil || r.Status != http.StatusOK || !allSuccess(r.Body, end-start) {
					return // the server died: not acknowledged
				}
				mu.Lock()
				acked = append(acked, objs[start:end]...)
				mu.Unlock()
			}
		})
	}
	go func() {
		defer close(next)
		for start := 0; start < len(objs); start += batch {
			select {
			case next <- start:
			case <-ctx.Done():
				return
			}
		}
	}()
	// Kill once a good part is in, while batches are in flight.
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 5000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.kill()
	cancel()
	wg.Wait()
	if len(acked) == 0 || len(acked) == len(objs) {
		t.Fatalf("%d of %d objects acknowledged before the kill; the kill should land mid-import", len(acked), len(objs))
	}
	s.restart()
	if n := aggregateCount(t, s, "Heavy", ""); n < len(acked) {
		t.Fatalf("count after restart %d, want at least the %d acknowledged", n, len(acked))
	}
	// Every acknowledged object is in the index with its vector: a search
	// restricted to its id (exact among the allowed) finds it at distance 0.
	// The plain graph search, approximate, finds it first nearly always.
	missed := 0
	for i, o := range acked {
		hits := nearVectorWhereID(t, s, "Heavy", o.Vector, o.ID)
		if len(hits) != 1 || hits[0].id != o.ID || hits[0].distance > 1e-5 {
			t.Fatalf("acknowledged object %d (%s) not in the index after the restart: %+v", i, o.ID, hits)
		}
		if top := nearVectorTop(t, s, "Heavy", "", o.Vector, 1); len(top) != 1 || top[0].id != o.ID {
			missed++
		}
	}
	if missed > len(acked)/200 {
		t.Errorf("graph search found %d of %d acknowledged objects first; want at least 99.5%%", len(acked)-missed, len(acked))
	}
	t.Logf("%d acknowledged objects all in the index after SIGKILL; graph search found %d first", len(acked), len(acked)-missed)
}

// nearVectorWhereID runs a nearVector Get restricted to one id.
func nearVectorWhereID(t testing.TB, s *server, class string, vec []float32, id string) []gqlHit {
	t.Helper()
	c := s.client(t)
	where := filters.Where().WithPath([]string{"id"}).WithOperator(filters.Equal).WithValueText(id)
	resp, err := c.GraphQL().Get().WithClassName(class).WithFields(gqlIDField()).
		WithNearVector(c.GraphQL().NearVectorArgBuilder().WithVector(vec)).WithWhere(where).WithLimit(1).Do(ctxT(t))
	if err != nil {
		t.Fatalf("nearVector with id filter: %v", err)
	}
	return gqlHits(t, resp.Data, len(resp.Errors) > 0, gqlErrors(resp), "Get", class)
}

// TestGraphQLNearObject: nearObject searches with the stored object's
// vector — the same hits as nearVector with that vector, the object itself
// first — by id or beacon, with distance bounds; unknown ids are errors.
func TestGraphQLNearObject(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Near"))
	objs := genObjects(221, 500, 16)
	fastImport(t, s, "Near", "", objs, 250)
	target := objs[42]
	want := nearVectorTop(t, s, "Near", "", target.Vector, 5)
	if len(want) != 5 || want[0].id != target.ID {
		t.Fatalf("nearVector with the object's own vector: %+v", want)
	}
	run := func(args string) map[string]any {
		t.Helper()
		r := s.do(t, http.MethodPost, "/v1/graphql", map[string]any{
			"query": `{ Get { Near(nearObject: {` + args + `}, limit: 5) { _additional { id distance } } } }`})
		wantStatus(t, r, http.StatusOK)
		var out map[string]any
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	hitsOf := func(out map[string]any) []gqlHit {
		t.Helper()
		if out["errors"] != nil {
			t.Fatalf("errors: %v", out["errors"])
		}
		var hits []gqlHit
		for _, o := range out["data"].(map[string]any)["Get"].(map[string]any)["Near"].([]any) {
			add := o.(map[string]any)["_additional"].(map[string]any)
			hits = append(hits, gqlHit{id: add["id"].(string), distance: add["distance"].(float64)})
		}
		return hits
	}
	for _, args := range []string{`id: "` + target.ID + `"`, `beacon: "weaviate://localhost/Near/` + target.ID + `"`} {
		got := hitsOf(run(args))
		if len(got) != len(want) {
			t.Fatalf("nearObject {%s}: %d hits, want %d", args, len(got), len(want))
		}
		for i := range want {
			if got[i].id != want[i].id || math.Abs(got[i].distance-want[i].distance) > 1e-6 {
				t.Fatalf("nearObject {%s}: hit %d = %+v, want %+v", args, i, got[i], want[i])
			}
		}
	}
	bounded := hitsOf(run(`id: "` + target.ID + `", distance: ` + fmt.Sprint(want[2].distance)))
	if len(bounded) != 3 {
		t.Errorf("nearObject with distance %v: %d hits, want 3", want[2].distance, len(bounded))
	}
	out := run(`id: "00000000-0000-0000-0000-000000000000"`)
	if errs, _ := out["errors"].([]any); len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), "no object with id 00000000-0000-0000-0000-000000000000") {
		t.Errorf("nearObject of a missing id: %v", out)
	}
}
