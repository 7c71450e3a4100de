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
func poolRun(t *testing.T, size, n int, idle func() bool, d time.Duration) (int, []bool) {
	t.Helper()
	var running, most atomic.Int64
	var mu sync.Mutex
	ran := make([]bool, n)
	err := runPool(context.Background(), size, n, idle, func(ctx context.Context, i int) error {
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

func TestRunPoolUsesExtraWorkersOnlyWhenIdle(t *testing.T) {
	most, ran := poolRun(t, 3, 12, func() bool { return true }, 20*time.Millisecond)
	if most != 3 {
		t.Fatalf("idle server: at most %d tasks ran at once, want 3", most)
	}
	for i, ok := range ran {
		if !ok {
			t.Fatalf("task %d did not run", i)
		}
	}
	most, ran = poolRun(t, 3, 12, func() bool { return false }, 2*time.Millisecond)
	if most != 1 {
		t.Fatalf("busy server: %d tasks ran at once, want 1", most)
	}
	for i, ok := range ran {
		if !ok {
			t.Fatalf("busy server: task %d did not run", i)
		}
	}
}

func TestRunPoolStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	var after atomic.Int64
	err := runPool(context.Background(), 2, 100, func() bool { return true }, func(ctx context.Context, i int) error {
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

// TestRunPoolPausesExtraWorkersWhileBusy checks the pause points: an extra
// worker that took a task waits at them while the server is busy and
// tasks remain for the first worker, and stops waiting once every task is
// taken, so the job never waits on it.
func TestRunPoolPausesExtraWorkersWhileBusy(t *testing.T) {
	var busy atomic.Bool
	extraStarted := make(chan struct{})
	release := make(chan struct{})
	var extraDone, firstDone atomic.Int64
	var order []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	var firstTask atomic.Bool
	err := runPool(context.Background(), 2, 3, func() bool { return !busy.Load() }, func(ctx context.Context, i int) error {
		pause := pausePoint(ctx)
		if pause == nil { // the first worker
			if firstTask.CompareAndSwap(false, true) {
				<-extraStarted // the extra worker holds a task now
				busy.Store(true)
				close(release)
				time.Sleep(20 * time.Millisecond) // the extra worker must stay paused meanwhile
				note("first worker finished its first task")
			}
			firstDone.Add(1)
			return nil
		}
		close(extraStarted) // the extra worker runs one task: it takes none while busy
		<-release
		pause() // busy, and a task is still untaken: waits until the first worker takes it
		note("extra worker passed its pause point")
		extraDone.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if extraDone.Load() != 1 || firstDone.Load() != 2 {
		t.Fatalf("extra worker ran %d tasks, first worker %d; want 1 and 2", extraDone.Load(), firstDone.Load())
	}
	if len(order) != 2 || order[0] != "first worker finished its first task" {
		t.Fatalf("order %q: the extra worker passed its pause point while the server was busy and a task was untaken", order)
	}
	if pausePoint(context.Background()) != nil {
		t.Fatal("a context outside runPool has a pause point")
	}
}
