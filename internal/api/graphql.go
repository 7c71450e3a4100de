package api

import (
	"context"
	"net/http"
	"strings"

	"strata/internal/db"
	"strata/internal/filter"
	"strata/internal/graphql"
	"strata/internal/schema"
)

func (s *Server) graphQL(w http.ResponseWriter, r *http.Request) {
	var req graphql.Request
	if err := decodeBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		writeMessage(w, http.StatusUnprocessableEntity, "query cannot be empty")
		return
	}
	writeJSON(w, http.StatusOK, s.gql.Execute(r.Context(), req))
}

// gqlBackend adapts the database to the GraphQL executor.
type gqlBackend struct{ db *db.DB }

func (b gqlBackend) Class(name string) *schema.Class { return b.db.Class(name) }

func (b gqlBackend) Count(ctx context.Context, class, tenant string, where *filter.Clause) (int64, error) {
	return b.db.CountWhere(ctx, class, tenant, where)
}

func (b gqlBackend) Search(ctx context.Context, q graphql.Query) ([]graphql.Result, error) {
	hits, err := b.db.Search(ctx, db.SearchParams{
		Class: q.Class, Tenant: q.Tenant, Vector: q.Vector, NearObject: q.NearObject, VectorName: q.VectorName,
		MaxDistance: q.MaxDistance, Limit: q.Limit, Offset: q.Offset, After: q.After, WithVectors: q.WithVector,
		Where: q.Where,
	})
	if err != nil {
		return nil, err
	}
	out := make([]graphql.Result, len(hits))
	for i, h := range hits {
		o := h.Object
		out[i] = graphql.Result{
			ID: o.ID, Properties: o.Properties, Vector: o.Vector, Vectors: o.Vectors,
			CreationTimeUnix: o.CreationTimeUnix, LastUpdateTimeUnix: o.LastUpdateTimeUnix, Distance: h.Distance,
		}
	}
	return out, nil
}
