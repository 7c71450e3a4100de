package shard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"strata/internal/filter"
)

const (
	// probeKeys is how many index keys an And operand may read to prove
	// itself selective.
	probeKeys = 1024
	// checkMax is the most candidates an And checks one by one against its
	// other operands (point lookups) instead of scanning them.
	checkMax = 1024
)

// evaluator evaluates one filter against one snapshot of the index.
type evaluator struct {
	ctx  context.Context
	r    pebble.Reader
	cfg  *invConfig
	read *atomic.Int64

	universe []uuid.UUID
	haveAll  bool
	checks   int
}

// result is a set of ids, or, when neg, the complement of one: negations
// stay complements until they meet a positive set (And subtracts them) or
// the top, so Not and NotEqual under And do not read every object.
type result struct {
	ids []uuid.UUID
	neg bool
}

// plan is how to evaluate one clause.
//
// An And first lets each operand run on a small budget of index keys; the
// operands that finish are selective, and their intersection bounds the
// rest: when it holds few candidates, the other operands are checked per
// candidate by point lookups instead of being scanned. So an And with one
// selective operand reads about as much as that operand alone — except for
// ranges and Like, which have no point check and are always scanned.
type plan struct {
	// run evaluates the clause. With a budget it stops (ok false) once the
	// scans together would read more than *budget index keys.
	run func(budget *int) (r result, ok bool, err error)
	// check reports whether one object matches, by point lookups; nil when
	// the clause needs a scan.
	check func(id uuid.UUID) (bool, error)
}

// all returns every object's id.
func (e *evaluator) all() ([]uuid.UUID, error) {
	if !e.haveAll {
		ids, _, err := e.scan(keyAll, prefixEnd(keyAll), nil)
		if err != nil {
			return nil, err
		}
		e.universe, e.haveAll = ids, true
	}
	return e.universe, nil
}

func (e *evaluator) plan(c *filter.Clause) (plan, error) {
	switch c.Operator {
	case filter.And, filter.Or:
		ops := slices.Clone(c.Operands)
		if c.Operator == filter.And {
			// Cheap, selective operands first: an empty result ends the And.
			slices.SortStableFunc(ops, func(a, b *filter.Clause) int { return cost(a) - cost(b) })
		}
		parts := make([]plan, len(ops))
		for i, o := range ops {
			p, err := e.plan(o)
			if err != nil {
				return plan{}, err
			}
			parts[i] = p
		}
		if c.Operator == filter.And {
			return e.and(parts), nil
		}
		return e.or(parts), nil
	case filter.Not:
		if len(c.Operands) != 1 {
			return plan{}, filterErrorf("operator 'Not' takes exactly one operand, given %d", len(c.Operands))
		}
		p, err := e.plan(c.Operands[0])
		if err != nil {
			return plan{}, err
		}
		return not(p), nil
	}
	if c.Property == filter.PropID {
		return e.idLeaf(c)
	}
	return e.propLeaf(c)
}

// cost orders And operands: equality first, negations last.
func cost(c *filter.Clause) int {
	switch c.Operator {
	case filter.Equal, filter.ContainsAny, filter.ContainsAll, filter.IsNull:
		return 0
	case filter.NotEqual, filter.ContainsNone, filter.Not:
		return 2
	}
	return 1
}

func not(p plan) plan {
	out := plan{run: func(budget *int) (result, bool, error) {
		r, ok, err := p.run(budget)
		return result{ids: r.ids, neg: !r.neg}, ok, err
	}}
	if p.check != nil {
		out.check = func(id uuid.UUID) (bool, error) {
			m, err := p.check(id)
			return !m, err
		}
	}
	return out
}

// checkAll combines point checks: every one (and) or any one (or) must
// match; nil if one of them is nil.
func checkAll(parts []plan, and bool) func(uuid.UUID) (bool, error) {
	for _, p := range parts {
		if p.check == nil {
			return nil
		}
	}
	return func(id uuid.UUID) (bool, error) {
		for _, p := range parts {
			m, err := p.check(id)
			if err != nil || m != and {
				return m, err
			}
		}
		return and, nil
	}
}

func (e *evaluator) and(parts []plan) plan {
	run := func(budget *int) (result, bool, error) {
		var pos, negs []uuid.UUID
		havePos := false
		add := func(r result) {
			switch {
			case r.neg:
				negs = unionIDs(negs, r.ids)
			case !havePos:
				pos, havePos = r.ids, true
			default:
				pos = intersectIDs(pos, r.ids)
			}
		}
		done := make([]bool, len(parts))
		if budget == nil && len(parts) > 1 {
			for i, p := range parts {
				if havePos && len(pos) <= checkMax && p.check != nil {
					continue // checked per candidate below
				}
				b := probeKeys
				r, ok, err := p.run(&b)
				if err != nil {
					return result{}, false, err
				}
				if ok {
					add(r)
					done[i] = true
				}
				if havePos && len(pos) == 0 {
					return result{}, true, nil
				}
			}
		}
		for i, p := range parts {
			if done[i] {
				continue
			}
			if havePos && len(pos) <= checkMax && p.check != nil {
				kept := pos[:0:0]
				for _, id := range pos {
					m, err := e.pointCheck(p.check, id)
					if err != nil {
						return result{}, false, err
					}
					if m {
						kept = append(kept, id)
					}
				}
				pos = kept
			} else {
				r, ok, err := p.run(budget)
				if err != nil || !ok {
					return result{}, ok, err
				}
				add(r)
			}
			if havePos && len(pos) == 0 {
				return result{}, true, nil
			}
		}
		if !havePos {
			return result{ids: negs, neg: true}, true, nil
		}
		return result{ids: subtractIDs(pos, negs)}, true, nil
	}
	return plan{run: run, check: checkAll(parts, true)}
}

func (e *evaluator) or(parts []plan) plan {
	run := func(budget *int) (result, bool, error) {
		var pos, negs []uuid.UUID
		haveNeg := false
		for _, p := range parts {
			r, ok, err := p.run(budget)
			if err != nil || !ok {
				return result{}, ok, err
			}
			switch {
			case !r.neg:
				pos = unionIDs(pos, r.ids)
			case !haveNeg:
				negs, haveNeg = r.ids, true
			default:
				negs = intersectIDs(negs, r.ids)
			}
			if haveNeg && len(negs) == 0 {
				return result{neg: true}, true, nil // everything
			}
		}
		if !haveNeg {
			return result{ids: pos}, true, nil
		}
		// a ∪ ¬b = ¬(b − a)
		return result{ids: subtractIDs(negs, pos), neg: true}, true, nil
	}
	return plan{run: run, check: checkAll(parts, false)}
}

// pointCheck runs one candidate check, watching the context.
func (e *evaluator) pointCheck(check func(uuid.UUID) (bool, error), id uuid.UUID) (bool, error) {
	e.checks++
	if e.checks%256 == 0 {
		if err := e.ctx.Err(); err != nil {
			return false, err
		}
	}
	return check(id)
}

// has reports whether the index holds key.
func (e *evaluator) has(key []byte) (bool, error) {
	e.read.Add(1)
	_, closer, err := e.r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("filter: %w", err)
	}
	return true, closer.Close()
}

// postings is the plan of "the object has value v" under base.
func (e *evaluator) postings(base, v []byte) plan {
	k := append(slices.Clip(base), v...)
	return plan{
		run: func(budget *int) (result, bool, error) {
			ids, ok, err := e.scan(k, prefixEnd(k), budget)
			return result{ids: ids}, ok, err
		},
		check: func(id uuid.UUID) (bool, error) { return e.has(append(slices.Clip(k), id[:]...)) },
	}
}

// scanPlan is a plan served by a scan of [lo, hi), without point check.
func (e *evaluator) scanPlan(lo, hi []byte) plan {
	return plan{run: func(budget *int) (result, bool, error) {
		ids, ok, err := e.scan(lo, hi, budget)
		return result{ids: ids}, ok, err
	}}
}

// constant is the plan of a clause every object matches (all) or none does.
func constant(all bool) plan {
	return plan{
		run:   func(*int) (result, bool, error) { return result{neg: all}, true, nil },
		check: func(uuid.UUID) (bool, error) { return all, nil },
	}
}

// idLeaf plans a comparison on _id, using the keys of every object.
func (e *evaluator) idLeaf(c *filter.Clause) (plan, error) {
	if c.Operator == filter.IsNull {
		return constant(!isNullWanted(c)), nil
	}
	if c.Operator == filter.Like {
		return plan{}, filterErrorf(`operator "Like" cannot be used on ["_id"]`)
	}
	if len(c.Value.Texts) == 0 {
		return plan{}, filterErrorf(`using ["_id"] to filter by uuid: must use "valueText" to specify the id`)
	}
	vals := make([][]byte, len(c.Value.Texts))
	for i, s := range c.Value.Texts {
		id, err := uuid.Parse(s)
		if err != nil {
			return plan{}, filterErrorf("_id: %q is not a valid uuid", s)
		}
		vals[i] = id[:]
	}
	eq := func(v []byte) plan {
		return plan{
			run: func(budget *int) (result, bool, error) {
				ids, ok, err := e.scan(append(slices.Clip(keyAll), v...), prefixEnd(append(slices.Clip(keyAll), v...)), budget)
				return result{ids: ids}, ok, err
			},
			check: func(id uuid.UUID) (bool, error) { return uuid.UUID(v) == id, nil },
		}
	}
	terms := make([][][]byte, len(vals))
	for i, v := range vals {
		terms[i] = [][]byte{v}
	}
	return e.compare(c.Operator, keyAll, terms, eq)
}

func isNullWanted(c *filter.Clause) bool {
	return len(c.Value.Booleans) > 0 && c.Value.Booleans[0]
}

// propLeaf plans a comparison on a property or a timestamp.
func (e *evaluator) propLeaf(c *filter.Clause) (plan, error) {
	var p *propIndex
	switch c.Property {
	case filter.PropCreationTime:
		p = &propIndex{Property: Property{Name: c.Property, Type: PropInt}, values: keyCreated}
	case filter.PropLastUpdateTime:
		p = &propIndex{Property: Property{Name: c.Property, Type: PropInt}, values: keyUpdated}
	default:
		p = e.cfg.props[c.Property]
		if p == nil {
			return plan{}, filterErrorf("property %q is not indexed for filtering", c.Property)
		}
	}
	if c.Operator == filter.IsNull {
		if p.present == nil {
			return constant(!isNullWanted(c)), nil // timestamps are never null
		}
		present := e.postings(p.present, nil)
		if isNullWanted(c) {
			return not(present), nil
		}
		return present, nil
	}
	if c.Operator == filter.Like {
		return e.like(p, c)
	}
	terms, err := e.terms(p, c)
	if err != nil {
		return plan{}, err
	}
	if len(terms) == 0 {
		return plan{}, errOnlyStopwords
	}
	return e.compare(c.Operator, p.values, terms, func(v []byte) plan { return e.postings(p.values, v) })
}

// compare plans op over the postings under base. terms holds, per given
// value, its encoded terms (one unless text splits it); eq is the plan of
// one term being present.
func (e *evaluator) compare(op filter.Operator, base []byte, terms [][][]byte, eq func([]byte) plan) (plan, error) {
	// A value matches Equal when each of its terms is present.
	values := make([]plan, len(terms))
	var flat []plan
	for i, vs := range terms {
		parts := make([]plan, len(vs))
		for j, v := range vs {
			parts[j] = eq(v)
		}
		values[i] = e.and(parts)
		flat = append(flat, parts...)
	}
	switch op {
	case filter.Equal, filter.ContainsAll:
		return e.and(values), nil
	case filter.ContainsAny:
		return e.or(values), nil
	case filter.ContainsNone:
		return not(e.or(values)), nil
	case filter.NotEqual:
		// Each term NotEqual, ANDed: no term present.
		return not(e.or(flat)), nil
	case filter.GreaterThan, filter.GreaterThanEqual, filter.LessThan, filter.LessThanEqual:
		var parts []plan
		for _, vs := range terms {
			for _, v := range vs {
				parts = append(parts, e.scanPlan(rangeBounds(op, base, v)))
			}
		}
		return e.and(parts), nil
	}
	return plan{}, filterErrorf("operator %q is not supported here", op)
}

// rangeBounds are the scan bounds of op against value v under base.
func rangeBounds(op filter.Operator, base, v []byte) (lo, hi []byte) {
	at := append(slices.Clip(base), v...)
	switch op {
	case filter.GreaterThan:
		return prefixEnd(at), prefixEnd(base)
	case filter.GreaterThanEqual:
		return at, prefixEnd(base)
	case filter.LessThan:
		return base, at
	default: // LessThanEqual
		return base, prefixEnd(at)
	}
}

// terms encodes a clause's values for p: per value, its terms.
func (e *evaluator) terms(p *propIndex, c *filter.Clause) ([][][]byte, error) {
	v := c.Value
	var out [][][]byte
	one := func(b []byte) { out = append(out, [][]byte{b}) }
	mismatch := func() error {
		return filterErrorf("property %q of type %q cannot be compared with this value type", p.Name, p.Type)
	}
	switch p.Type {
	case PropText:
		if v.Type != filter.TypeText {
			return nil, mismatch()
		}
		for _, s := range v.Texts {
			var ts [][]byte
			for _, t := range tokenize(p.Tokenization, s) {
				if (p.Tokenization == "" || p.Tokenization == TokenizeWord) && e.cfg.stop[t] {
					continue
				}
				ts = append(ts, encText(nil, t))
			}
			if len(ts) > 0 {
				out = append(out, ts)
			}
		}
	case PropInt:
		switch {
		case p.Name == filter.PropCreationTime || p.Name == filter.PropLastUpdateTime:
			for _, s := range v.Texts {
				ms, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, filterErrorf("%s: expected value to be a timestamp in milliseconds, got '%s'", p.Name, s)
				}
				one(encInt(nil, ms))
			}
			for _, d := range v.Dates {
				one(encInt(nil, d.UnixMilli()))
			}
		case v.Type == filter.TypeInt:
			for _, i := range v.Ints {
				one(encInt(nil, i))
			}
		default:
			return nil, mismatch()
		}
	case PropNumber:
		if v.Type != filter.TypeNumber {
			return nil, mismatch()
		}
		for _, f := range v.Numbers {
			one(encNumber(nil, f))
		}
	case PropBoolean:
		if v.Type != filter.TypeBoolean {
			return nil, mismatch()
		}
		for _, b := range v.Booleans {
			one(encBool(nil, b))
		}
	case PropDate:
		if v.Type != filter.TypeDate {
			return nil, mismatch()
		}
		for _, d := range v.Dates {
			one(encDate(nil, d))
		}
	case PropUUID:
		if v.Type != filter.TypeText {
			return nil, mismatch()
		}
		for _, s := range v.Texts {
			id, err := uuid.Parse(s)
			if err != nil {
				return nil, filterErrorf("property %q: %q is not a valid uuid", p.Name, s)
			}
			one(id[:])
		}
	default:
		return nil, mismatch()
	}
	return out, nil
}

// like plans Like on a text property: every term of the pattern must
// match some term of the object. Only keys starting with a pattern's
// literal prefix are read.
func (e *evaluator) like(p *propIndex, c *filter.Clause) (plan, error) {
	if p.Type != PropText || c.Value.Type != filter.TypeText || len(c.Value.Texts) != 1 {
		return plan{}, filterErrorf("operator Like needs a text property and one valueText")
	}
	patterns := tokenizeLike(p.Tokenization, c.Value.Texts[0])
	if len(patterns) == 0 {
		return plan{}, errOnlyStopwords
	}
	parts := make([]plan, len(patterns))
	for i, pat := range patterns {
		parts[i] = plan{run: func(budget *int) (result, bool, error) {
			lo := escText(slices.Clip(p.values), likePrefix(pat))
			var ids []uuid.UUID
			var last []byte
			lastMatch := false
			ok, err := e.each(lo, prefixEnd(lo), budget, func(k []byte) {
				term := k[len(p.values) : len(k)-16]
				if last == nil || string(term) != string(last) {
					last = append(last[:0], term...)
					lastMatch = likeMatch(pat, decText(term))
				}
				if lastMatch {
					ids = append(ids, uuid.UUID(k[len(k)-16:]))
				}
			})
			return result{ids: normalizeIDs(ids)}, ok, err
		}}
	}
	return e.and(parts), nil
}

// scan returns the ids ending the keys in [lo, hi), as a set; ok is false
// when it ran out of budget.
func (e *evaluator) scan(lo, hi []byte, budget *int) ([]uuid.UUID, bool, error) {
	var ids []uuid.UUID
	sorted := true
	ok, err := e.each(lo, hi, budget, func(k []byte) {
		id := uuid.UUID(k[len(k)-16:])
		if n := len(ids); n > 0 && compareIDs(ids[n-1], id) >= 0 {
			sorted = false
		}
		ids = append(ids, id)
	})
	if err != nil || !ok {
		return nil, ok, err
	}
	if !sorted {
		ids = normalizeIDs(ids)
	}
	return ids, true, nil
}

// each calls fn with every index key in [lo, hi) (hi nil: no bound). With
// a budget it stops, reporting false, when the budget would go negative.
func (e *evaluator) each(lo, hi []byte, budget *int, fn func(key []byte)) (bool, error) {
	it, err := e.r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return false, fmt.Errorf("filter: %w", err)
	}
	n := int64(0)
	ok := true
	for it.First(); it.Valid(); it.Next() {
		n++
		if budget != nil {
			if *budget <= 0 {
				ok = false
				break
			}
			*budget--
		}
		if n%4096 == 0 {
			if err := e.ctx.Err(); err != nil {
				it.Close()
				return false, err
			}
		}
		if k := it.Key(); len(k) >= 17 {
			fn(k)
		}
	}
	e.read.Add(n)
	return ok, errors.Join(it.Error(), it.Close())
}
