// Package schedule runs backups on a cron schedule (STRATA_BACKUP_SCHEDULE).
//
// A scheduled backup's id is the schedule's pattern with {time} replaced
// by the run's time (UTC, 20060102-150405). The last run is read from the
// backend — the newest backup whose id has the pattern's prefix — so a
// restart, or a new leader in a cluster, knows it: a run missed while the
// server was down runs once at start-up (several missed runs make one).
// Runs never overlap: a run that finds a backup still running is skipped.
// In a cluster only the raft leader runs the schedule.
package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"strata/internal/apperr"
	"strata/internal/backup"
	"strata/internal/backup/layout"
)

// TimeLayout is how {time} is rendered in scheduled backup ids.
const TimeLayout = "20060102-150405"

// Config is a backup schedule.
type Config struct {
	// Spec is a cron expression: five fields (minute hour day-of-month
	// month day-of-week) or a descriptor (@daily, @every 6h).
	Spec    string
	ID      string // the id pattern, with {time} (default "scheduled-{time}")
	Backend string // default "filesystem"
	Include []string
	Exclude []string
}

// Backups is what the scheduler needs of the backup API.
type Backups interface {
	Create(ctx context.Context, backend string, req backup.CreateRequest) (backup.Info, error)
	List(ctx context.Context, backend, order string) ([]backup.Info, error)
}

// Scheduler runs one schedule.
type Scheduler struct {
	cfg     Config
	sched   cron.Schedule
	backups Backups
	// IsLeader tells whether this node runs the schedule (nil: always).
	isLeader func() bool
	now      func() time.Time
	tick     time.Duration
	log      *slog.Logger

	stop chan struct{}
	wg   sync.WaitGroup
}

// Options tune a Scheduler; zero values are the defaults.
type Options struct {
	IsLeader func() bool
	// Now and Tick are the clock and how often it is read (tests).
	Now    func() time.Time
	Tick   time.Duration
	Logger *slog.Logger
}

// Parse checks a schedule and fills its defaults.
func Parse(cfg Config) (Config, cron.Schedule, error) {
	sched, err := cron.ParseStandard(cfg.Spec)
	if err != nil {
		return cfg, nil, fmt.Errorf("STRATA_BACKUP_SCHEDULE: %q: %w", cfg.Spec, err)
	}
	if cfg.ID == "" {
		cfg.ID = "scheduled-{time}"
	}
	if !strings.Contains(cfg.ID, "{time}") {
		return cfg, nil, fmt.Errorf("STRATA_BACKUP_SCHEDULE_ID: %q has no {time}: every run needs its own id", cfg.ID)
	}
	if id := render(cfg.ID, time.Now()); layout.CheckID(id) != nil {
		return cfg, nil, fmt.Errorf("STRATA_BACKUP_SCHEDULE_ID: %q makes ids like %q: %v", cfg.ID, id, layout.CheckID(id))
	}
	if cfg.Backend == "" {
		cfg.Backend = "filesystem"
	}
	return cfg, sched, nil
}

// New starts a scheduler; Close stops it.
func New(cfg Config, backups Backups, o Options) (*Scheduler, error) {
	cfg, sched, err := Parse(cfg)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Scheduler{cfg: cfg, sched: sched, backups: backups, isLeader: o.IsLeader, now: o.Now, tick: o.Tick,
		log: o.Logger.With("component", "backup-schedule"), stop: make(chan struct{})}
	s.wg.Add(1)
	go s.loop()
	return s, nil
}

// Close stops the scheduler (a backup it started goes on).
func (s *Scheduler) Close() {
	close(s.stop)
	s.wg.Wait()
}

func render(pattern string, t time.Time) string {
	return strings.ReplaceAll(pattern, "{time}", t.UTC().Format(TimeLayout))
}

// lastRun is the start of the newest backup of this schedule in the
// backend (zero: none).
func (s *Scheduler) lastRun(ctx context.Context) (time.Time, error) {
	prefix, _, _ := strings.Cut(s.cfg.ID, "{time}")
	infos, err := s.backups.List(ctx, s.cfg.Backend, "desc")
	if err != nil {
		return time.Time{}, err
	}
	var last time.Time
	for _, in := range infos {
		if strings.HasPrefix(in.ID, prefix) && in.StartedAt.After(last) {
			last = in.StartedAt
		}
	}
	return last, nil
}

func (s *Scheduler) loop() {
	defer s.wg.Done()
	var next time.Time // zero until this node leads and knows the last run
	for {
		select {
		case <-s.stop:
			return
		case <-time.After(s.tick):
		}
		if s.isLeader != nil && !s.isLeader() {
			next = time.Time{}
			continue
		}
		now := s.now()
		if next.IsZero() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			last, err := s.lastRun(ctx)
			cancel()
			if err != nil {
				s.log.Warn("read the last scheduled backup", "err", err)
				continue
			}
			next = s.sched.Next(now)
			if !last.IsZero() {
				if missed := s.sched.Next(last); missed.Before(next) {
					next = missed // due already: runs now, once
				}
			}
			s.log.Info("backup schedule", "spec", s.cfg.Spec, "next", next, "last", last)
		}
		if now.Before(next) {
			continue
		}
		s.run(now)
		next = s.sched.Next(now)
	}
}

// run starts one scheduled backup; a backup still running skips it.
func (s *Scheduler) run(now time.Time) {
	id := render(s.cfg.ID, now)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.backups.Create(ctx, s.cfg.Backend, backup.CreateRequest{ID: id, Include: s.cfg.Include, Exclude: s.cfg.Exclude})
	switch {
	case err == nil:
		s.log.Info("scheduled backup started", "id", id, "backend", s.cfg.Backend)
	case apperr.KindOf(err) == apperr.Invalid && strings.Contains(err.Error(), "in progress"):
		s.log.Warn("scheduled backup skipped: a backup is still running", "id", id, "err", err)
	default:
		s.log.Error("scheduled backup not started", "id", id, "err", err)
	}
}
