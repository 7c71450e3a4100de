package grpcapi

import (
	"context"
	"time"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
)

// Aggregate counts a collection's objects (those a filter matches, if
// given). Property aggregations, grouping and aggregating over a search
// are not supported.
func (s *Server) Aggregate(ctx context.Context, req *pb.AggregateRequest) (*pb.AggregateReply, error) {
	start := time.Now()
	class, err := s.class(req.Collection)
	if err != nil {
		return nil, err
	}
	switch {
	case len(req.Aggregations) > 0:
		return nil, unsupportedf("property aggregations are not supported yet: Aggregate answers objects_count")
	case req.GroupBy != nil:
		return nil, unsupportedf("aggregate group_by is not supported yet: Aggregate answers objects_count")
	case req.Search != nil:
		return nil, unsupportedf("aggregating over a search is not supported yet: Aggregate answers objects_count, with filters")
	}
	where, err := whereIn(class, req.Filters)
	if err != nil {
		return nil, err
	}
	n, err := s.db.CountWhere(ctx, class.Class, req.Tenant, where)
	if err != nil {
		return nil, err
	}
	single := &pb.AggregateReply_Single{}
	if req.ObjectsCount {
		single.ObjectsCount = &n
	}
	return &pb.AggregateReply{Took: took(start), Result: &pb.AggregateReply_SingleResult{SingleResult: single}}, nil
}
