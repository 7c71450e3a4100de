package grpcapi

import (
	"context"
	"time"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"

	"strata/internal/db"
)

// tenantStatus maps the stored activity statuses to the protocol's.
var tenantStatus = map[string]pb.TenantActivityStatus{
	db.TenantHot:    pb.TenantActivityStatus_TENANT_ACTIVITY_STATUS_HOT,
	db.TenantCold:   pb.TenantActivityStatus_TENANT_ACTIVITY_STATUS_COLD,
	db.TenantFrozen: pb.TenantActivityStatus_TENANT_ACTIVITY_STATUS_FROZEN,
}

// TenantsGet lists a multi-tenant collection's tenants, or those of the
// given names that exist.
func (s *Server) TenantsGet(ctx context.Context, req *pb.TenantsGetRequest) (*pb.TenantsGetReply, error) {
	start := time.Now()
	class, err := s.class(req.Collection)
	if err != nil {
		return nil, err
	}
	var wanted map[string]bool
	if names, ok := req.Params.(*pb.TenantsGetRequest_Names); ok {
		if len(names.Names.GetValues()) == 0 {
			return nil, invalidf("must specify at least one tenant name")
		}
		wanted = map[string]bool{}
		for _, n := range names.Names.GetValues() {
			wanted[n] = true
		}
	}
	tenants, err := s.db.Tenants(class.Class)
	if err != nil {
		return nil, err
	}
	reply := &pb.TenantsGetReply{Tenants: make([]*pb.Tenant, 0, len(tenants))}
	for _, t := range tenants {
		if wanted != nil && !wanted[t.Name] {
			continue
		}
		reply.Tenants = append(reply.Tenants, &pb.Tenant{Name: t.Name, ActivityStatus: tenantStatus[t.ActivityStatus]})
	}
	reply.Took = took(start)
	return reply, nil
}
