package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"strata/internal/db"
	"strata/internal/schema"
)

// objectIn is an object as clients send it. Its properties stay JSON until
// the object is stored (a large batch holds no decoded maps).
type objectIn struct {
	Class      string               `json:"class"`
	ID         string               `json:"id"`
	Properties json.RawMessage      `json:"properties"`
	Vector     []float32            `json:"vector"`
	Vectors    map[string][]float32 `json:"vectors"`
	Tenant     string               `json:"tenant"`
}

// objectOut is an object as Strata returns it. Properties are always
// present, {} when the object has none, as Weaviate stores and returns them.
type objectOut struct {
	Class              string               `json:"class"`
	CreationTimeUnix   int64                `json:"creationTimeUnix,omitempty"`
	ID                 string               `json:"id"`
	LastUpdateTimeUnix int64                `json:"lastUpdateTimeUnix,omitempty"`
	Properties         json.RawMessage      `json:"properties"`
	Tenant             string               `json:"tenant,omitempty"`
	Vector             []float32            `json:"vector,omitempty"`
	Vectors            map[string][]float32 `json:"vectors,omitempty"`
}

var emptyProperties = json.RawMessage(`{}`)

func toOut(o *db.Object, withVectors, withTenant bool) objectOut {
	out := objectOut{
		Class: o.Class, ID: o.ID.String(), Properties: o.Properties,
		CreationTimeUnix: o.CreationTimeUnix, LastUpdateTimeUnix: o.LastUpdateTimeUnix,
	}
	if len(out.Properties) == 0 {
		out.Properties = emptyProperties
	}
	if withVectors {
		out.Vector, out.Vectors = o.Vector, o.Vectors
	}
	if withTenant {
		out.Tenant = o.Tenant
	}
	return out
}

// input converts a decoded object; idWhere and propsField name the body
// paths of its id and properties for errors.
func (in *objectIn) input(idWhere, propsField string) (*db.ObjectInput, error) {
	props, err := rawObject(in.Properties, propsField)
	if err != nil {
		return nil, err
	}
	out := &db.ObjectInput{Class: in.Class, Tenant: in.Tenant, RawProperties: props, Vector: in.Vector, Vectors: in.Vectors,
		GenerateID: in.ID == ""} // only an absent id is generated; the nil UUID is an id
	if in.ID != "" {
		id, err := parseUUID(in.ID, idWhere)
		if err != nil {
			return nil, err
		}
		out.ID = id
	}
	return out, nil
}

func (s *Server) createObject(w http.ResponseWriter, r *http.Request) {
	var in objectIn
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	input, err := in.input("body.id in body", "body.properties")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	o, err := s.db.AddObject(r.Context(), input)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toOut(o, true, true))
}

func (s *Server) validateObject(w http.ResponseWriter, r *http.Request) {
	var in objectIn
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	input, err := in.input("body.id in body", "body.properties")
	if err == nil {
		err = input.DecodeProperties()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.db.GetClass(in.Class)
	if err != nil {
		writeMessage(w, http.StatusUnprocessableEntity, fmt.Sprintf("invalid object: class %q not found in schema", schema.NormalizeClassName(in.Class)))
		return
	}
	if input.Properties != nil {
		if err := c.ValidateProperties(input.Properties); err != nil {
			writeMessage(w, http.StatusUnprocessableEntity, "invalid object: "+err.Error())
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// includeVector parses ?include= (vector, classification).
func includeVector(r *http.Request) (bool, error) {
	with := false
	for _, part := range strings.Split(r.URL.Query().Get("include"), ",") {
		switch strings.TrimSpace(part) {
		case "":
		case "vector":
			with = true
		case "classification", "featureProjection", "interpretation", "nearestNeighbors":
		default:
			return false, &bindingError{Code: http.StatusBadRequest, Message: fmt.Sprintf("unrecognized property '%s' in ?include list", part)}
		}
	}
	return with, nil
}

// pathObject reads {class} and {id} of an object route; class is "" on the
// class-less legacy routes.
func pathObject(r *http.Request) (string, uuid.UUID, error) {
	id, err := parseUUID(pathParam(r, "id"), "id in path")
	return pathParam(r, "class"), id, err
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request) {
	class, id, err := pathObject(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	withVec, err := includeVector(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant := r.URL.Query().Get("tenant")
	var o *db.Object
	if class == "" {
		o, err = s.db.FindObject(r.Context(), id, tenant, withVec)
	} else {
		o, err = s.db.GetObject(r.Context(), class, id, tenant, withVec)
	}
	if err != nil {
		if db.KindOf(err) == db.KindNotFound {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toOut(o, withVec, true))
}

func (s *Server) headObject(w http.ResponseWriter, r *http.Request) {
	class, id, err := pathObject(r)
	if err != nil {
		w.WriteHeader(statusOf(err))
		return
	}
	tenant := r.URL.Query().Get("tenant")
	if class == "" {
		_, err = s.db.FindObject(r.Context(), id, tenant, false)
	} else {
		_, err = s.db.GetObject(r.Context(), class, id, tenant, false)
	}
	if err != nil {
		w.WriteHeader(statusOf(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// resolveClass finds the class of a class-less legacy route by its object.
func (s *Server) resolveClass(r *http.Request, class string, id uuid.UUID, tenant string) (string, error) {
	if class != "" {
		return class, nil
	}
	o, err := s.db.FindObject(r.Context(), id, tenant, false)
	if err != nil {
		return "", err
	}
	return o.Class, nil
}

func (s *Server) replaceObject(w http.ResponseWriter, r *http.Request) {
	s.updateObject(w, r, false)
}

func (s *Server) mergeObject(w http.ResponseWriter, r *http.Request) {
	s.updateObject(w, r, true)
}

func (s *Server) updateObject(w http.ResponseWriter, r *http.Request, merge bool) {
	class, id, err := pathObject(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in objectIn
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !merge {
		if in.ID == "" || !strings.EqualFold(in.ID, id.String()) {
			writeMessage(w, http.StatusUnprocessableEntity, "invalid update: field 'id' is immutable")
			return
		}
	}
	tenant := in.Tenant
	if tenant == "" {
		tenant = r.URL.Query().Get("tenant")
	}
	class, err = s.resolveClass(r, class, id, tenant)
	if err != nil {
		if db.KindOf(err) == db.KindNotFound {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.writeError(w, r, err)
		return
	}
	if !merge && in.Class != "" && schema.NormalizeClassName(in.Class) != schema.NormalizeClassName(class) {
		writeMessage(w, http.StatusUnprocessableEntity, "invalid update: field 'class' is immutable")
		return
	}
	props, err := rawObject(in.Properties, "body.properties")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	input := &db.ObjectInput{Class: class, Tenant: tenant, ID: id, RawProperties: props, Vector: in.Vector, Vectors: in.Vectors}
	var o *db.Object
	if merge {
		o, err = s.db.MergeObject(r.Context(), input)
	} else {
		o, err = s.db.ReplaceObject(r.Context(), input)
	}
	if err != nil {
		if db.KindOf(err) == db.KindNotFound {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.writeError(w, r, err)
		return
	}
	if merge {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, toOut(o, true, true))
}

func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request) {
	class, id, err := pathObject(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant := r.URL.Query().Get("tenant")
	if class == "" {
		o, err := s.db.FindObject(r.Context(), id, tenant, false)
		if err != nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		class = o.Class
	}
	if err := s.db.DeleteObject(r.Context(), class, id, tenant); err != nil {
		if db.KindOf(err) == db.KindNotFound {
			writeMessage(w, http.StatusInternalServerError,
				fmt.Sprintf("could not delete object from vector repo: delete from non-existing index for %s", schema.NormalizeClassName(class)))
			return
		}
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listObjects(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	withVec, err := includeVector(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := db.ListParams{Class: q.Get("class"), Tenant: q.Get("tenant"), Limit: s.cfg.QueryDefaultsLimit, WithVectors: withVec}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeBinding(w, &bindingError{Code: 601, Message: fmt.Sprintf("limit in query must be of type int64: %q", v)})
			return
		}
		p.Limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeBinding(w, &bindingError{Code: 601, Message: fmt.Sprintf("offset in query must be of type int64: %q", v)})
			return
		}
		p.Offset = n
	}
	if q.Get("sort") != "" || q.Get("order") != "" {
		writeMessage(w, http.StatusUnprocessableEntity, "sort is not supported yet")
		return
	}
	if v := q.Get("after"); v != "" {
		if p.Class == "" {
			writeMessage(w, http.StatusInternalServerError, "list objects: after parameter not allowed, cursor must be specific to one class, set class query param")
			return
		}
		if q.Get("offset") != "" {
			writeMessage(w, http.StatusUnprocessableEntity, "offset cannot be set with after and limit parameters")
			return
		}
		id, err := uuid.Parse(v)
		if err != nil {
			writeMessage(w, http.StatusUnprocessableEntity, fmt.Sprintf("after parameter '%s' is not a valid uuid", v))
			return
		}
		p.After = &id
	} else if p.Offset+p.Limit > s.cfg.QueryMaximumResults {
		writeMessage(w, http.StatusUnprocessableEntity, "query maximum results exceeded")
		return
	}
	objs, err := s.db.ListObjects(r.Context(), p)
	if err != nil {
		if db.KindOf(err) == db.KindNotFound {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.writeError(w, r, err)
		return
	}
	out := make([]objectOut, len(objs))
	for i, o := range objs {
		out[i] = toOut(o, withVec, false)
	}
	var deprecations any
	if p.Class != "" {
		deprecations = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deprecations": deprecations, "objects": out, "totalResults": len(out)})
}
