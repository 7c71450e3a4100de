package vector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
)

// HNSWConfig are the tuning knobs of an HNSW index, as in a class's
// vectorIndexConfig.
type HNSWConfig struct {
	Distance       string
	MaxConnections int // links per node on the upper layers; layer 0 has twice as many
	EFConstruction int // candidate list size while inserting
	// EF is the candidate list size while searching; -1 derives it from
	// the limit k: clamp(k × DynamicEFFactor, DynamicEFMin, DynamicEFMax).
	EF              int
	DynamicEFMin    int
	DynamicEFMax    int
	DynamicEFFactor int
}

// DefaultHNSWConfig is Weaviate's default vectorIndexConfig for hnsw.
var DefaultHNSWConfig = HNSWConfig{
	Distance: Cosine, MaxConnections: 32, EFConstruction: 128,
	EF: -1, DynamicEFMin: 100, DynamicEFMax: 500, DynamicEFFactor: 8,
}

// withDefaults fills unset (zero) fields from DefaultHNSWConfig.
func (c HNSWConfig) withDefaults() HNSWConfig {
	d := DefaultHNSWConfig
	if c.Distance == "" {
		c.Distance = d.Distance
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = d.MaxConnections
	}
	if c.EFConstruction <= 0 {
		c.EFConstruction = d.EFConstruction
	}
	if c.EF == 0 {
		c.EF = d.EF
	}
	if c.DynamicEFMin <= 0 {
		c.DynamicEFMin = d.DynamicEFMin
	}
	if c.DynamicEFMax <= 0 {
		c.DynamicEFMax = d.DynamicEFMax
	}
	if c.DynamicEFFactor <= 0 {
		c.DynamicEFFactor = d.DynamicEFFactor
	}
	return c
}

// efFor is the search candidate list size for k results.
func (c HNSWConfig) efFor(k int) int {
	ef := c.EF
	if ef < 0 {
		ef = min(max(k*c.DynamicEFFactor, c.DynamicEFMin), c.DynamicEFMax)
	}
	return max(ef, k)
}

// maxLevel bounds node levels; with MaxConnections ≥ 2 a level above it
// has a probability below 2^-32.
const maxLevel = 32

// HNSW is a hierarchical navigable small world graph (Malkov & Yashunin):
// approximate nearest-neighbour search in about log(n) distance
// computations.
//
// Nodes are numbered densely; a node holds its object id, its vector and
// one link list per layer up to its level. Deleting or replacing a vector
// marks its node as a tombstone: it stays in the graph, still routing
// searches but never returned, until Cleanup reconnects its neighbours and
// frees it.
//
// Concurrency: searches run in parallel with each other and with writers;
// Add and Delete may run concurrently too. Link lists are replaced
// copy-on-write and published atomically, so readers never lock; writers
// lock one node at a time. Cleanup must not run concurrently with Add or
// Delete (the shard serialises its writers).
//
// Every change is recorded, so that the owner can persist exactly what a
// write changed, in the same batch as the write (see FlushLog).
type HNSW struct {
	cfg       HNSWConfig
	search    atomic.Pointer[HNSWConfig] // EF settings, which may change
	dist      DistanceFunc
	normalize bool
	quantized bool // the graph compares int8 codes (quantize.go)
	codeForm  codeForm
	mL        float64 // level multiplier 1/ln(M)

	// growMu serialises node allocation and the id map.
	growMu sync.Mutex
	nodes  atomic.Pointer[[]nodeSlot] // by node number
	byID   map[ID]uint32              // live nodes only
	free   []uint32                   // numbers of freed nodes
	dims   int
	live   int
	dead   int // tombstones
	rng    *rand.Rand

	// epMu guards the entry point. An insert that raises the top level
	// holds it exclusively for its whole insertion.
	epMu     sync.RWMutex
	entry    uint32
	topLevel int
	hasEntry bool

	changes changeLog

	visited sync.Pool // of *visitedSet
}

// hnswNode is one node. id, level and the vector never change after the
// node is published; a reused number gets a new hnswNode.
//
// Layer 0, which every search walks, keeps its links in one flat array
// allocated with the node ([0] is the count), read and written element by
// element with atomic operations: a search reaches them with one memory
// load less than through a pointer per list. A reader racing a writer may
// see a mix of the old and new list; every entry is a valid node number
// either way, which is all a graph search needs. The upper layers' lists
// are replaced copy-on-write.
type hnswNode struct {
	id      ID
	level   int
	point                              // the vector
	links0  []atomic.Uint32            // [0] = n, [1..n] = layer-0 links
	upper   []atomic.Pointer[[]uint32] // layers 1..level, at [layer-1]
	mu      sync.Mutex                 // serialises writers of links
	deleted atomic.Bool
}

// nodeSlot holds node number i: the node, its vector's codes with their
// scale (point.codeMeta), and whether it is a tombstone, so that a search
// reads a neighbour's codes and state without loading the node. Callers
// of Store and of tombstone hold growMu.
type nodeSlot struct {
	n    atomic.Pointer[hnswNode]
	c    atomic.Pointer[int8]
	meta atomic.Uint64
	dead atomic.Bool // mirrors n.deleted
}

func (s *nodeSlot) Load() *hnswNode { return s.n.Load() }

// Store publishes n (nil frees the slot); call it again once n's vector is
// set.
func (s *nodeSlot) Store(n *hnswNode) {
	var c *int8
	if n != nil && len(n.codes) > 0 {
		c = &n.codes[0]
		s.meta.Store(n.codeMeta())
	}
	s.c.Store(c)
	s.dead.Store(n != nil && n.deleted.Load())
	s.n.Store(n)
}

// tombstone marks the slot's node deleted.
func (s *nodeSlot) tombstone() {
	s.n.Load().deleted.Store(true)
	s.dead.Store(true)
}

// newNode returns a node without links; its layer-0 array holds up to
// max0 links.
func newNode(id ID, level int, p point, max0 int) *hnswNode {
	return &hnswNode{id: id, level: level, point: p,
		links0: make([]atomic.Uint32, max0+1), upper: make([]atomic.Pointer[[]uint32], level)}
}

// linksInto appends the node's links on a layer to buf.
func (n *hnswNode) linksInto(level int, buf []uint32) []uint32 {
	if level == 0 {
		c := min(int(n.links0[0].Load()), len(n.links0)-1)
		for i := 1; i <= c; i++ {
			buf = append(buf, n.links0[i].Load())
		}
		return buf
	}
	if p := n.upper[level-1].Load(); p != nil {
		return append(buf, *p...)
	}
	return buf
}

// linksAt returns a copy of the node's links on a layer.
func (n *hnswNode) linksAt(level int) []uint32 { return n.linksInto(level, nil) }

// setLinks replaces the node's links on a layer; callers hold n.mu. A
// layer-0 list longer than the node's array is cut (only a corrupt or
// foreign record can hold one).
func (n *hnswNode) setLinks(level int, l []uint32) {
	if level > 0 {
		c := slices.Clone(l)
		n.upper[level-1].Store(&c)
		return
	}
	l = l[:min(len(l), len(n.links0)-1)]
	for i, o := range l {
		n.links0[i+1].Store(o)
	}
	n.links0[0].Store(uint32(len(l)))
}

// maxLinks0 is the size of a node's layer-0 link array: the layer's limit
// plus the slack addLink lets lists grow by before pruning.
func (h *HNSW) maxLinks0() int { return h.maxConns(0) + h.maxConns(0)/pruneSlack }

var _ Index = (*HNSW)(nil)

// NewHNSW returns an empty index.
func NewHNSW(cfg HNSWConfig) (*HNSW, error) {
	cfg = cfg.withDefaults()
	d, err := DistanceFor(cfg.Distance)
	if err != nil {
		return nil, err
	}
	if cfg.MaxConnections < 2 {
		return nil, fmt.Errorf("maxConnections must be at least 2, got %d", cfg.MaxConnections)
	}
	h := &HNSW{
		cfg: cfg, dist: d, normalize: cfg.Distance == Cosine,
		mL:   1 / math.Log(float64(cfg.MaxConnections)),
		byID: map[ID]uint32{},
		rng:  rand.New(rand.NewPCG(0x5eed, uint64(cfg.MaxConnections))),
	}
	h.changes.records = map[uint32]struct{}{}
	h.quantized, h.codeForm = codeFormOf(cfg.Distance)
	empty := make([]nodeSlot, 0)
	h.nodes.Store(&empty)
	h.search.Store(&cfg)
	return h, nil
}

// Config returns the index's configuration with defaults filled in.
func (h *HNSW) Config() HNSWConfig {
	cfg, sc := h.cfg, h.searchCfg()
	cfg.EF, cfg.DynamicEFMin, cfg.DynamicEFMax, cfg.DynamicEFFactor = sc.EF, sc.DynamicEFMin, sc.DynamicEFMax, sc.DynamicEFFactor
	return cfg
}

// SetSearchConfig adopts the search settings of cfg (EF and the dynamic EF
// bounds); searches already running keep the old ones.
func (h *HNSW) SetSearchConfig(cfg HNSWConfig) {
	c := cfg.withDefaults()
	h.search.Store(&c)
}

func (h *HNSW) searchCfg() *HNSWConfig { return h.search.Load() }

// node returns node number i, or nil if it is free or out of range.
func (h *HNSW) node(i uint32) *hnswNode {
	ns := *h.nodes.Load()
	if int(i) >= len(ns) {
		return nil
	}
	return ns[i].Load()
}

// maxConns is the link limit of a layer.
func (h *HNSW) maxConns(level int) int {
	if level == 0 {
		return 2 * h.cfg.MaxConnections
	}
	return h.cfg.MaxConnections
}

func (h *HNSW) prepare(v []float32) []float32 {
	if h.normalize {
		return Normalize(v)
	}
	return slices.Clone(v)
}

// Dimensions implements Index.
func (h *HNSW) Dimensions() int {
	h.growMu.Lock()
	defer h.growMu.Unlock()
	return h.dims
}

// Len implements Index: the number of live vectors.
func (h *HNSW) Len() int {
	h.growMu.Lock()
	defer h.growMu.Unlock()
	return h.live
}

// Tombstones is the number of deleted nodes not yet cleaned up.
func (h *HNSW) Tombstones() int {
	h.growMu.Lock()
	defer h.growMu.Unlock()
	return h.dead
}

// Add implements Index. Replacing a vector tombstones the old node.
func (h *HNSW) Add(id ID, vec []float32) error {
	if len(vec) == 0 {
		return fmt.Errorf("vector is empty")
	}
	num, n, err := h.allocate(id, h.pointFor(h.prepare(vec)))
	if err != nil {
		return err
	}
	h.insert(num, n)
	return nil
}

// allocate creates the node of id (tombstoning a previous one) and
// publishes it without links: searches reach it only once it is linked.
func (h *HNSW) allocate(id ID, p point) (uint32, *hnswNode, error) {
	h.growMu.Lock()
	defer h.growMu.Unlock()
	if h.dims == 0 {
		h.dims = len(p.vec)
	} else if len(p.vec) != h.dims {
		return 0, nil, &DimensionError{Got: len(p.vec), Want: h.dims}
	}
	if old, ok := h.byID[id]; ok {
		h.tombstoneLocked(old)
	}
	level := min(int(-math.Log(1-h.rng.Float64())*h.mL), maxLevel)
	n := newNode(id, level, p, h.maxLinks0())
	num := h.publishLocked(n)
	h.byID[id] = num
	h.live++
	return num, n, nil
}

// publishLocked stores n under a free number or a new one. Callers hold
// growMu.
func (h *HNSW) publishLocked(n *hnswNode) uint32 {
	if k := len(h.free); k > 0 {
		num := h.free[k-1]
		h.free = h.free[:k-1]
		(*h.nodes.Load())[num].Store(n)
		return num
	}
	ns := *h.nodes.Load()
	num := uint32(len(ns))
	if len(ns) == cap(ns) {
		grown := make([]nodeSlot, len(ns), max(1024, 2*cap(ns)))
		for i := range ns {
			grown[i].Store(ns[i].Load())
		}
		ns = grown
	}
	ns = ns[:num+1]
	ns[num].Store(n)
	h.nodes.Store(&ns)
	return num
}

// Delete implements Index: the node becomes a tombstone.
func (h *HNSW) Delete(id ID) {
	h.growMu.Lock()
	defer h.growMu.Unlock()
	if num, ok := h.byID[id]; ok {
		h.tombstoneLocked(num)
	}
}

// tombstoneLocked marks node num deleted. Callers hold growMu.
func (h *HNSW) tombstoneLocked(num uint32) {
	slot := &(*h.nodes.Load())[num]
	delete(h.byID, slot.Load().id)
	slot.tombstone()
	h.live--
	h.dead++
	h.markDirty(num)
}

// insert links a newly allocated node into the graph.
func (h *HNSW) insert(num uint32, n *hnswNode) {
	h.markDirty(num)
	h.epMu.RLock()
	if !h.hasEntry || n.level > h.topLevel {
		// This node becomes the entry point: insert it exclusively.
		h.epMu.RUnlock()
		h.epMu.Lock()
		defer h.epMu.Unlock()
		if !h.hasEntry {
			h.entry, h.topLevel, h.hasEntry = num, n.level, true
			h.markStateDirty()
			return
		}
		h.link(num, n, h.entry, h.topLevel)
		if n.level > h.topLevel {
			h.entry, h.topLevel = num, n.level
			h.markStateDirty()
		}
		return
	}
	ep, top := h.entry, h.topLevel
	h.epMu.RUnlock()
	h.link(num, n, ep, top)
}

// link connects node num (not yet reachable) to its neighbours on each of
// its layers, starting the descent at ep on layer top.
func (h *HNSW) link(num uint32, n *hnswNode, ep uint32, top int) {
	vs := h.getVisited()
	defer h.visited.Put(vs)
	cur := candidate{node: ep, dist: h.distTo(&n.point, ep)}
	for l := top; l > n.level; l-- {
		cur = h.greedy(&n.point, cur, l)
	}
	eps := []candidate{cur}
	var pruned []uint32 // neighbours whose lists were replaced
	var appended []linkAppend
	defer func() { h.markChanged(pruned, appended) }()
	for l := min(n.level, top); l >= 0; l-- {
		found := h.searchLayer(&n.point, eps, h.cfg.EFConstruction, l, vs, nil)
		var kbuf [128]candidate // stack buffers for default list sizes
		var ibuf, lbuf [128]uint32
		neighbours := h.selectNeighbours(found, h.maxConns(l), kbuf[:0])
		ids := ibuf[:0]
		for _, c := range neighbours {
			ids = append(ids, c.node)
		}
		n.mu.Lock()
		// Inserts running alongside may already have linked to n here.
		for _, o := range n.linksInto(l, lbuf[:0]) {
			if len(ids) < h.maxConns(l) && !slices.Contains(ids, o) {
				ids = append(ids, o)
			}
		}
		n.setLinks(l, ids)
		n.mu.Unlock()
		for _, c := range neighbours {
			switch h.addLink(c.node, num, c.dist, l) {
			case linkAppended:
				appended = append(appended, linkAppend{from: c.node, to: num, level: uint8(l)})
			case linkPruned:
				pruned = append(pruned, c.node)
			}
		}
		eps = found
	}
}

// pruneSlack sets how far a link list may grow past its limit before it is
// pruned back to the limit: by limit/pruneSlack. Pruning runs the
// neighbour heuristic, quadratic in the list length; pruning on every
// overflow made it most of the cost of an insert, where lists fill up.
const pruneSlack = 2

// What addLink did to a list.
type linkChange int

const (
	linkUnchanged linkChange = iota
	linkAppended             // the link was appended
	linkPruned               // the list was replaced by a pruned one
)

// addLink adds a link from node from to node to on a layer, pruning from's
// list with the neighbour heuristic when it outgrows the slack. It reports
// how from's links changed, for the caller to record.
func (h *HNSW) addLink(from, to uint32, dist float32, level int) linkChange {
	f := h.node(from)
	if f == nil || level > f.level {
		return linkUnchanged
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var buf [128]uint32 // holds a default layer-0 list without allocating
	old := f.linksInto(level, buf[:0])
	if slices.Contains(old, to) {
		return linkUnchanged
	}
	limit := h.maxConns(level)
	if len(old) < limit+limit/pruneSlack {
		f.setLinks(level, append(old, to))
		return linkAppended
	}
	// Stack buffers for a default list; longer ones grow onto the heap.
	var cbuf, kbuf [129]candidate
	var lbuf [128]uint32
	cands := append(cbuf[:0], candidate{node: to, dist: dist})
	for _, o := range old {
		if d, ok := h.distBetween(&f.point, o); ok {
			cands = append(cands, candidate{node: o, dist: d})
		}
	}
	sortCandidates(cands)
	l := lbuf[:0]
	for _, c := range h.selectNeighbours(cands, limit, kbuf[:0]) {
		l = append(l, c.node)
	}
	f.setLinks(level, l)
	return linkPruned
}

// selectNeighbours picks up to m of the candidates (sorted nearest first)
// with the heuristic of the HNSW paper: a candidate is kept only if it is
// nearer to the base than to every candidate kept before it, which spreads
// links in all directions and keeps lists short where points are dense.
// The result is appended to kept.
func (h *HNSW) selectNeighbours(cands []candidate, m int, kept []candidate) []candidate {
	var pbuf [128]*point
	keptPts := pbuf[:0]
	for _, c := range cands {
		if len(kept) == m {
			break
		}
		if p := h.diverse(c, keptPts); p != nil {
			kept, keptPts = append(kept, c), append(keptPts, p)
		}
	}
	return kept
}

// diverse reports whether candidate c (at distance c.dist from the base) is
// nearer to the base than to every point in kept, by returning c's point;
// nil if it is not, or if c was freed.
func (h *HNSW) diverse(c candidate, kept []*point) *point {
	cn := h.node(c.node)
	if cn == nil || cn.vec == nil {
		return nil
	}
	for _, k := range kept {
		if h.pointDist(&cn.point, k) < c.dist {
			return nil
		}
	}
	return &cn.point
}

// sortCandidates sorts nearest first.
func sortCandidates(cs []candidate) {
	slices.SortFunc(cs, func(a, b candidate) int {
		if a.less(b) {
			return -1
		}
		return 1
	})
}

// distTo is the distance from p to node num (+Inf if it was freed).
func (h *HNSW) distTo(p *point, num uint32) float32 {
	if d, ok := h.distBetween(p, num); ok {
		return d
	}
	return float32(math.Inf(1))
}

// distBetween is the graph's distance from p to node num; false if the
// node was freed or has no vector yet.
func (h *HNSW) distBetween(p *point, num uint32) (float32, bool) {
	ns := *h.nodes.Load()
	if int(num) >= len(ns) {
		return 0, false
	}
	return h.slotDist(p, &ns[num])
}

// pointDist is the graph's distance between two points.
func (h *HNSW) pointDist(a, b *point) float32 {
	if h.quantized {
		return h.codeDist(a, &b.codes[0], b.scale, b.sqnorm)
	}
	return h.dist(a.vec, b.vec)
}

// slotDist is the graph's distance from p to the node in s: on codes for
// the quantized metrics, else on the float32 vectors.
func (h *HNSW) slotDist(p *point, s *nodeSlot) (float32, bool) {
	if h.quantized {
		c := s.c.Load()
		if c == nil {
			return 0, false
		}
		scale, sqnorm := unpackCodeMeta(s.meta.Load())
		return h.codeDist(p, c, scale, sqnorm), true
	}
	n := s.Load()
	if n == nil || n.vec == nil {
		return 0, false
	}
	return h.dist(p.vec, n.vec), true
}
