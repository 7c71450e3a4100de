package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// runBatchMem sends large REST batches to a freshly started server and
// reports the server's peak resident memory (VmHWM) against the body size.
func runBatchMem(args []string) error {
	fs := flag.NewFlagSet("batchmem", flag.ExitOnError)
	c, class := commonFlags(fs)
	pid := fs.Int("pid", 0, "server process id (required: its /proc/<pid>/status is read)")
	mib := fs.Int("mib", 100, "size of each batch body in MiB")
	dims := fs.Int("dims", 1536, "vector dimensions")
	concurrent := fs.Int("concurrent", 1, "batches sent at the same time")
	fs.Parse(args)
	if *pid <= 0 {
		return fmt.Errorf("--pid is required")
	}
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
	bodies := make([][]byte, *concurrent)
	objects := make([]int, *concurrent)
	for i := range bodies {
		b, n, err := batchBody(*class, *dims, int64(*mib)<<20, uint64(i+1))
		if err != nil {
			return err
		}
		bodies[i], objects[i] = b, n
	}
	before := procStatus(*pid, "VmRSS:")
	var wg sync.WaitGroup
	errs := make([]error, len(bodies))
	for i, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = sendCounted(c, body, objects[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	peak := procStatus(*pid, "VmHWM:")
	size := float64(len(bodies[0]))
	fmt.Printf("batchmem: %d x %.1f MiB body (%d objects x %d dims each), server RSS before %.0f MiB, peak (VmHWM) %.0f MiB = %.2fx the body, growth %.2fx the body\n",
		len(bodies), size/(1<<20), objects[0], *dims, float64(before)/(1<<20), float64(peak)/(1<<20), float64(peak)/size, float64(peak-before)/size)
	return nil
}

// batchBody encodes a batch of random objects of at least size bytes.
func batchBody(class string, dims int, size int64, seed uint64) ([]byte, int, error) {
	rng := rand.New(rand.NewPCG(seed, 3))
	var buf bytes.Buffer
	buf.WriteString(`{"objects":[`)
	n := 0
	for int64(buf.Len()) < size {
		v := make([]float32, dims)
		for j := range v {
			v[j] = rng.Float32()*2 - 1
		}
		var idb [16]byte
		for j := range idb {
			idb[j] = byte(rng.Uint32())
		}
		id, _ := uuid.FromBytes(idb[:])
		o, err := json.Marshal(map[string]any{"class": class, "id": id.String(), "vector": v,
			"properties": map[string]any{"title": fmt.Sprintf("object %d", n), "count": n}})
		if err != nil {
			return nil, 0, err
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(o)
		n++
	}
	buf.WriteString(`]}`)
	return buf.Bytes(), n, nil
}

// sendCounted posts a batch and checks that all of its objects succeeded,
// reading the response as a stream.
func sendCounted(c *client, body []byte, objects int) error {
	resp, err := c.send(http.MethodPost, "/v1/batch/objects", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	if _, err := dec.Token(); err != nil {
		return err
	}
	ok := 0
	for dec.More() {
		var item struct {
			Result struct {
				Status string `json:"status"`
			} `json:"result"`
		}
		if err := dec.Decode(&item); err != nil {
			return err
		}
		if item.Result.Status == "SUCCESS" {
			ok++
		}
	}
	if ok != objects {
		return fmt.Errorf("batch: %d of %d objects succeeded", ok, objects)
	}
	return nil
}

// procStatus reads a kB field of /proc/<pid>/status in bytes (0 if unknown).
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
