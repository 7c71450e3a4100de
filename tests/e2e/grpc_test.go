package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
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
	"google.golang.org/protobuf/types/known/structpb"
)

// grpcClient connects the generated Weaviate client (and the health
// client) to the server's gRPC port; calls carry key as "authorization:
// Bearer <key>" unless it is "".
func (s *server) grpcClient(t testing.TB, key string) (pb.WeaviateClient, healthpb.HealthClient) {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if key != "" {
		opts = append(opts, grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any,
			cc *grpc.ClientConn, invoker grpc.UnaryInvoker, callOpts ...grpc.CallOption) error {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
			return invoker(ctx, method, req, reply, cc, callOpts...)
		}))
	}
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", s.GRPCPort), opts...)
	if err != nil {
		t.Fatalf("grpc client: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewWeaviateClient(conn), healthpb.NewHealthClient(conn)
}

func wantGRPCCode(t testing.TB, err error, code codes.Code, msg string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("error %v: code %v, want %v", err, status.Code(err), code)
	}
	if !strings.Contains(status.Convert(err).Message(), msg) {
		t.Fatalf("error message %q does not contain %q", status.Convert(err).Message(), msg)
	}
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func f32s(t testing.TB, b []byte) []float32 {
	t.Helper()
	if len(b)%4 != 0 {
		t.Fatalf("vector bytes: length %d", len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// grpcObject is a test object as BatchObjects sends it: the legacy vector,
// or the named vectors given.
func grpcObject(class string, o testObject, named map[string][]float32) *pb.BatchObject {
	b := &pb.BatchObject{Uuid: o.ID, Collection: class, Properties: &pb.BatchObject_Properties{
		NonRefProperties: &structpb.Struct{Fields: map[string]*structpb.Value{
			"title":     structpb.NewStringValue(o.Title),
			"wordCount": structpb.NewNumberValue(float64(o.Count)),
		}},
	}}
	if named == nil {
		b.VectorBytes = f32Bytes(o.Vector)
	}
	for name, v := range named {
		b.Vectors = append(b.Vectors, &pb.Vectors{Name: name, VectorBytes: f32Bytes(v), Type: pb.Vectors_VECTOR_TYPE_SINGLE_FP32})
	}
	return b
}

// grpcImport imports objs with BatchObjects in batches and asserts no errors.
func grpcImport(t testing.TB, c pb.WeaviateClient, objs []*pb.BatchObject, batchSize int) {
	t.Helper()
	for start := 0; start < len(objs); start += batchSize {
		end := min(start+batchSize, len(objs))
		reply, err := c.BatchObjects(ctxT(t), &pb.BatchObjectsRequest{Objects: objs[start:end]})
		if err != nil {
			t.Fatalf("BatchObjects %d..%d: %v", start, end, err)
		}
		if len(reply.Errors) > 0 {
			t.Fatalf("BatchObjects %d..%d: errors %v", start, end, reply.Errors)
		}
	}
}

// gqlRaw runs a raw GraphQL query and returns the hits of Get.<class>.
func gqlRaw(t testing.TB, s *server, class, query string) []gqlHit {
	t.Helper()
	r := s.do(t, http.MethodPost, "/v1/graphql", map[string]any{"query": query})
	wantStatus(t, r, http.StatusOK)
	var resp struct {
		Data   map[string]any `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	r.JSON(t, &resp)
	if len(resp.Errors) > 0 {
		t.Fatalf("GraphQL %s: %v", query, resp.Errors)
	}
	v, err := gqlPath(resp.Data, "Get", class)
	if err != nil {
		t.Fatalf("GraphQL data: %v", err)
	}
	var hits []gqlHit
	for _, item := range v.([]any) {
		var h gqlHit
		id, _ := gqlPath(item, "_additional", "id")
		d, _ := gqlPath(item, "_additional", "distance")
		h.id, _ = id.(string)
		h.distance, _ = d.(float64)
		hits = append(hits, h)
	}
	return hits
}

func vectorLiteral(v []float32) string {
	parts := make([]string, len(v))
	for i, f := range v {
		parts[i] = fmt.Sprint(f)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// sameHits asserts gRPC results equal GraphQL's: same ids in the same
// order, same float32 distances.
func sameHits(t testing.TB, what string, got *pb.SearchReply, want []gqlHit) {
	t.Helper()
	if len(got.Results) != len(want) {
		t.Fatalf("%s: %d gRPC results, GraphQL has %d", what, len(got.Results), len(want))
	}
	for i, r := range got.Results {
		m := r.Metadata
		if m.Id != want[i].id || !m.DistancePresent || m.Distance != float32(want[i].distance) {
			t.Fatalf("%s: result %d is %s at %v (present %v), GraphQL has %s at %v",
				what, i, m.Id, m.Distance, m.DistancePresent, want[i].id, float32(want[i].distance))
		}
	}
}

// TestGRPCHealthAndMeta: the standard health service answers SERVING for
// the names the clients send, and /v1/meta advertises the message size.
func TestGRPCHealthAndMeta(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	_, health := s.grpcClient(t, "")
	for _, name := range []string{"", "/grpc.health.v1.Health/Check"} {
		res, err := health.Check(ctxT(t), &healthpb.HealthCheckRequest{Service: name})
		if err != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health Check(%q) = %v, %v; want SERVING", name, res, err)
		}
	}
	var meta struct {
		GRPCMaxMessageSize int `json:"grpcMaxMessageSize"`
	}
	s.do(t, http.MethodGet, "/v1/meta", nil).JSON(t, &meta)
	if meta.GRPCMaxMessageSize != 104858000 {
		t.Errorf("meta grpcMaxMessageSize = %d, want 104858000", meta.GRPCMaxMessageSize)
	}
}

// TestGRPCBatchAndSearch: objects imported over gRPC (legacy and named
// vectors) are what REST returns, near_vector over gRPC finds exactly what
// GraphQL finds (ids and distances), and fetch by id (a filter on _id)
// returns the object with its vectors.
func TestGRPCBatchAndSearch(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c, _ := s.grpcClient(t, "")
	ctx := ctxT(t)

	// Legacy vector.
	createClass(t, s, articleClass("Article"))
	objs := genObjects(21, 200, 16)
	batch := make([]*pb.BatchObject, len(objs))
	for i, o := range objs {
		batch[i] = grpcObject("Article", o, nil)
	}
	grpcImport(t, c, batch, 64)
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 50), objs)

	for _, k := range []int{0, 99, 199} {
		q := objs[k].Vector
		want := nearVectorTop(t, s, "Article", "", q, 10)
		res, err := c.Search(ctx, &pb.SearchRequest{Collection: "Article", Limit: 10, Uses_127Api: true,
			NearVector: &pb.NearVector{Vectors: []*pb.Vectors{{VectorBytes: f32Bytes(q), Type: pb.Vectors_VECTOR_TYPE_SINGLE_FP32}}},
			Metadata:   &pb.MetadataRequest{Uuid: true, Distance: true, Certainty: true}})
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		sameHits(t, fmt.Sprintf("nearVector(object %d)", k), res, want)
		if res.Results[0].Metadata.Id != objs[k].ID {
			t.Errorf("nearVector(object %d): first result %s", k, res.Results[0].Metadata.Id)
		}
		for _, r := range res.Results {
			if !r.Metadata.CertaintyPresent || math.Abs(float64(r.Metadata.Certainty)-(1-float64(r.Metadata.Distance)/2)) > 1e-6 {
				t.Errorf("result %s: certainty %v for distance %v", r.Metadata.Id, r.Metadata.Certainty, r.Metadata.Distance)
			}
		}
	}

	// near_object: the stored object's vector, the same hits as near_vector.
	nearObj, err := c.Search(ctx, &pb.SearchRequest{Collection: "Article", Limit: 10, Uses_127Api: true,
		NearObject: &pb.NearObject{Id: objs[99].ID}, Metadata: &pb.MetadataRequest{Uuid: true, Distance: true}})
	if err != nil {
		t.Fatalf("Search near_object: %v", err)
	}
	sameHits(t, "near_object(object 99)", nearObj, nearVectorTop(t, s, "Article", "", objs[99].Vector, 10))
	if _, err := c.Search(ctx, &pb.SearchRequest{Collection: "Article", Uses_127Api: true,
		NearObject: &pb.NearObject{Id: "00000000-0000-0000-0000-000000000000"}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("near_object of a missing id: %v, want InvalidArgument", err)
	}

	// Fetch by id, as the TypeScript client does it.
	o := objs[42]
	res, err := c.Search(ctx, &pb.SearchRequest{Collection: "Article", Uses_127Api: true,
		Filters: &pb.Filters{Operator: pb.Filters_OPERATOR_EQUAL,
			Target: &pb.FilterTarget{Target: &pb.FilterTarget_Property{Property: "_id"}}, TestValue: &pb.Filters_ValueText{ValueText: o.ID}},
		Metadata: &pb.MetadataRequest{Uuid: true, Vector: true, CreationTimeUnix: true, LastUpdateTimeUnix: true, IsConsistent: true}})
	if err != nil {
		t.Fatalf("fetch by id: %v", err)
	}
	if len(res.Results) != 1 || res.Results[0].Metadata.Id != o.ID {
		t.Fatalf("fetch by id %s: %v", o.ID, res.Results)
	}
	got := res.Results[0]
	wantVector(t, "fetch by id", f32s(t, got.Metadata.VectorBytes), o.Vector)
	props := got.Properties.NonRefProps.GetFields()
	if props["title"].GetTextValue() != o.Title || props["wordCount"].GetIntValue() != o.Count {
		t.Errorf("fetch by id: properties %v, want %q / %d", props, o.Title, o.Count)
	}
	rest, err := s.client(t).Data().ObjectsGetter().WithClassName("Article").WithID(o.ID).Do(ctx)
	if err != nil || len(rest) != 1 {
		t.Fatalf("REST get %s: %v", o.ID, err)
	}
	if got.Metadata.CreationTimeUnix != rest[0].CreationTimeUnix || got.Metadata.LastUpdateTimeUnix != rest[0].LastUpdateTimeUnix {
		t.Errorf("fetch by id: times %d/%d, REST has %d/%d", got.Metadata.CreationTimeUnix, got.Metadata.LastUpdateTimeUnix,
			rest[0].CreationTimeUnix, rest[0].LastUpdateTimeUnix)
	}

	// Named vectors, as the TypeScript client creates them.
	r := s.do(t, http.MethodPost, "/v1/schema", map[string]any{
		"class": "Named",
		"properties": []map[string]any{
			{"name": "title", "dataType": []string{"text"}}, {"name": "wordCount", "dataType": []string{"int"}},
		},
		"vectorConfig": map[string]any{
			"default": map[string]any{"vectorizer": map[string]any{"none": map[string]any{}}, "vectorIndexType": "hnsw"},
			"small": map[string]any{"vectorizer": map[string]any{"none": map[string]any{}}, "vectorIndexType": "hnsw",
				"vectorIndexConfig": map[string]any{"distance": "l2-squared"}},
		},
	})
	wantStatus(t, r, http.StatusOK)
	small := genObjects(22, len(objs), 4)
	for i, o := range objs {
		batch[i] = grpcObject("Named", o, map[string][]float32{"default": o.Vector, "small": small[i].Vector})
	}
	grpcImport(t, c, batch, 100)

	for _, target := range []string{"default", "small"} {
		q := objs[7].Vector
		if target == "small" {
			q = small[7].Vector
		}
		want := gqlRaw(t, s, "Named", fmt.Sprintf(`{ Get { Named(nearVector: {vector: %s, targetVectors: [%q]}, limit: 8) { _additional { id distance } } } }`,
			vectorLiteral(q), target))
		res, err := c.Search(ctx, &pb.SearchRequest{Collection: "Named", Limit: 8, Uses_127Api: true,
			NearVector: &pb.NearVector{Targets: &pb.Targets{TargetVectors: []string{target}},
				Vectors: []*pb.Vectors{{VectorBytes: f32Bytes(q), Type: pb.Vectors_VECTOR_TYPE_SINGLE_FP32}}},
			Metadata: &pb.MetadataRequest{Uuid: true, Distance: true, Vector: true}})
		if err != nil {
			t.Fatalf("Search %s: %v", target, err)
		}
		sameHits(t, "named vector "+target, res, want)
		if res.Results[0].Metadata.Id != objs[7].ID {
			t.Errorf("named vector %s: first result %s, want %s", target, res.Results[0].Metadata.Id, objs[7].ID)
		}
		// vector=true returns every named vector, under its name.
		top := res.Results[0].Metadata
		vecs := map[string][]float32{}
		for _, v := range top.Vectors {
			vecs[v.Name] = f32s(t, v.VectorBytes)
		}
		if len(vecs) != 2 || len(top.VectorBytes) != 0 {
			t.Fatalf("named vector %s: vectors %v (and %d legacy bytes), want default and small", target, top.Vectors, len(top.VectorBytes))
		}
		wantVector(t, "vector default", vecs["default"], objs[7].Vector)
		wantVector(t, "vector small", vecs["small"], small[7].Vector)
	}
	// Without a target, a class with two named vectors is ambiguous.
	_, err = c.Search(ctx, &pb.SearchRequest{Collection: "Named",
		NearVector: &pb.NearVector{VectorBytes: f32Bytes(objs[0].Vector)}})
	wantGRPCCode(t, err, codes.InvalidArgument, "multiple vectors")
	// REST sees the named vectors.
	var restObj struct {
		Vectors map[string][]float32 `json:"vectors"`
	}
	s.do(t, http.MethodGet, "/v1/objects/Named/"+objs[3].ID+"?include=vector", nil).JSON(t, &restObj)
	wantVector(t, "REST vector default", restObj.Vectors["default"], objs[3].Vector)
	wantVector(t, "REST vector small", restObj.Vectors["small"], small[3].Vector)
}

// everyTypeSchema is a class with a property of every core data type.
func everyTypeSchema(name string) map[string]any {
	prop := func(n, dt string, nested ...map[string]any) map[string]any {
		p := map[string]any{"name": n, "dataType": []string{dt}}
		if len(nested) > 0 {
			p["nestedProperties"] = nested
		}
		return p
	}
	return map[string]any{"class": name, "vectorizer": "none", "properties": []map[string]any{
		prop("text", "text"), prop("texts", "text[]"), prop("int", "int"), prop("ints", "int[]"),
		prop("number", "number"), prop("numbers", "number[]"), prop("boolean", "boolean"), prop("booleans", "boolean[]"),
		prop("date", "date"), prop("dates", "date[]"), prop("uuid", "uuid"), prop("uuids", "uuid[]"),
		prop("geo", "geoCoordinates"), prop("blob", "blob"),
		prop("object", "object", prop("name", "text"), prop("count", "int")),
		prop("objects", "object[]", prop("name", "text")),
	}}
}

// TestGRPCPropertiesRoundTrip: a value of every data type written over gRPC
// reads back the same over gRPC and as the expected JSON over REST.
func TestGRPCPropertiesRoundTrip(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c, _ := s.grpcClient(t, "")
	ctx := ctxT(t)
	wantStatus(t, s.do(t, http.MethodPost, "/v1/schema", everyTypeSchema("Every")), http.StatusOK)

	nonRef, err := structpb.NewStruct(map[string]any{
		"text": "héllo wörld", "int": 42, "number": 2.5, "boolean": true,
		"date": "2024-01-02T03:04:05+02:00", "uuid": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
		"geo": map[string]any{"latitude": 52.5, "longitude": 4.25}, "blob": "aGVsbG8=",
	})
	if err != nil {
		t.Fatal(err)
	}
	nested := func(m map[string]any) *pb.ObjectPropertiesValue {
		st, err := structpb.NewStruct(m)
		if err != nil {
			t.Fatal(err)
		}
		return &pb.ObjectPropertiesValue{NonRefProperties: st}
	}
	numbers := make([]byte, 16)
	binary.LittleEndian.PutUint64(numbers, math.Float64bits(0.5))
	binary.LittleEndian.PutUint64(numbers[8:], math.Float64bits(-1e-3))
	id := uuid.NewString()
	reply, err := c.BatchObjects(ctx, &pb.BatchObjectsRequest{Objects: []*pb.BatchObject{{
		Uuid: id, Collection: "Every", VectorBytes: f32Bytes([]float32{1, 0}),
		Properties: &pb.BatchObject_Properties{
			NonRefProperties: nonRef,
			TextArrayProperties: []*pb.TextArrayProperties{
				{PropName: "texts", Values: []string{"a", "b"}},
				{PropName: "dates", Values: []string{"2024-01-02T03:04:05Z"}},
				{PropName: "uuids", Values: []string{"00000000-0000-0000-0000-000000000001"}},
			},
			IntArrayProperties:     []*pb.IntArrayProperties{{PropName: "ints", Values: []int64{1, -2, 1 << 40}}},
			NumberArrayProperties:  []*pb.NumberArrayProperties{{PropName: "numbers", ValuesBytes: numbers}},
			BooleanArrayProperties: []*pb.BooleanArrayProperties{{PropName: "booleans", Values: []bool{true, false}}},
			ObjectProperties:       []*pb.ObjectProperties{{PropName: "object", Value: nested(map[string]any{"name": "n", "count": 7})}},
			ObjectArrayProperties: []*pb.ObjectArrayProperties{{PropName: "objects", Values: []*pb.ObjectPropertiesValue{
				nested(map[string]any{"name": "x"}), nested(map[string]any{"name": "y"}),
			}}},
		},
	}}})
	if err != nil || len(reply.Errors) > 0 {
		t.Fatalf("BatchObjects: %v %v", reply, err)
	}

	wantJSON := `{"text":"héllo wörld","texts":["a","b"],"int":42,"ints":[1,-2,1099511627776],
		"number":2.5,"numbers":[0.5,-0.001],"boolean":true,"booleans":[true,false],
		"date":"2024-01-02T03:04:05+02:00","dates":["2024-01-02T03:04:05Z"],
		"uuid":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","uuids":["00000000-0000-0000-0000-000000000001"],
		"geo":{"latitude":52.5,"longitude":4.25},"blob":"aGVsbG8=",
		"object":{"name":"n","count":7},"objects":[{"name":"x"},{"name":"y"}]}`
	var restObj struct {
		Properties json.RawMessage `json:"properties"`
	}
	s.do(t, http.MethodGet, "/v1/objects/Every/"+id, nil).JSON(t, &restObj)
	if !jsonEqual(t, restObj.Properties, []byte(wantJSON)) {
		t.Errorf("REST properties:\n got %s\nwant %s", restObj.Properties, wantJSON)
	}

	res, err := c.Search(ctx, &pb.SearchRequest{Collection: "Every", Uses_127Api: true,
		Properties: &pb.PropertiesRequest{ReturnAllNonrefProperties: true, NonRefProperties: []string{"blob"}},
		Metadata:   &pb.MetadataRequest{Uuid: true}})
	if err != nil || len(res.Results) != 1 {
		t.Fatalf("Search: %v %v", res, err)
	}
	f := res.Results[0].Properties.NonRefProps.GetFields()
	check := func(name string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("property %s read back as %v", name, f[name])
		}
	}
	ints := f["ints"].GetListValue().GetIntValues().GetValues()
	nums := f["numbers"].GetListValue().GetNumberValues().GetValues()
	check("text", f["text"].GetTextValue() == "héllo wörld")
	check("texts", strings.Join(f["texts"].GetListValue().GetTextValues().GetValues(), ",") == "a,b")
	check("int", f["int"].GetIntValue() == 42)
	check("ints", len(ints) == 24 && int64(binary.LittleEndian.Uint64(ints[16:])) == 1<<40 && int64(binary.LittleEndian.Uint64(ints[8:])) == -2)
	check("number", f["number"].GetNumberValue() == 2.5)
	check("numbers", len(nums) == 16 && math.Float64frombits(binary.LittleEndian.Uint64(nums[8:])) == -1e-3)
	check("boolean", f["boolean"].GetBoolValue())
	check("booleans", fmt.Sprint(f["booleans"].GetListValue().GetBoolValues().GetValues()) == "[true false]")
	check("date", f["date"].GetDateValue() == "2024-01-02T03:04:05+02:00")
	check("dates", fmt.Sprint(f["dates"].GetListValue().GetDateValues().GetValues()) == "[2024-01-02T03:04:05Z]")
	check("uuid", f["uuid"].GetUuidValue() == "6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	check("uuids", fmt.Sprint(f["uuids"].GetListValue().GetUuidValues().GetValues()) == "[00000000-0000-0000-0000-000000000001]")
	check("geo", f["geo"].GetGeoValue().GetLatitude() == 52.5 && f["geo"].GetGeoValue().GetLongitude() == 4.25)
	check("blob", f["blob"].GetBlobValue() == "aGVsbG8=")
	obj := f["object"].GetObjectValue().GetFields()
	check("object", obj["name"].GetTextValue() == "n" && obj["count"].GetIntValue() == 7)
	objs := f["objects"].GetListValue().GetObjectValues().GetValues()
	check("objects", len(objs) == 2 && objs[1].GetFields()["name"].GetTextValue() == "y")
	if len(f) != 16 {
		t.Errorf("%d properties returned, want 16", len(f))
	}

	// A value of the wrong type is refused, naming the property; the others land.
	bad, _ := structpb.NewStruct(map[string]any{"int": "many"})
	reply, err = c.BatchObjects(ctx, &pb.BatchObjectsRequest{Objects: []*pb.BatchObject{
		{Uuid: uuid.NewString(), Collection: "Every", Properties: &pb.BatchObject_Properties{NonRefProperties: bad}},
		{Uuid: uuid.NewString(), Collection: "Every"},
	}})
	if err != nil || len(reply.Errors) != 1 || reply.Errors[0].Index != 0 || !strings.Contains(reply.Errors[0].Error, "'int'") {
		t.Fatalf("bad int: %v %v", reply, err)
	}
}

// TestGRPCAggregateAndDelete: Aggregate counts (all, filtered) agree with
// GraphQL; BatchDelete deletes what its filter matches (dry run deletes
// nothing; verbose lists the objects).
func TestGRPCAggregateAndDelete(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c, _ := s.grpcClient(t, "")
	ctx := ctxT(t)
	createClass(t, s, articleClass("Article"))
	objs := genObjects(23, 50, 8)
	batch := make([]*pb.BatchObject, len(objs))
	for i, o := range objs {
		batch[i] = grpcObject("Article", o, nil)
	}
	grpcImport(t, c, batch, 50)

	count := func(f *pb.Filters) int64 {
		t.Helper()
		reply, err := c.Aggregate(ctx, &pb.AggregateRequest{Collection: "Article", ObjectsCount: true, Filters: f})
		if err != nil {
			t.Fatalf("Aggregate: %v", err)
		}
		return reply.GetSingleResult().GetObjectsCount()
	}
	below := &pb.Filters{Operator: pb.Filters_OPERATOR_LESS_THAN,
		Target: &pb.FilterTarget{Target: &pb.FilterTarget_Property{Property: "wordCount"}}, TestValue: &pb.Filters_ValueInt{ValueInt: 20}}
	if n := count(nil); n != 50 || int(n) != aggregateCount(t, s, "Article", "") {
		t.Errorf("count = %d, want 50 (as GraphQL)", n)
	}
	if n := count(below); n != 20 {
		t.Errorf("count wordCount < 20 = %d, want 20", n)
	}

	dry, err := c.BatchDelete(ctx, &pb.BatchDeleteRequest{Collection: "Article", Filters: below, DryRun: true, Verbose: true})
	if err != nil {
		t.Fatalf("BatchDelete dry run: %v", err)
	}
	if dry.Matches != 20 || dry.Successful != 0 || len(dry.Objects) != 20 {
		t.Errorf("dry run: matches %d successful %d objects %d", dry.Matches, dry.Successful, len(dry.Objects))
	}
	del, err := c.BatchDelete(ctx, &pb.BatchDeleteRequest{Collection: "Article", Filters: below, Verbose: true})
	if err != nil {
		t.Fatalf("BatchDelete: %v", err)
	}
	if del.Matches != 20 || del.Successful != 20 || del.Failed != 0 || len(del.Objects) != 20 {
		t.Errorf("delete: matches %d successful %d failed %d objects %d", del.Matches, del.Successful, del.Failed, len(del.Objects))
	}
	deleted := map[string]bool{}
	for _, o := range del.Objects {
		deleted[uuid.UUID(o.Uuid).String()] = true
	}
	var left []testObject
	for _, o := range objs {
		if o.Count < 20 != deleted[o.ID] {
			t.Errorf("object %s (wordCount %d): deleted = %v", o.ID, o.Count, deleted[o.ID])
		}
		if o.Count >= 20 {
			left = append(left, o)
		}
	}
	checkObjectsMatch(t, "Article", listAll(t, s, "Article", "", 100), left)
	if n := count(nil); n != 30 || aggregateCount(t, s, "Article", "") != 30 {
		t.Errorf("count after delete = %d, want 30", n)
	}
}

// TestGRPCAuth: with API keys, gRPC calls need the key; health does not.
func TestGRPCAuth(t *testing.T) {
	t.Parallel()
	const key = "grpc-key"
	s := startServer(t, serverOptions{APIKey: key})
	createClass(t, s, articleClass("Article"))
	ctx := ctxT(t)

	anon, health := s.grpcClient(t, "")
	if res, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health without key = %v, %v", res, err)
	}
	_, err := anon.Search(ctx, &pb.SearchRequest{Collection: "Article"})
	wantGRPCCode(t, err, codes.Unauthenticated, "anonymous access not enabled")
	_, err = anon.BatchObjects(ctx, &pb.BatchObjectsRequest{Objects: []*pb.BatchObject{grpcObject("Article", genObjects(1, 1, 4)[0], nil)}})
	wantGRPCCode(t, err, codes.Unauthenticated, "anonymous access not enabled")
	wrong, _ := s.grpcClient(t, "wrong-key")
	_, err = wrong.Aggregate(ctx, &pb.AggregateRequest{Collection: "Article", ObjectsCount: true})
	wantGRPCCode(t, err, codes.Unauthenticated, "invalid api key")

	c, _ := s.grpcClient(t, key)
	grpcImport(t, c, []*pb.BatchObject{grpcObject("Article", genObjects(1, 1, 4)[0], nil)}, 1)
	reply, err := c.Aggregate(ctx, &pb.AggregateRequest{Collection: "Article", ObjectsCount: true})
	if err != nil || reply.GetSingleResult().GetObjectsCount() != 1 {
		t.Fatalf("with key: %v, %v", reply, err)
	}
}

// TestGRPCErrors: client mistakes are InvalidArgument, unknown collections
// NotFound, unsupported features Unimplemented — with messages naming the
// problem.
func TestGRPCErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c, _ := s.grpcClient(t, "")
	ctx := ctxT(t)
	createClass(t, s, articleClass("Article"))
	grpcImport(t, c, []*pb.BatchObject{grpcObject("Article", genObjects(2, 1, 4)[0], nil)}, 1)

	_, err := c.Search(ctx, &pb.SearchRequest{Collection: "Nope"})
	wantGRPCCode(t, err, codes.NotFound, `collection "Nope" not found`)
	_, err = c.Aggregate(ctx, &pb.AggregateRequest{Collection: "Nope", ObjectsCount: true})
	wantGRPCCode(t, err, codes.NotFound, `collection "Nope" not found`)
	_, err = c.BatchDelete(ctx, &pb.BatchDeleteRequest{Collection: "Nope", Filters: &pb.Filters{}})
	wantGRPCCode(t, err, codes.NotFound, `collection "Nope" not found`)
	_, err = c.Search(ctx, &pb.SearchRequest{Collection: "Article", NearVector: &pb.NearVector{VectorBytes: f32Bytes([]float32{1, 2})}})
	wantGRPCCode(t, err, codes.InvalidArgument, "")
	_, err = c.Search(ctx, &pb.SearchRequest{Collection: "Article", Properties: &pb.PropertiesRequest{NonRefProperties: []string{"nope"}}})
	wantGRPCCode(t, err, codes.InvalidArgument, "no such prop with name 'nope'")
	_, err = c.Search(ctx, &pb.SearchRequest{Collection: "Article", Filters: &pb.Filters{Operator: pb.Filters_OPERATOR_EQUAL,
		Target: &pb.FilterTarget{Target: &pb.FilterTarget_Property{Property: "title"}}, TestValue: &pb.Filters_ValueInt{ValueInt: 1}}})
	wantGRPCCode(t, err, codes.InvalidArgument, "invalid filters")
	_, err = c.Search(ctx, &pb.SearchRequest{Collection: "Article", Bm25Search: &pb.BM25{Query: "x"}})
	wantGRPCCode(t, err, codes.Unimplemented, "bm25 search is not supported")
	_, err = c.BatchReferences(ctx, &pb.BatchReferencesRequest{})
	wantGRPCCode(t, err, codes.Unimplemented, "")
}
