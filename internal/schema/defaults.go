package schema

import (
	"maps"

	"strata/internal/sharding"
)

// defaultHNSWConfig is the vectorIndexConfig Weaviate v1.39 returns for hnsw.
func defaultHNSWConfig() map[string]any {
	return map[string]any{
		"skip": false, "cleanupIntervalSeconds": 300.0, "maxConnections": 32.0,
		"efConstruction": 128.0, "ef": -1.0, "dynamicEfMin": 100.0, "dynamicEfMax": 500.0,
		"dynamicEfFactor": 8.0, "vectorCacheMaxObjects": 1000000000000.0,
		"flatSearchCutoff": 40000.0, "distance": DistanceCosine,
		"pq": map[string]any{"enabled": false, "bitCompression": false, "segments": 0.0,
			"centroids": 256.0, "trainingLimit": 100000.0,
			"encoder": map[string]any{"type": "kmeans", "distribution": "log-normal"}},
		"bq":             map[string]any{"enabled": false},
		"sq":             map[string]any{"enabled": false, "trainingLimit": 100000.0, "rescoreLimit": 20.0},
		"rq":             map[string]any{"enabled": false, "bits": 8.0, "rescoreLimit": 20.0},
		"filterStrategy": "acorn",
		"multivector": map[string]any{"enabled": false, "aggregation": "maxSim",
			"muvera": map[string]any{"enabled": false, "ksim": 4.0, "dprojections": 16.0, "repetitions": 10.0}},
		"skipDefaultQuantization": false, "trackDefaultQuantization": false,
	}
}

// defaultFlatConfig is the vectorIndexConfig for flat indexes.
func defaultFlatConfig() map[string]any {
	return map[string]any{
		"distance": DistanceCosine, "vectorCacheMaxObjects": 1000000000000.0,
		"pq": map[string]any{"enabled": false, "rescoreLimit": -1.0, "cache": false},
		"bq": map[string]any{"enabled": false, "rescoreLimit": -1.0, "cache": false},
		"sq": map[string]any{"enabled": false, "rescoreLimit": -1.0, "cache": false},
	}
}

// defaultDynamicConfig is the vectorIndexConfig Weaviate returns for dynamic
// indexes: the threshold at which it switches from flat to hnsw, and both
// sub-configs.
func defaultDynamicConfig() map[string]any {
	return map[string]any{
		"distance": DistanceCosine, "threshold": 10000.0,
		"hnsw": defaultHNSWConfig(), "flat": defaultFlatConfig(),
	}
}

// SetDefaults fills in what Weaviate fills into a new class. It keeps every
// value the user gave and adds missing keys.
func (c *Class) SetDefaults() {
	if c.Properties == nil {
		c.Properties = []*Property{}
	}
	if len(c.VectorConfig) == 0 {
		if c.Vectorizer == "" {
			c.Vectorizer = "none"
		}
		if c.VectorIndexType == "" {
			c.VectorIndexType = "hnsw"
		}
		c.VectorIndexConfig = withDefaults(c.VectorIndexConfig, c.VectorIndexType)
	} else {
		for name, vc := range c.VectorConfig {
			if vc.VectorIndexType == "" {
				vc.VectorIndexType = "hnsw"
			}
			if vc.Vectorizer == nil {
				vc.Vectorizer = map[string]any{"none": map[string]any{}}
			}
			vc.VectorIndexConfig = withDefaults(vc.VectorIndexConfig, vc.VectorIndexType)
			c.VectorConfig[name] = vc
		}
	}
	c.InvertedIndexConfig = mergeDefaults(c.InvertedIndexConfig, map[string]any{
		"bm25":                   map[string]any{"b": 0.75, "k1": 1.2},
		"cleanupIntervalSeconds": 60.0,
		"stopwords":              map[string]any{"additions": nil, "preset": "en", "removals": nil},
		"usingBlockMaxWAND":      true,
	})
	if c.MultiTenancyConfig == nil {
		c.MultiTenancyConfig = &MultiTenancyConfig{}
	}
	c.ReplicationConfig = mergeDefaults(c.ReplicationConfig, map[string]any{
		"deletionStrategy": "TimeBasedResolution", "factor": 1.0, "asyncEnabled": false,
	})
	if f, ok := asFloat(c.ReplicationConfig["factor"]); ok && f < 1 {
		c.ReplicationConfig["factor"] = 1.0 // Weaviate: below 1 means the minimum
	}
	if c.MultiTenant() {
		c.ShardingConfig = mergeDefaults(c.ShardingConfig, map[string]any{
			"virtualPerPhysical": 0.0, "desiredCount": 0.0, "actualCount": 0.0,
			"desiredVirtualCount": 0.0, "actualVirtualCount": 0.0, "key": "",
			"strategy": "", "function": "",
		})
	} else {
		c.ShardingConfig = mergeDefaults(c.ShardingConfig, map[string]any{
			"virtualPerPhysical": 128.0, "desiredCount": 1.0, "actualCount": 1.0,
			"desiredVirtualCount": 128.0, "actualVirtualCount": 128.0, "key": "_id",
			"strategy": "hash", "function": "murmur3",
		})
	}
	for _, p := range c.Properties {
		if p != nil {
			p.SetDefaults()
		}
	}
}

func withDefaults(cfg map[string]any, indexType string) map[string]any {
	switch indexType {
	case "flat":
		return mergeDefaults(cfg, defaultFlatConfig())
	case "dynamic":
		return mergeDefaults(cfg, defaultDynamicConfig())
	}
	return mergeDefaults(cfg, defaultHNSWConfig())
}

// mergeDefaults returns cfg with every missing key of defaults added
// (recursively for nested objects). cfg's own values win.
func mergeDefaults(cfg, defaults map[string]any) map[string]any {
	out := maps.Clone(cfg)
	if out == nil {
		out = map[string]any{}
	}
	for k, dv := range defaults {
		v, ok := out[k]
		if !ok {
			out[k] = dv
			continue
		}
		if dm, isMap := dv.(map[string]any); isMap {
			if vm, isMap := v.(map[string]any); isMap {
				out[k] = mergeDefaults(vm, dm)
			}
		}
	}
	return out
}

// SetDefaults fills a property's defaults and migrates the deprecated
// settings as Weaviate does: "string" becomes "text" (tokenization word
// becomes whitespace, field stays field), and indexInverted, given alone,
// becomes indexFilterable and (for text) indexSearchable.
func (p *Property) SetDefaults() {
	dt, _ := ParseDataType(p.DataType, nil)
	if !dt.Ref && dt.Name == typeString {
		p.DataType = []string{TypeText + map[bool]string{true: "[]", false: ""}[dt.Array]}
		if p.Tokenization == "" || p.Tokenization == "word" {
			p.Tokenization = "whitespace"
		}
		dt.Name = TypeText
	}
	text := dt.IsText()
	if text && p.Tokenization == "" {
		p.Tokenization = "word"
	}
	if inv := p.IndexInverted; inv != nil && p.IndexFilterable == nil && p.IndexSearchable == nil && p.IndexRangeFilters == nil {
		p.IndexFilterable = ptr(*inv)
		p.IndexSearchable = ptr(*inv && text)
		p.IndexRangeFilters = ptr(false)
	}
	p.IndexInverted = nil
	if p.IndexFilterable == nil {
		p.IndexFilterable = ptr(true)
	}
	if p.IndexSearchable == nil {
		p.IndexSearchable = ptr(text)
	}
	if p.IndexRangeFilters == nil {
		p.IndexRangeFilters = ptr(false)
	}
	for _, n := range p.NestedProperties {
		if n != nil {
			n.SetDefaults()
		}
	}
}

func ptr[T any](v T) *T { return &v }

// SetShardCount fills in, for a class without multi-tenancy that does not
// set shardingConfig.desiredCount (or sets 0), n shards — Weaviate's
// default is the number of nodes — and makes the derived counts match.
// Call it before SetDefaults.
func (c *Class) SetShardCount(n int) {
	if c.MultiTenant() {
		return
	}
	if c.ShardingConfig == nil {
		c.ShardingConfig = map[string]any{}
	}
	if d, _ := asInteger(c.ShardingConfig["desiredCount"]); d > 0 {
		n = int(d)
	}
	per, _ := asInteger(c.ShardingConfig["virtualPerPhysical"])
	if per <= 0 {
		per = sharding.VirtualPerPhysical
	}
	c.ShardingConfig["desiredCount"] = float64(n)
	c.ShardingConfig["actualCount"] = float64(n)
	c.ShardingConfig["virtualPerPhysical"] = float64(per)
	c.ShardingConfig["desiredVirtualCount"] = float64(int64(n) * per)
	c.ShardingConfig["actualVirtualCount"] = float64(int64(n) * per)
}

// Shards returns the number of physical shards and of virtual shards per
// physical shard a class without multi-tenancy asks for.
func (c *Class) Shards() (count, virtualPer int) {
	d, _ := asInteger(c.ShardingConfig["desiredCount"])
	v, _ := asInteger(c.ShardingConfig["virtualPerPhysical"])
	return int(max(d, 1)), int(max(v, 0))
}
