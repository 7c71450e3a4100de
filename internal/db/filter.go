package db

import (
	"context"
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

// CountWhere returns the number of objects of a class (for a tenant) that
// match where; nil where counts them all.
func (d *DB) CountWhere(ctx context.Context, class, tenant string, where *filter.Clause) (int64, error) {
	if err := d.activateForRequest(class, tenant); err != nil {
		return 0, err
	}
	r, err := d.routeClass(class, tenant)
	if err != nil {
		return 0, err
	}
	if err := checkWhere(r, where, whereInvalid); err != nil {
		return 0, err
	}
	counts := make([]int64, len(r.targets))
	err = d.onEach(ctx, r.class.Class, r.targets, func(i int, ops ShardOps) error {
		var err error
		counts[i], err = ops.Count(ctx, where)
		return err
	})
	var total int64
	for _, n := range counts {
		total += n
	}
	return total, err
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
	col := d.lookup(p.Class)
	var r route
	err := invalidf("validate: failed to get class: %s", schema.NormalizeClassName(p.Class))
	if col != nil {
		r, err = d.routeLocked(col, p.Tenant)
	}
	d.mu.RUnlock()
	if err != nil {
		return DeleteResult{}, err
	}
	if err := checkWhere(r, p.Where, "validate: invalid where filter"); err != nil {
		return DeleteResult{}, err
	}
	// The first limit matches in id order across the shards.
	type match struct {
		id    uuid.UUID
		shard int
	}
	parts := make([][]uuid.UUID, len(r.targets))
	err = d.onEach(ctx, r.class.Class, r.targets, func(i int, ops ShardOps) error {
		var err error
		parts[i], err = ops.Match(ctx, p.Where, limit)
		return err
	})
	if err != nil {
		return DeleteResult{}, err
	}
	var matches []match
	for i, ids := range parts {
		for _, id := range ids {
			matches = append(matches, match{id, i})
		}
	}
	slices.SortFunc(matches, func(a, b match) int { return compareIDs(a.id, b.id) })
	if len(matches) > limit {
		matches = matches[:limit]
	}
	res := DeleteResult{Matches: len(matches), Objects: make([]DeletedObject, len(matches))}
	perShard := make([][]uuid.UUID, len(r.targets))
	for i, m := range matches {
		res.Objects[i].ID = m.id
		perShard[m.shard] = append(perShard[m.shard], m.id)
	}
	if p.DryRun || len(matches) == 0 {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return DeleteResult{}, err
	}
	err = d.onEach(ctx, r.class.Class, r.targets, func(i int, ops ShardOps) error {
		if len(perShard[i]) == 0 {
			return nil
		}
		return ops.Delete(ctx, perShard[i])
	})
	if err != nil {
		return DeleteResult{}, err
	}
	res.Successful = len(matches)
	return res, nil
}
