package db

import (
	"math"

	"strata/internal/schema"
	"strata/internal/shard"
	"strata/internal/vector"
)

// vectorIndexConfigs maps a class's vector index settings to the shards'
// index configs, for the legacy vector and every named vector.
func (d *DB) vectorIndexConfigs(class *schema.Class) map[string]shard.VectorIndexConfig {
	out := map[string]shard.VectorIndexConfig{"": d.vectorIndexConfig(class, "")}
	for name := range class.VectorConfig {
		out[name] = d.vectorIndexConfig(class, name)
	}
	return out
}

// vectorIndexConfig builds one index's config. Validation keeps every
// setting in range, but a schema written by an older version may not be:
// out-of-range values are clamped to the validated bounds (with a warning)
// so that no stored setting can make the index allocate without bound.
func (d *DB) vectorIndexConfig(class *schema.Class, name string) shard.VectorIndexConfig {
	typ, cfg := class.VectorIndex(name)
	if typ == "dynamic" {
		cfg = dynamicHNSWConfig(cfg)
	}
	// num reads an integer setting; absent or 0 leaves the index default.
	num := func(key string, lo, hi int) int {
		f, ok := cfg[key].(float64)
		if !ok || math.IsNaN(f) || f == 0 {
			return 0
		}
		v := int(max(float64(lo), min(float64(hi), math.Trunc(f))))
		if float64(v) != f {
			d.log.Warn("vector index setting out of range, clamped", "class", class.Class, "vector", name,
				"setting", key, "value", f, "used", v)
		}
		return v
	}
	h := vector.HNSWConfig{
		Distance:        class.Distance(name),
		MaxConnections:  num("maxConnections", schema.MinMaxConnections, schema.MaxMaxConnections),
		EFConstruction:  num("efConstruction", schema.MinEFConstruction, schema.MaxEFConstruction),
		EF:              num("ef", -1, schema.MaxEF),
		DynamicEFMin:    num("dynamicEfMin", 1, schema.MaxEF),
		DynamicEFMax:    num("dynamicEfMax", 1, schema.MaxEF),
		DynamicEFFactor: num("dynamicEfFactor", 1, schema.MaxDynamicEFFactor),
	}
	return shard.VectorIndexConfig{Flat: typ == "flat", HNSW: h}
}

// dynamicHNSWConfig is the HNSW part of a dynamic index's config. "dynamic"
// starts flat in Weaviate and turns into HNSW as it grows; Strata's HNSW
// serves small indexes as well, so it uses HNSW throughout, with the
// settings under "hnsw". Schemas written before dynamic had its own
// defaults hold them at the top level (with maxConnections there).
func dynamicHNSWConfig(cfg map[string]any) map[string]any {
	if _, legacy := cfg["maxConnections"]; legacy {
		return cfg
	}
	h, _ := cfg["hnsw"].(map[string]any)
	return h
}

// updateVectorIndexes passes a class's (mutable) search settings on to its
// open shards. Callers hold d.mu.
func (d *DB) updateVectorIndexes(col *collection) {
	cfgs := d.vectorIndexConfigs(col.rec.Class)
	for _, s := range col.shards {
		s.UpdateVectorConfigs(cfgs)
	}
}
