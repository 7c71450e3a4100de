// Command strata-bench measures a Weaviate-compatible server (Strata or
// Weaviate itself) through its REST API, so both can be measured the same
// way on the same machine.
//
//	strata-bench import --url http://127.0.0.1:8080 --class Bench --objects 100000 --dims 128 [--grpc 127.0.0.1:50051]
//	strata-bench list   --url http://127.0.0.1:8080 --class Bench --page 1000
//	strata-bench query  --url http://127.0.0.1:8080 --class Bench --queries 2000
//	strata-bench ann    --objects 100000 --dims 128 --dist clustered
//	strata-bench batchmem --url http://127.0.0.1:8080 --pid <server pid> --mib 100 --dims 1536
//	strata-bench backup --url http://127.0.0.1:8080 --classes Bench,Bench2 --pid <server pid> --latency --restore
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: strata-bench import|list|query|backup|batchmem|mkbucket|ann [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "import":
		err = runImport(os.Args[2:])
	case "list":
		err = runList(os.Args[2:])
	case "backup":
		err = runBackup(os.Args[2:])
	case "mkbucket":
		err = runMkbucket(os.Args[2:])
	case "ann":
		err = runANN(os.Args[2:])
	case "query":
		err = runQuery(os.Args[2:])
	case "batchmem":
		err = runBatchMem(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "strata-bench:", err)
		os.Exit(1)
	}
}

type client struct {
	url    string
	apiKey string
	http   *http.Client
}

// send sends one request with the client's headers; a status of 300 or
// more is an error carrying the response's message.
func (c *client) send(method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, c.url+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
	}
	return resp, nil
}

func (c *client) do(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, ok := body.(json.RawMessage) // already encoded: sent as it is
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return err
			}
		}
		rd = bytes.NewReader(b)
	}
	resp, err := c.send(method, path, rd)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func commonFlags(fs *flag.FlagSet) (*client, *string) {
	c := &client{http: &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "server base URL")
	fs.StringVar(&c.apiKey, "api-key", "", "API key, if the server needs one")
	class := fs.String("class", "Bench", "class to use")
	return c, class
}

func runImport(args []string) error {
	fs := flag.NewFlagSet("import", flag.ExitOnError)
	c, class := commonFlags(fs)
	objects := fs.Int("objects", 100000, "number of objects")
	dims := fs.Int("dims", 128, "vector dimensions")
	batch := fs.Int("batch", 1000, "objects per batch request")
	workers := fs.Int("workers", 2, "concurrent batch requests")
	seed := fs.Uint64("seed", 1, "random seed")
	dist := fs.String("dist", "random", "vector distribution: random, clustered, realistic")
	recreate := fs.Bool("recreate", true, "delete and create the class first")
	grpcAddr := fs.String("grpc", "", "send the batches to this gRPC address (host:port, BatchObjects, as the Python and TypeScript clients do) instead of REST")
	fs.Parse(args)

	if *recreate {
		if err := c.do(http.MethodDelete, "/v1/schema/"+*class, nil, nil); err != nil {
			return err
		}
		cls := map[string]any{"class": *class, "vectorizer": "none", "properties": []map[string]any{
			{"name": "title", "dataType": []string{"text"}},
			{"name": "count", "dataType": []string{"int"}},
		}}
		if err := c.do(http.MethodPost, "/v1/schema", cls, nil); err != nil {
			return err
		}
	}
	// Requests are generated and encoded before the clock starts, so the
	// client's own work does not count against the server on a shared machine.
	src, err := newVectorSource(*dist, *dims, *seed)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(*seed, 0))
	var batches [][]benchObject
	for start := 0; start < *objects; start += *batch {
		objs := make([]benchObject, min(*batch, *objects-start))
		for i := range objs {
			var idb [16]byte
			for j := range idb {
				idb[j] = byte(rng.Uint32())
			}
			id, _ := uuid.FromBytes(idb[:])
			objs[i] = benchObject{id: id, vector: src.next(), title: fmt.Sprintf("object %d", start+i), count: start + i}
		}
		batches = append(batches, objs)
	}
	var send func(i int) (failed int, err error)
	if *grpcAddr != "" {
		conn, sendGRPC, err := grpcBatchSender(*grpcAddr, c.apiKey, *class, batches)
		if err != nil {
			return err
		}
		defer conn.Close()
		send = sendGRPC
	} else if send, err = restBatchSender(c, *class, batches); err != nil {
		return err
	}
	next := make(chan int, len(batches))
	for i := range batches {
		next <- i
	}
	close(next)
	var done, failed atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				n, err := send(i)
				if err != nil {
					once.Do(func() { firstErr = err })
					failed.Add(int64(len(batches[i])))
					continue
				}
				failed.Add(int64(n))
				done.Add(int64(len(batches[i])))
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	transport := "REST"
	if *grpcAddr != "" {
		transport = "gRPC"
	}
	fmt.Printf("import: %d objects x %d dims in %.2fs = %.0f objects/s (%s, batch %d, %d workers, %d failed)\n",
		done.Load(), *dims, took.Seconds(), float64(done.Load())/took.Seconds(), transport, *batch, *workers, failed.Load())
	if failed.Load() > 0 {
		return fmt.Errorf("%d objects failed", failed.Load())
	}
	return nil
}

// benchObject is one generated object of an import.
type benchObject struct {
	id     uuid.UUID
	vector []float32
	title  string
	count  int
}

// restBatchSender encodes the batches as REST batch requests; send(i)
// posts batch i and returns how many of its objects failed.
func restBatchSender(c *client, class string, batches [][]benchObject) (func(int) (int, error), error) {
	bodies := make([]json.RawMessage, len(batches))
	for i, objs := range batches {
		list := make([]map[string]any, len(objs))
		for j, o := range objs {
			list[j] = map[string]any{"class": class, "id": o.id.String(), "vector": o.vector,
				"properties": map[string]any{"title": o.title, "count": o.count}}
		}
		b, err := json.Marshal(map[string]any{"objects": list})
		if err != nil {
			return nil, err
		}
		bodies[i] = b
	}
	return func(i int) (int, error) {
		var res []struct {
			Result struct {
				Status string `json:"status"`
			} `json:"result"`
		}
		if err := c.do(http.MethodPost, "/v1/batch/objects", bodies[i], &res); err != nil {
			return 0, err
		}
		failed := 0
		for _, r := range res {
			if r.Result.Status != "SUCCESS" {
				failed++
			}
		}
		return failed, nil
	}, nil
}

func runList(args []string) error {
	fs := flag.NewFlagSet("list", flag.ExitOnError)
	c, class := commonFlags(fs)
	page := fs.Int("page", 1000, "objects per page")
	withVector := fs.Bool("vector", true, "include vectors")
	fs.Parse(args)

	start := time.Now()
	total := 0
	after := ""
	for {
		path := fmt.Sprintf("/v1/objects?class=%s&limit=%d", *class, *page)
		if *withVector {
			path += "&include=vector"
		}
		if after != "" {
			path += "&after=" + after
		}
		var res struct {
			Objects []struct {
				ID string `json:"id"`
			} `json:"objects"`
		}
		if err := c.do(http.MethodGet, path, nil, &res); err != nil {
			return err
		}
		if len(res.Objects) == 0 {
			break
		}
		total += len(res.Objects)
		after = res.Objects[len(res.Objects)-1].ID
	}
	took := time.Since(start)
	fmt.Printf("list: %d objects (page %d, vectors %v) in %.2fs = %.0f objects/s\n",
		total, *page, *withVector, took.Seconds(), float64(total)/took.Seconds())
	return nil
}
