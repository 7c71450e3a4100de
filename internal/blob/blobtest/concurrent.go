package blobtest

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"strata/internal/blob"
)

func testConcurrentPuts(t *testing.T, s blob.Store) {
	const writers, perWriter = 8, 8
	var want []string
	var wg sync.WaitGroup
	for w := range writers {
		for i := range perWriter {
			// Half the keys share directories with other writers'.
			keys := []string{fmt.Sprintf("conc/w%d/%d", w, i), fmt.Sprintf("conc/shared/d%d/w%d", i, w)}
			want = append(want, keys...)
			wg.Go(func() {
				for j, k := range keys {
					b := data(1000+10*w+i, uint64(100*w+10*i+j))
					if err := s.Put(t.Context(), k, bytes.NewReader(b), int64(len(b))); err != nil {
						t.Errorf("Put(%q): %v", k, err)
					}
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for w := range writers {
		for i := range perWriter {
			wantContent(t, s, fmt.Sprintf("conc/w%d/%d", w, i), data(1000+10*w+i, uint64(100*w+10*i)))
			wantContent(t, s, fmt.Sprintf("conc/shared/d%d/w%d", i, w), data(1000+10*w+i, uint64(100*w+10*i+1)))
		}
	}
	wantKeys(t, s, "conc/", slices.Sorted(slices.Values(want)))
}

// testConcurrentOverwrite checks that readers racing with writers of the
// same key always see one whole version.
func testConcurrentOverwrite(t *testing.T, s blob.Store) {
	const size, versions, readers = 256 << 10, 6, 4
	version := func(v int) []byte { return bytes.Repeat([]byte{byte('A' + v)}, size+v) }
	put(t, s, "race/k", version(0))

	var wg sync.WaitGroup
	done := make(chan struct{})
	for range readers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				rc, err := s.Get(t.Context(), "race/k")
				if err != nil {
					t.Errorf("Get during overwrites: %v", err)
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Errorf("reading during overwrites: %v", err)
					return
				}
				v := -1
				if len(got) > 0 {
					v = int(got[0]) - 'A'
				}
				if v < 0 || v >= versions || !bytes.Equal(got, version(v)) {
					t.Errorf("Get during overwrites returned %d bytes that are not one whole version", len(got))
					return
				}
			}
		})
	}
	var writers sync.WaitGroup
	for v := 1; v < versions; v++ {
		writers.Go(func() {
			for range 3 {
				b := version(v)
				if err := s.Put(t.Context(), "race/k", bytes.NewReader(b), int64(len(b))); err != nil {
					t.Errorf("Put version %d: %v", v, err)
				}
			}
		})
	}
	writers.Wait()
	close(done)
	wg.Wait()
}

// testConcurrentPutDelete puts and deletes keys sharing directories, as
// backup cleanup may do while another backup is written.
func testConcurrentPutDelete(t *testing.T, s blob.Store) {
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 10 {
				key := fmt.Sprintf("pd/d%d/sub/w%d", i%2, w)
				b := data(100, uint64(w))
				if err := s.Put(t.Context(), key, bytes.NewReader(b), int64(len(b))); err != nil {
					t.Errorf("Put(%q): %v", key, err)
					return
				}
				if w%2 == 0 {
					if err := s.Delete(t.Context(), key); err != nil {
						t.Errorf("Delete(%q): %v", key, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var want []string
	for _, d := range []int{0, 1} {
		for _, w := range []int{1, 3, 5} {
			want = append(want, fmt.Sprintf("pd/d%d/sub/w%d", d, w))
		}
	}
	wantKeys(t, s, "pd/", want)
}
