package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/weaviate/weaviate/entities/models"
)

// stateProbe records the schema and the objects of a class so a test can
// assert that a rejected request changed nothing.
type stateProbe struct {
	s      *server
	class  string
	schema []byte
	list   []byte
}

func newStateProbe(t testing.TB, s *server, class string) *stateProbe {
	t.Helper()
	p := &stateProbe{s: s, class: class}
	p.schema, p.list = p.read(t)
	return p
}

func (p *stateProbe) read(t testing.TB) (schema, list []byte) {
	t.Helper()
	r := p.s.do(t, http.MethodGet, "/v1/schema", nil)
	wantStatus(t, r, http.StatusOK)
	schema = r.Body
	r = p.s.do(t, http.MethodGet, "/v1/objects?class="+p.class+"&include=vector&limit=1000", nil)
	wantStatus(t, r, http.StatusOK)
	return schema, r.Body
}

// unchanged asserts schema and objects are as recorded.
func (p *stateProbe) unchanged(t testing.TB) {
	t.Helper()
	schema, list := p.read(t)
	if !jsonEqual(t, p.schema, schema) {
		t.Errorf("schema changed by a rejected request:\nbefore %s\nafter  %s", p.schema, schema)
	}
	if !jsonEqual(t, p.list, list) {
		t.Errorf("objects changed by a rejected request:\nbefore %s\nafter  %s", truncate(p.list, 2000), truncate(list, 2000))
	}
}

// TestBadInput: malformed or invalid requests get the specified status
// code and error body, and leave the data unchanged.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	createClass(t, s, articleClass("Article"))
	id := uuid.NewString()
	r := s.do(t, http.MethodPost, "/v1/objects", map[string]any{
		"class": "Article", "id": id,
		"properties": map[string]any{"title": "hello world", "wordCount": 3},
		"vector":     []float32{0.1, 0.2, 0.3},
	})
	wantStatus(t, r, http.StatusOK)
	probe := newStateProbe(t, s, "Article")

	run := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			f(t)
			probe.unchanged(t)
		})
	}

	run("malformed JSON", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{http.MethodPost, "/v1/objects"},
			{http.MethodPost, "/v1/batch/objects"},
			{http.MethodPost, "/v1/schema"},
			{http.MethodPut, "/v1/objects/Article/" + id},
			{http.MethodPatch, "/v1/objects/Article/" + id},
		} {
			r := s.do(t, c.method, c.path, `{"class":"Article","properties":`)
			cm := wantCodeMessage(t, r, http.StatusBadRequest, 400)
			t.Logf("%s %s → %d %s", c.method, c.path, r.Status, cm.Message)
		}
	})

	run("unknown class", func(t *testing.T) {
		r := s.do(t, http.MethodGet, "/v1/objects/Nope/"+id, nil)
		wantStatus(t, r, http.StatusNotFound)
		if len(r.Body) != 0 {
			t.Errorf("404 on an object resource: want an empty body, got %q", r.Body)
		}
		wantStatus(t, s.do(t, http.MethodHead, "/v1/objects/Nope/"+id, nil), http.StatusNotFound)
		wantStatus(t, s.do(t, http.MethodGet, "/v1/objects?class=Nope", nil), http.StatusNotFound)
		wantStatus(t, s.do(t, http.MethodGet, "/v1/schema/Nope", nil), http.StatusNotFound)
	})

	run("wrong property type", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/v1/objects", map[string]any{
			"class": "Article", "properties": map[string]any{"wordCount": "bad"}, "vector": []float32{1, 0, 0},
		})
		wantErrorMessage(t, r, http.StatusUnprocessableEntity,
			"invalid integer property 'wordCount' on class 'Article': requires an integer, the given value is 'bad'")
		r = s.do(t, http.MethodPost, "/v1/objects", `{"class":"Article","properties":{"wordCount":1.5},"vector":[1,0,0]}`)
		wantErrorMessage(t, r, http.StatusUnprocessableEntity,
			"invalid integer property 'wordCount' on class 'Article': the JSON number '1.5' could not be converted to an int")
		// Via PUT on the existing object.
		r = s.do(t, http.MethodPut, "/v1/objects/Article/"+id, map[string]any{
			"class": "Article", "id": id, "properties": map[string]any{"wordCount": "bad"}, "vector": []float32{1, 0, 0},
		})
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "wordCount")
		// In a batch: a per-object FAILED result naming the property.
		badID := uuid.NewString()
		r = s.do(t, http.MethodPost, "/v1/batch/objects", map[string]any{"objects": []any{map[string]any{
			"class": "Article", "id": badID, "properties": map[string]any{"wordCount": "bad"}, "vector": []float32{0, 1, 0},
		}}})
		wantBatchFailure(t, r, badID, "invalid integer property 'wordCount' on class 'Article'")
	})

	run("bad UUID", func(t *testing.T) {
		r := s.do(t, http.MethodGet, "/v1/objects/Article/not-a-uuid", nil)
		cm := wantCodeMessage(t, r, http.StatusUnprocessableEntity, 601)
		if want := `id in path must be of type uuid: "not-a-uuid"`; cm.Message != want {
			t.Errorf("message %q, want %q", cm.Message, want)
		}
		for _, m := range []string{http.MethodDelete, http.MethodHead} {
			r := s.do(t, m, "/v1/objects/Article/not-a-uuid", nil)
			wantStatus(t, r, http.StatusUnprocessableEntity)
		}
		r = s.do(t, http.MethodPut, "/v1/objects/Article/not-a-uuid",
			map[string]any{"class": "Article", "id": "not-a-uuid", "properties": map[string]any{"title": "x"}})
		wantCodeMessage(t, r, http.StatusUnprocessableEntity, 601)
		r = s.do(t, http.MethodPost, "/v1/batch/objects", map[string]any{"objects": []any{map[string]any{
			"class": "Article", "id": "not-uuid", "properties": map[string]any{"title": "x"},
		}}})
		cm = wantCodeMessage(t, r, http.StatusUnprocessableEntity, 601)
		if want := `body.objects.0.id in body must be of type uuid: "not-uuid"`; cm.Message != want {
			t.Errorf("batch with bad id: message %q, want %q", cm.Message, want)
		}
		r = s.do(t, http.MethodGet, "/v1/objects?class=Article&after=not-a-uuid", nil)
		wantStatus(t, r, http.StatusUnprocessableEntity)
	})

	run("vector dimension mismatch", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/v1/objects", map[string]any{
			"class": "Article", "properties": map[string]any{"title": "short vector"}, "vector": []float32{1, 2},
		})
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "vector dimensions do not match")
		r = s.do(t, http.MethodPut, "/v1/objects/Article/"+id, map[string]any{
			"class": "Article", "id": id, "properties": map[string]any{"title": "x"}, "vector": []float32{1, 2, 3, 4},
		})
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "vector dimensions do not match")
		badID := uuid.NewString()
		r = s.do(t, http.MethodPost, "/v1/batch/objects", map[string]any{"objects": []any{map[string]any{
			"class": "Article", "id": badID, "properties": map[string]any{"title": "x"}, "vector": []float32{1, 2},
		}}})
		wantBatchFailure(t, r, badID, "vector dimensions do not match")
	})

	run("duplicate class", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/v1/schema", articleClass("Article"))
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "class name Article already exists")
		r = s.do(t, http.MethodPost, "/v1/schema", map[string]any{"class": "Bad Name"})
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "'Bad Name' is not a valid class name")
	})

	run("existing id", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/v1/objects", map[string]any{
			"class": "Article", "id": id, "properties": map[string]any{"title": "dup"}, "vector": []float32{1, 0, 0},
		})
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "id '"+id+"' already exists")
	})

	run("other invalid requests", func(t *testing.T) {
		// PUT whose body id differs from the path.
		r := s.do(t, http.MethodPut, "/v1/objects/Article/"+id, map[string]any{
			"class": "Article", "id": uuid.NewString(), "properties": map[string]any{"title": "x"}, "vector": []float32{1, 0, 0},
		})
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "invalid update: field 'id' is immutable")
		// Empty batch.
		r = s.do(t, http.MethodPost, "/v1/batch/objects", map[string]any{"objects": []any{}})
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "invalid param 'objects': cannot be empty, need at least one object for batching")
		// Cursor combined with offset.
		r = s.do(t, http.MethodGet, "/v1/objects?class=Article&after="+id+"&offset=1&limit=1", nil)
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "offset cannot be set with after and limit parameters")
		// Unknown include.
		r = s.do(t, http.MethodGet, "/v1/objects?class=Article&include=foo", nil)
		wantStatus(t, r, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), "unrecognized property 'foo' in ?include list") {
			t.Errorf("include=foo: body %s, want it to mention \"unrecognized property 'foo' in ?include list\"", r.Body)
		}
		// Property with an unknown data type.
		r = s.do(t, http.MethodPost, "/v1/schema/Article/properties", map[string]any{"name": "a", "dataType": []string{"foo"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		// Tenants on a class without multi-tenancy / unknown class.
		r = s.do(t, http.MethodPost, "/v1/schema/Nope/tenants", []map[string]any{{"name": "t1"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
	})
}

// wantBatchFailure asserts a 200 batch response with one FAILED result for
// id whose error mentions substr, and that the object was not stored.
func wantBatchFailure(t *testing.T, r httpResponse, id, substr string) {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	var res []struct {
		ID     string `json:"id"`
		Result struct {
			Status string `json:"status"`
			Errors struct {
				Error []struct {
					Message string `json:"message"`
				} `json:"error"`
			} `json:"errors"`
		} `json:"result"`
	}
	r.JSON(t, &res)
	if len(res) != 1 {
		t.Fatalf("batch: %d results, want 1: %s", len(res), r)
	}
	if res[0].Result.Status != "FAILED" {
		t.Fatalf("batch: status %q, want FAILED: %s", res[0].Result.Status, r)
	}
	if res[0].ID != id {
		t.Errorf("batch: failed result id %q, want %q", res[0].ID, id)
	}
	found := false
	for _, e := range res[0].Result.Errors.Error {
		if strings.Contains(e.Message, substr) {
			found = true
		}
	}
	if !found {
		t.Errorf("batch: errors %+v do not mention %q", res[0].Result.Errors.Error, substr)
	}
}

// TestAutoSchemaOff: with AUTOSCHEMA_ENABLED=false, unknown properties are
// rejected with 422 and the schema is not extended.
func TestAutoSchemaOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{Env: map[string]string{"AUTOSCHEMA_ENABLED": "false"}})
	createClass(t, s, articleClass("Article"))
	probe := newStateProbe(t, s, "Article")

	r := s.do(t, http.MethodPost, "/v1/objects", map[string]any{
		"class": "Article", "properties": map[string]any{"title": "x", "nope": "unknown property"}, "vector": []float32{1, 0, 0},
	})
	wantErrorMessage(t, r, http.StatusUnprocessableEntity, "nope")
	badID := uuid.NewString()
	r = s.do(t, http.MethodPost, "/v1/batch/objects", map[string]any{"objects": []any{map[string]any{
		"class": "Article", "id": badID, "properties": map[string]any{"nope": 1}, "vector": []float32{1, 0, 0},
	}}})
	wantBatchFailure(t, r, badID, "nope")
	// Unknown class: not auto-created.
	r = s.do(t, http.MethodPost, "/v1/objects", map[string]any{"class": "Fresh", "properties": map[string]any{"title": "x"}})
	if r.Status < 400 || r.Status >= 500 {
		t.Errorf("insert into an unknown class with auto-schema off: %s, want a 4xx", r)
	}
	probe.unchanged(t)
	wantStatus(t, s.do(t, http.MethodGet, "/v1/schema/Fresh", nil), http.StatusNotFound)
}

// TestAutoSchemaOn: with auto-schema (the default), writing to an unknown
// class creates it and infers property types.
func TestAutoSchemaOn(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	r := s.do(t, http.MethodPost, "/v1/objects", map[string]any{
		"class": "auto",
		"properties": map[string]any{
			"name": "x", "n": 3, "flag": true, "when": "2024-01-02T03:04:05+02:00", "tags": []string{"a", "b"},
		},
		"vector": []float32{1, 2, 3},
	})
	wantStatus(t, r, http.StatusOK)
	cls, err := s.client(t).Schema().ClassGetter().WithClassName("Auto").Do(ctxT(t))
	if err != nil {
		t.Fatalf("auto-created class: %v", err)
	}
	want := map[string]string{"name": "text", "n": "number", "flag": "boolean", "when": "date", "tags": "text[]"}
	got := map[string]string{}
	for _, p := range cls.Properties {
		if len(p.DataType) == 1 {
			got[p.Name] = p.DataType[0]
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("auto-schema property %s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	// The date is returned as given.
	var obj models.Object
	r.JSON(t, &obj)
	g := getObject(t, s, "Auto", string(obj.ID), "", false)
	if p := g.Properties.(map[string]any); p["when"] != "2024-01-02T03:04:05+02:00" {
		t.Errorf("date property returned as %v, want it as given", p["when"])
	}
}

// TestBodyLimit: bodies over STRATA_MAX_BODY_BYTES get 413 and change
// nothing; smaller ones still work.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{Env: map[string]string{"STRATA_MAX_BODY_BYTES": "1024"}})
	createClass(t, s, articleClass("Article"))
	probe := newStateProbe(t, s, "Article")

	big := strings.Repeat("x", 2000)
	r := s.do(t, http.MethodPost, "/v1/objects", map[string]any{
		"class": "Article", "properties": map[string]any{"title": big}, "vector": []float32{1, 0, 0},
	})
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	objs := genObjects(16, 10, 16)
	r = s.do(t, http.MethodPost, "/v1/batch/objects", map[string]any{"objects": restObjects("Article", objs)})
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	r = s.do(t, http.MethodPost, "/v1/schema", map[string]any{"class": "Big", "description": big})
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	r = s.do(t, http.MethodPost, "/v1/graphql", map[string]any{"query": "{ Get { Article { title } } } #" + big})
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	probe.unchanged(t)

	// Just under the limit works.
	r = s.do(t, http.MethodPost, "/v1/objects", map[string]any{
		"class": "Article", "properties": map[string]any{"title": "small"}, "vector": []float32{1, 0, 0},
	})
	wantStatus(t, r, http.StatusOK)
}
