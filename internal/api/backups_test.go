package api

import (
	"encoding/json"
	"testing"
	"time"

	"strata/internal/backup"
)

// TestProgressJSON: a status's progress carries the totals, the rate and
// the time left, per class and per node, under the names the API uses.
func TestProgressJSON(t *testing.T) {
	p := &backup.Progress{BytesDone: 512, BytesTotal: 2048, FilesDone: 1, FilesTotal: 3, Rate: 256.4, ETA: 6 * time.Second,
		Classes: map[string]*backup.Progress{"Article": {BytesDone: 512, BytesTotal: 2048, FilesDone: 1, FilesTotal: 3}},
		Nodes:   map[string]*backup.Progress{"node1": {BytesDone: 512, BytesTotal: 2048}}}
	b, err := json.Marshal(progressJSON(p))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		BytesDone, BytesTotal, FilesDone, FilesTotal int64
		BytesPerSecond, EtaSeconds                   float64
		Classes, Nodes                               map[string]struct{ BytesDone, BytesTotal int64 }
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.BytesDone != 512 || got.BytesTotal != 2048 || got.FilesDone != 1 || got.FilesTotal != 3 ||
		got.BytesPerSecond != 256 || got.EtaSeconds != 6 || got.Classes["Article"].BytesTotal != 2048 || got.Nodes["node1"].BytesDone != 512 {
		t.Fatalf("progress JSON: %s", b)
	}
	var keys map[string]any
	json.Unmarshal(b, &keys)
	for _, k := range []string{"bytesDone", "bytesTotal", "filesDone", "filesTotal", "bytesPerSecond", "etaSeconds", "classes", "nodes"} {
		if _, ok := keys[k]; !ok {
			t.Fatalf("progress JSON lacks %q: %s", k, b)
		}
	}
}
