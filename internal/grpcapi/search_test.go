package grpcapi

import (
	"math"
	"strings"
	"testing"

	"github.com/google/uuid"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc/codes"

	"strata/internal/config"
)

// Query vectors and thresholds with NaN or an infinity are refused on every
// field that carries them; objects with such vectors are refused one by one.
func TestGRPCNonFinite(t *testing.T) {
	f := newFixture(t, config.Default())
	f.createClass(t, vectorClass("Legacy", "l2-squared"))
	f.createClass(t, namedClass("Named"))
	ctx := t.Context()
	nan, inf := float32(math.NaN()), float32(math.Inf(1))

	req := batch("Legacy", [][]float32{{1e30, 1e30, 1e30}, {0, 0, 0}, {0, nan, 0}, {-inf, 0, 0}}, false)
	named := batch("Named", [][]float32{{1, 0, 0}, {0, nan, 0}}, true)
	for i, o := range named.Objects {
		o.Uuid = id(10 + i)
	}
	req.Objects = append(req.Objects, named.Objects...)
	reply, err := f.client.BatchObjects(ctx, req)
	if err != nil {
		t.Fatalf("BatchObjects: %v", err)
	}
	if len(reply.Errors) != 3 || reply.Errors[0].Index != 2 || reply.Errors[1].Index != 3 || reply.Errors[2].Index != 5 {
		t.Fatalf("batch errors = %v, want indexes 2, 3 and 5", reply.Errors)
	}
	for _, e := range reply.Errors {
		if !strings.Contains(e.Error, "non-finite value") {
			t.Errorf("batch error %d: %q does not name the non-finite value", e.Index, e.Error)
		}
	}
	for _, o := range []struct {
		class string
		n     int
	}{{"Legacy", 3}, {"Legacy", 4}, {"Named", 11}} {
		if _, err := f.db.GetObject(ctx, o.class, uuid.MustParse(id(o.n)), "", false); err == nil {
			t.Errorf("%s %s with a non-finite vector was stored", o.class, id(o.n))
		}
	}

	single := func(v []float32) []*pb.Vectors {
		return []*pb.Vectors{{VectorBytes: float32Bytes(v), Type: pb.Vectors_VECTOR_TYPE_SINGLE_FP32}}
	}
	ok := []float32{1, 0, 0}
	for _, tc := range []struct {
		name string
		nv   *pb.NearVector
		msg  string
	}{
		{"vectors NaN", &pb.NearVector{Vectors: single([]float32{0, nan, 0})}, "non-finite value (NaN) at position 1"},
		{"vector_bytes +Inf", &pb.NearVector{VectorBytes: float32Bytes([]float32{inf, 0, 0})}, "non-finite value (+Inf) at position 0"},
		{"vector -Inf", &pb.NearVector{Vector: []float32{0, 0, -inf}}, "non-finite value (-Inf) at position 2"},
		{"vector_per_target NaN", &pb.NearVector{VectorPerTarget: map[string][]byte{"": float32Bytes([]float32{nan, 0, 0})}}, "non-finite value (NaN) at position 0"},
		{"distance NaN", &pb.NearVector{Vectors: single(ok), Distance: ptr(math.NaN())}, "near_vector: distance must be a finite number, got NaN"},
		{"distance +Inf", &pb.NearVector{Vectors: single(ok), Distance: ptr(math.Inf(1))}, "near_vector: distance must be a finite number, got +Inf"},
		{"certainty -Inf", &pb.NearVector{Vectors: single(ok), Certainty: ptr(math.Inf(-1))}, "near_vector: certainty must be a finite number, got -Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.Search(ctx, &pb.SearchRequest{Collection: "Legacy", Uses_127Api: true, NearVector: tc.nv})
			wantCode(t, err, codes.InvalidArgument, tc.msg)
		})
	}
	_, err = f.client.Search(ctx, &pb.SearchRequest{Collection: "Legacy", Uses_127Api: true,
		NearObject: &pb.NearObject{Id: id(1), Distance: ptr(math.NaN())}})
	wantCode(t, err, codes.InvalidArgument, "near_object: distance must be a finite number, got NaN")

	// A distance that overflows float32 is still answered: +Inf.
	res, err := f.client.Search(ctx, &pb.SearchRequest{Collection: "Legacy", Uses_127Api: true, Limit: 2,
		NearVector: &pb.NearVector{Vectors: single([]float32{0, 0, 1e19})},
		Metadata:   &pb.MetadataRequest{Uuid: true, Distance: true}})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if len(res.Results) != 2 || res.Results[0].Metadata.Id != id(2) || res.Results[1].Metadata.Id != id(1) ||
		!math.IsInf(float64(res.Results[1].Metadata.Distance), 1) {
		t.Errorf("results %v, want %s then %s at distance +Inf", res.Results, id(2), id(1))
	}
}

func ptr[T any](v T) *T { return &v }
