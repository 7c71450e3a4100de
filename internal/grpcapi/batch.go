package grpcapi

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"

	"strata/internal/db"
	"strata/internal/schema"
)

// BatchObjects upserts objects. An object that cannot be decoded or
// stored is reported by its index; the others are written. Auto-schema
// applies as on REST.
func (s *Server) BatchObjects(ctx context.Context, req *pb.BatchObjectsRequest) (*pb.BatchObjectsReply, error) {
	start := time.Now()
	reply := &pb.BatchObjectsReply{}
	fail := func(i int, err error) {
		reply.Errors = append(reply.Errors, &pb.BatchObjectsReply_BatchError{Index: int32(i), Error: err.Error()})
	}
	ins := make([]*db.ObjectInput, 0, len(req.Objects))
	index := make([]int, 0, len(req.Objects)) // input index of each of ins
	for i, o := range req.Objects {
		in, err := s.objectInput(o)
		if err != nil {
			fail(i, err)
			continue
		}
		ins = append(ins, in)
		index = append(index, i)
	}
	if len(ins) > 0 {
		results, err := s.db.PutObjects(ctx, ins)
		if err != nil {
			return nil, err
		}
		for j, r := range results {
			if r.Err != nil {
				fail(index[j], r.Err)
			}
		}
	}
	slices.SortFunc(reply.Errors, func(a, b *pb.BatchObjectsReply_BatchError) int { return cmp.Compare(a.Index, b.Index) })
	reply.Took = took(start)
	return reply, nil
}

// objectInput decodes one BatchObject.
func (s *Server) objectInput(o *pb.BatchObject) (*db.ObjectInput, error) {
	id, err := uuid.Parse(o.Uuid)
	if err != nil || len(o.Uuid) != 36 {
		return nil, fmt.Errorf("invalid uuid %q: a UUID like 6ba7b810-9dad-11d1-80b4-00c04fd430c8 is required", o.Uuid)
	}
	class := s.db.Class(schema.NormalizeClassName(o.Collection)) // nil until auto-schema creates it
	props, err := propertiesIn(class, o.Properties)
	if err != nil {
		return nil, fmt.Errorf("invalid object: %w", err)
	}
	vec, vectors, err := vectorsIn(class, o)
	if err != nil {
		return nil, fmt.Errorf("invalid object: %w", err)
	}
	return &db.ObjectInput{Class: o.Collection, Tenant: o.Tenant, ID: id, Properties: props, Vector: vec, Vectors: vectors}, nil
}

// vectorsIn decodes an object's vectors: the legacy vector (vector_bytes,
// or the deprecated float list) and the named ones (vectors[]; an entry
// without a name is the legacy vector).
func vectorsIn(class *schema.Class, o *pb.BatchObject) ([]float32, map[string][]float32, error) {
	vec := o.Vector // deprecated field, still sent by old clients
	if len(o.VectorBytes) > 0 {
		var err error
		if vec, err = float32s(o.VectorBytes); err != nil {
			return nil, nil, err
		}
	}
	var named map[string][]float32
	for _, v := range o.Vectors {
		if v.Type == pb.Vectors_VECTOR_TYPE_MULTI_FP32 {
			return nil, nil, fmt.Errorf("vector %q: multi-vectors are not supported", v.Name)
		}
		f, err := float32s(v.VectorBytes)
		if err != nil {
			return nil, nil, fmt.Errorf("vector %q: %w", v.Name, err)
		}
		if v.Name == "" {
			vec = f
			continue
		}
		if named == nil {
			named = map[string][]float32{}
		}
		named[v.Name] = f
	}
	// Some clients send a vector both as named and as legacy vector_bytes.
	if class != nil && len(class.VectorConfig) > 0 && len(named) > 0 {
		vec = nil
	}
	return vec, named, nil
}

// BatchDelete deletes the objects a filter matches (at most
// QUERY_MAXIMUM_RESULTS per call); dry_run only counts them, verbose lists
// every match.
func (s *Server) BatchDelete(ctx context.Context, req *pb.BatchDeleteRequest) (*pb.BatchDeleteReply, error) {
	start := time.Now()
	class, err := s.class(req.Collection)
	if err != nil {
		return nil, err
	}
	if req.Filters == nil {
		return nil, invalidf("batch delete needs filters to select the objects (to delete them all, delete the collection)")
	}
	where, err := whereIn(class, req.Filters)
	if err != nil {
		return nil, err
	}
	res, err := s.db.DeleteObjects(ctx, db.DeleteParams{
		Class: class.Class, Tenant: req.GetTenant(), Where: where, DryRun: req.DryRun, Limit: s.cfg.QueryMaximumResults,
	})
	if err != nil {
		return nil, err
	}
	reply := &pb.BatchDeleteReply{
		Failed: int64(res.Failed), Matches: int64(res.Matches), Successful: int64(res.Successful),
	}
	if req.Verbose {
		reply.Objects = make([]*pb.BatchDeleteObject, 0, len(res.Objects))
		for _, o := range res.Objects {
			msg := ""
			if o.Err != nil {
				msg = o.Err.Error()
			}
			id := o.ID
			reply.Objects = append(reply.Objects, &pb.BatchDeleteObject{Uuid: id[:], Successful: o.Err == nil, Error: &msg})
		}
	}
	reply.Took = took(start)
	return reply, nil
}
