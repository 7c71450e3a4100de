package backup

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// poolRun runs n tasks of d each on size workers and reports the most that
// ran at once and which tasks ran.
func poolRun(t *testing.T, size, n int, d time.Duration) (int, []bool) {
	t.Helper()
	var running, most atomic.Int64
	var mu sync.Mutex
	ran := make([]bool, n)
	err := runPool(context.Background(), size, n, func(ctx context.Context, i int) error {
		r := running.Add(1)
		for m := most.Load(); r > m && !most.CompareAndSwap(m, r); m = most.Load() {
		}
		time.Sleep(d)
		running.Add(-1)
		mu.Lock()
		ran[i] = true
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(most.Load()), ran
}

func TestRunPoolRunsEveryTaskOnAllWorkers(t *testing.T) {
	most, ran := poolRun(t, 3, 12, 20*time.Millisecond)
	if most != 3 {
		t.Fatalf("at most %d tasks ran at once, want 3", most)
	}
	for i, ok := range ran {
		if !ok {
			t.Fatalf("task %d did not run", i)
		}
	}
	if most, _ := poolRun(t, 4, 2, 5*time.Millisecond); most > 2 {
		t.Fatalf("%d tasks ran at once with only 2 tasks", most)
	}
}

func TestRunPoolStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	var after atomic.Int64
	err := runPool(context.Background(), 2, 100, func(ctx context.Context, i int) error {
		if i == 3 {
			return boom
		}
		if i > 10 {
			after.Add(1)
		}
		time.Sleep(time.Millisecond)
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if after.Load() > 5 {
		t.Fatalf("%d tasks well after the failing one still ran", after.Load())
	}
}
