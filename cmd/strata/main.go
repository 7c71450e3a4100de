// Command strata is the Strata server: a Weaviate-compatible vector
// database whose strongest part is backup and restore.
//
//	strata serve [--host 127.0.0.1] [--port 8080] [--grpc-port 50051] [--scheme http]
//	strata backup create|status|list|restore|cancel|verify|delete [flags] [id]
//	strata version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"strata/internal/api"
	"strata/internal/backup"
	"strata/internal/backup/coordinator"
	"strata/internal/backup/crypt"
	"strata/internal/backup/schedule"
	"strata/internal/backupcli"
	"strata/internal/config"
	"strata/internal/db"
	"strata/internal/grpcapi"
	"strata/internal/node"
)

// version is the Strata build version (set with -ldflags "-X main.version=…").
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: strata serve [--host H] [--port P] [--grpc-port G] | strata backup <command> | strata version")
		return 2
	}
	switch args[0] {
	case "version", "--version":
		fmt.Fprintf(stdout, "strata %s (Weaviate API %s)\n", version, api.APIVersion)
		return 0
	case "serve":
		cfg, err := config.Load(args[1:], getenv, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "strata: configuration: %v\n", err)
			return 2
		}
		if err := serve(cfg, stderr); err != nil {
			fmt.Fprintf(stderr, "strata: %v\n", err)
			return 1
		}
		return 0
	case "backup":
		return backupcli.Run(args[1:], backupcli.Options{Getenv: getenv, Stdout: stdout, Stderr: stderr,
			Terminal: stdout == io.Writer(os.Stdout) && isTerminal(os.Stdout)})
	default:
		fmt.Fprintf(stderr, "strata: unknown command %q (use serve, backup or version)\n", args[0])
		return 2
	}
}

// backgroundProcs is how many Go processors are added beyond the CPUs: backup
// and restore goroutines run on background-priority threads and each holds a
// processor while it works, so without spare processors a request could wait
// for one even though the OS would give it the CPU at once.
const backgroundProcs = 2

func serve(cfg config.Config, stderr io.Writer) error {
	cpus := runtime.GOMAXPROCS(0)
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(cpus + backgroundProcs)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	for _, m := range cfg.UnknownModules {
		log.Warn("ENABLE_MODULES names a module Strata does not provide; ignoring it", "module", m)
	}
	scheduled := schedule.Config{Spec: cfg.BackupSchedule, ID: cfg.BackupScheduleID, Backend: cfg.BackupScheduleBackend,
		Include: cfg.BackupScheduleInclude, Exclude: cfg.BackupScheduleExclude}
	if scheduled.Spec != "" {
		if _, _, err := schedule.Parse(scheduled); err != nil {
			return err
		}
	}

	if cfg.DebugAddr != "" {
		go func() {
			// net/http/pprof registers on the default mux, which serves nothing else.
			log.Info("serving pprof", "address", cfg.DebugAddr)
			if err := http.ListenAndServe(cfg.DebugAddr, nil); err != nil {
				log.Error("debug listener", "err", err)
			}
		}()
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Bind gRPC now, so that a taken port stops start-up at once; it
	// serves once the database is open.
	grpcLn, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.GRPCPort)))
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen (gRPC): %w", err)
	}
	// Serve liveness (and 503 readiness) while the database opens.
	var handler atomic.Pointer[http.Handler]
	var starting http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/.well-known/live" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	handler.Store(&starting)
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: 30 * time.Second,
	}
	serveErr := make(chan error, 2) // REST and gRPC
	go func() { serveErr <- srv.Serve(ln) }()

	dbOpts := db.Options{DataPath: cfg.DataPath, AutoSchema: cfg.AutoSchema, AutoSchemaLimits: cfg.AutoSchemaLimits,
		MaxActiveShards: cfg.MaxActiveShards, Node: cfg.NodeName, Logger: log}
	var member *node.Node
	if cfg.Cluster.Multi(cfg.NodeName) {
		// One node of several: membership first (the database places
		// shards on the live nodes), then the database, then raft over
		// its schema.
		if member, err = node.Join(node.Config{Name: cfg.NodeName, RaftDir: filepath.Join(cfg.DataPath, "raft"),
			Cluster: cfg.Cluster, Logger: log}); err != nil {
			srv.Close()
			grpcLn.Close()
			return err
		}
		dbOpts.Log, dbOpts.Nodes, dbOpts.Remote = member, member.Nodes, member.Remote()
	}
	database, err := db.Open(dbOpts)
	var backups *backup.Manager
	if err == nil {
		if backups, err = openBackups(cfg, database, log); err != nil {
			database.Close()
		}
	}
	if err == nil && member != nil {
		if err = member.Start(database, backups); err != nil {
			backups.Close()
			database.Close()
		}
	}
	if err != nil {
		if member != nil {
			member.Close()
		}
		srv.Close()
		grpcLn.Close()
		return err
	}
	var backupAPI api.Backups = backups
	var coord *coordinator.Coordinator
	if member != nil {
		coord = coordinator.New(coordinator.Options{Cluster: member, Parts: member.Participants(), Local: backups,
			NodeTimeout: cfg.Cluster.BackupNodeTimeout, StallTimeout: cfg.Cluster.BackupStallTimeout, Logger: log})
		backupAPI = coord
	}
	var sched *schedule.Scheduler
	if scheduled.Spec != "" {
		var leads func() bool
		if member != nil {
			leads = member.IsLeader
		}
		sched, _ = schedule.New(scheduled, backupAPI, schedule.Options{IsLeader: leads, Logger: log}) // parsed above
	}
	grpcSrv := grpcapi.New(cfg, database, log)
	go func() { serveErr <- grpcSrv.Serve(grpcLn) }()
	var peers api.Peers
	if member != nil {
		peers = member
	}
	var ready http.Handler = api.New(cfg, database, backupAPI, peers, log, version)
	handler.Store(&ready)
	log.Info("strata is ready", "address", ln.Addr().String(), "grpc", grpcLn.Addr().String(),
		"data", cfg.DataPath, "version", version)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			srv.Close()
			grpcSrv.Stop()
			if sched != nil {
				sched.Close()
			}
			if coord != nil {
				coord.Close()
			}
			backups.Close()
			if member != nil {
				member.Close()
			}
			database.Close()
			return fmt.Errorf("serve: %w", err)
		}
	}
	log.Info("shutting down")
	handler.Store(&starting)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopGRPC(shutdownCtx, grpcSrv, log)
	if sched != nil {
		sched.Close()
	}
	if coord != nil {
		coord.Close()
	}
	backups.Close()
	if member != nil {
		if err := member.Close(); err != nil {
			log.Warn("leaving the cluster", "err", err)
		}
	}
	return database.Close()
}

// stopGRPC lets running RPCs finish, and cuts them off when ctx ends.
func stopGRPC(ctx context.Context, s *grpc.Server, log *slog.Logger) {
	done := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		log.Warn("grpc shutdown: RPCs still running, stopping them")
		s.Stop()
		<-done
	}
}

// openBackups configures the enabled backup backends and the backup
// manager, which fails jobs a crash interrupted. Its worker pools are a
// share of GOMAXPROCS, as in Weaviate.
func openBackups(cfg config.Config, database *db.DB, log *slog.Logger) (*backup.Manager, error) {
	ctx := context.Background()
	backends, err := backupBackends(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	key, err := encryptionKey(cfg)
	if err != nil {
		return nil, err
	}
	return backup.New(ctx, backup.Options{
		DB: database, DataPath: cfg.DataPath, Node: cfg.NodeName, ServerVersion: api.APIVersion,
		Backends: backends, Logger: log, Clustered: cfg.Cluster.Multi(cfg.NodeName),
		Retention:  backup.Retention{KeepLast: cfg.BackupKeepLast, KeepWithin: cfg.BackupKeepWithin},
		Encryption: key,
	})
}

// encryptionKey reads the backup encryption key, if one is configured.
func encryptionKey(cfg config.Config) (*crypt.Key, error) {
	text, what := cfg.BackupEncryptionKey, "STRATA_BACKUP_ENCRYPTION_KEY"
	if cfg.BackupEncryptionKeyFile != "" {
		b, err := os.ReadFile(cfg.BackupEncryptionKeyFile)
		if err != nil {
			return nil, fmt.Errorf("STRATA_BACKUP_ENCRYPTION_KEY_FILE: %w", err)
		}
		text, what = string(b), "STRATA_BACKUP_ENCRYPTION_KEY_FILE"
	}
	if text == "" {
		return nil, nil
	}
	key, err := crypt.ParseKey(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return key, nil
}

// isTerminal tells whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
