package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"strata/internal/backup"
	"strata/internal/config"
	"strata/internal/db"
)

func newTestServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	cfg := config.Default()
	cfg.DataPath = tb.TempDir()
	d, err := db.Open(db.Options{DataPath: cfg.DataPath, AutoSchema: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	mgr, err := backup.New(context.Background(), backup.Options{DB: d, DataPath: cfg.DataPath, Node: "node1", ServerVersion: APIVersion})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(New(cfg, d, mgr, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "test"))
	tb.Cleanup(func() { srv.Close(); mgr.Close(); d.Close() })
	return srv
}

func post(tb testing.TB, url string, body []byte) []byte {
	tb.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("POST %s: %d %s", url, resp.StatusCode, out)
	}
	return out
}

// batchBodies builds n batch requests of size objects with dims-long vectors.
func batchBodies(tb testing.TB, n, size, dims int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	bodies := make([][]byte, n)
	for b := range bodies {
		objs := make([]map[string]any, size)
		for i := range objs {
			v := make([]float32, dims)
			for j := range v {
				v[j] = rng.Float32()*2 - 1
			}
			objs[i] = map[string]any{"class": "Bench", "id": uuid.New().String(), "vector": v,
				"properties": map[string]any{"title": fmt.Sprintf("object %d", i), "count": i}}
		}
		body, err := json.Marshal(map[string]any{"objects": objs})
		if err != nil {
			tb.Fatal(err)
		}
		bodies[b] = body
	}
	return bodies
}

// BenchmarkBatchImport measures POST /v1/batch/objects in-process (1000
// objects × 128 dims per request); objects/s is reported as a metric.
func BenchmarkBatchImport(b *testing.B) {
	srv := newTestServer(b)
	post(b, srv.URL+"/v1/schema", []byte(`{"class":"Bench","vectorizer":"none","properties":[{"name":"title","dataType":["text"]},{"name":"count","dataType":["int"]}]}`))
	bodies := batchBodies(b, 20, 1000, 128)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		post(b, srv.URL+"/v1/batch/objects", bodies[i%len(bodies)])
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "objects/s")
}
