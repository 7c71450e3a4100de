// Package metrics holds the server's Prometheus metrics, every one named
// strata_*, and serves them (GET /metrics) in the Prometheus text format:
// backup and restore bytes, jobs by result, durations and jobs in flight,
// retries against backup backends, and the REST API's request latency by
// route, besides the Go runtime's and the process's own.
package metrics

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every metric the server exports.
var Registry = prometheus.NewRegistry()

var (
	// BackupBytes counts bytes moved to (kind "backup") or from ("restore")
	// a backup backend, as stored.
	BackupBytes = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_backup_bytes_total",
		Help: "Bytes written to (kind=backup) or read from (kind=restore) backup backends, as stored.",
	}, []string{"kind", "backend"}))

	// BackupJobs counts ended backups and restores by final status.
	BackupJobs = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_backup_jobs_total",
		Help: "Backups and restores that ended, by final status.",
	}, []string{"kind", "backend", "status"}))

	// BackupDuration observes how long ended backups and restores took.
	BackupDuration = register(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "strata_backup_duration_seconds",
		Help:    "Duration of backups and restores from start to end, by final status.",
		Buckets: prometheus.ExponentialBuckets(0.1, 2, 16), // 0.1 s … ~55 min
	}, []string{"kind", "backend", "status"}))

	// BackendRetries counts operations on a backup backend tried again
	// after a transient failure.
	BackendRetries = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_backup_backend_retries_total",
		Help: "Backup backend operations retried after a transient failure, by operation.",
	}, []string{"op"}))

	// HTTPDuration observes the REST API's requests by route pattern.
	HTTPDuration = register(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "strata_http_request_duration_seconds",
		Help:    "Latency of REST API requests, by method, route pattern and status code.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"method", "route", "code"}))
)

// JobEnded records a backup or restore that ended with status after
// took.
func JobEnded(kind, backend, status string, took time.Duration) {
	BackupJobs.WithLabelValues(kind, backend, status).Inc()
	BackupDuration.WithLabelValues(kind, backend, status).Observe(took.Seconds())
}

// inFlight reports the jobs running on this node, by kind.
var inFlight atomic.Pointer[func(kind string) int]

var registerInFlight sync.Once

// SetJobsInFlight makes strata_backup_jobs_in_flight{kind} report what fn
// counts (the backup manager's running jobs, parts of cluster jobs
// included).
func SetJobsInFlight(fn func(kind string) int) {
	inFlight.Store(&fn)
	registerInFlight.Do(func() {
		for _, kind := range []string{"backup", "restore"} {
			Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name:        "strata_backup_jobs_in_flight",
				Help:        "Backups and restores running on this node.",
				ConstLabels: prometheus.Labels{"kind": kind},
			}, func() float64 {
				if f := inFlight.Load(); f != nil {
					return float64((*f)(kind))
				}
				return 0
			}))
		}
	})
}

func init() {
	Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

func register[C prometheus.Collector](c C) C {
	Registry.MustRegister(c)
	return c
}

// Handler serves the registry in the Prometheus text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{})
}
