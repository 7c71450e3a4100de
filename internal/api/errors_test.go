package api

import (
	"bytes"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A value encoding/json refuses is answered 500 with the cause, and logged;
// never an empty 200.
func TestWriteJSONEncodeFailure(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(prev)

	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, map[string]any{"distance": math.Inf(1)})
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500; body %q", rec.Code, rec.Body)
	}
	if want := `{"error":[{"message":"encode response: json: unsupported value: +Inf"}]}` + "\n"; rec.Body.String() != want {
		t.Errorf("body %q, want %q", rec.Body, want)
	}
	if !strings.Contains(logs.String(), "unsupported value: +Inf") {
		t.Errorf("encode failure not logged: %q", logs.String())
	}

	rec = httptest.NewRecorder()
	writeJSON(rec, http.StatusCreated, map[string]any{"a": "<b>"})
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"a":"<b>"}`+"\n" {
		t.Errorf("got %d %q", rec.Code, rec.Body)
	}
}
