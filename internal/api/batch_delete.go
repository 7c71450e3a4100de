package api

import (
	"fmt"
	"net/http"
	"time"

	"strata/internal/db"
	"strata/internal/filter"
	"strata/internal/schema"
)

// batchDeleteRequest is the body of DELETE /v1/batch/objects.
type batchDeleteRequest struct {
	Match *struct {
		Class string              `json:"class"`
		Where *filter.WhereFilter `json:"where"`
	} `json:"match"`
	Output                *string `json:"output"`
	DryRun                *bool   `json:"dryRun"`
	DeletionTimeUnixMilli *int64  `json:"deletionTimeUnixMilli"`
}

type batchDeleteMatch struct {
	Class string              `json:"class,omitempty"`
	Where *filter.WhereFilter `json:"where,omitempty"`
}

type batchDeleteObject struct {
	Errors *errorBody `json:"errors,omitempty"`
	ID     string     `json:"id"`
	Status string     `json:"status"`
}

type batchDeleteResults struct {
	Failed     int                 `json:"failed"`
	Limit      int                 `json:"limit"`
	Matches    int                 `json:"matches"`
	Objects    []batchDeleteObject `json:"objects"`
	Successful int                 `json:"successful"`
}

type batchDeleteResponse struct {
	DeletionTimeUnixMilli int64              `json:"deletionTimeUnixMilli"`
	DryRun                bool               `json:"dryRun"`
	Match                 batchDeleteMatch   `json:"match"`
	Output                string             `json:"output"`
	Results               batchDeleteResults `json:"results"`
}

// zeroTimeMillis is Go's zero time in milliseconds: what Weaviate reports
// as deletionTimeUnixMilli when the request gives none.
var zeroTimeMillis = time.Time{}.UnixMilli()

// batchDelete deletes the objects of a class that match a where filter
// (at most QUERY_MAXIMUM_RESULTS of them). "minimal" output lists only
// failures, "verbose" every matched object.
func (s *Server) batchDelete(w http.ResponseWriter, r *http.Request) {
	if !checkConsistencyLevel(w, r) {
		return
	}
	var req batchDeleteRequest
	if err := decodeBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case req.Match == nil:
		writeMessage(w, http.StatusUnprocessableEntity, "validate: empty match clause")
		return
	case req.Match.Class == "":
		writeMessage(w, http.StatusUnprocessableEntity, "validate: empty match.class clause")
		return
	case req.Match.Where == nil:
		writeMessage(w, http.StatusUnprocessableEntity, "validate: empty match.where clause")
		return
	}
	where, err := filter.Parse(req.Match.Where)
	if err != nil {
		writeMessage(w, http.StatusUnprocessableEntity, "validate: failed to parse where filter: "+err.Error())
		return
	}
	output := "minimal"
	if req.Output != nil {
		output = *req.Output
	}
	if output != "minimal" && output != "verbose" {
		writeMessage(w, http.StatusUnprocessableEntity,
			fmt.Sprintf(`validate: invalid output: "%s", possible values are: "minimal", "verbose"`, output))
		return
	}
	dryRun := req.DryRun != nil && *req.DryRun
	class := schema.NormalizeClassName(req.Match.Class)
	res, err := s.db.DeleteObjects(r.Context(), db.DeleteParams{
		Class: class, Tenant: r.URL.Query().Get("tenant"), Where: where,
		DryRun: dryRun, Limit: s.cfg.QueryMaximumResults,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := batchDeleteResponse{
		DeletionTimeUnixMilli: zeroTimeMillis,
		DryRun:                dryRun,
		Match:                 batchDeleteMatch{Class: class, Where: req.Match.Where},
		Output:                output,
		Results: batchDeleteResults{
			Failed: res.Failed, Limit: s.cfg.QueryMaximumResults, Matches: res.Matches, Successful: res.Successful,
		},
	}
	if req.DeletionTimeUnixMilli != nil {
		out.DeletionTimeUnixMilli = *req.DeletionTimeUnixMilli
	}
	for _, o := range res.Objects {
		item := batchDeleteObject{ID: o.ID.String(), Status: "SUCCESS"}
		switch {
		case dryRun:
			item.Status = "DRYRUN"
		case o.Err != nil:
			item.Status = "FAILED"
			item.Errors = &errorBody{Error: []errorItem{{Message: o.Err.Error()}}}
		}
		if output == "minimal" && item.Status != "FAILED" {
			continue
		}
		out.Results.Objects = append(out.Results.Objects, item)
	}
	writeJSON(w, http.StatusOK, out)
}
