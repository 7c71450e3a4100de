// Package grpcapi serves Weaviate's gRPC API for one database: the service
// weaviate.v1.Weaviate (Search, BatchObjects, BatchDelete, Aggregate,
// TenantsGet) from the upstream generated protocol package, and the
// standard grpc.health.v1.Health service. It decodes the protocol messages,
// calls the database, and encodes replies; errors become gRPC status codes
// in one function (statusOf). It holds no data of its own and knows
// nothing of HTTP.
package grpcapi

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"strata/internal/config"
	"strata/internal/db"
	"strata/internal/filter"
	"strata/internal/schema"
)

// Store is what the gRPC API needs of the database.
type Store interface {
	// Class returns the class with exactly this name, or nil.
	Class(name string) *schema.Class
	Search(ctx context.Context, p db.SearchParams) ([]db.SearchHit, error)
	PutObjects(ctx context.Context, ins []*db.ObjectInput) ([]db.BatchResult, error)
	CountWhere(ctx context.Context, class, tenant string, where *filter.Clause) (int64, error)
	DeleteObjects(ctx context.Context, p db.DeleteParams) (db.DeleteResult, error)
	Tenants(class string) ([]db.Tenant, error)
}

var _ Store = (*db.DB)(nil)

// Server implements weaviate.v1.Weaviate. RPCs it does not implement
// (BatchReferences, BatchStream) answer Unimplemented.
type Server struct {
	pb.UnimplementedWeaviateServer
	cfg config.Config
	db  Store
	log *slog.Logger
}

// healthPrefix is the method prefix of the health service, which needs no key.
const healthPrefix = "/grpc.health.v1.Health/"

// New returns a gRPC server with the Weaviate and health services
// registered. Messages larger than cfg.GRPCMaxMessageSize are refused in
// either direction; API keys are enforced as on the REST API.
func New(cfg config.Config, store Store, log *slog.Logger) *grpc.Server {
	s := &Server{cfg: cfg, db: store, log: log}
	gs := grpc.NewServer(
		grpc.MaxRecvMsgSize(cfg.GRPCMaxMessageSize),
		grpc.MaxSendMsgSize(cfg.GRPCMaxMessageSize),
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
	)
	pb.RegisterWeaviateServer(gs, s)
	healthpb.RegisterHealthServer(gs, health{})
	return gs
}

// unaryInterceptor authenticates, recovers panics, maps errors to status
// codes and logs server faults.
func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in gRPC handler", "method", info.FullMethod, "panic", v, "stack", string(debug.Stack()))
			resp, err = nil, status.Errorf(codes.Internal, "internal error: %v", v)
		}
		if err != nil {
			err = s.statusOf(info.FullMethod, err)
		}
		s.log.Debug("grpc request", "method", info.FullMethod, "took", time.Since(start), "code", status.Code(err))
	}()
	if err := s.authenticate(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// streamInterceptor authenticates streaming RPCs (none is implemented, but
// an unauthenticated caller must learn that it lacks a key first).
func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := s.authenticate(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

// authenticate enforces API keys as the REST API does: with keys on, the
// metadata "authorization: Bearer <key>" must carry an allowed key, and a
// request without one is refused unless anonymous access is on. The health
// service stays open, as /v1/.well-known does.
func (s *Server) authenticate(ctx context.Context, method string) error {
	if s.cfg.AuthOpen() || strings.HasPrefix(method, healthPrefix) {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	var auth string
	if vals := md.Get("authorization"); len(vals) > 0 {
		auth = strings.TrimSpace(vals[0])
	}
	if auth == "" {
		if s.cfg.AnonymousAccess {
			return nil
		}
		return status.Error(codes.Unauthenticated,
			"anonymous access not enabled. Please authenticate through one of the available methods: [api-key]")
	}
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || !s.cfg.AcceptsKey(strings.TrimSpace(token)) {
		return status.Error(codes.Unauthenticated, "unauthorized: invalid api key")
	}
	return nil
}

// class resolves a request's collection (name normalised as on REST).
func (s *Server) class(name string) (*schema.Class, error) {
	if name == "" {
		return nil, invalidf("collection is required")
	}
	norm := schema.NormalizeClassName(name)
	c := s.db.Class(norm)
	if c == nil {
		return nil, notFoundf("collection %q not found", norm)
	}
	return c, nil
}

// took is the elapsed time since start in seconds, as replies report it.
func took(start time.Time) float32 { return float32(time.Since(start).Seconds()) }

// health answers SERVING for every service name: the TypeScript client asks
// for "/grpc.health.v1.Health/Check", the Go client for "", and the stock
// health server would answer NOT_FOUND to the first.
type health struct {
	healthpb.UnimplementedHealthServer
}

func (health) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// Watch sends SERVING once and ends the stream, so that a graceful stop
// never waits for a watcher.
func (health) Watch(_ *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	return stream.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING})
}

func (health) List(context.Context, *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	return &healthpb.HealthListResponse{Statuses: map[string]*healthpb.HealthCheckResponse{
		"":                                  {Status: healthpb.HealthCheckResponse_SERVING},
		pb.Weaviate_ServiceDesc.ServiceName: {Status: healthpb.HealthCheckResponse_SERVING},
	}}, nil
}
