package schema

import (
	"fmt"
	"strings"
	"testing"
)

// TestSettingsOutOfRange: every numeric (and enumerated) setting outside
// its range is refused with a message naming the field.
func TestSettingsOutOfRange(t *testing.T) {
	for _, tc := range []struct{ class, field string }{
		{`"vectorIndexConfig":{"ef":1e12}`, "vectorIndexConfig.ef"},
		{`"vectorIndexConfig":{"ef":0}`, "vectorIndexConfig.ef"},
		{`"vectorIndexConfig":{"ef":-2}`, "vectorIndexConfig.ef"},
		{`"vectorIndexConfig":{"ef":64.5}`, "vectorIndexConfig.ef"},
		{`"vectorIndexConfig":{"efConstruction":1e12}`, "vectorIndexConfig.efConstruction"},
		{`"vectorIndexConfig":{"efConstruction":3}`, "vectorIndexConfig.efConstruction"},
		{`"vectorIndexConfig":{"maxConnections":1e9}`, "vectorIndexConfig.maxConnections"},
		{`"vectorIndexConfig":{"maxConnections":2}`, "vectorIndexConfig.maxConnections"},
		{`"vectorIndexConfig":{"maxConnections":"32"}`, "vectorIndexConfig.maxConnections"},
		{`"vectorIndexConfig":{"dynamicEfMin":0}`, "vectorIndexConfig.dynamicEfMin"},
		{`"vectorIndexConfig":{"dynamicEfMax":1e12}`, "vectorIndexConfig.dynamicEfMax"},
		{`"vectorIndexConfig":{"dynamicEfFactor":1e12}`, "vectorIndexConfig.dynamicEfFactor"},
		{`"vectorIndexConfig":{"cleanupIntervalSeconds":-1}`, "vectorIndexConfig.cleanupIntervalSeconds"},
		{`"vectorIndexConfig":{"flatSearchCutoff":-1}`, "vectorIndexConfig.flatSearchCutoff"},
		{`"vectorIndexConfig":{"vectorCacheMaxObjects":-5}`, "vectorIndexConfig.vectorCacheMaxObjects"},
		{`"vectorIndexConfig":{"vectorCacheMaxObjects":1e300}`, "vectorIndexConfig.vectorCacheMaxObjects"},
		{`"vectorIndexConfig":{"skip":"yes"}`, "vectorIndexConfig.skip"},
		{`"vectorIndexConfig":{"filterStrategy":"fast"}`, "vectorIndexConfig.filterStrategy"},
		{`"vectorIndexConfig":{"pq":{"centroids":257}}`, "vectorIndexConfig.pq.centroids"},
		{`"vectorIndexConfig":{"pq":{"segments":-1}}`, "vectorIndexConfig.pq.segments"},
		{`"vectorIndexConfig":{"pq":{"trainingLimit":0}}`, "vectorIndexConfig.pq.trainingLimit"},
		{`"vectorIndexConfig":{"pq":{"encoder":{"type":"x"}}}`, "vectorIndexConfig.pq.encoder.type"},
		{`"vectorIndexConfig":{"pq":7}`, "vectorIndexConfig.pq"},
		{`"vectorIndexConfig":{"sq":{"rescoreLimit":1e9}}`, "vectorIndexConfig.sq.rescoreLimit"},
		{`"vectorIndexConfig":{"rq":{"enabled":true,"bits":4}}`, "vectorIndexConfig.rq.bits"},
		{`"vectorIndexConfig":{"rq":{"rescoreLimit":-2}}`, "vectorIndexConfig.rq.rescoreLimit"},
		{`"vectorIndexConfig":{"multivector":{"enabled":true}}`, "vectorIndexConfig.multivector.enabled"},
		// Compressions the index does not apply are refused, not ignored.
		{`"vectorIndexConfig":{"pq":{"enabled":true}}`, "vectorIndexConfig.pq.enabled"},
		{`"vectorIndexConfig":{"bq":{"enabled":true}}`, "vectorIndexConfig.bq.enabled"},
		{`"vectorIndexConfig":{"rq":{"enabled":true,"bits":1}}`, "vectorIndexConfig.rq.bits"},
		{`"vectorIndexType":"flat","vectorIndexConfig":{"bq":{"enabled":true}}`, "vectorIndexConfig.bq.enabled"},
		{`"vectorIndexType":"flat","vectorIndexConfig":{"rq":{"enabled":true}}`, "vectorIndexConfig.rq.enabled"},
		{`"vectorIndexType":"dynamic","vectorIndexConfig":{"flat":{"bq":{"enabled":true}}}`, "vectorIndexConfig.flat.bq.enabled"},
		{`"vectorIndexType":"dynamic","vectorIndexConfig":{"hnsw":{"pq":{"enabled":true}}}`, "vectorIndexConfig.hnsw.pq.enabled"},
		{`"vectorIndexConfig":{"multivector":{"muvera":{"ksim":1e9}}}`, "vectorIndexConfig.multivector.muvera.ksim"},
		{`"vectorIndexType":"flat","vectorIndexConfig":{"bq":{"rescoreLimit":1e12}}`, "vectorIndexConfig.bq.rescoreLimit"},
		{`"vectorIndexType":"flat","vectorIndexConfig":{"vectorCacheMaxObjects":-1}`, "vectorIndexConfig.vectorCacheMaxObjects"},
		{`"vectorIndexType":"dynamic","vectorIndexConfig":{"threshold":-1}`, "vectorIndexConfig.threshold"},
		{`"vectorIndexType":"dynamic","vectorIndexConfig":{"hnsw":{"ef":1e12}}`, "vectorIndexConfig.hnsw.ef"},
		{`"vectorIndexType":"dynamic","vectorIndexConfig":{"flat":{"pq":{"rescoreLimit":1e12}}}`, "vectorIndexConfig.flat.pq.rescoreLimit"},
		{`"vectorConfig":{"v":{"vectorIndexConfig":{"efConstruction":1e12}}}`, "vectorIndexConfig.efConstruction"},
		{`"invertedIndexConfig":{"bm25":{"b":1.5}}`, "invertedIndexConfig.bm25.b"},
		{`"invertedIndexConfig":{"bm25":{"k1":-1}}`, "invertedIndexConfig.bm25.k1"},
		{`"invertedIndexConfig":{"cleanupIntervalSeconds":1e12}`, "invertedIndexConfig.cleanupIntervalSeconds"},
		{`"invertedIndexConfig":{"stopwords":{"preset":"fr"}}`, "invertedIndexConfig.stopwords.preset"},
		{`"invertedIndexConfig":{"stopwords":{"additions":[1]}}`, "invertedIndexConfig.stopwords.additions"},
		{`"invertedIndexConfig":{"stopwords":{"additions":["a"],"removals":["a"]}}`, "invertedIndexConfig.stopwords"},
		{`"replicationConfig":{"factor":2}`, "replicationConfig.factor"},
		{`"replicationConfig":{"factor":1.5}`, "replicationConfig.factor"},
		{`"replicationConfig":{"deletionStrategy":"Never"}`, "replicationConfig.deletionStrategy"},
		{`"shardingConfig":{"desiredCount":10001}`, "shardingConfig.desiredCount"},
		{`"shardingConfig":{"virtualPerPhysical":1e9}`, "shardingConfig.virtualPerPhysical"},
		{`"shardingConfig":{"desiredVirtualCount":-1}`, "shardingConfig.desiredVirtualCount"},
		{`"shardingConfig":{"key":"title"}`, "shardingConfig.key"},
		{`"objectTtlConfig":{"enabled":true,"defaultTtl":60}`, "objectTtlConfig"},
	} {
		body := `{"class":"A",` + tc.class + `}`
		c := decodeClass(t, body)
		err := c.Validate(nil)
		if err == nil {
			t.Errorf("Validate(%s): accepted", body)
			continue
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Validate(%s): %q does not name %s", body, err, tc.field)
		}
	}
}

// TestSettingsInRange: the bounds themselves and Weaviate's usual values
// are accepted.
func TestSettingsInRange(t *testing.T) {
	for _, cls := range []string{
		fmt.Sprintf(`"vectorIndexConfig":{"ef":%d,"efConstruction":%d,"maxConnections":%d,"dynamicEfMin":1,"dynamicEfMax":%d,"dynamicEfFactor":%d}`,
			MaxEF, MaxEFConstruction, MaxMaxConnections, MaxEF, MaxDynamicEFFactor),
		`"vectorIndexConfig":{"ef":-1,"efConstruction":4,"maxConnections":4,"vectorCacheMaxObjects":1000000000000}`,
		`"vectorIndexConfig":{"pq":{"enabled":false,"centroids":256,"segments":96,"encoder":{"type":"tile","distribution":"normal"}}}`,
		`"vectorIndexConfig":{"rq":{"enabled":true,"bits":8,"rescoreLimit":512},"filterStrategy":"sweeping"}`,
		`"vectorIndexConfig":{"sq":{"enabled":true,"trainingLimit":1000,"rescoreLimit":20}}`,
		`"vectorIndexType":"flat","vectorIndexConfig":{"bq":{"enabled":false,"cache":true,"rescoreLimit":200}}`,
		`"vectorIndexType":"dynamic","vectorIndexConfig":{"threshold":20000,"hnsw":{"ef":100,"sq":{"enabled":true}},"flat":{"bq":{"enabled":false}}}`,
		`"invertedIndexConfig":{"bm25":{"b":0,"k1":0},"stopwords":{"preset":"none","additions":["x"],"removals":["the"]}}`,
		`"replicationConfig":{"factor":1,"deletionStrategy":"NoAutomatedResolution"}`,
		`"replicationConfig":{"factor":0}`,
		`"shardingConfig":{"desiredCount":1,"virtualPerPhysical":128}`,
		`"objectTtlConfig":{"enabled":false}`,
	} {
		body := `{"class":"A",` + cls + `}`
		if err := decodeClass(t, body).Validate(nil); err != nil {
			t.Errorf("Validate(%s): %v", body, err)
		}
	}
}

func TestDynamicDefaults(t *testing.T) {
	c := create(t, `{"class":"D","vectorIndexType":"dynamic","vectorIndexConfig":{"distance":"dot","hnsw":{"ef":64}}}`)
	cfg := c.VectorIndexConfig
	if cfg["threshold"] != 10000.0 || cfg["distance"] != "dot" {
		t.Errorf("dynamic top level: %v", cfg)
	}
	h, _ := cfg["hnsw"].(map[string]any)
	f, _ := cfg["flat"].(map[string]any)
	if h["ef"] != 64.0 || h["efConstruction"] != 128.0 || f["vectorCacheMaxObjects"] != 1e12 {
		t.Errorf("dynamic sub-configs: hnsw %v flat %v", h, f)
	}
	if _, ok := cfg["efConstruction"]; ok {
		t.Errorf("dynamic config carries hnsw keys at the top level: %v", cfg)
	}
}

func TestReplicationFactorZeroIsOne(t *testing.T) {
	c := create(t, `{"class":"R","replicationConfig":{"factor":0}}`)
	if c.ReplicationConfig["factor"] != 1.0 {
		t.Fatalf("factor = %v", c.ReplicationConfig["factor"])
	}
}

// TestLegacyPropertySettings follows Weaviate's migration of indexInverted
// and of the deprecated string type, and its refusals.
func TestLegacyPropertySettings(t *testing.T) {
	c := create(t, `{"class":"L","properties":[
		{"name":"a","dataType":["text"],"indexInverted":false},
		{"name":"b","dataType":["int"],"indexInverted":true},
		{"name":"c","dataType":["string"],"tokenization":"word"},
		{"name":"d","dataType":["string[]"],"tokenization":"field"},
		{"name":"e","dataType":["date"],"indexRangeFilters":true}]}`)
	jsonEqual(t, "legacy props", c.Properties, `[
		{"name":"a","dataType":["text"],"tokenization":"word","indexFilterable":false,"indexSearchable":false,"indexRangeFilters":false},
		{"name":"b","dataType":["int"],"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":false},
		{"name":"c","dataType":["text"],"tokenization":"whitespace","indexFilterable":true,"indexSearchable":true,"indexRangeFilters":false},
		{"name":"d","dataType":["text[]"],"tokenization":"field","indexFilterable":true,"indexSearchable":true,"indexRangeFilters":false},
		{"name":"e","dataType":["date"],"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":true}]`)

	for _, tc := range []struct{ prop, want string }{
		{`{"name":"x","dataType":["text"],"indexInverted":true,"indexFilterable":true}`, "`indexInverted` is deprecated and can not be set together"},
		{`{"name":"x","dataType":["text"],"indexInverted":false,"indexSearchable":false}`, "`indexInverted` is deprecated and can not be set together"},
		{`{"name":"x","dataType":["int"],"indexSearchable":true}`, "`indexSearchable` is allowed only for text/text[] data types"},
		{`{"name":"x","dataType":["string"],"tokenization":"lowercase"}`, "tokenization 'lowercase' is not allowed for data type 'string'"},
		{`{"name":"x","dataType":["string[]"],"tokenization":"whitespace"}`, "tokenization 'whitespace' is not allowed for data type 'string[]'"},
		{`{"name":"x","dataType":["text"],"indexRangeFilters":true}`, "`indexRangeFilters` is allowed only for number/int/date"},
		{`{"name":"x","dataType":["int[]"],"indexRangeFilters":true}`, "`indexRangeFilters` is allowed only for number/int/date"},
		{`{"name":"o","dataType":["object"],"nestedProperties":[{"name":"n","dataType":["int"],"indexSearchable":true}]}`, "property 'o.n': `indexSearchable`"},
		{`{"name":"x","dataType":["text"],"tokenization":"kagome_ja"}`, "property 'x': the kagome_ja tokenizer is not supported"},
	} {
		body := `{"class":"L","properties":[` + tc.prop + `]}`
		err := decodeClass(t, body).Validate(nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%s) = %v, want %q", body, err, tc.want)
		}
	}
}

func TestNestedIDAllowed(t *testing.T) {
	create(t, `{"class":"N","properties":[{"name":"o","dataType":["object"],"nestedProperties":[{"name":"id","dataType":["text"]}]}]}`)
	err := decodeClass(t, `{"class":"N","properties":[{"name":"id","dataType":["text"]}]}`).Validate(nil)
	if err == nil || !strings.Contains(err.Error(), "'id' is a reserved property name") {
		t.Fatalf("top-level id: %v", err)
	}
}

// nestedClass is a class whose property "p0" nests depth levels deep.
func nestedClass(depth int) string {
	inner := `{"name":"leaf","dataType":["text"]}`
	for i := depth - 1; i >= 0; i-- {
		inner = fmt.Sprintf(`{"name":"p%d","dataType":["object"],"nestedProperties":[%s]}`, i, inner)
	}
	return `{"class":"Deep","properties":[` + inner + `]}`
}

func TestNestingDepthBounded(t *testing.T) {
	// depth object levels plus the leaf: MaxNestingDepth levels in all.
	create(t, nestedClass(MaxNestingDepth-1))
	err := decodeClass(t, nestedClass(MaxNestingDepth)).Validate(nil)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("deeper than %d levels", MaxNestingDepth)) {
		t.Fatalf("depth %d: %v", MaxNestingDepth+1, err)
	}
}

// TestClassPropertyLimit: a definition with more properties than a class
// may have, nested ones included, is refused naming the limit.
func TestClassPropertyLimit(t *testing.T) {
	props := func(n int) []*Property {
		out := make([]*Property, n)
		for i := range out {
			out[i] = &Property{Name: fmt.Sprintf("p%d", i), DataType: []string{"int"}}
		}
		return out
	}
	if err := (&Class{Class: "A", Properties: props(MaxClassProperties)}).Validate(nil); err != nil {
		t.Fatalf("a class at the limit: %v", err)
	}
	err := (&Class{Class: "A", Properties: props(MaxClassProperties + 1)}).Validate(nil)
	if err == nil || !strings.Contains(err.Error(), "more than the limit of 100000") {
		t.Fatalf("a class over the limit: %v", err)
	}
	nested := &Property{Name: "o", DataType: []string{"object"}, NestedProperties: props(MaxClassProperties)}
	if err := (&Class{Class: "A", Properties: []*Property{nested}}).Validate(nil); err == nil {
		t.Fatal("nested properties are not counted")
	}
}

func TestNamedVectorLimit(t *testing.T) {
	vectors := func(n int) map[string]VectorConfig {
		out := map[string]VectorConfig{}
		for i := range n {
			out[fmt.Sprintf("v%d", i)] = VectorConfig{VectorIndexType: "hnsw"}
		}
		return out
	}
	if err := (&Class{Class: "A", VectorConfig: vectors(MaxNamedVectors)}).Validate(nil); err != nil {
		t.Fatalf("a class at the limit: %v", err)
	}
	err := (&Class{Class: "A", VectorConfig: vectors(MaxNamedVectors + 1)}).Validate(nil)
	if err == nil || !strings.Contains(err.Error(), "vectorConfig: 1001 named vectors, more than the limit of 1000") {
		t.Fatalf("a class over the limit: %v", err)
	}
}
