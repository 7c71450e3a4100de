package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkGraphQLLargestResponse measures the largest GraphQL response the
// default limits allow: one Get of QUERY_MAXIMUM_RESULTS (10,000) objects
// with their 768-d vectors (STRATA_GRAPHQL_MAX_RESULTS_PER_REQUEST bounds
// all Gets of a request together to the same number). It reports the
// response size and the process's peak RSS during the request above its
// RSS before it (Linux: the peak is reset through /proc/self/clear_refs).
//
//	go test ./internal/api -run '^$' -bench GraphQLLargestResponse -benchtime 3x
func BenchmarkGraphQLLargestResponse(b *testing.B) {
	const objects, dims = 10000, 768
	srv := newTestServer(b)
	post(b, srv.URL+"/v1/schema", []byte(`{"class":"Bench","vectorizer":"none","properties":[{"name":"title","dataType":["text"]},{"name":"count","dataType":["int"]}]}`))
	for _, body := range batchBodies(b, objects/500, 500, dims) {
		post(b, srv.URL+"/v1/batch/objects", body)
	}
	query := []byte(fmt.Sprintf(`{"query":"{ Get { Bench(limit: %d) { title count _additional { id vector } } } }"}`, objects))

	var size int64
	var growth uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		debug.FreeOSMemory()
		before := procStatus(b, "VmRSS")
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			b.Skipf("cannot reset the peak RSS: %v", err)
		}
		resp, err := http.Post(srv.URL+"/v1/graphql", "application/json", bytes.NewReader(query))
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GraphQL: %d, %v", resp.StatusCode, err)
		}
		size = n
		growth = max(growth, procStatus(b, "VmHWM")-before)
	}
	b.ReportMetric(float64(size)/(1<<20), "response-MiB")
	b.ReportMetric(float64(growth)/(1<<20), "peak-RSS-growth-MiB")
}

// procStatus reads a kB field of /proc/self/status, in bytes.
func procStatus(tb testing.TB, field string) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				tb.Fatalf("%s: %v", line, err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}
