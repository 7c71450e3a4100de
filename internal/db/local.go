package db

import (
	"context"
	"errors"
	"slices"

	"github.com/google/uuid"

	"strata/internal/filter"
	"strata/internal/shard"
	"strata/internal/vector"
)

// localShard runs ShardOps on a store of this node. The caller holds d.mu
// for reading (see LocalShard).
type localShard struct{ s *shard.Shard }

func (l localShard) Insert(ctx context.Context, o *shard.Object) error {
	return mapShardErr(o.ID, l.s.Insert(o))
}

func (l localShard) Put(ctx context.Context, objs []*shard.Object) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	errs, err := l.s.Put(objs)
	if err != nil {
		return nil, err
	}
	for i, e := range errs {
		errs[i] = mapShardErr(objs[i].ID, e)
	}
	return errs, nil
}

func (l localShard) Get(ctx context.Context, id uuid.UUID, withVectors bool) (*shard.Object, error) {
	o, err := l.s.Get(id, withVectors)
	if errors.Is(err, shard.ErrNotFound) {
		return nil, nil
	}
	return o, err
}

func (l localShard) Delete(ctx context.Context, ids []uuid.UUID) error {
	if len(ids) == 1 {
		_, err := l.s.Delete(ids[0])
		return err
	}
	_, err := l.s.DeleteMany(ids)
	return err
}

func (l localShard) Count(ctx context.Context, where *filter.Clause) (int64, error) {
	if where == nil {
		return int64(l.s.Count()), nil
	}
	ids, err := l.filter(ctx, where)
	return int64(len(ids)), err
}

func (l localShard) Match(ctx context.Context, where *filter.Clause, limit int) ([]uuid.UUID, error) {
	ids, err := l.filter(ctx, where)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, err
}

// filter returns the ids matching where, ascending.
func (l localShard) filter(ctx context.Context, where *filter.Clause) ([]uuid.UUID, error) {
	ids, err := l.s.Filter(ctx, where)
	var fe *shard.FilterError
	if errors.As(err, &fe) {
		return nil, &Error{Kind: KindInvalid, Msg: fe.Msg, Err: err}
	}
	return ids, err
}

func (l localShard) Find(ctx context.Context, q ShardQuery) ([]ShardHit, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	if q.Vector == nil {
		return l.list(ctx, q)
	}
	var hits []shard.Hit
	var err error
	if q.Where != nil {
		var ids []uuid.UUID
		if ids, err = l.filter(ctx, q.Where); err != nil || len(ids) == 0 {
			return nil, err
		}
		// The index only considers the matching ids, so Limit results
		// come back whenever that many match.
		hits, err = l.s.SearchFiltered(q.VectorName, q.Vector, q.Limit, q.MaxDistance, ids)
	} else {
		hits, err = l.s.Search(q.VectorName, q.Vector, q.Limit, q.MaxDistance)
	}
	if err != nil {
		var dim *vector.DimensionError
		if errors.As(err, &dim) {
			return nil, invalidf("vector search: %s", err.Error())
		}
		return nil, err
	}
	out := make([]ShardHit, 0, len(hits))
	for _, h := range hits {
		o, err := l.Get(ctx, h.ID, q.WithVectors)
		if err != nil {
			return nil, err
		}
		if o != nil { // nil: deleted since the search
			out = append(out, ShardHit{Object: o, Distance: h.Distance})
		}
	}
	return out, nil
}

// list returns the first Limit objects above After (matching Where) in id
// order.
func (l localShard) list(ctx context.Context, q ShardQuery) ([]ShardHit, error) {
	out := make([]ShardHit, 0, min(q.Limit, 1024))
	if q.Where == nil {
		err := l.s.Scan(q.After, q.WithVectors, func(o *shard.Object) bool {
			if ctx.Err() != nil {
				return false
			}
			out = append(out, ShardHit{Object: o})
			return len(out) < q.Limit
		})
		if err != nil {
			return nil, err
		}
		return out, ctx.Err()
	}
	ids, err := l.filter(ctx, q.Where)
	if err != nil {
		return nil, err
	}
	if q.After != nil {
		i, found := slices.BinarySearchFunc(ids, *q.After, compareIDs)
		if found {
			i++
		}
		ids = ids[i:]
	}
	for _, id := range ids {
		if len(out) >= q.Limit {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o, err := l.Get(ctx, id, q.WithVectors)
		if err != nil {
			return nil, err
		}
		if o != nil { // nil: deleted since the filter ran
			out = append(out, ShardHit{Object: o})
		}
	}
	return out, nil
}
