package vector

import "slices"

// Cleanup removes the tombstones: every live node that links to one is
// reconnected, on each layer, to the best of its remaining links and the
// tombstones' live links (chosen by the neighbour heuristic); then the
// tombstones are freed and, if the entry point was one, a live node of the
// highest level takes its place. It returns the number of nodes freed.
//
// Searches may run meanwhile; Add, Delete and FlushLog must not.
func (h *HNSW) Cleanup() int {
	ns := *h.nodes.Load()
	dead := map[uint32]*hnswNode{}
	for i := range ns {
		if n := ns[i].Load(); n != nil && n.deleted.Load() {
			dead[uint32(i)] = n
		}
	}
	if len(dead) == 0 {
		return 0
	}
	for i := range ns {
		n := ns[i].Load()
		if n == nil || n.deleted.Load() {
			continue
		}
		for l := 0; l <= n.level; l++ {
			if links := n.linksAt(l); slices.ContainsFunc(links, func(o uint32) bool { return dead[o] != nil }) {
				h.reconnect(uint32(i), n, l, dead)
			}
		}
	}
	h.growMu.Lock()
	for num := range dead {
		(*h.nodes.Load())[num].Store(nil)
		h.free = append(h.free, num)
		h.dead--
		h.markDirty(num)
	}
	h.growMu.Unlock()
	h.epMu.Lock()
	if dead[h.entry] != nil || h.node(h.entry) == nil {
		h.resetEntryLocked()
	}
	h.epMu.Unlock()
	return len(dead)
}

// reconnect replaces node num's dead links on a layer. Its live links stay
// (many are reverse links that the neighbour heuristic alone would not
// pick); the dead ones' live links, followed through dead nodes, are the
// candidates for the freed places: first those the heuristic keeps, then
// the nearest others, so that the node keeps its degree.
func (h *HNSW) reconnect(num uint32, n *hnswNode, level int, dead map[uint32]*hnswNode) {
	old := n.linksAt(level)
	seen := map[uint32]bool{num: true}
	var kept []candidate
	var keptPts []*point
	for _, o := range old {
		if dead[o] == nil {
			seen[o] = true
			if on := h.node(o); on != nil && level <= on.level && on.vec != nil {
				kept = append(kept, candidate{node: o, dist: h.pointDist(&n.point, &on.point)})
				keptPts = append(keptPts, &on.point)
			}
		}
	}
	target := min(len(old), h.maxConns(level))
	budget := len(seen) + 8*h.maxConns(level) // bounds the walk after mass deletes
	var cands []candidate
	var visit func(o uint32)
	visit = func(o uint32) {
		if seen[o] || len(seen) > budget {
			return
		}
		seen[o] = true
		if d := dead[o]; d != nil {
			if level <= d.level {
				for _, x := range d.linksAt(level) {
					visit(x)
				}
			}
			return
		}
		if on := h.node(o); on != nil && level <= on.level {
			if d, ok := h.distBetween(&n.point, o); ok {
				cands = append(cands, candidate{node: o, dist: d})
			}
		}
	}
	for _, o := range old {
		if dead[o] != nil {
			visit(o)
		}
	}
	sortCandidates(cands)
	var rest []candidate
	for _, c := range cands {
		if len(kept) >= target {
			break
		}
		if p := h.diverse(c, keptPts); p != nil {
			kept, keptPts = append(kept, c), append(keptPts, p)
		} else {
			rest = append(rest, c)
		}
	}
	for _, c := range rest {
		if len(kept) >= target {
			break
		}
		kept = append(kept, c)
	}
	links := make([]uint32, len(kept))
	for i, c := range kept {
		links[i] = c.node
	}
	n.mu.Lock()
	n.setLinks(level, links)
	n.mu.Unlock()
	h.markDirty(num)
}
