package shard

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"strata/internal/filter"
	"strata/internal/vector"
)

// FilterError is a filter the shard cannot answer because of its values
// (e.g. a text value made only of stopwords). It is the caller's mistake.
type FilterError struct{ Msg string }

func (e *FilterError) Error() string { return e.Msg }

func filterErrorf(format string, args ...any) error {
	return &FilterError{Msg: fmt.Sprintf(format, args...)}
}

var errOnlyStopwords = &FilterError{Msg: "invalid search term, only stopwords provided. " +
	"Stopwords can be configured in class.invertedIndexConfig.stopwords"}

// Filter returns the ids of the objects matching c in ascending order
// (every object when c is nil). It reads only the inverted index, from one
// consistent snapshot; an index missing from older data is built first.
// The clause is expected to be validated against the class (filter.Validate).
//
// Semantics, as in Weaviate: a text value is split with the property's
// tokenization (word-tokenized values lose their stopwords) and the
// operator applies to each term, the terms' results ANDed — so Equal
// "hello world" on a word-tokenized property matches objects holding both
// words. Like matches terms against '*' / '?' patterns. On arrays, Equal
// and ranges match when any element does. ContainsAny/All/None are the
// Or / And / not-Or of Equal over the given values. NotEqual is the
// complement of Equal (null values included); IsNull treats a missing
// property, null and an empty array as null.
func (s *Shard) Filter(ctx context.Context, c *filter.Clause) ([]uuid.UUID, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	if err := s.ensureInverted(); err != nil {
		return nil, err
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	e := &evaluator{ctx: ctx, r: snap, cfg: s.invConfig(), read: &s.inv.keysRead}
	if c == nil {
		return e.all()
	}
	p, err := e.plan(c)
	if err != nil {
		return nil, err
	}
	r, _, err := p.run(nil)
	if err != nil {
		return nil, err
	}
	if !r.neg {
		return r.ids, nil
	}
	all, err := e.all()
	if err != nil {
		return nil, err
	}
	return subtractIDs(all, r.ids), nil
}

// flatSearchCutoff is Weaviate's default vectorIndexConfig.flatSearchCutoff:
// a filter allowing at most this many objects is served by an exact search
// among them, a larger one by a graph search that skips the others.
const flatSearchCutoff = 40000

// amongSearcher is an index that searches exactly among given ids.
type amongSearcher interface {
	SearchAmong(query []float32, k int, maxDistance *float32, ids []vector.ID) ([]vector.Result, error)
}

// SearchFiltered is Search restricted to the objects whose ids are in the
// sorted set allowed (as Filter returns it). It returns k hits whenever k
// allowed objects are within range.
func (s *Shard) SearchFiltered(vectorName string, query []float32, k int, maxDistance *float32, allowed []uuid.UUID) ([]Hit, error) {
	return s.search(vectorName, func(idx vector.Index) ([]vector.Result, error) {
		if as, ok := idx.(amongSearcher); ok && len(allowed) <= flatSearchCutoff {
			ids := make([]vector.ID, len(allowed))
			for i, id := range allowed {
				ids[i] = vector.ID(id)
			}
			return as.SearchAmong(query, k, maxDistance, ids)
		}
		return idx.Search(query, k, maxDistance, func(id vector.ID) bool { return ContainsID(allowed, uuid.UUID(id)) })
	})
}
