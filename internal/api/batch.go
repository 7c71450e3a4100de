package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/google/uuid"

	"strata/internal/db"
	"strata/internal/shard"
)

type batchResult struct {
	Errors *errorBody `json:"errors,omitempty"`
	Status string     `json:"status"`
}

type batchItem struct {
	objectOut
	Deprecations any         `json:"deprecations"`
	Result       batchResult `json:"result"`
}

// batchObjects imports a batch. The body is decoded one object at a time
// (never held whole), the objects are stored in chunks of bounded size and
// the response array is written as the chunks are stored, each input
// released once its result is written: the memory a batch takes is a small
// multiple of its body size (docs/limits.md).
func (s *Server) batchObjects(w http.ResponseWriter, r *http.Request) {
	if !checkConsistencyLevel(w, r) {
		return
	}
	ins, err := decodeBatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(ins) == 0 {
		writeMessage(w, http.StatusUnprocessableEntity, "invalid param 'objects': cannot be empty, need at least one object for batching")
		return
	}
	out := &batchWriter{w: w}
	err = s.db.PutObjectsEach(r.Context(), ins, func(i int, res db.BatchResult) {
		out.write(res)
		ins[i] = nil
	})
	if err == nil {
		out.finish()
		return
	}
	if !out.started {
		s.writeError(w, r, err)
		return
	}
	// The status line is sent: the objects not stored are reported failed.
	s.log.Error("batch failed after a partial write", "method", r.Method, "path", r.URL.Path, "err", err)
	for _, in := range ins[out.n:] {
		if in.GenerateID {
			in.ID = uuid.New()
		}
		out.write(db.BatchResult{Object: &db.Object{Class: in.Class, Tenant: in.Tenant, Object: shard.Object{ID: in.ID}}, Err: err})
	}
	out.finish()
}

// batchWriter writes a batch response array item by item.
type batchWriter struct {
	w       http.ResponseWriter
	bw      *bufio.Writer
	buf     bytes.Buffer
	enc     *json.Encoder
	started bool
	n       int // items written
}

func (b *batchWriter) write(res db.BatchResult) {
	if !b.started {
		b.started = true
		b.w.Header().Set("Content-Type", "application/json")
		b.w.WriteHeader(http.StatusOK)
		b.bw = bufio.NewWriterSize(b.w, 64<<10)
		b.enc = json.NewEncoder(&b.buf)
		b.enc.SetEscapeHTML(false)
		b.bw.WriteByte('[')
	} else {
		b.bw.WriteByte(',')
	}
	item := batchItem{objectOut: toOut(res.Object, true, true), Result: batchResult{Status: "SUCCESS"}}
	if res.Err != nil {
		item.Result = batchResult{Status: "FAILED", Errors: &errorBody{Error: []errorItem{{Message: res.Err.Error()}}}}
	}
	b.buf.Reset()
	if err := b.enc.Encode(item); err != nil {
		panic(fmt.Sprintf("encode batch item: %v", err)) // the item holds only encodable values
	}
	b.bw.Write(bytes.TrimSuffix(b.buf.Bytes(), []byte("\n")))
	b.n++
}

func (b *batchWriter) finish() {
	b.bw.WriteString("]\n")
	b.bw.Flush()
}

// decodeBatch decodes a batch body ({"fields":[…],"objects":[…]}) one
// object at a time. Every binding error (syntax, types, ids) is found
// before it returns, so a rejected request stores nothing.
func decodeBatch(r *http.Request) ([]*db.ObjectInput, error) {
	if err := checkMediaType(r); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, errBodyRequired
	}
	if err != nil {
		return nil, bodyError(err, "")
	}
	if tok != json.Delim('{') {
		return nil, &bindingError{Code: 601, Message: fmt.Sprintf("body in body must be of type object: %s", tokenKind(tok))}
	}
	var ins []*db.ObjectInput
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, bodyError(err, "")
		}
		switch key {
		case "objects":
			if ins, err = decodeBatchObjects(dec); err != nil {
				return nil, err
			}
		case "fields":
			var fields []string
			if err := dec.Decode(&fields); err != nil {
				return nil, bodyError(err, "fields")
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, bodyError(err, "")
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, bodyError(err, "")
	}
	return ins, checkBodyEnd(dec)
}

// decodeBatchObjects decodes the value of "objects": null or an array.
func decodeBatchObjects(dec *json.Decoder) ([]*db.ObjectInput, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, bodyError(err, "")
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('[') {
		return nil, &bindingError{Code: 601, Message: fmt.Sprintf("body.objects in body must be of type array: %s", tokenKind(tok))}
	}
	var ins []*db.ObjectInput
	for dec.More() {
		var o objectIn
		if err := dec.Decode(&o); err != nil {
			return nil, bodyError(err, "objects.")
		}
		in, err := o.input(fmt.Sprintf("body.objects.%d.id in body", len(ins)), "body.objects.properties")
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, bodyError(err, "")
	}
	return ins, nil
}

// tokenKind names the JSON kind of a token, for type errors.
func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('[') {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
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
