package db

import (
	"strata/internal/schema"
	"strata/internal/shard"
	"strata/internal/vector"
)

// vectorIndexConfigs maps a class's vector index settings to the shards'
// index configs, for the legacy vector and every named vector.
func vectorIndexConfigs(class *schema.Class) map[string]shard.VectorIndexConfig {
	out := map[string]shard.VectorIndexConfig{"": vectorIndexConfig(class, "")}
	for name := range class.VectorConfig {
		out[name] = vectorIndexConfig(class, name)
	}
	return out
}

func vectorIndexConfig(class *schema.Class, name string) shard.VectorIndexConfig {
	typ, cfg := class.VectorIndex(name)
	num := func(key string) int {
		if v, ok := cfg[key].(float64); ok {
			return int(v)
		}
		return 0
	}
	h := vector.HNSWConfig{
		Distance:        class.Distance(name),
		MaxConnections:  num("maxConnections"),
		EFConstruction:  num("efConstruction"),
		EF:              num("ef"),
		DynamicEFMin:    num("dynamicEfMin"),
		DynamicEFMax:    num("dynamicEfMax"),
		DynamicEFFactor: num("dynamicEfFactor"),
	}
	// "dynamic" starts flat in Weaviate and turns into HNSW as it grows;
	// Strata's HNSW serves small indexes as well, so it uses HNSW throughout.
	return shard.VectorIndexConfig{Flat: typ == "flat", HNSW: h}
}

// updateVectorIndexes passes a class's (mutable) search settings on to its
// open shards. Callers hold d.mu.
func (d *DB) updateVectorIndexes(col *collection) {
	cfgs := vectorIndexConfigs(col.rec.Class)
	for _, s := range col.shards {
		s.UpdateVectorConfigs(cfgs)
	}
}
