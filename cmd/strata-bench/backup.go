package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// runBackup measures a backup (and optionally the restore) of existing
// classes: wall time, server RSS growth (sampled from /proc/<pid>), and the
// latency of reads and small writes during the backup against idle.
func runBackup(args []string) error {
	fs := flag.NewFlagSet("backup", flag.ExitOnError)
	c, _ := commonFlags(fs)
	backend := fs.String("backend", "filesystem", "backup backend")
	id := fs.String("id", fmt.Sprintf("bench-%d", time.Now().Unix()), "backup id")
	classes := fs.String("classes", "Bench", "comma-separated classes to back up")
	pid := fs.Int("pid", 0, "server process id, to sample its RSS (0 = do not sample)")
	latency := fs.Bool("latency", false, "measure GET and small-batch latency idle and during the backup")
	restore := fs.Bool("restore", false, "then delete the classes and restore them")
	level := fs.String("compression", "", "CompressionLevel (empty = server default)")
	cpu := fs.Int("cpu", 0, "CPUPercentage (0 = server default)")
	rounds := fs.Int("rounds", 1, "backups to take (ids <id>-1, <id>-2, ...); with --latency, each after an idle window, and the samples of all rounds pooled")
	idleWindow := fs.Duration("idle", 3*time.Second, "with --latency, how long the load runs before each backup (the idle baseline)")
	interval := fs.Duration("interval", 0, "with --latency, issue each probe request every interval (0 = back to back)")
	writeClass := fs.String("write-class", "BenchLoadWrites", "with --latency, the class the 10-object batches write to")
	writeDims := fs.Int("write-dims", 8, "with --latency, the vector length of the written objects")
	fs.Parse(args)
	classList := strings.Split(*classes, ",")

	var load *loadGen
	if *latency {
		var err error
		if load, err = newLoadGen(c, classList[0]); err != nil {
			return err
		}
		load.interval, load.writeClass, load.writeDims = *interval, *writeClass, *writeDims
	}
	cfg := map[string]any{}
	if *level != "" {
		cfg["CompressionLevel"] = *level
	}
	if *cpu != 0 {
		cfg["CPUPercentage"] = *cpu
	}
	var idleAll, duringAll loadResult
	base := *id
	for r := range *rounds {
		if *rounds > 1 {
			*id = fmt.Sprintf("%s-%d", base, r+1) // the last one is restored
		}
		if load != nil {
			idle := load.run(*idleWindow, nil)
			fmt.Printf("idle:   %s\n", idle)
			idleAll.add(idle)
		}
		body := map[string]any{"id": *id, "include": classList, "config": cfg}
		took, peak, during, err := measure(c, *pid, load, func() error {
			return c.do(http.MethodPost, "/v1/backups/"+*backend, body, nil)
		}, "/v1/backups/"+*backend+"/"+*id)
		if err != nil {
			return err
		}
		fmt.Printf("backup: %s in %.2fs, server RSS growth peak %.1f MiB\n", *id, took.Seconds(), float64(peak)/(1<<20))
		if during != nil {
			fmt.Printf("during: %s\n", during)
			duringAll.add(*during)
		}
	}
	if load != nil && *rounds > 1 {
		fmt.Printf("pooled over %d rounds: idle %s\n                       during %s\n", *rounds, idleAll, duringAll)
		fmt.Printf("p99 during/idle: GET %.2fx, batch %.2fx\n",
			float64(duringAll.get.pct(99))/float64(idleAll.get.pct(99)), float64(duringAll.put.pct(99))/float64(idleAll.put.pct(99)))
	}
	if !*restore {
		return nil
	}
	for _, cl := range classList {
		if err := c.do(http.MethodDelete, "/v1/schema/"+cl, nil, nil); err != nil {
			return err
		}
	}
	rcfg := map[string]any{}
	if *cpu != 0 {
		rcfg["CPUPercentage"] = *cpu
	}
	took, peak, _, err := measure(c, *pid, nil, func() error {
		return c.do(http.MethodPost, "/v1/backups/"+*backend+"/"+*id+"/restore", map[string]any{"include": classList, "config": rcfg}, nil)
	}, "/v1/backups/"+*backend+"/"+*id+"/restore")
	if err != nil {
		return err
	}
	fmt.Printf("restore: %s in %.2fs, server RSS growth peak %.1f MiB\n", *id, took.Seconds(), float64(peak)/(1<<20))
	return nil
}

// measure starts an operation, polls its status until it ends, samples RSS
// and optionally runs the load generator meanwhile.
func measure(c *client, pid int, load *loadGen, start func() error, statusPath string) (time.Duration, int64, *loadResult, error) {
	base := rss(pid)
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if pid > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if r := rss(pid) - base; r > peak.Load() {
					peak.Store(r)
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
	}
	var during *loadResult
	if load != nil {
		wg.Add(1)
		go func() { defer wg.Done(); r := load.run(0, stop); during = &r }()
	}
	t0 := time.Now()
	err := start()
	var status struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	for err == nil {
		if err = c.do(http.MethodGet, statusPath, nil, &status); err != nil {
			break
		}
		if status.Status == "SUCCESS" {
			break
		}
		if status.Status == "FAILED" || status.Status == "CANCELED" {
			err = fmt.Errorf("%s: %s", status.Status, status.Error)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(t0)
	close(stop)
	wg.Wait()
	return took, peak.Load(), during, err
}

// rss returns a process's resident set size in bytes (0 if unknown).
func rss(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	return procStatus(pid, "VmRSS:")
}

// loadGen issues single-object GETs of existing objects and batches of 10
// new objects (into writeClass), one request at a time each: back to back,
// or one every interval as a probe does.
type loadGen struct {
	c          *client
	class      string
	ids        []string
	interval   time.Duration
	writeClass string
	writeDims  int
}

type durations []time.Duration

func (d durations) pct(p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append(durations(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)].Round(10 * time.Microsecond)
}

type loadResult struct {
	get, put durations
	errors   int
}

func (r *loadResult) add(o loadResult) {
	r.get, r.put, r.errors = append(r.get, o.get...), append(r.put, o.put...), r.errors+o.errors
}

func (r loadResult) String() string {
	return fmt.Sprintf("GET p50 %s p99 %s (%d) | batch(10) p50 %s p99 %s (%d), errors %d",
		r.get.pct(50), r.get.pct(99), len(r.get), r.put.pct(50), r.put.pct(99), len(r.put), r.errors)
}

func newLoadGen(c *client, class string) (*loadGen, error) {
	var res struct {
		Objects []struct {
			ID string `json:"id"`
		} `json:"objects"`
	}
	if err := c.do(http.MethodGet, "/v1/objects?class="+class+"&limit=1000", nil, &res); err != nil {
		return nil, err
	}
	g := &loadGen{c: c, class: class}
	for _, o := range res.Objects {
		g.ids = append(g.ids, o.ID)
	}
	if len(g.ids) == 0 {
		return nil, fmt.Errorf("class %s has no objects to read", class)
	}
	return g, nil
}

// run generates load for d (or until stop is closed when d is 0).
func (g *loadGen) run(d time.Duration, stop <-chan struct{}) loadResult {
	var mu sync.Mutex
	var res loadResult
	deadline := time.Now().Add(d)
	done := func() bool {
		if d > 0 {
			return time.Now().After(deadline)
		}
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	// pace waits out the rest of the interval after a request that began at t.
	pace := func(t time.Time) {
		if g.interval > 0 {
			time.Sleep(time.Until(t.Add(g.interval)))
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 1))
		for !done() {
			t := time.Now()
			err := g.c.do(http.MethodGet, "/v1/objects/"+g.class+"/"+g.ids[rng.IntN(len(g.ids))], nil, nil)
			mu.Lock()
			res.get = append(res.get, time.Since(t))
			if err != nil {
				res.errors++
			}
			mu.Unlock()
			pace(t)
		}
	}()
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(2, 2))
		for !done() {
			objs := make([]map[string]any, 10)
			for i := range objs {
				v := make([]float32, g.writeDims)
				for j := range v {
					v[j] = rng.Float32()*2 - 1
				}
				objs[i] = map[string]any{"class": g.writeClass, "id": uuid.NewString(), "vector": v, "properties": map[string]any{"n": i}}
			}
			t := time.Now()
			err := g.c.do(http.MethodPost, "/v1/batch/objects", map[string]any{"objects": objs}, nil)
			mu.Lock()
			res.put = append(res.put, time.Since(t))
			if err != nil {
				res.errors++
			}
			mu.Unlock()
			pace(t)
		}
	}()
	wg.Wait()
	return res
}
