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
	if err := checkMediaType(r); err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err, "")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errBodyRequired
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return bodyError(err, "")
	}
	return checkBodyEnd(dec)
}

var errBodyRequired = &bindingError{Code: 602, Message: "body in body is required"}

// checkMediaType accepts the JSON (and YAML/text, as Weaviate does) media types.
func checkMediaType(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/yaml" && mt != "text/plain") {
			return &bindingError{Code: http.StatusUnsupportedMediaType,
				Message: fmt.Sprintf("unsupported media type %q, only [application/json application/yaml] are allowed", ct)}
		}
	}
	return nil
}

// checkBodyEnd fails when anything but white space follows the body's value.
func checkBodyEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyError(err, "")
		}
		return &bindingError{Code: http.StatusBadRequest,
			Message: "parsing body body from \"\" failed, because invalid character after top-level value"}
	}
	return nil
}

// bodyError turns an error reading or decoding the body into a binding
// error; prefix is the path of the value being decoded ("objects." for one
// object of a batch).
func bodyError(err error, prefix string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &bindingError{Code: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("request body too large: the limit is %d bytes", mbe.Limit)}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := "body"
		if te.Field != "" || prefix != "" {
			field = "body." + prefix + te.Field
		}
		return &bindingError{Code: 601, Message: fmt.Sprintf("%s in body must be of type %s: %s", field, te.Type, te.Value)}
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return &bindingError{Code: http.StatusBadRequest, Message: "reading body: " + err.Error()}
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return &bindingError{Code: http.StatusBadRequest,
		Message: fmt.Sprintf("parsing body body from \"\" failed, because %s", err.Error())}
}

// rawObject checks that raw is a JSON object or null (nil when absent or
// null), as a binding error naming field otherwise.
func rawObject(raw json.RawMessage, field string) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, nil
	case raw[0] == '{':
		return raw, nil
	}
	kind := "number"
	switch raw[0] {
	case '"':
		kind = "string"
	case '[':
		kind = "array"
	case 't', 'f':
		kind = "bool"
	}
	return nil, &bindingError{Code: 601, Message: fmt.Sprintf("%s in body must be of type map[string]interface {}: %s", field, kind)}
}

// parseUUID parses a UUID given in field (e.g. "id" in path), as a binding error.
func parseUUID(s, where string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, &bindingError{Code: 601, Message: fmt.Sprintf("%s must be of type uuid: %q", where, s)}
	}
	return id, nil
}
