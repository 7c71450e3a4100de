package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

// Defaults as given in data-api.md §2.1 / §2.2 (observed on Weaviate v1.39).
const (
	specHNSW = `{"skip":false,"cleanupIntervalSeconds":300,"maxConnections":32,"efConstruction":128,"ef":-1,
 "dynamicEfMin":100,"dynamicEfMax":500,"dynamicEfFactor":8,"vectorCacheMaxObjects":1000000000000,
 "flatSearchCutoff":40000,"distance":"cosine",
 "pq":{"enabled":false,"bitCompression":false,"segments":0,"centroids":256,"trainingLimit":100000,
       "encoder":{"type":"kmeans","distribution":"log-normal"}},
 "bq":{"enabled":false},"sq":{"enabled":false,"trainingLimit":100000,"rescoreLimit":20},
 "rq":{"enabled":false,"bits":8,"rescoreLimit":20},"filterStrategy":"acorn",
 "multivector":{"enabled":false,"muvera":{"enabled":false,"ksim":4,"dprojections":16,"repetitions":10},"aggregation":"maxSim"},
 "skipDefaultQuantization":false,"trackDefaultQuantization":false}`
	specInverted     = `{"bm25":{"b":0.75,"k1":1.2},"cleanupIntervalSeconds":60,"stopwords":{"additions":null,"preset":"en","removals":null},"usingBlockMaxWAND":true}`
	specMT           = `{"enabled":false,"autoTenantCreation":false,"autoTenantActivation":false}`
	specReplication  = `{"deletionStrategy":"TimeBasedResolution","factor":1,"asyncEnabled":false}`
	specSharding     = `{"virtualPerPhysical":128,"desiredCount":1,"actualCount":1,"desiredVirtualCount":128,"actualVirtualCount":128,"key":"_id","strategy":"hash","function":"murmur3"}`
	specShardingMT   = `{"virtualPerPhysical":0,"desiredCount":0,"actualCount":0,"desiredVirtualCount":0,"actualVirtualCount":0,"key":"","strategy":"","function":""}`
	specTitle        = `{"dataType":["text"],"indexFilterable":true,"indexRangeFilters":false,"indexSearchable":true,"name":"title","tokenization":"word"}`
	specWordCount    = `{"dataType":["int"],"indexFilterable":true,"indexRangeFilters":false,"indexSearchable":false,"name":"wordCount"}`
	specFlatDefaults = `{"distance":"cosine","vectorCacheMaxObjects":1000000000000,
 "pq":{"enabled":false,"rescoreLimit":-1,"cache":false},"bq":{"enabled":false,"rescoreLimit":-1,"cache":false},"sq":{"enabled":false,"rescoreLimit":-1,"cache":false}}`
)

// create runs what POST /v1/schema does to a class body.
func create(t *testing.T, body string) *Class {
	t.Helper()
	c := decodeClass(t, body)
	c.Normalize()
	if err := c.Validate(nil); err != nil {
		t.Fatalf("Validate(%s): %v", body, err)
	}
	c.SetDefaults()
	return c
}

func TestSetDefaultsArticle(t *testing.T) {
	c := create(t, `{"class":"Article","vectorizer":"none","properties":[{"name":"title","dataType":["text"]},{"name":"WordCount","dataType":["int"]}]}`)
	jsonEqual(t, "Article", c, `{"class":"Article",
		"properties":[`+specTitle+`,`+specWordCount+`],
		"vectorizer":"none","vectorIndexType":"hnsw",
		"vectorIndexConfig":`+specHNSW+`,
		"invertedIndexConfig":`+specInverted+`,
		"multiTenancyConfig":`+specMT+`,
		"replicationConfig":`+specReplication+`,
		"shardingConfig":`+specSharding+`}`)

	// Defaults are stable: applying them again or cloning changes nothing.
	first, _ := json.Marshal(c)
	c.SetDefaults()
	again, _ := json.Marshal(c)
	if string(first) != string(again) {
		t.Fatalf("SetDefaults not idempotent:\n%s\n%s", first, again)
	}
	cl := c.Clone()
	cl.SetDefaults()
	cloned, _ := json.Marshal(cl)
	if string(first) != string(cloned) {
		t.Fatalf("clone + SetDefaults differs:\n%s\n%s", first, cloned)
	}
}

func TestSetDefaultsMinimalClass(t *testing.T) {
	c := create(t, `{"class":"empty"}`)
	jsonEqual(t, "Empty", c, `{"class":"Empty","properties":[],
		"vectorizer":"none","vectorIndexType":"hnsw","vectorIndexConfig":`+specHNSW+`,
		"invertedIndexConfig":`+specInverted+`,"multiTenancyConfig":`+specMT+`,
		"replicationConfig":`+specReplication+`,"shardingConfig":`+specSharding+`}`)
	// properties must be [] (not null) on the wire.
	b, _ := json.Marshal(c)
	if !strings.Contains(string(b), `"properties":[]`) {
		t.Fatalf("properties not an empty array: %s", b)
	}
}

func TestSetDefaultsMultiTenant(t *testing.T) {
	c := create(t, `{"class":"MT","multiTenancyConfig":{"enabled":true,"autoTenantCreation":true}}`)
	jsonEqual(t, "MT", c, `{"class":"MT","properties":[],
		"vectorizer":"none","vectorIndexType":"hnsw","vectorIndexConfig":`+specHNSW+`,
		"invertedIndexConfig":`+specInverted+`,
		"multiTenancyConfig":{"enabled":true,"autoTenantCreation":true,"autoTenantActivation":false},
		"replicationConfig":`+specReplication+`,"shardingConfig":`+specShardingMT+`}`)
}

func TestSetDefaultsKeepsUserValues(t *testing.T) {
	c := create(t, `{"class":"A","vectorIndexType":"hnsw",
		"vectorIndexConfig":{"distance":"dot","ef":64,"pq":{"enabled":false,"encoder":{"type":"tile"}},"extraKey":"kept"},
		"invertedIndexConfig":{"bm25":{"b":0.5},"stopwords":{"preset":"none"}},
		"replicationConfig":{"asyncEnabled":true},
		"shardingConfig":{"virtualPerPhysical":64}}`)
	cfg := c.VectorIndexConfig
	if cfg["distance"] != "dot" || cfg["ef"] != 64.0 || cfg["extraKey"] != "kept" || cfg["maxConnections"] != 32.0 {
		t.Errorf("vectorIndexConfig top level: %v", cfg)
	}
	pq := cfg["pq"].(map[string]any)
	if pq["enabled"] != false || pq["centroids"] != 256.0 {
		t.Errorf("pq: %v", pq)
	}
	enc := pq["encoder"].(map[string]any)
	if enc["type"] != "tile" || enc["distribution"] != "log-normal" {
		t.Errorf("pq.encoder: %v", enc)
	}
	jsonEqual(t, "inverted", c.InvertedIndexConfig, `{"bm25":{"b":0.5,"k1":1.2},"cleanupIntervalSeconds":60,
		"stopwords":{"additions":null,"preset":"none","removals":null},"usingBlockMaxWAND":true}`)
	jsonEqual(t, "replication", c.ReplicationConfig, `{"deletionStrategy":"TimeBasedResolution","factor":1,"asyncEnabled":true}`)
	if c.ShardingConfig["virtualPerPhysical"] != 64.0 || c.ShardingConfig["actualCount"] != 1.0 {
		t.Errorf("sharding: %v", c.ShardingConfig)
	}
	if c.Distance("") != "dot" {
		t.Errorf("Distance = %q", c.Distance(""))
	}
}

func TestSetDefaultsDoesNotAliasInput(t *testing.T) {
	in := map[string]any{"distance": "dot", "pq": map[string]any{"enabled": true}}
	c := &Class{Class: "A", VectorIndexConfig: in}
	c.SetDefaults()
	if len(in) != 2 || len(in["pq"].(map[string]any)) != 1 {
		t.Fatalf("SetDefaults modified the caller's map: %v", in)
	}
	// Two classes get independent default maps.
	a, b := &Class{Class: "A"}, &Class{Class: "B"}
	a.SetDefaults()
	b.SetDefaults()
	a.VectorIndexConfig["pq"].(map[string]any)["enabled"] = true
	if b.VectorIndexConfig["pq"].(map[string]any)["enabled"] != false {
		t.Fatal("default maps are shared between classes")
	}
}

func TestSetDefaultsFlat(t *testing.T) {
	c := create(t, `{"class":"F","vectorIndexType":"flat","vectorIndexConfig":{"distance":"l2-squared"}}`)
	if c.VectorIndexType != "flat" {
		t.Fatalf("vectorIndexType = %q", c.VectorIndexType)
	}
	jsonEqual(t, "flat config", c.VectorIndexConfig, strings.Replace(specFlatDefaults, `"cosine"`, `"l2-squared"`, 1))
}

func TestSetDefaultsDeprecatedString(t *testing.T) {
	c := create(t, `{"class":"S","properties":[
		{"name":"s","dataType":["string"]},
		{"name":"ss","dataType":["string[]"]},
		{"name":"sf","dataType":["string"],"tokenization":"field","indexSearchable":false}]}`)
	jsonEqual(t, "string props", c.Properties, `[
		{"name":"s","dataType":["text"],"tokenization":"whitespace","indexFilterable":true,"indexSearchable":true,"indexRangeFilters":false},
		{"name":"ss","dataType":["text[]"],"tokenization":"whitespace","indexFilterable":true,"indexSearchable":true,"indexRangeFilters":false},
		{"name":"sf","dataType":["text"],"tokenization":"field","indexFilterable":true,"indexSearchable":false,"indexRangeFilters":false}]`)
}

func TestPropertyDefaultsPerType(t *testing.T) {
	c := create(t, `{"class":"T","properties":[
		{"name":"t","dataType":["text[]"]},
		{"name":"n","dataType":["number"]},
		{"name":"b","dataType":["boolean"],"indexFilterable":false},
		{"name":"d","dataType":["date"],"indexRangeFilters":true},
		{"name":"r","dataType":["T"]},
		{"name":"o","dataType":["object"],"nestedProperties":[{"name":"x","dataType":["text"]},{"name":"y","dataType":["int"]}]}]}`)
	jsonEqual(t, "props", c.Properties, `[
		{"name":"t","dataType":["text[]"],"tokenization":"word","indexFilterable":true,"indexSearchable":true,"indexRangeFilters":false},
		{"name":"n","dataType":["number"],"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":false},
		{"name":"b","dataType":["boolean"],"indexFilterable":false,"indexSearchable":false,"indexRangeFilters":false},
		{"name":"d","dataType":["date"],"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":true},
		{"name":"r","dataType":["T"],"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":false},
		{"name":"o","dataType":["object"],"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":false,"nestedProperties":[
			{"name":"x","dataType":["text"],"tokenization":"word","indexFilterable":true,"indexSearchable":true,"indexRangeFilters":false},
			{"name":"y","dataType":["int"],"indexFilterable":true,"indexSearchable":false,"indexRangeFilters":false}]}]`)
}

func TestSetDefaultsNamedVectors(t *testing.T) {
	c := create(t, `{"class":"NV","properties":[{"name":"title","dataType":["text"]}],"vectorConfig":{
		"title_vec":{"vectorizer":{"none":{}},"vectorIndexType":"flat","vectorIndexConfig":{"distance":"dot"}},
		"other":{}}}`)
	jsonEqual(t, "named vectors", c, `{"class":"NV","properties":[`+specTitle+`],
		"vectorConfig":{
			"title_vec":{"vectorizer":{"none":{}},"vectorIndexType":"flat","vectorIndexConfig":`+strings.Replace(specFlatDefaults, `"cosine"`, `"dot"`, 1)+`},
			"other":{"vectorizer":{"none":{}},"vectorIndexType":"hnsw","vectorIndexConfig":`+specHNSW+`}},
		"invertedIndexConfig":`+specInverted+`,"multiTenancyConfig":`+specMT+`,
		"replicationConfig":`+specReplication+`,"shardingConfig":`+specSharding+`}`)
	if c.Distance("title_vec") != "dot" || c.Distance("other") != "cosine" {
		t.Fatalf("distances: %q %q", c.Distance("title_vec"), c.Distance("other"))
	}
}

func TestSetDefaultsNilProperty(t *testing.T) {
	// A null entry must not crash SetDefaults (Validate rejects it).
	c := decodeClass(t, `{"class":"A","properties":[null,{"name":"o","dataType":["object"],"nestedProperties":[null]}]}`)
	c.SetDefaults()
	if c.Properties[1].IndexFilterable == nil {
		t.Fatal("defaults not applied next to a null property")
	}
	p := &Property{Name: "x", DataType: []string{""}}
	p.SetDefaults() // must not panic on an empty type name
	if p.IndexFilterable == nil || *p.IndexSearchable {
		t.Fatalf("defaults of a bad type: %+v", p)
	}
}
