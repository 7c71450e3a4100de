// Package api is Strata's HTTP layer: it decodes and validates requests,
// calls the database, and encodes responses and errors in Weaviate's wire
// shapes. Error-to-status mapping lives in one function (statusOf). It holds
// no data of its own.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/sync/semaphore"

	"strata/internal/backup"
	"strata/internal/config"
	"strata/internal/db"
	"strata/internal/graphql"
	"strata/internal/metrics"
)

// APIVersion is the Weaviate API level Strata implements (reported by /v1/meta).
const APIVersion = "1.35.0"

// Server serves the REST API for one database.
type Server struct {
	cfg     config.Config
	db      *db.DB
	backups Backups
	log     *slog.Logger
	gql     *graphql.Executor
	version string // Strata build version
	handler http.Handler
	// bodies bounds the bytes of large request bodies being served at once
	// (see limitBody).
	bodies *semaphore.Weighted
	peers  Peers // nil on a node that runs alone
}

// Backups is the backup engine as the API drives it: *backup.Manager on a
// node alone, the cluster's coordinator on a node of several.
type Backups interface {
	Create(ctx context.Context, backend string, req backup.CreateRequest) (backup.Info, error)
	CreateStatus(ctx context.Context, backend, id, bucket, path string) (backup.Info, error)
	Cancel(ctx context.Context, backend, id, bucket, path string) error
	List(ctx context.Context, backend, order string) ([]backup.Info, error)
	Restore(ctx context.Context, backend string, req backup.RestoreRequest) (backup.Info, error)
	RestoreStatus(ctx context.Context, backend, id, bucket, path string) (backup.Info, error)
	CancelRestore(ctx context.Context, backend, id, bucket, path string) error
	Verify(ctx context.Context, backend, id, bucket, path, mode string) (backup.VerifyReport, error)
	Delete(ctx context.Context, backend, id, bucket, path string) error
	ApplyRetention(ctx context.Context, backend string, r backup.Retention) ([]string, error)
	RetentionPolicy() backup.Retention
	BackendMeta() map[string]any
}

// Peers is the cluster as the API reaches it: its nodes and their shards.
type Peers interface {
	// Members lists every node of the cluster, sorted, down ones too.
	Members() []string
	// NodeShards lists another node's shards of class ("" = all).
	NodeShards(ctx context.Context, node, class string) ([]db.ShardInfo, error)
	// RaftState is this node's view of raft.
	RaftState() (leader, state string, applied uint64)
}

// New builds the API server; peers is nil on a node that runs alone.
func New(cfg config.Config, database *db.DB, backups Backups, peers Peers, log *slog.Logger, version string) *Server {
	s := &Server{cfg: cfg, db: database, backups: backups, peers: peers, log: log, version: version,
		bodies: semaphore.NewWeighted(cfg.MaxBodyBytes)}
	s.gql = graphql.NewExecutor(gqlBackend{database}, graphql.Limits{
		DefaultLimit:         cfg.QueryDefaultsLimitGraphQL,
		MaxResults:           cfg.QueryMaximumResults,
		MaxResultsPerRequest: cfg.GraphQL.MaxResultsPerRequest,
		MaxQueries:           cfg.GraphQL.MaxQueries,
		MaxSelections:        cfg.GraphQL.MaxSelections,
		MaxDepth:             cfg.GraphQL.MaxDepth,
		MaxTokens:            cfg.GraphQL.MaxTokens,
	})
	s.handler = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.observe, s.recoverer, s.limitBody, s.authenticate)
	r.NotFound(notFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) { methodNotAllowed(r, w, req) })

	r.Get("/v1/.well-known/live", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Get("/v1/.well-known/ready", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Get("/v1/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	r.Get("/v1/meta", s.getMeta)
	r.Get("/v1/nodes", s.getNodes)
	r.Get("/v1/nodes/{class}", s.getNodes)
	r.Get("/v1/cluster/statistics", s.getClusterStatistics)

	r.Get("/v1/schema", s.listClasses)
	r.Post("/v1/schema", s.createClass)
	r.Get("/v1/schema/{class}", s.getClass)
	r.Head("/v1/schema/{class}", s.getClass)
	r.Put("/v1/schema/{class}", s.updateClass)
	r.Delete("/v1/schema/{class}", s.deleteClass)
	r.Post("/v1/schema/{class}/properties", s.addProperty)
	r.Get("/v1/schema/{class}/shards", s.getShards)
	r.Post("/v1/schema/{class}/tenants", s.addTenants)
	r.Get("/v1/schema/{class}/tenants", s.listTenants)
	r.Put("/v1/schema/{class}/tenants", s.updateTenants)
	r.Delete("/v1/schema/{class}/tenants", s.deleteTenants)
	r.Get("/v1/schema/{class}/tenants/{tenant}", s.getTenant)
	r.Head("/v1/schema/{class}/tenants/{tenant}", s.getTenant)

	r.Get("/v1/objects", s.listObjects)
	r.Post("/v1/objects", s.createObject)
	r.Post("/v1/objects/validate", s.validateObject)
	r.Get("/v1/objects/{class}/{id}", s.getObject)
	r.Head("/v1/objects/{class}/{id}", s.headObject)
	r.Put("/v1/objects/{class}/{id}", s.replaceObject)
	r.Patch("/v1/objects/{class}/{id}", s.mergeObject)
	r.Delete("/v1/objects/{class}/{id}", s.deleteObject)
	r.Get("/v1/objects/{id}", s.getObject)
	r.Head("/v1/objects/{id}", s.headObject)
	r.Put("/v1/objects/{id}", s.replaceObject)
	r.Patch("/v1/objects/{id}", s.mergeObject)
	r.Delete("/v1/objects/{id}", s.deleteObject)

	r.Post("/v1/batch/objects", s.batchObjects)
	r.Delete("/v1/batch/objects", s.batchDelete)

	r.Post("/v1/graphql", s.graphQL)

	r.Post("/v1/backups/{backend}", s.createBackup)
	r.Get("/v1/backups/{backend}", s.listBackups)
	r.Get("/v1/backups/{backend}/{id}", s.backupStatus)
	r.Delete("/v1/backups/{backend}/{id}", s.cancelBackup)
	r.Post("/v1/backups/{backend}/{id}/restore", s.restoreBackup)
	r.Post("/v1/backups/{backend}/{id}/verify", s.verifyBackup)
	r.Post("/v1/backups/{backend}/retention", s.applyRetention)
	r.Method(http.MethodGet, "/metrics", metrics.Handler())
	r.Get("/v1/backups/{backend}/{id}/restore", s.restoreStatus)
	r.Delete("/v1/backups/{backend}/{id}/restore", s.cancelRestore)
	return r
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeBinding(w, &bindingError{Code: http.StatusNotFound, Message: fmt.Sprintf("path %s was not found", r.URL.Path)})
}

// pathParam is the named path parameter, percent-decoded exactly once.
// The router matches on the escaped path when the request has one, so an
// encoded '/' stays inside its segment (a backup id "..%2Fx" is the id
// "../x", refused as an id, not a path that climbs), and hands the
// parameter out escaped; without an escaped path it is already decoded.
func pathParam(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if r.URL.RawPath == "" {
		return v
	}
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
}

// methodNotAllowed answers 405 with the Allow header and Weaviate's message.
func methodNotAllowed(router chi.Routes, w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodPost, http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if router.Match(chi.NewRouteContext(), m, r.URL.Path) {
			allowed = append(allowed, m)
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeBinding(w, &bindingError{Code: http.StatusMethodNotAllowed,
		Message: fmt.Sprintf("method %s is not allowed, but [%s] are", r.Method, strings.Join(allowed, ","))})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeMessage(w, http.StatusInternalServerError, fmt.Sprintf("internal error: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// observe logs every request (debug level) and records its latency by
// route pattern and status code (strata_http_request_duration_seconds).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		took := time.Since(start)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		metrics.HTTPDuration.WithLabelValues(r.Method, route, strconv.Itoa(code)).Observe(took.Seconds())
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", code, "took", took)
	})
}

// statusWriter remembers the status code a handler sent.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines,
// flushes).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// largeBodyBytes is the body size from which a request waits for its
// share of the in-flight body budget.
const largeBodyBytes = 1 << 20

// limitBody refuses bodies over STRATA_MAX_BODY_BYTES (413) and bounds the
// large bodies served at once: together they are at most
// STRATA_MAX_BODY_BYTES, so the memory they take stays a small multiple of
// that (a request's memory is a multiple of its body). A large request
// waits for earlier ones to finish; a body of unknown length counts as the
// largest allowed.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			writeBinding(w, &bindingError{Code: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("request body too large: the limit is %d bytes", s.cfg.MaxBodyBytes)})
			return
		}
		weight := r.ContentLength
		if weight < 0 && r.Body != nil && r.Body != http.NoBody {
			weight = s.cfg.MaxBodyBytes
		}
		if weight >= largeBodyBytes {
			if err := s.bodies.Acquire(r.Context(), weight); err != nil {
				return // the client is gone
			}
			defer s.bodies.Release(weight)
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// authenticate enforces API keys when they are enabled. /.well-known stays open.
func (s *Server) authenticate(next http.Handler) http.Handler {
	if s.cfg.AuthOpen() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/.well-known/") {
			next.ServeHTTP(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		if auth == "" {
			if s.cfg.AnonymousAccess {
				next.ServeHTTP(w, r)
				return
			}
			writeBinding(w, &bindingError{Code: http.StatusUnauthorized,
				Message: "anonymous access not enabled. Please authenticate through one of the available methods: [api-key]"})
			return
		}
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || !s.cfg.AcceptsKey(strings.TrimSpace(token)) {
			writeBinding(w, &bindingError{Code: http.StatusUnauthorized, Message: "unauthorized: invalid api key"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
