package schedule

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"strata/internal/apperr"
	"strata/internal/backup"
)

// fakeBackups records creates; List answers them and any earlier ones.
type fakeBackups struct {
	mu      sync.Mutex
	now     func() time.Time
	infos   []backup.Info
	created []string
	busy    bool // Create refuses: a backup is running
}

func (f *fakeBackups) Create(ctx context.Context, backend string, req backup.CreateRequest) (backup.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy {
		return backup.Info{}, apperr.Invalidf("backup manual already in progress")
	}
	f.created = append(f.created, req.ID)
	info := backup.Info{ID: req.ID, Status: backup.StatusStarted, StartedAt: f.now()}
	f.infos = append(f.infos, info)
	return info, nil
}

func (f *fakeBackups) List(ctx context.Context, backend, order string) ([]backup.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]backup.Info(nil), f.infos...), nil
}

func (f *fakeBackups) runs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.created...)
}

// clock is a test clock the scheduler reads.
type clock struct{ t atomic.Pointer[time.Time] }

func (c *clock) now() time.Time      { return *c.t.Load() }
func (c *clock) set(t time.Time)     { c.t.Store(&t) }
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func start(t *testing.T, cfg Config, f *fakeBackups, c *clock, leader func() bool) *Scheduler {
	t.Helper()
	s, err := New(cfg, f, Options{Now: c.now, Tick: 2 * time.Millisecond, IsLeader: leader, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// settle gives the scheduler time for a few ticks.
func settle() { time.Sleep(40 * time.Millisecond) }

func TestRunsOnSchedule(t *testing.T) {
	c := &clock{}
	c.set(time.Date(2026, 12, 6, 2, 30, 0, 0, time.UTC))
	f := &fakeBackups{now: c.now}
	start(t, Config{Spec: "0 3 * * *"}, f, c, nil)
	settle()
	if runs := f.runs(); len(runs) != 0 {
		t.Fatalf("ran before its time: %v", runs)
	}
	c.set(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	settle()
	c.add(time.Hour) // not due again until tomorrow
	settle()
	if runs := f.runs(); len(runs) != 1 || runs[0] != "scheduled-20261206-030000" {
		t.Fatalf("runs: %v", runs)
	}
}

// A run missed while the server was down (the last scheduled backup is
// two days old) runs once at start-up, then the schedule goes on.
func TestMissedRunRunsOnce(t *testing.T) {
	c := &clock{}
	c.set(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	f := &fakeBackups{now: c.now, infos: []backup.Info{
		{ID: "nightly-20261204-030000", StartedAt: time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)},
		{ID: "manual", StartedAt: time.Date(2026, 12, 6, 11, 0, 0, 0, time.UTC)}, // not the schedule's
	}}
	start(t, Config{Spec: "0 3 * * *", ID: "nightly-{time}"}, f, c, nil)
	settle()
	if runs := f.runs(); len(runs) != 1 || runs[0] != "nightly-20261206-120000" {
		t.Fatalf("after a restart with runs missed: %v", runs)
	}
	c.add(time.Hour)
	settle()
	c.set(time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC))
	settle()
	if runs := f.runs(); len(runs) != 2 || runs[1] != "nightly-20261207-030000" {
		t.Fatalf("runs: %v", runs)
	}
}

// A run that finds a backup running is skipped, not queued; a node that
// does not lead runs nothing.
func TestNeverTwoAtATimeAndOnlyTheLeader(t *testing.T) {
	c := &clock{}
	c.set(time.Date(2026, 12, 6, 0, 0, 30, 0, time.UTC))
	f := &fakeBackups{now: c.now, busy: true}
	start(t, Config{Spec: "@every 1m"}, f, c, nil)
	settle()
	c.add(time.Minute)
	settle()
	f.mu.Lock()
	f.busy = false
	f.mu.Unlock()
	settle()
	if runs := f.runs(); len(runs) != 0 {
		t.Fatalf("a run while a backup ran was queued: %v", runs)
	}
	c.add(time.Minute)
	settle()
	if runs := f.runs(); len(runs) != 1 {
		t.Fatalf("the next run: %v", runs)
	}

	var leads atomic.Bool
	g := &fakeBackups{now: c.now}
	start(t, Config{Spec: "@every 1m"}, g, c, leads.Load)
	settle()
	c.add(2 * time.Minute)
	settle()
	if runs := g.runs(); len(runs) != 0 {
		t.Fatalf("a follower ran the schedule: %v", runs)
	}
	leads.Store(true)
	settle()
	c.add(time.Minute)
	settle()
	if runs := g.runs(); len(runs) != 1 {
		t.Fatalf("the leader's runs: %v", runs)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Spec: "every day"}, "STRATA_BACKUP_SCHEDULE"},
		{Config{Spec: "@daily", ID: "nightly"}, "has no {time}"},
		{Config{Spec: "@daily", ID: "Nightly-{time}"}, "lowercase"},
		{Config{Spec: "@daily", ID: "../x-{time}"}, "lowercase"},
	} {
		if _, _, err := Parse(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}
