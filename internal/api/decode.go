package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/google/uuid"
)

// decodeBody reads a JSON request body into v, with numbers in untyped
// values as json.Number. Errors are binding errors with Weaviate's codes.
func decodeBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/yaml" && mt != "text/plain") {
			return &bindingError{Code: http.StatusUnsupportedMediaType,
				Message: fmt.Sprintf("unsupported media type %q, only [application/json application/yaml] are allowed", ct)}
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &bindingError{Code: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("request body too large: the limit is %d bytes", mbe.Limit)}
		}
		return &bindingError{Code: http.StatusBadRequest, Message: "reading body: " + err.Error()}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &bindingError{Code: 602, Message: "body in body is required"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := "body"
			if te.Field != "" {
				field = "body." + te.Field
			}
			return &bindingError{Code: 601, Message: fmt.Sprintf("%s in body must be of type %s: %s", field, te.Type, te.Value)}
		}
		return &bindingError{Code: http.StatusBadRequest,
			Message: fmt.Sprintf("parsing body body from \"\" failed, because %s", err.Error())}
	}
	if dec.More() {
		return &bindingError{Code: http.StatusBadRequest,
			Message: "parsing body body from \"\" failed, because invalid character after top-level value"}
	}
	return nil
}

// parseUUID parses a UUID given in field (e.g. "id" in path), as a binding error.
func parseUUID(s, where string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, &bindingError{Code: 601, Message: fmt.Sprintf("%s must be of type uuid: %q", where, s)}
	}
	return id, nil
}
