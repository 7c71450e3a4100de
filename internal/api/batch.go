package api

import (
	"fmt"
	"net/http"

	"strata/internal/db"
)

type batchRequest struct {
	Fields  []string   `json:"fields"`
	Objects []objectIn `json:"objects"`
}

type batchResult struct {
	Errors *errorBody `json:"errors,omitempty"`
	Status string     `json:"status"`
}

type batchItem struct {
	objectOut
	Deprecations any         `json:"deprecations"`
	Result       batchResult `json:"result"`
}

func (s *Server) batchObjects(w http.ResponseWriter, r *http.Request) {
	if !checkConsistencyLevel(w, r) {
		return
	}
	var req batchRequest
	if err := decodeBody(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(req.Objects) == 0 {
		writeMessage(w, http.StatusUnprocessableEntity, "invalid param 'objects': cannot be empty, need at least one object for batching")
		return
	}
	inputs := make([]*db.ObjectInput, len(req.Objects))
	for i := range req.Objects {
		in, err := req.Objects[i].input(fmt.Sprintf("body.objects.%d.id in body", i))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		inputs[i] = in
	}
	results, err := s.db.PutObjects(r.Context(), inputs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]batchItem, len(results))
	for i, res := range results {
		item := batchItem{objectOut: toOut(res.Object, true, true), Result: batchResult{Status: "SUCCESS"}}
		if res.Err != nil {
			item.Result = batchResult{Status: "FAILED", Errors: &errorBody{Error: []errorItem{{Message: res.Err.Error()}}}}
		}
		out[i] = item
	}
	writeJSON(w, http.StatusOK, out)
}

// checkConsistencyLevel answers 400 for a consistency_level query
// parameter Weaviate does not know; it reports whether the request may go on.
func checkConsistencyLevel(w http.ResponseWriter, r *http.Request) bool {
	switch cl := r.URL.Query().Get("consistency_level"); cl {
	case "", "ONE", "QUORUM", "ALL":
		return true
	default:
		writeBinding(w, &bindingError{Code: http.StatusBadRequest, Message: fmt.Sprintf("consistency_level in query should be one of [ONE QUORUM ALL], got %q", cl)})
		return false
	}
}
