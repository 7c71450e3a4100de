package schema

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzClassDecode decodes arbitrary JSON as a class the way the API does,
// then normalises, validates, fills defaults and validates again: nothing
// may panic, and a class Validate accepts must still be valid with its
// defaults (and survive a clone unchanged).
func FuzzClassDecode(f *testing.F) {
	for _, seed := range []string{
		`{"class":"Article","properties":[{"name":"title","dataType":["text"]},{"name":"wordCount","dataType":["int"]}]}`,
		`{"class":"A","vectorIndexType":"flat","vectorIndexConfig":{"distance":"l2-squared","bq":{"enabled":true}}}`,
		`{"class":"A","vectorIndexType":"dynamic","vectorIndexConfig":{"threshold":100,"hnsw":{"ef":64},"flat":{}}}`,
		`{"class":"A","vectorIndexConfig":{"ef":-1,"efConstruction":128,"maxConnections":32,"dynamicEfMin":100,"dynamicEfMax":500,"dynamicEfFactor":8,"pq":{"enabled":true,"centroids":256,"encoder":{"type":"kmeans"}}}}`,
		`{"class":"A","vectorConfig":{"v1":{"vectorizer":{"none":{}},"vectorIndexType":"hnsw","vectorIndexConfig":{"ef":1e12}}}}`,
		`{"class":"A","invertedIndexConfig":{"bm25":{"b":0.75,"k1":1.2},"stopwords":{"preset":"en","additions":["x"],"removals":null},"cleanupIntervalSeconds":60}}`,
		`{"class":"A","multiTenancyConfig":{"enabled":true,"autoTenantCreation":true},"replicationConfig":{"factor":1},"shardingConfig":{"desiredCount":1}}`,
		`{"class":"A","properties":[{"name":"s","dataType":["string"],"tokenization":"word","indexInverted":false},{"name":"d","dataType":["date"],"indexRangeFilters":true}]}`,
		`{"class":"A","properties":[{"name":"o","dataType":["object[]"],"nestedProperties":[{"name":"id","dataType":["text"]},{"name":"in","dataType":["object"],"nestedProperties":[{"name":"x","dataType":["number"]}]}]}]}`,
		`{"class":"A","properties":[{"name":"r","dataType":["A","B"]}],"objectTtlConfig":{"enabled":false}}`,
		`{"class":"a","properties":[null],"vectorIndexConfig":{"pq":7}}`,
	} {
		f.Add([]byte(seed))
	}
	known := func(string) bool { return true }
	f.Fuzz(func(t *testing.T, data []byte) {
		var in Class
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&in) != nil {
			return
		}
		c := in.Clone()
		c.Normalize()
		if c.Validate(known) != nil {
			return
		}
		c.SetDefaults()
		if err := c.Validate(known); err != nil {
			t.Fatalf("valid class invalid with its defaults: %v\nclass: %s", err, data)
		}
		a, _ := json.Marshal(c)
		b, _ := json.Marshal(c.Clone())
		if !bytes.Equal(a, b) {
			t.Fatalf("clone differs:\n%s\n%s", a, b)
		}
		d := c.Clone()
		d.SetDefaults()
		if e, _ := json.Marshal(d); !bytes.Equal(a, e) {
			t.Fatalf("SetDefaults is not idempotent:\n%s\n%s", a, e)
		}
	})
}
