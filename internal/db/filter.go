package db

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/google/uuid"

	"strata/internal/filter"
	"strata/internal/schema"
	"strata/internal/shard"
)

// DefaultDeleteLimit is how many objects one DeleteObjects call deletes at
// most when DeleteParams.Limit is 0 (Weaviate's QUERY_MAXIMUM_RESULTS).
const DefaultDeleteLimit = 10000

// englishStopwords is Weaviate's "en" stopword preset.
var englishStopwords = []string{
	"a", "an", "and", "are", "as", "at", "be", "but", "by", "for",
	"if", "in", "into", "is", "it", "no", "not", "of", "on", "or", "such", "that",
	"the", "their", "then", "there", "these", "they", "this", "to", "was", "will",
	"with",
}

// invertedConfig is what a class's shards index for where filters: every
// property filter.Indexed accepts, and the class's stopwords
// (invertedIndexConfig.stopwords: preset "en" or "none", plus additions,
// minus removals).
func invertedConfig(class *schema.Class) shard.InvertedConfig {
	var cfg shard.InvertedConfig
	for _, p := range class.Properties {
		if p == nil || !filter.Indexed(p) {
			continue
		}
		dt, _ := schema.ParseDataType(p.DataType, nil)
		typ := shard.PropType(dt.Name)
		if dt.IsText() {
			typ = shard.PropText
		}
		cfg.Properties = append(cfg.Properties, shard.Property{
			Name: p.Name, Type: typ, Array: dt.Array, Tokenization: p.Tokenization,
		})
	}
	preset, words := "en", map[string]bool{}
	sw, _ := class.InvertedIndexConfig["stopwords"].(map[string]any)
	if s, ok := sw["preset"].(string); ok && s != "" {
		preset = s
	}
	if preset == "en" {
		for _, w := range englishStopwords {
			words[w] = true
		}
	}
	for _, key := range []string{"additions", "removals"} {
		list, _ := sw[key].([]any)
		for _, v := range list {
			if w, ok := v.(string); ok {
				words[w] = key == "additions"
			}
		}
	}
	for w, on := range words {
		if on {
			cfg.Stopwords = append(cfg.Stopwords, w)
		}
	}
	sort.Strings(cfg.Stopwords)
	return cfg
}

// updateInverted hands a class's changed definition to its open shards.
// Caller holds d.mu for writing.
func (d *DB) updateInverted(col *collection) {
	cfg := invertedConfig(col.rec.Class)
	for _, s := range col.shards {
		s.SetInverted(cfg)
	}
}

// filterShard validates where against the class and returns the matching
// ids of one shard; prefix starts validation messages. Caller holds d.mu.
func (d *DB) filterShard(ctx context.Context, col *collection, s *shard.Shard, where *filter.Clause, prefix string) ([]uuid.UUID, error) {
	if err := filter.Validate(where, col.rec.Class); err != nil {
		return nil, invalidf("%s: %s", prefix, err.Error())
	}
	ids, err := s.Filter(ctx, where)
	var fe *shard.FilterError
	if errors.As(err, &fe) {
		return nil, &Error{Kind: KindInvalid, Msg: fe.Msg, Err: err}
	}
	return ids, err
}

const whereInvalid = "invalid 'where' filter"

// listWhere is ListObjects with a where filter: one class, objects in
// ascending id order.
func (d *DB) listWhere(ctx context.Context, p ListParams) ([]*Object, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if p.Class == "" {
		return nil, invalidf("%s: a class is required to filter objects", whereInvalid)
	}
	col := d.lookup(p.Class)
	if col == nil {
		return nil, classNotFound(schema.NormalizeClassName(p.Class))
	}
	s, err := d.shardFor(col, p.Tenant)
	if err != nil {
		return nil, err
	}
	ids, err := d.filterShard(ctx, col, s, p.Where, whereInvalid)
	if err != nil {
		return nil, err
	}
	if p.After != nil {
		i, found := slices.BinarySearchFunc(ids, *p.After, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
		if found {
			i++
		}
		ids = ids[i:]
	}
	out := make([]*Object, 0, min(p.Limit, len(ids)))
	skip := p.Offset
	for _, id := range ids {
		if len(out) >= p.Limit {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o, err := s.Get(id, p.WithVectors)
		if errors.Is(err, shard.ErrNotFound) {
			continue // deleted since the filter ran
		}
		if err != nil {
			return nil, err
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, &Object{Class: col.rec.Class.Class, Tenant: p.Tenant, Object: *o})
	}
	return out, nil
}

// searchWhere is a vector search restricted to the objects matching
// p.Where: the vector index only considers their ids, so Limit results
// come back whenever that many match. Caller holds d.mu.
func (d *DB) searchWhere(ctx context.Context, col *collection, s *shard.Shard, p SearchParams) ([]shard.Hit, error) {
	ids, err := d.filterShard(ctx, col, s, p.Where, whereInvalid)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return s.SearchFiltered(p.VectorName, p.Vector, p.Offset+p.Limit, p.MaxDistance, ids)
}

// CountWhere returns the number of objects of a class (for a tenant) that
// match where; nil where counts them all.
func (d *DB) CountWhere(ctx context.Context, class, tenant string, where *filter.Clause) (int64, error) {
	if err := d.activateForRequest(class, tenant); err != nil {
		return 0, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	col := d.lookup(class)
	if col == nil {
		return 0, classNotFound(schema.NormalizeClassName(class))
	}
	s, err := d.shardFor(col, tenant)
	if err != nil {
		return 0, err
	}
	if where == nil {
		return int64(s.Count()), nil
	}
	ids, err := d.filterShard(ctx, col, s, where, whereInvalid)
	return int64(len(ids)), err
}

// DeleteParams select the objects DeleteObjects deletes.
type DeleteParams struct {
	Class, Tenant string
	Where         *filter.Clause // required
	DryRun        bool           // only report what would be deleted
	Limit         int            // at most this many are deleted; 0 = DefaultDeleteLimit
}

// DeletedObject is the outcome for one matched object.
type DeletedObject struct {
	ID  uuid.UUID
	Err error
}

// DeleteResult reports a DeleteObjects call. Matches counts the matched
// objects, at most the limit; Objects lists them in ascending id order.
type DeleteResult struct {
	Matches, Successful, Failed int
	Objects                     []DeletedObject
}

// DeleteObjects deletes the objects of a class (for a tenant) that match a
// where filter, at most Limit of them (the first in id order), in one
// synced write. With DryRun it only reports the matches.
func (d *DB) DeleteObjects(ctx context.Context, p DeleteParams) (DeleteResult, error) {
	if err := d.activateForRequest(p.Class, p.Tenant); err != nil {
		return DeleteResult{}, err
	}
	if p.Where == nil {
		return DeleteResult{}, invalidf("validate: empty match.where clause")
	}
	if p.Class == "" {
		return DeleteResult{}, invalidf("validate: empty match.class clause")
	}
	limit := p.Limit
	if limit <= 0 {
		limit = DefaultDeleteLimit
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	col := d.lookup(p.Class)
	if col == nil {
		return DeleteResult{}, invalidf("validate: failed to get class: %s", schema.NormalizeClassName(p.Class))
	}
	s, err := d.shardFor(col, p.Tenant)
	if err != nil {
		return DeleteResult{}, err
	}
	ids, err := d.filterShard(ctx, col, s, p.Where, "validate: invalid where filter")
	if err != nil {
		return DeleteResult{}, err
	}
	if len(ids) > limit {
		ids = ids[:limit]
	}
	res := DeleteResult{Matches: len(ids), Objects: make([]DeletedObject, len(ids))}
	for i, id := range ids {
		res.Objects[i].ID = id
	}
	if p.DryRun || len(ids) == 0 {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return DeleteResult{}, err
	}
	if _, err := s.DeleteMany(ids); err != nil {
		return DeleteResult{}, err
	}
	res.Successful = len(ids)
	return res, nil
}
