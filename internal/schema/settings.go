package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"strata/internal/sharding"
)

// Bounds of the class settings. Weaviate's own limits are used where it has
// them (minimum maxConnections and efConstruction 4, PQ centroids ≤ 256, RQ
// bits 1 or 8, BM25 b in [0,1]); the upper bounds of the HNSW settings are
// Strata's, chosen so that no setting can make a search or insert allocate
// without bound. docs/limits.md lists them all.
const (
	MinMaxConnections = 4
	// MaxMaxConnections keeps a stored layer-0 link list (up to 3 ×
	// maxConnections before pruning) under the 4096 links the HNSW loader
	// accepts.
	MaxMaxConnections  = 1024
	MinEFConstruction  = 4
	MaxEFConstruction  = 10_000
	MaxEF              = 100_000 // ef and dynamicEfMin/Max
	MaxDynamicEFFactor = 1_000
	MaxRescoreLimit    = 100_000
	MaxPQCentroids     = 256
	MaxPQSegments      = 65_535
	maxInterval        = 365 * 24 * 3600 // cleanupIntervalSeconds, in seconds
	maxInt32           = math.MaxInt32
	maxExactInt        = 1 << 53 // largest integer a JSON number holds exactly
	maxStopwords       = 10_000
	maxVirtualShards   = sharding.MaxShards * sharding.MaxVirtualPerPhysical
	maxMuveraParameter = 1_024
)

// settings checks the keys of one settings object; path names it in errors
// ("vectorIndexConfig", "vectorConfig.v1.vectorIndexConfig.hnsw", ...).
// Absent keys and JSON null are always fine: defaults fill them in.
type settings struct {
	path string
	m    map[string]any
}

func (s settings) field(key string) string { return s.path + "." + key }

// integer checks an integer setting in [lo, hi].
func (s settings) integer(key string, lo, hi int64) error {
	v, ok := s.m[key]
	if !ok || v == nil {
		return nil
	}
	n, isInt := asInteger(v)
	if !isInt || n < lo || n > hi {
		return fmt.Errorf("%s must be an integer between %d and %d, got %s", s.field(key), lo, hi, show(v))
	}
	return nil
}

// number checks a finite floating-point setting in [lo, hi] (hi may be +Inf).
func (s settings) number(key string, lo, hi float64) error {
	v, ok := s.m[key]
	if !ok || v == nil {
		return nil
	}
	f, isNum := asFloat(v)
	if !isNum || math.IsNaN(f) || math.IsInf(f, 0) || f < lo || f > hi {
		if math.IsInf(hi, 1) {
			return fmt.Errorf("%s must be a number of at least %g, got %s", s.field(key), lo, show(v))
		}
		return fmt.Errorf("%s must be a number between %g and %g, got %s", s.field(key), lo, hi, show(v))
	}
	return nil
}

func (s settings) boolean(key string) error {
	v, ok := s.m[key]
	if !ok || v == nil {
		return nil
	}
	if _, isBool := v.(bool); !isBool {
		return fmt.Errorf("%s must be true or false, got %s", s.field(key), show(v))
	}
	return nil
}

// oneOf checks a string setting against its allowed values.
func (s settings) oneOf(key string, allowed ...string) error {
	v, ok := s.m[key]
	if !ok || v == nil {
		return nil
	}
	str, isStr := v.(string)
	for _, a := range allowed {
		if isStr && str == a {
			return nil
		}
	}
	return fmt.Errorf("%s must be one of %q, got %s", s.field(key), allowed, show(v))
}

// sub returns the nested settings object under key (empty when absent).
func (s settings) sub(key string) (settings, error) {
	out := settings{path: s.field(key)}
	v, ok := s.m[key]
	if !ok || v == nil {
		return out, nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return out, fmt.Errorf("%s must be an object, got %s", out.path, show(v))
	}
	out.m = m
	return out, nil
}

// enabled reports whether a sub-object has "enabled": true.
func (s settings) enabled() bool { b, _ := s.m["enabled"].(bool); return b }

// asInteger returns v as an integer when it is a whole number of at most
// 2^53 in magnitude (the integers a JSON number carries exactly).
func asInteger(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	}
	f, ok := asFloat(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > maxExactInt {
		return 0, false
	}
	return int64(f), true
}

func asFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	}
	return 0, false
}

func show(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// validateVectorIndexConfig range-checks the settings of one vector index.
func validateVectorIndexConfig(path, typ string, cfg map[string]any) error {
	s := settings{path: path, m: cfg}
	if d, ok := cfg["distance"]; ok {
		str, isStr := d.(string)
		if !isStr || !distances[str] {
			return fmt.Errorf("%s: unsupported distance %v, use one of cosine, dot, l2-squared, hamming, manhattan", path, d)
		}
	}
	switch typ {
	case "flat":
		return validateFlat(s)
	case "dynamic":
		hnsw, err := s.sub("hnsw")
		if err != nil {
			return err
		}
		flat, err := s.sub("flat")
		if err != nil {
			return err
		}
		return firstErr(s.integer("threshold", 0, maxExactInt), validateHNSW(hnsw), validateFlat(flat))
	default:
		return validateHNSW(s)
	}
}

func validateHNSW(s settings) error {
	ef := s.integer("ef", -1, MaxEF)
	if n, isInt := asInteger(s.m["ef"]); ef == nil && isInt && n == 0 {
		ef = fmt.Errorf("%s must be -1 (dynamic) or between 1 and %d, got 0", s.field("ef"), MaxEF)
	}
	if err := firstErr(
		s.boolean("skip"),
		s.integer("cleanupIntervalSeconds", 1, maxInterval),
		s.integer("maxConnections", MinMaxConnections, MaxMaxConnections),
		s.integer("efConstruction", MinEFConstruction, MaxEFConstruction),
		ef,
		s.integer("dynamicEfMin", 1, MaxEF),
		s.integer("dynamicEfMax", 1, MaxEF),
		s.integer("dynamicEfFactor", 1, MaxDynamicEFFactor),
		s.integer("vectorCacheMaxObjects", 0, maxExactInt),
		s.integer("flatSearchCutoff", 0, maxInt32),
		s.oneOf("filterStrategy", "sweeping", "acorn"),
		s.boolean("skipDefaultQuantization"),
		s.boolean("trackDefaultQuantization"),
	); err != nil {
		return err
	}
	pq, err := s.sub("pq")
	if err != nil {
		return err
	}
	enc, err := pq.sub("encoder")
	if err != nil {
		return err
	}
	bq, err := s.sub("bq")
	if err != nil {
		return err
	}
	sq, err := s.sub("sq")
	if err != nil {
		return err
	}
	rq, err := s.sub("rq")
	if err != nil {
		return err
	}
	mv, err := s.sub("multivector")
	if err != nil {
		return err
	}
	muvera, err := mv.sub("muvera")
	if err != nil {
		return err
	}
	if err := firstErr(
		pq.boolean("enabled"), pq.boolean("bitCompression"),
		pq.integer("segments", 0, MaxPQSegments),
		pq.integer("centroids", 1, MaxPQCentroids),
		pq.integer("trainingLimit", 1, maxInt32),
		enc.oneOf("type", "kmeans", "tile"),
		enc.oneOf("distribution", "log-normal", "normal"),
		bq.boolean("enabled"),
		sq.boolean("enabled"),
		sq.integer("trainingLimit", 1, maxInt32),
		sq.integer("rescoreLimit", -1, MaxRescoreLimit),
		validateRQ(rq),
		mv.boolean("enabled"),
		mv.oneOf("aggregation", "maxSim"),
		muvera.boolean("enabled"),
		muvera.integer("ksim", 1, maxMuveraParameter),
		muvera.integer("dprojections", 1, maxMuveraParameter),
		muvera.integer("repetitions", 1, maxMuveraParameter),
	); err != nil {
		return err
	}
	if mv.enabled() {
		return fmt.Errorf("%s: multi-vector indexes are not supported", mv.field("enabled"))
	}
	if n := countEnabled(pq, bq, sq, rq); n > 1 {
		return fmt.Errorf("%s: only one of pq, bq, sq and rq can be enabled", s.path)
	}
	return refuseUnsupportedCompression(pq, bq, rq)
}

// refuseUnsupportedCompression refuses the compressions the index does not
// apply, so that no setting is accepted and then ignored. The HNSW index
// always compares 8-bit codes and rescores its results with the full
// vectors, which is what sq and 8-bit rq ask for; those are accepted.
// Product and binary quantization (and 1-bit rq) are not implemented.
func refuseUnsupportedCompression(pq, bq, rq settings) error {
	if pq.enabled() {
		return fmt.Errorf("%s: product quantization is not supported; the index compares 8-bit codes (sq or rq with 8 bits)", pq.field("enabled"))
	}
	if bq.enabled() {
		return fmt.Errorf("%s: binary quantization is not supported; the index compares 8-bit codes (sq or rq with 8 bits)", bq.field("enabled"))
	}
	if bits, ok := asInteger(rq.m["bits"]); ok && rq.enabled() && bits == 1 {
		return fmt.Errorf("%s: 1-bit rotational quantization is not supported; use 8 bits", rq.field("bits"))
	}
	return nil
}

func validateFlat(s settings) error {
	if err := s.integer("vectorCacheMaxObjects", 0, maxExactInt); err != nil {
		return err
	}
	var subs []settings
	for _, key := range []string{"pq", "bq", "sq"} {
		sub, err := s.sub(key)
		if err != nil {
			return err
		}
		if err := firstErr(sub.boolean("enabled"), sub.boolean("cache"),
			sub.integer("rescoreLimit", -1, MaxRescoreLimit)); err != nil {
			return err
		}
		subs = append(subs, sub)
	}
	rq, err := s.sub("rq")
	if err != nil {
		return err
	}
	if err := validateRQ(rq); err != nil {
		return err
	}
	if countEnabled(append(subs, rq)...) > 1 {
		return fmt.Errorf("%s: only one of pq, bq, sq and rq can be enabled", s.path)
	}
	// The flat index searches the full vectors exactly; it compresses nothing.
	for _, sub := range append(subs, rq) {
		if sub.enabled() {
			return fmt.Errorf("%s: the flat index searches full vectors and does not support compression", sub.field("enabled"))
		}
	}
	return nil
}

func validateRQ(rq settings) error {
	if err := firstErr(rq.boolean("enabled"), rq.integer("bits", 1, 8),
		rq.integer("rescoreLimit", -1, MaxRescoreLimit)); err != nil {
		return err
	}
	if bits, ok := asInteger(rq.m["bits"]); ok && rq.enabled() && bits != 1 && bits != 8 {
		return fmt.Errorf("%s must be 1 or 8, got %d", rq.field("bits"), bits)
	}
	return nil
}

func countEnabled(subs ...settings) int {
	n := 0
	for _, s := range subs {
		if s.enabled() {
			n++
		}
	}
	return n
}

// validateInvertedIndexConfig checks invertedIndexConfig.
func validateInvertedIndexConfig(cfg map[string]any) error {
	s := settings{path: "invertedIndexConfig", m: cfg}
	bm25, err := s.sub("bm25")
	if err != nil {
		return err
	}
	sw, err := s.sub("stopwords")
	if err != nil {
		return err
	}
	if err := firstErr(
		bm25.number("b", 0, 1),
		bm25.number("k1", 0, math.Inf(1)),
		s.integer("cleanupIntervalSeconds", 0, maxInterval),
		s.boolean("usingBlockMaxWAND"),
		s.boolean("indexTimestamps"),
		s.boolean("indexNullState"),
		s.boolean("indexPropertyLength"),
		sw.oneOf("preset", "en", "none", ""),
	); err != nil {
		return err
	}
	lists := map[string]map[string]bool{}
	for _, key := range []string{"additions", "removals"} {
		words, err := stringList(sw, key)
		if err != nil {
			return err
		}
		lists[key] = words
	}
	for w := range lists["additions"] {
		if lists["removals"][w] {
			return fmt.Errorf("%s: found %q in both additions and removals", sw.path, w)
		}
	}
	return nil
}

// stringList checks a list of at most maxStopwords strings (or null).
func stringList(s settings, key string) (map[string]bool, error) {
	v, ok := s.m[key]
	if !ok || v == nil {
		return nil, nil
	}
	bad := fmt.Errorf("%s must be a list of at most %d strings", s.field(key), maxStopwords)
	list, isList := v.([]any)
	if !isList || len(list) > maxStopwords {
		return nil, bad
	}
	out := make(map[string]bool, len(list))
	for _, e := range list {
		str, isStr := e.(string)
		if !isStr {
			return nil, bad
		}
		out[str] = true
	}
	return out, nil
}

// validateReplicationConfig checks replicationConfig. Strata is a single
// node, so a factor above 1 cannot be met.
func validateReplicationConfig(cfg map[string]any) error {
	s := settings{path: "replicationConfig", m: cfg}
	if err := firstErr(
		s.integer("factor", 0, maxExactInt),
		s.boolean("asyncEnabled"),
		s.oneOf("deletionStrategy", "NoAutomatedResolution", "DeleteOnConflict", "TimeBasedResolution"),
	); err != nil {
		return err
	}
	if f, _ := asInteger(cfg["factor"]); f > 1 {
		return fmt.Errorf("%s: not enough storage replicas: found 1 want %d", s.field("factor"), f)
	}
	return nil
}

// validateShardingConfig checks shardingConfig.
func validateShardingConfig(cfg map[string]any) error {
	s := settings{path: "shardingConfig", m: cfg}
	if err := firstErr(
		s.integer("desiredCount", 0, sharding.MaxShards),
		s.integer("actualCount", 0, sharding.MaxShards),
		s.integer("virtualPerPhysical", 0, sharding.MaxVirtualPerPhysical),
		s.integer("desiredVirtualCount", 0, maxVirtualShards),
		s.integer("actualVirtualCount", 0, maxVirtualShards),
		s.oneOf("key", "_id", ""),
		s.oneOf("strategy", "hash", ""),
		s.oneOf("function", "murmur3", ""),
	); err != nil {
		return err
	}
	return nil
}
