package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestSchemaSettingRanges: an out-of-range setting is refused with 422
// naming the field on create and on update, and a refused update leaves
// the class as it was (ef 1e12 used to be accepted and the next search
// killed the server).
func TestSchemaSettingRanges(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})

	for i, tc := range []struct{ settings, field string }{
		{`"vectorIndexConfig":{"ef":1e12}`, "vectorIndexConfig.ef"},
		{`"vectorIndexConfig":{"efConstruction":1e12}`, "vectorIndexConfig.efConstruction"},
		{`"vectorIndexConfig":{"maxConnections":100000}`, "vectorIndexConfig.maxConnections"},
		{`"vectorIndexConfig":{"dynamicEfMax":1e12}`, "vectorIndexConfig.dynamicEfMax"},
		{`"vectorIndexConfig":{"dynamicEfFactor":-1}`, "vectorIndexConfig.dynamicEfFactor"},
		{`"vectorIndexConfig":{"ef":"many"}`, "vectorIndexConfig.ef"},
		{`"vectorIndexConfig":{"efConstruction":64.5}`, "vectorIndexConfig.efConstruction"},
		{`"vectorIndexConfig":{"pq":{"centroids":1024}}`, "vectorIndexConfig.pq.centroids"},
		{`"vectorIndexConfig":{"multivector":{"enabled":true}}`, "vectorIndexConfig.multivector.enabled"},
		{`"vectorIndexType":"dynamic","vectorIndexConfig":{"hnsw":{"ef":1e12}}`, "vectorIndexConfig.hnsw.ef"},
		{`"vectorConfig":{"v":{"vectorIndexType":"hnsw","vectorIndexConfig":{"maxConnections":1e9}}}`, "vectorIndexConfig.maxConnections"},
		{`"invertedIndexConfig":{"bm25":{"b":2}}`, "invertedIndexConfig.bm25.b"},
		{`"invertedIndexConfig":{"stopwords":{"preset":"klingon"}}`, "invertedIndexConfig.stopwords.preset"},
		{`"replicationConfig":{"factor":3}`, "replicationConfig.factor"},
		{`"shardingConfig":{"desiredCount":10001}`, "shardingConfig.desiredCount"},
		{`"objectTtlConfig":{"enabled":true,"defaultTtl":3600}`, "objectTtlConfig"},
	} {
		body := fmt.Sprintf(`{"class":"Bad%d",%s}`, i, tc.settings)
		r := s.do(t, http.MethodPost, "/v1/schema", []byte(body))
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, tc.field)
	}
	r := s.do(t, http.MethodGet, "/v1/schema", nil)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.Body), `"Bad`) {
		t.Fatalf("a refused class was created: %s", truncate(r.Body, 500))
	}

	// Update: every refused change leaves the class byte-identical.
	wantStatus(t, s.do(t, http.MethodPost, "/v1/schema", []byte(`{"class":"Good","vectorIndexConfig":{"ef":64}}`)), http.StatusOK)
	before := s.do(t, http.MethodGet, "/v1/schema/Good", nil)
	wantStatus(t, before, http.StatusOK)
	for key, v := range map[string]any{"ef": 1e12, "dynamicEfMin": 0, "dynamicEfMax": 1e12, "dynamicEfFactor": 1e9, "flatSearchCutoff": -1} {
		var cls map[string]any
		before.JSON(t, &cls)
		cls["vectorIndexConfig"].(map[string]any)[key] = v
		r := s.do(t, http.MethodPut, "/v1/schema/Good", cls)
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "vectorIndexConfig."+key)
	}
	var cls map[string]any
	before.JSON(t, &cls)
	cls["invertedIndexConfig"].(map[string]any)["bm25"] = map[string]any{"b": -1, "k1": 1.2}
	wantErrorMessage(t, s.do(t, http.MethodPut, "/v1/schema/Good", cls), http.StatusUnprocessableEntity, "invertedIndexConfig.bm25.b")
	after := s.do(t, http.MethodGet, "/v1/schema/Good", nil)
	if string(after.Body) != string(before.Body) {
		t.Fatalf("class changed by refused updates:\nbefore %s\nafter  %s", before.Body, after.Body)
	}
	// The class still serves searches.
	wantStatus(t, s.do(t, http.MethodPost, "/v1/objects", []byte(`{"class":"Good","vector":[1,2,3]}`)), http.StatusOK)
	q := `{"query":"{Get{Good(nearVector:{vector:[1,2,3]}){_additional{distance}}}}"}`
	r = s.do(t, http.MethodPost, "/v1/graphql", []byte(q))
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"distance"`) {
		t.Fatalf("search: %s", r.Body)
	}
}

// TestSchemaDynamicIndexDefaults: a dynamic index is returned with its
// threshold and both sub-configs, as Weaviate returns it.
func TestSchemaDynamicIndexDefaults(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	r := s.do(t, http.MethodPost, "/v1/schema", []byte(`{"class":"Dyn","vectorIndexType":"dynamic"}`))
	wantStatus(t, r, http.StatusOK)
	var cls struct {
		VectorIndexConfig struct {
			Threshold *float64       `json:"threshold"`
			Distance  string         `json:"distance"`
			HNSW      map[string]any `json:"hnsw"`
			Flat      map[string]any `json:"flat"`
		} `json:"vectorIndexConfig"`
	}
	s.do(t, http.MethodGet, "/v1/schema/Dyn", nil).JSON(t, &cls)
	c := cls.VectorIndexConfig
	if c.Threshold == nil || *c.Threshold != 10000 || c.Distance != "cosine" || c.HNSW["efConstruction"] != 128.0 || c.Flat["vectorCacheMaxObjects"] == nil {
		t.Fatalf("dynamic config %+v", c)
	}
}

// TestSchemaLegacyPropertySettings: indexInverted and the deprecated string
// type are migrated as Weaviate migrates them; the combinations Weaviate
// refuses get 422.
func TestSchemaLegacyPropertySettings(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	r := s.do(t, http.MethodPost, "/v1/schema", []byte(`{"class":"Legacy","properties":[
		{"name":"off","dataType":["text"],"indexInverted":false},
		{"name":"word","dataType":["string"],"tokenization":"word"},
		{"name":"meta","dataType":["object"],"nestedProperties":[{"name":"id","dataType":["text"]}]}]}`))
	wantStatus(t, r, http.StatusOK)
	var cls struct {
		Properties []map[string]any `json:"properties"`
	}
	s.do(t, http.MethodGet, "/v1/schema/Legacy", nil).JSON(t, &cls)
	off, word := cls.Properties[0], cls.Properties[1]
	if off["indexFilterable"] != false || off["indexSearchable"] != false || off["indexInverted"] != nil {
		t.Errorf("indexInverted false became %v", off)
	}
	if word["dataType"].([]any)[0] != "text" || word["tokenization"] != "whitespace" {
		t.Errorf("string + word became %v", word)
	}

	for i, tc := range []struct{ prop, want string }{
		{`{"name":"p","dataType":["text"],"indexInverted":true,"indexSearchable":true}`, "`indexInverted` is deprecated"},
		{`{"name":"p","dataType":["int"],"indexSearchable":true}`, "`indexSearchable` is allowed only for text/text[]"},
		{`{"name":"p","dataType":["string"],"tokenization":"trigram"}`, "tokenization 'trigram' is not allowed for data type 'string'"},
		{`{"name":"p","dataType":["boolean"],"indexRangeFilters":true}`, "`indexRangeFilters` is allowed only for number/int/date"},
		{`{"name":"id","dataType":["text"]}`, "'id' is a reserved property name"},
	} {
		body := fmt.Sprintf(`{"class":"L%d","properties":[%s]}`, i, tc.prop)
		wantErrorMessage(t, s.do(t, http.MethodPost, "/v1/schema", []byte(body)), http.StatusUnprocessableEntity, tc.want)
	}
}

// TestAutoSchemaLimits: an object nested deeper than the auto-schema limit
// is refused with 422 naming the limit and the property, and leaves no
// class behind (a 5,000-deep object used to answer 500 and leave an empty
// class; 4,000 deep grew schema.json to 189 MB). A new key of an existing
// object property is added to the schema.
func TestAutoSchemaLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{Env: map[string]string{"STRATA_AUTOSCHEMA_MAX_NESTING_DEPTH": "10"}})

	for _, depth := range []int{11, 5000} {
		deep := strings.Repeat(`{"n":`, depth) + `"x"` + strings.Repeat(`}`, depth)
		body := `{"class":"Deep","properties":{"root":` + deep + `}}`
		r := s.do(t, http.MethodPost, "/v1/objects", []byte(body))
		wantErrorMessage(t, r, http.StatusUnprocessableEntity, "property 'root.n.n.n.n.n.n.n.n.n.n': more than the nesting depth limit of 10")
		wantStatus(t, s.do(t, http.MethodGet, "/v1/schema/Deep", nil), http.StatusNotFound)
	}
	wide := make([]string, 1001)
	for i := range wide {
		wide[i] = fmt.Sprintf(`"k%d":%d`, i, i)
	}
	r := s.do(t, http.MethodPost, "/v1/objects", []byte(`{"class":"Wide","properties":{"o":{`+strings.Join(wide, ",")+`}}}`))
	wantErrorMessage(t, r, http.StatusUnprocessableEntity, "property 'o': more than the properties per object limit of 1000")
	wantStatus(t, s.do(t, http.MethodGet, "/v1/schema/Wide", nil), http.StatusNotFound)

	// Nested merge.
	wantStatus(t, s.do(t, http.MethodPost, "/v1/objects", []byte(`{"class":"Nest","properties":{"meta":{"a":"x"}}}`)), http.StatusOK)
	wantStatus(t, s.do(t, http.MethodPost, "/v1/objects", []byte(`{"class":"Nest","properties":{"meta":{"a":"y","id":"m","b":{"c":1}}}}`)), http.StatusOK)
	var cls struct {
		Properties []struct {
			Name             string `json:"name"`
			NestedProperties []struct {
				Name string `json:"name"`
			} `json:"nestedProperties"`
		} `json:"properties"`
	}
	s.do(t, http.MethodGet, "/v1/schema/Nest", nil).JSON(t, &cls)
	var names []string
	for _, n := range cls.Properties[0].NestedProperties {
		names = append(names, n.Name)
	}
	if got := strings.Join(names, ","); got != "a,b,id" {
		t.Fatalf("meta nested properties %q, want a,b,id", got)
	}
}
