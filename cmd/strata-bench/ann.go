package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"strata/internal/vector"
)

// runANN measures the HNSW index in process: insert rate, recall@k against
// exact search, and query throughput and latency.
func runANN(args []string) error {
	fs := flag.NewFlagSet("ann", flag.ExitOnError)
	n := fs.Int("objects", 100000, "vectors to index")
	dims := fs.Int("dims", 128, "vector dimensions")
	dist := fs.String("dist", "clustered", "vector distribution: random, clustered, realistic")
	distance := fs.String("distance", vector.Cosine, "distance metric")
	queries := fs.Int("queries", 1000, "queries (not among the indexed vectors)")
	k := fs.Int("k", 10, "neighbours per query")
	ef := fs.Int("ef", -1, "search ef (-1 = dynamic, Weaviate's default)")
	efc := fs.Int("ef-construction", 128, "efConstruction")
	m := fs.Int("max-connections", 32, "maxConnections")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "insert threads")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the inserts to this file")
	fs.Parse(args)

	src, err := newVectorSource(*dist, *dims, 1)
	if err != nil {
		return err
	}
	vecs := make([][]float32, *n)
	for i := range vecs {
		vecs[i] = src.next()
	}
	qs := make([][]float32, *queries)
	for i := range qs {
		qs[i] = src.next()
	}
	h, err := vector.NewHNSW(vector.HNSWConfig{Distance: *distance, EF: *ef, EFConstruction: *efc, MaxConnections: *m})
	if err != nil {
		return err
	}
	idOf := func(i int) vector.ID {
		var id vector.ID
		id[12], id[13], id[14], id[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		return id
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range *threads {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < *n; i = int(next.Add(1) - 1) {
				if err := h.Add(idOf(i), vecs[i]); err != nil {
					panic(err)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	pprof.StopCPUProfile()
	fmt.Printf("ann: %d × %d %s (%s), M=%d efC=%d ef=%d\n", *n, *dims, *dist, *distance, *m, *efc, *ef)
	fmt.Printf("insert: %.1fs with %d threads = %.0f vectors/s\n", took.Seconds(), *threads, float64(*n)/took.Seconds())

	exact, _ := vector.NewFlat(*distance)
	for i, v := range vecs {
		exact.Add(idOf(i), v)
	}
	truth := make([][]vector.Result, len(qs))
	parallel(len(qs), runtime.GOMAXPROCS(0), func(i int) {
		truth[i], _ = exact.Search(qs[i], *k, nil, nil)
	})
	hit, total := 0, 0
	for i, q := range qs {
		got, _ := h.Search(q, *k, nil, nil)
		for _, w := range truth[i] {
			if slices.ContainsFunc(got, func(r vector.Result) bool { return r.ID == w.ID }) {
				hit++
			}
		}
		total += len(truth[i])
	}
	fmt.Printf("recall@%d: %.4f over %d queries\n", *k, float64(hit)/float64(total), len(qs))

	for _, th := range []int{1, 2} {
		lat := make([]time.Duration, 0, 3*len(qs))
		var mu sync.Mutex
		start := time.Now()
		parallel(3*len(qs), th, func(i int) {
			t0 := time.Now()
			h.Search(qs[i%len(qs)], *k, nil, nil)
			d := time.Since(t0)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
		})
		el := time.Since(start)
		slices.Sort(lat)
		fmt.Printf("query, %d thread(s): %.0f QPS, p50 %s, p99 %s\n", th, float64(len(lat))/el.Seconds(),
			lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
	}
	return nil
}

// parallel runs fn(0..n-1) on the given number of goroutines.
func parallel(n, threads int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range threads {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}
