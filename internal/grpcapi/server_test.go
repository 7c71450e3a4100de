package grpcapi

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"strata/internal/config"
	"strata/internal/db"
	"strata/internal/schema"
)

// fixture is a real database served over an in-memory connection.
type fixture struct {
	db     *db.DB
	client pb.WeaviateClient
	health healthpb.HealthClient
}

func newFixture(t *testing.T, cfg config.Config) *fixture {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(db.Options{DataPath: t.TempDir(), AutoSchema: cfg.AutoSchema, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	srv := New(cfg, d, log)
	ln := bufconn.Listen(1 << 20)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///strata",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(1<<30), grpc.MaxCallRecvMsgSize(1<<30)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fixture{db: d, client: pb.NewWeaviateClient(conn), health: healthpb.NewHealthClient(conn)}
}

func (f *fixture) createClass(t *testing.T, c *schema.Class) {
	t.Helper()
	if _, err := f.db.CreateClass(c); err != nil {
		t.Fatalf("create class %s: %v", c.Class, err)
	}
}

func wantCode(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("error %v: code %v, want %v", err, status.Code(err), code)
	}
	if !strings.Contains(status.Convert(err).Message(), msg) {
		t.Fatalf("error message %q does not contain %q", status.Convert(err).Message(), msg)
	}
}

func id(n int) string { return uuid.UUID{15: byte(n)}.String() }

// TestGRPCHealth: SERVING for the names the clients send, without a key even
// when keys are required.
func TestGRPCHealth(t *testing.T) {
	cfg := config.Default()
	cfg.APIKeyEnabled, cfg.AnonymousAccess, cfg.APIKeys = true, false, []string{"k1"}
	f := newFixture(t, cfg)
	for _, name := range []string{"", "/grpc.health.v1.Health/Check", "weaviate.v1.Weaviate"} {
		res, err := f.health.Check(t.Context(), &healthpb.HealthCheckRequest{Service: name})
		if err != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) = %v, %v; want SERVING", name, res, err)
		}
	}
}

// TestGRPCAuth: with API keys on, calls need "authorization: Bearer <key>".
func TestGRPCAuth(t *testing.T) {
	cfg := config.Default()
	cfg.APIKeyEnabled, cfg.AnonymousAccess, cfg.APIKeys = true, false, []string{"k1", "k2"}
	f := newFixture(t, cfg)
	call := func(md ...string) error {
		ctx := metadata.AppendToOutgoingContext(t.Context(), md...)
		_, err := f.client.Search(ctx, &pb.SearchRequest{Collection: "Nope"})
		return err
	}
	wantCode(t, call(), codes.Unauthenticated, "anonymous access not enabled")
	wantCode(t, call("authorization", "Bearer wrong"), codes.Unauthenticated, "invalid api key")
	wantCode(t, call("authorization", "k1"), codes.Unauthenticated, "invalid api key")
	// Past authentication, the collection is unknown.
	wantCode(t, call("authorization", "Bearer k2"), codes.NotFound, `collection "Nope" not found`)

	cfg.AnonymousAccess = true
	f = newFixture(t, cfg)
	wantCode(t, call(), codes.NotFound, "not found")
	wantCode(t, call("authorization", "Bearer wrong"), codes.Unauthenticated, "invalid api key")
}

// vectorClass has the legacy unnamed vector with the given distance.
func vectorClass(name, distance string) *schema.Class {
	return &schema.Class{Class: name, VectorIndexConfig: map[string]any{"distance": distance},
		Properties: []*schema.Property{
			{Name: "title", DataType: []string{"text"}},
			{Name: "rank", DataType: []string{"int"}},
		}}
}

// namedClass has one named vector, "default", as the TypeScript client creates it.
func namedClass(name string) *schema.Class {
	return &schema.Class{Class: name, VectorConfig: map[string]schema.VectorConfig{
		"default": {Vectorizer: map[string]any{"none": map[string]any{}}, VectorIndexType: "hnsw"},
	}, Properties: []*schema.Property{{Name: "title", DataType: []string{"text"}}, {Name: "rank", DataType: []string{"int"}}}}
}

// testVectors are 3-d vectors of objects id(1)…id(n).
func testVectors(n int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		a := float64(i) * 0.7
		out[i] = []float32{float32(math.Cos(a)), float32(math.Sin(a)), float32(i%3) * 0.25}
	}
	return out
}

func batch(collection string, vecs [][]float32, named bool) *pb.BatchObjectsRequest {
	req := &pb.BatchObjectsRequest{}
	for i, v := range vecs {
		o := &pb.BatchObject{Uuid: id(i + 1), Collection: collection, Properties: &pb.BatchObject_Properties{
			NonRefProperties: &structpb.Struct{Fields: map[string]*structpb.Value{
				"title": structpb.NewStringValue("object " + id(i + 1)[30:]),
				"rank":  structpb.NewNumberValue(float64(i + 1)),
			}},
		}}
		if named {
			o.Vectors = []*pb.Vectors{{Name: "default", VectorBytes: float32Bytes(v), Type: pb.Vectors_VECTOR_TYPE_SINGLE_FP32}}
		} else {
			o.VectorBytes = float32Bytes(v)
		}
		req.Objects = append(req.Objects, o)
	}
	return req
}

// cosine is the cosine distance, as the database computes it (in float64
// here; compared with a tolerance).
func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return 1 - dot/math.Sqrt(na*nb)
}

func l2(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}

type ranked struct {
	id   string
	dist float64
}

func nearest(vecs [][]float32, q []float32, dist func(a, b []float32) float64) []ranked {
	out := make([]ranked, len(vecs))
	for i, v := range vecs {
		out[i] = ranked{id(i + 1), dist(v, q)}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].dist < out[j].dist })
	return out
}

// TestGRPCBatchAndNearVector: objects imported with BatchObjects (legacy and
// named vectors) are found by near_vector in exact distance order, with
// their properties and metadata; failed objects are reported by index.
func TestGRPCBatchAndNearVector(t *testing.T) {
	f := newFixture(t, config.Default())
	f.createClass(t, vectorClass("Legacy", "l2-squared"))
	f.createClass(t, namedClass("Named"))
	vecs := testVectors(12)
	ctx := t.Context()

	for _, tc := range []struct {
		class string
		named bool
		dist  func(a, b []float32) float64
	}{{"Legacy", false, l2}, {"Named", true, cosine}} {
		t.Run(tc.class, func(t *testing.T) {
			req := batch(tc.class, vecs, tc.named)
			bad := proto.Clone(req.Objects[0]).(*pb.BatchObject)
			bad.Uuid = "not-a-uuid"
			badProp := proto.Clone(req.Objects[1]).(*pb.BatchObject)
			badProp.Uuid = id(99)
			badProp.Properties.NonRefProperties.Fields["rank"] = structpb.NewStringValue("high")
			req.Objects = append(req.Objects, bad, badProp)
			reply, err := f.client.BatchObjects(ctx, req)
			if err != nil {
				t.Fatalf("BatchObjects: %v", err)
			}
			if len(reply.Errors) != 2 || reply.Errors[0].Index != 12 || reply.Errors[1].Index != 13 ||
				!strings.Contains(reply.Errors[0].Error, `invalid uuid "not-a-uuid"`) ||
				!strings.Contains(reply.Errors[1].Error, "invalid integer property 'rank'") {
				t.Fatalf("batch errors = %v, want indexes 12 (uuid) and 13 (rank)", reply.Errors)
			}

			q := []float32{0.9, 0.3, 0.1}
			want := nearest(vecs, q, tc.dist)[:5]
			res, err := f.client.Search(ctx, &pb.SearchRequest{
				Collection: tc.class, Limit: 5, Uses_127Api: true,
				NearVector: &pb.NearVector{Vectors: []*pb.Vectors{{VectorBytes: float32Bytes(q), Type: pb.Vectors_VECTOR_TYPE_SINGLE_FP32}}},
				Metadata:   &pb.MetadataRequest{Uuid: true, Distance: true, Certainty: true, Vector: true, CreationTimeUnix: true},
			})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if len(res.Results) != len(want) {
				t.Fatalf("%d results, want %d", len(res.Results), len(want))
			}
			for i, r := range res.Results {
				m := r.Metadata
				if m.Id != want[i].id || !m.DistancePresent || math.Abs(float64(m.Distance)-want[i].dist) > 1e-5 {
					t.Errorf("result %d: id %s distance %v (present %v); want %s %v", i, m.Id, m.Distance, m.DistancePresent, want[i].id, want[i].dist)
				}
				if m.CertaintyPresent != tc.named { // certainty only on the cosine index
					t.Errorf("result %d: certainty present = %v", i, m.CertaintyPresent)
				}
				if tc.named && math.Abs(float64(m.Certainty)-(1-want[i].dist/2)) > 1e-5 {
					t.Errorf("result %d: certainty %v, want %v", i, m.Certainty, 1-want[i].dist/2)
				}
				n := int(uuid.MustParse(m.Id)[15])
				var got []float32
				if tc.named {
					if len(m.Vectors) != 1 || m.Vectors[0].Name != "default" || len(m.VectorBytes) != 0 {
						t.Fatalf("result %d: vectors %v, vector_bytes %d bytes; want the named vector only", i, m.Vectors, len(m.VectorBytes))
					}
					got, _ = float32s(m.Vectors[0].VectorBytes)
				} else {
					got, _ = float32s(m.VectorBytes)
				}
				if !equalVec(got, vecs[n-1]) {
					t.Errorf("result %d: vector %v, want %v", i, got, vecs[n-1])
				}
				props := r.Properties.NonRefProps.Fields
				if props["rank"].GetIntValue() != int64(n) || props["title"].GetTextValue() != "object "+id(n)[30:] {
					t.Errorf("result %d: properties %v", i, props)
				}
				if r.Properties.TargetCollection != tc.class || !m.CreationTimeUnixPresent || m.CreationTimeUnix == 0 {
					t.Errorf("result %d: collection %q, creation time %d", i, r.Properties.TargetCollection, m.CreationTimeUnix)
				}
			}

			// The deprecated forms of the query vector find the same.
			for name, nv := range map[string]*pb.NearVector{
				"vector_bytes":       {VectorBytes: float32Bytes(q)},
				"vector":             {Vector: q},
				"vector_for_targets": {VectorForTargets: []*pb.VectorForTarget{{Name: vectorTarget(tc.named), VectorBytes: float32Bytes(q)}}},
			} {
				if !tc.named && name == "vector_for_targets" {
					continue
				}
				res, err := f.client.Search(ctx, &pb.SearchRequest{Collection: tc.class, Limit: 5, NearVector: nv,
					Metadata: &pb.MetadataRequest{Uuid: true}})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got := ids(res); strings.Join(got, ",") != strings.Join(rankedIDs(want), ",") {
					t.Errorf("%s: ids %v, want %v", name, got, rankedIDs(want))
				}
			}

			// A distance bound keeps only the closer ones.
			maxDist := (want[1].dist + want[2].dist) / 2
			res, err = f.client.Search(ctx, &pb.SearchRequest{Collection: tc.class, Limit: 10,
				NearVector: &pb.NearVector{VectorBytes: float32Bytes(q), Distance: &maxDist}, Metadata: &pb.MetadataRequest{Uuid: true}})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(res); strings.Join(got, ",") != strings.Join(rankedIDs(want[:2]), ",") {
				t.Errorf("distance %v: ids %v, want %v", maxDist, got, rankedIDs(want[:2]))
			}
		})
	}

	// Certainty needs a cosine index.
	cert := 0.5
	_, err := f.client.Search(ctx, &pb.SearchRequest{Collection: "Legacy",
		NearVector: &pb.NearVector{VectorBytes: float32Bytes([]float32{1, 0, 0}), Certainty: &cert}})
	wantCode(t, err, codes.InvalidArgument, "can't compute and return certainty when vector index is configured with l2-squared distance")
	// Wrong dimensions, wrong bytes, unknown target vector.
	_, err = f.client.Search(ctx, &pb.SearchRequest{Collection: "Named", NearVector: &pb.NearVector{VectorBytes: float32Bytes([]float32{1, 0})}})
	wantCode(t, err, codes.InvalidArgument, "")
	_, err = f.client.Search(ctx, &pb.SearchRequest{Collection: "Named", NearVector: &pb.NearVector{VectorBytes: []byte{1, 2, 3}}})
	wantCode(t, err, codes.InvalidArgument, "not a multiple of 4")
	_, err = f.client.Search(ctx, &pb.SearchRequest{Collection: "Named", NearVector: &pb.NearVector{
		VectorBytes: float32Bytes([]float32{1, 0, 0}), Targets: &pb.Targets{TargetVectors: []string{"other"}}}})
	wantCode(t, err, codes.InvalidArgument, `does not have named vector "other"`)
}

func vectorTarget(named bool) string {
	if named {
		return "default"
	}
	return ""
}

func equalVec(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func ids(res *pb.SearchReply) []string {
	out := make([]string, len(res.Results))
	for i, r := range res.Results {
		out[i] = r.Metadata.Id
	}
	return out
}

func rankedIDs(rs []ranked) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.id
	}
	return out
}

// TestGRPCListFilterCountDelete: listing pages (offset, after), fetch by id
// (the filter on _id the TypeScript client sends), Aggregate counts and
// BatchDelete.
func TestGRPCListFilterCountDelete(t *testing.T) {
	f := newFixture(t, config.Default())
	f.createClass(t, vectorClass("Article", "cosine"))
	ctx := t.Context()
	if reply, err := f.client.BatchObjects(ctx, batch("article", testVectors(10), false)); err != nil || len(reply.Errors) > 0 {
		t.Fatalf("BatchObjects: %v %v", reply, err)
	}

	list := func(req *pb.SearchRequest) []string {
		t.Helper()
		req.Collection = "Article"
		req.Metadata = &pb.MetadataRequest{Uuid: true}
		res, err := f.client.Search(ctx, req)
		if err != nil {
			t.Fatalf("Search(%v): %v", req, err)
		}
		return ids(res)
	}
	if got := list(&pb.SearchRequest{}); len(got) != 10 || got[0] != id(1) || got[9] != id(10) {
		t.Errorf("default listing = %v, want the 10 objects in id order", got)
	}
	if got := list(&pb.SearchRequest{Limit: 3, Offset: 2}); strings.Join(got, ",") != strings.Join([]string{id(3), id(4), id(5)}, ",") {
		t.Errorf("offset 2 limit 3 = %v", got)
	}
	if got := list(&pb.SearchRequest{Limit: 2, After: id(8)}); strings.Join(got, ",") != id(9)+","+id(10) {
		t.Errorf("after %s = %v", id(8), got)
	}

	byID := &pb.Filters{Operator: pb.Filters_OPERATOR_EQUAL, Target: onProp("_id"), TestValue: &pb.Filters_ValueText{ValueText: id(4)}}
	res, err := f.client.Search(ctx, &pb.SearchRequest{Collection: "Article", Filters: byID,
		Metadata: &pb.MetadataRequest{Uuid: true, Vector: true, CreationTimeUnix: true, LastUpdateTimeUnix: true, IsConsistent: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 || res.Results[0].Metadata.Id != id(4) || res.Results[0].Properties.NonRefProps.Fields["rank"].GetIntValue() != 4 {
		t.Fatalf("fetch by id = %v", res.Results)
	}
	if v, _ := float32s(res.Results[0].Metadata.VectorBytes); !equalVec(v, testVectors(10)[3]) {
		t.Errorf("fetch by id: vector %v", v)
	}
	if got := list(&pb.SearchRequest{Filters: &pb.Filters{Operator: pb.Filters_OPERATOR_GREATER_THAN_EQUAL, Target: onProp("rank"),
		TestValue: &pb.Filters_ValueInt{ValueInt: 9}}}); strings.Join(got, ",") != id(9)+","+id(10) {
		t.Errorf("rank >= 9 = %v", got)
	}
	_, err = f.client.Search(ctx, &pb.SearchRequest{Collection: "Article", After: id(1), Filters: byID})
	wantCode(t, err, codes.InvalidArgument, "where cannot be set with after and limit parameters")
	_, err = f.client.Search(ctx, &pb.SearchRequest{Collection: "Article", Limit: 10000, Offset: 1})
	wantCode(t, err, codes.InvalidArgument, "query maximum results exceeded")
	_, err = f.client.Search(ctx, &pb.SearchRequest{Collection: "Article", HybridSearch: &pb.Hybrid{Query: "x"}})
	wantCode(t, err, codes.Unimplemented, "hybrid search is not supported")

	count := func(filters *pb.Filters) int64 {
		t.Helper()
		reply, err := f.client.Aggregate(ctx, &pb.AggregateRequest{Collection: "Article", ObjectsCount: true, Filters: filters})
		if err != nil {
			t.Fatalf("Aggregate: %v", err)
		}
		return reply.GetSingleResult().GetObjectsCount()
	}
	lowRank := &pb.Filters{Operator: pb.Filters_OPERATOR_LESS_THAN, Target: onProp("rank"), TestValue: &pb.Filters_ValueInt{ValueInt: 4}}
	if n := count(nil); n != 10 {
		t.Errorf("count = %d, want 10", n)
	}
	if n := count(lowRank); n != 3 {
		t.Errorf("count rank < 4 = %d, want 3", n)
	}

	del, err := f.client.BatchDelete(ctx, &pb.BatchDeleteRequest{Collection: "Article", Filters: lowRank, DryRun: true, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	if del.Matches != 3 || del.Successful != 0 || len(del.Objects) != 3 || uuid.UUID(del.Objects[0].Uuid).String() != id(1) {
		t.Errorf("dry run = %v", del)
	}
	if n := count(nil); n != 10 {
		t.Errorf("count after dry run = %d, want 10", n)
	}
	del, err = f.client.BatchDelete(ctx, &pb.BatchDeleteRequest{Collection: "Article", Filters: lowRank})
	if err != nil {
		t.Fatal(err)
	}
	if del.Matches != 3 || del.Successful != 3 || del.Failed != 0 || len(del.Objects) != 0 {
		t.Errorf("delete = %v", del)
	}
	if n := count(nil); n != 7 {
		t.Errorf("count after delete = %d, want 7", n)
	}
	_, err = f.client.BatchDelete(ctx, &pb.BatchDeleteRequest{Collection: "Article"})
	wantCode(t, err, codes.InvalidArgument, "needs filters")
	_, err = f.client.Aggregate(ctx, &pb.AggregateRequest{Collection: "Article", Aggregations: []*pb.AggregateRequest_Aggregation{{Property: "rank"}}})
	wantCode(t, err, codes.Unimplemented, "property aggregations")
	_, err = f.client.Aggregate(ctx, &pb.AggregateRequest{Collection: "Nope", ObjectsCount: true})
	wantCode(t, err, codes.NotFound, `collection "Nope" not found`)
}

// TestGRPCTenants: TenantsGet lists a multi-tenant collection's tenants; data
// calls without a tenant are refused.
func TestGRPCTenants(t *testing.T) {
	f := newFixture(t, config.Default())
	c := vectorClass("MT", "cosine")
	c.MultiTenancyConfig = &schema.MultiTenancyConfig{Enabled: true}
	f.createClass(t, c)
	if err := f.db.AddTenants("MT", []db.Tenant{{Name: "t1"}, {Name: "t2", ActivityStatus: "COLD"}}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	reply, err := f.client.TenantsGet(ctx, &pb.TenantsGetRequest{Collection: "MT"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reply.Tenants) != 2 || reply.Tenants[0].Name != "t1" || reply.Tenants[0].ActivityStatus != pb.TenantActivityStatus_TENANT_ACTIVITY_STATUS_HOT ||
		reply.Tenants[1].ActivityStatus != pb.TenantActivityStatus_TENANT_ACTIVITY_STATUS_COLD {
		t.Errorf("tenants = %v", reply.Tenants)
	}
	reply, err = f.client.TenantsGet(ctx, &pb.TenantsGetRequest{Collection: "MT",
		Params: &pb.TenantsGetRequest_Names{Names: &pb.TenantNames{Values: []string{"t2", "t9"}}}})
	if err != nil || len(reply.Tenants) != 1 || reply.Tenants[0].Name != "t2" {
		t.Errorf("tenants t2,t9 = %v, %v", reply, err)
	}

	req := batch("MT", testVectors(2), false)
	for _, o := range req.Objects {
		o.Tenant = "t1"
	}
	if r, err := f.client.BatchObjects(ctx, req); err != nil || len(r.Errors) > 0 {
		t.Fatalf("BatchObjects to t1: %v %v", r, err)
	}
	n, err := f.client.Aggregate(ctx, &pb.AggregateRequest{Collection: "MT", Tenant: "t1", ObjectsCount: true})
	if err != nil || n.GetSingleResult().GetObjectsCount() != 2 {
		t.Errorf("count t1 = %v, %v", n, err)
	}
	_, err = f.client.Search(ctx, &pb.SearchRequest{Collection: "MT"})
	wantCode(t, err, codes.InvalidArgument, "multi-tenancy enabled, but request was without tenant")
	_, err = f.client.Search(ctx, &pb.SearchRequest{Collection: "MT", Tenant: "t2"})
	wantCode(t, err, codes.InvalidArgument, "tenant not active")
}

// TestGRPCMaxMessageSize: the server refuses requests larger than GRPC_MAX_MESSAGE_SIZE.
func TestGRPCMaxMessageSize(t *testing.T) {
	cfg := config.Default()
	cfg.GRPCMaxMessageSize = 4096
	f := newFixture(t, cfg)
	f.createClass(t, vectorClass("Big", "cosine"))
	_, err := f.client.BatchObjects(t.Context(), batch("Big", make([][]float32, 200), false))
	wantCode(t, err, codes.ResourceExhausted, "")
	if _, err := f.client.BatchObjects(t.Context(), batch("Big", testVectors(3), false)); err != nil {
		t.Fatalf("small batch: %v", err)
	}
}
