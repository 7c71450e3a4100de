package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// runQuery measures nearVector queries through GraphQL: throughput and
// latency with 1 and 2 concurrent clients.
func runQuery(args []string) error {
	fs := flag.NewFlagSet("query", flag.ExitOnError)
	c, class := commonFlags(fs)
	queries := fs.Int("queries", 2000, "queries per run")
	dims := fs.Int("dims", 128, "vector dimensions")
	dist := fs.String("dist", "random", "query distribution: random, clustered, realistic (as imported)")
	k := fs.Int("k", 10, "limit")
	fs.Parse(args)

	src, err := newVectorSource(*dist, *dims, 99)
	if err != nil {
		return err
	}
	bodies := make([]json.RawMessage, *queries)
	for i := range bodies {
		v, _ := json.Marshal(src.next())
		q := fmt.Sprintf(`{ Get { %s(nearVector: {vector: %s}, limit: %d) { _additional { id distance } } } }`, *class, v, *k)
		bodies[i], _ = json.Marshal(map[string]string{"query": q})
	}
	for _, threads := range []int{1, 2} {
		lat := make([]time.Duration, 0, len(bodies))
		var mu sync.Mutex
		var firstErr error
		start := time.Now()
		parallel(len(bodies), threads, func(i int) {
			t0 := time.Now()
			var out struct {
				Errors []any `json:"errors"`
			}
			err := c.do(http.MethodPost, "/v1/graphql", bodies[i], &out)
			if err == nil && len(out.Errors) > 0 {
				err = fmt.Errorf("graphql errors: %v", out.Errors)
			}
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			lat = append(lat, d)
		})
		if firstErr != nil {
			return firstErr
		}
		el := time.Since(start)
		slices.Sort(lat)
		fmt.Printf("query %s (limit %d), %d client(s): %.0f QPS, p50 %s, p99 %s\n", *class, *k, threads,
			float64(len(lat))/el.Seconds(), lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
	}
	return nil
}
