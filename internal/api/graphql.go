package api

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"

	"strata/internal/db"
	"strata/internal/filter"
	"strata/internal/graphql"
	"strata/internal/schema"
)

// graphQL runs a GraphQL request and streams its response: the status line
// goes out with the first 64 KiB of the body, so a failure before that is
// still answered 500, and a failure after it aborts the connection rather
// than end a truncated body as if it were complete.
func (s *Server) graphQL(w http.ResponseWriter, r *http.Request) {
	limit := s.cfg.GraphQL.MaxBodyBytes
	if r.ContentLength > limit {
		writeBinding(w, gqlBodyTooLarge(limit))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var req graphql.Request
	if err := decodeBody(r, &req); err != nil {
		if statusOf(err) == http.StatusRequestEntityTooLarge && limit < s.cfg.MaxBodyBytes {
			err = gqlBodyTooLarge(limit)
		}
		s.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		writeMessage(w, http.StatusUnprocessableEntity, "query cannot be empty")
		return
	}

	w.Header().Set("Content-Type", "application/json")
	out := &headerOnWrite{w: w, status: http.StatusOK}
	defer func() {
		v := recover()
		switch {
		case v == nil:
		case v == http.ErrAbortHandler || !out.wrote:
			panic(v) // an abort, or nothing sent yet: the recoverer answers 500
		default:
			s.log.Error("panic in GraphQL response", "panic", v, "stack", string(debug.Stack()))
			panic(http.ErrAbortHandler)
		}
	}()
	buf := bufio.NewWriterSize(out, 64<<10)
	err := s.gql.Execute(r.Context(), req, buf)
	if err == nil {
		err = buf.WriteByte('\n')
	}
	if err == nil {
		err = buf.Flush()
	}
	if err != nil {
		s.log.Warn("GraphQL response not completed", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// gqlBodyTooLarge is the 413 for a body over STRATA_GRAPHQL_MAX_BODY_BYTES.
func gqlBodyTooLarge(limit int64) *bindingError {
	return &bindingError{Code: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("request body too large: the limit for /v1/graphql is %d bytes (STRATA_GRAPHQL_MAX_BODY_BYTES)", limit)}
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
