package vector

import (
	"slices"
	"unsafe"
)

// visitedSet marks nodes seen by one search. Marks are generation stamps,
// so clearing is free until the stamp wraps.
// It also carries a search's scratch buffers, pooled with it.
type visitedSet struct {
	gen   uint16
	marks []uint16
	cands minHeap
	nums  []uint32
	links []uint32
	codes []*int8 // the neighbours' codes, for dotI8Many
	dots  []int32
}

func (h *HNSW) getVisited() *visitedSet {
	vs, _ := h.visited.Get().(*visitedSet)
	if vs == nil {
		vs = &visitedSet{}
	}
	vs.reset(len(*h.nodes.Load()))
	return vs
}

func (v *visitedSet) reset(n int) {
	if n > len(v.marks) {
		v.marks = make([]uint16, n+n/4+1024)
		v.gen = 0
	}
	v.gen++
	if v.gen == 0 {
		clear(v.marks)
		v.gen = 1
	}
}

// visit marks num and reports whether it was unmarked. Nodes beyond the
// set's size (published after the search began) are skipped.
func (v *visitedSet) visit(num uint32) bool {
	if int(num) >= len(v.marks) || v.marks[num] == v.gen {
		return false
	}
	v.marks[num] = v.gen
	return true
}

// greedy walks layer level from cur to the node nearest q it can reach.
func (h *HNSW) greedy(q *point, cur candidate, level int) candidate {
	var links []uint32
	for changed := true; changed; {
		changed = false
		n := h.node(cur.node)
		if n == nil || level > n.level {
			return cur
		}
		links = n.linksInto(level, links[:0])
		for _, o := range links {
			if d, ok := h.distBetween(q, o); ok && d < cur.dist {
				cur, changed = candidate{node: o, dist: d}, true
			}
		}
	}
	return cur
}

// searchLayer is the beam search of one layer from the entry points eps:
// it returns up to ef results nearest q, nearest first. Every reachable
// node routes the search, but only live nodes that accept admits (all live
// nodes if accept is nil) become results, and the search goes on while
// fewer than ef results were found.
func (h *HNSW) searchLayer(q *point, eps []candidate, ef, level int, vs *visitedSet, accept func(*hnswNode) bool) []candidate {
	ns := *h.nodes.Load()
	vs.reset(len(ns))
	admit := func(s *nodeSlot) bool {
		if s.dead.Load() {
			return false
		}
		if accept == nil {
			return true
		}
		n := s.Load()
		return n != nil && accept(n)
	}
	cands := vs.cands[:0]
	results := make(maxHeapC, 0, ef+1)
	for _, ep := range eps {
		if int(ep.node) >= len(ns) || !vs.visit(ep.node) {
			continue
		}
		cands.push(ep)
		if admit(&ns[ep.node]) {
			results.push(ep)
		}
	}
	for len(results) > ef {
		results.pop()
	}
	nums, links, codes, dots := vs.nums[:0], vs.links[:0], vs.codes[:0], vs.dots[:0]
	defer func() {
		vs.cands, vs.nums, vs.links, vs.codes, vs.dots = cands[:0], nums[:0], links[:0], codes[:0], dots[:0]
	}()
	for len(cands) > 0 {
		c := cands.pop()
		if len(results) >= ef && results.top().less(c) {
			break
		}
		if int(c.node) >= len(ns) {
			continue // published after this search began
		}
		n := ns[c.node].Load()
		if n == nil || level > n.level {
			continue
		}
		// The neighbours' codes are mostly not in cache: ask for all of
		// them first, so the memory loads overlap, then compute. A node
		// itself is only loaded when it would join the results.
		nums, codes = nums[:0], codes[:0]
		links = n.linksInto(level, links[:0])
		for _, o := range links {
			if int(o) >= len(ns) || !vs.visit(o) {
				continue
			}
			if h.quantized {
				c := ns[o].c.Load()
				if c == nil {
					continue // freed meanwhile, or no vector yet
				}
				prefetch(unsafe.Pointer(c), len(q.codes))
				codes = append(codes, c)
			}
			nums = append(nums, o)
		}
		if h.quantized {
			dots = slices.Grow(dots[:0], len(codes))[:len(codes)]
			dotI8Many(&q.codes[0], len(q.codes), codes, dots)
		}
		for i, o := range nums {
			var d float32
			if h.quantized {
				scale, sqnorm := unpackCodeMeta(ns[o].meta.Load())
				d = h.codeDistOfDot(q, dots[i], scale, sqnorm)
			} else {
				var ok bool
				if d, ok = h.slotDist(q, &ns[o]); !ok {
					continue // freed meanwhile, or no vector yet
				}
			}
			oc := candidate{node: o, dist: d}
			if len(results) < ef || oc.less(results.top()) {
				cands.push(oc)
				if admit(&ns[o]) {
					results.push(oc)
					if len(results) > ef {
						results.pop()
					}
				}
			}
		}
	}
	out := []candidate(results)
	sortCandidates(out)
	return out
}

// prepareQuery checks a query and prepares it like the stored vectors; nil
// means there is nothing to search (k ≤ 0, empty index) or an error.
func (h *HNSW) prepareQuery(query []float32, k int) ([]float32, error) {
	dims := h.Dimensions()
	switch {
	case k <= 0 || dims == 0:
		return nil, nil
	case len(query) != dims:
		return nil, &DimensionError{Got: len(query), Want: dims}
	}
	return h.prepare(query), nil
}

// Search implements Index.
func (h *HNSW) Search(query []float32, k int, maxDistance *float32, allow func(ID) bool) ([]Result, error) {
	v, err := h.prepareQuery(query, k)
	if v == nil {
		return nil, err
	}
	q := new(h.pointFor(v))
	h.epMu.RLock()
	ep, top, ok := h.entry, h.topLevel, h.hasEntry
	h.epMu.RUnlock()
	if !ok {
		return nil, nil
	}
	cur := candidate{node: ep, dist: h.distTo(q, ep)}
	for l := top; l > 0; l-- {
		cur = h.greedy(q, cur, l)
	}
	var accept func(*hnswNode) bool
	if allow != nil {
		accept = func(n *hnswNode) bool { return allow(n.id) }
	}
	vs := h.getVisited()
	found := h.searchLayer(q, []candidate{cur}, h.searchCfg().efFor(k), 0, vs, accept)
	h.visited.Put(vs)
	if h.quantized {
		found = h.rescore(q, found)
	}
	out := make([]Result, 0, min(k, len(found)))
	for _, c := range found {
		if len(out) == k || maxDistance != nil && c.dist > *maxDistance {
			break
		}
		n := h.node(c.node)
		if n == nil {
			continue
		}
		out = append(out, Result{ID: n.id, Distance: c.dist})
	}
	return out, nil
}

// rescore replaces the code distances of a search's results with exact
// ones and sorts them again, nearest first.
func (h *HNSW) rescore(q *point, found []candidate) []candidate {
	out := found[:0]
	for _, c := range found {
		if n := h.node(c.node); n != nil && n.vec != nil {
			out = append(out, candidate{node: c.node, dist: h.dist(q.vec, n.vec)})
		}
	}
	sortCandidates(out)
	return out
}

// SearchAmong is exact search restricted to ids: the right way to serve a
// selective filter, which would make a graph search visit most of the
// graph to find ef allowed nodes. Ids without a live vector are skipped.
func (h *HNSW) SearchAmong(query []float32, k int, maxDistance *float32, ids []ID) ([]Result, error) {
	q, err := h.prepareQuery(query, k)
	if q == nil {
		return nil, err
	}
	best := make(maxHeapC, 0, k+1)
	for _, id := range ids {
		h.growMu.Lock()
		num, ok := h.byID[id]
		h.growMu.Unlock()
		if !ok {
			continue
		}
		n := h.node(num)
		if n == nil || n.deleted.Load() {
			continue
		}
		c := candidate{node: num, dist: h.dist(q, n.vec)}
		if maxDistance != nil && c.dist > *maxDistance {
			continue
		}
		if len(best) < k || c.less(best.top()) {
			best.push(c)
			if len(best) > k {
				best.pop()
			}
		}
	}
	out := []candidate(best)
	sortCandidates(out)
	res := make([]Result, 0, len(out))
	for _, c := range out {
		if n := h.node(c.node); n != nil {
			res = append(res, Result{ID: n.id, Distance: c.dist})
		}
	}
	return res, nil
}
