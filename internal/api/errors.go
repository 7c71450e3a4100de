package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"strata/internal/db"
)

// errorBody is Weaviate's handler-error shape: {"error":[{"message":"…"}]}.
type errorBody struct {
	Error []errorItem `json:"error"`
}

type errorItem struct {
	Message string `json:"message"`
}

// schemaErrorBody is the shape of schema write errors: {"allowed":null,"error":[…]}.
type schemaErrorBody struct {
	Allowed any         `json:"allowed"`
	Error   []errorItem `json:"error"`
}

// bindingError is the shape of request binding errors: {"code":N,"message":"…"}.
// HTTP status is Code when below 600, else 422.
type bindingError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *bindingError) Error() string { return e.Message }

func (e *bindingError) status() int {
	if e.Code < 600 {
		return e.Code
	}
	return http.StatusUnprocessableEntity
}

// writeJSON answers status with v encoded as JSON. encoding/json marshals
// the whole value before its single Write, so a value that cannot be
// encoded (a NaN or an infinity) leaves nothing written: that is logged and
// answered 500 instead of an empty or truncated body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if v == nil {
		w.WriteHeader(status)
		return
	}
	out := &headerOnWrite{w: w, status: status}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	switch {
	case err == nil:
	case !out.wrote:
		slog.Error("encode response", "status", status, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: []errorItem{{Message: "encode response: " + err.Error()}}})
	default:
		slog.Debug("write response", "err", err)
	}
}

// headerOnWrite sends the status line with the first body byte, so that a
// handler that fails before writing can still answer another status.
type headerOnWrite struct {
	w      http.ResponseWriter
	status int
	wrote  bool
}

func (h *headerOnWrite) Write(p []byte) (int, error) {
	if !h.wrote {
		h.wrote = true
		h.w.WriteHeader(h.status)
	}
	return h.w.Write(p)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: []errorItem{{Message: msg}}})
}

func writeBinding(w http.ResponseWriter, e *bindingError) {
	writeJSON(w, e.status(), e)
}

// statusOf maps an error to its HTTP status: the one place that does so.
func statusOf(err error) int {
	var be *bindingError
	if errors.As(err, &be) {
		return be.status()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	switch db.KindOf(err) {
	case db.KindInvalid:
		return http.StatusUnprocessableEntity
	case db.KindNotFound:
		return http.StatusNotFound
	case db.KindForbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// writeError answers with the handler-error shape (or the binding shape for
// binding errors). 5xx errors are logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var be *bindingError
	if errors.As(err, &be) {
		writeBinding(w, be)
		return
	}
	status := statusOf(err)
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeMessage(w, status, err.Error())
}

// writeSchemaError answers schema writes with the {"allowed":null,…} shape.
func (s *Server) writeSchemaError(w http.ResponseWriter, r *http.Request, err error) {
	var be *bindingError
	if errors.As(err, &be) {
		writeBinding(w, be)
		return
	}
	status := statusOf(err)
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, schemaErrorBody{Error: []errorItem{{Message: err.Error()}}})
}
