package fsutil

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestPacedWriterWritesEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	want := make([]byte, 3*pacingLag+12345)
	for i := range want {
		want[i] = byte(r.Uint32())
	}
	w := NewPacedWriter(f)
	for off := 0; off < len(want); {
		n := min(len(want)-off, 1+r.IntN(300_000)) // uneven writes
		if m, err := w.Write(want[off : off+n]); err != nil || m != n {
			t.Fatalf("Write = %d, %v", m, err)
		}
		off += n
	}
	if w.waited == 0 || w.started <= w.waited {
		t.Errorf("writeback never paced: started %d, waited %d", w.started, w.waited)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("file content differs (%d bytes, %v)", len(got), err)
	}
}
