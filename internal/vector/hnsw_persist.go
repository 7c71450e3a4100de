package vector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Persistence. The owner stores one record per node and one state record
// (entry point) as of the last checkpoint, and a log of the changes since
// (hnsw_log.go), whose entry for a write goes into the same atomic batch
// as the write, so the stored graph always matches the stored objects.
// Live nodes' vectors are not in their records: the owner supplies them
// from the objects on load (LoadVector). A tombstone's record carries its
// vector, as its object is gone.
//
// Node record, version 2:
//
//	byte     version (2)
//	[16]byte object id
//	byte     flags (bit 0: deleted)
//	byte     level L
//	L+1 ×    uvarint n, then the n node numbers in ascending order as
//	         uvarints: the first, then each one's difference to the previous
//	if deleted: uvarint dims, then dims × float32 little-endian
//
// The order of a link list means nothing to the graph, so it is stored
// sorted: the differences take about two bytes where a number took four,
// and a checkpoint writes the record of every node changed since the last.
// Version 1, still read (records written before version 2, and backups of
// them), is the same with each list as n × uint32 little-endian.
//
// State record, version 1: byte version, byte hasEntry, uvarint entry,
// uvarint top level, uvarint dimensions.
const (
	nodeVersion  = 2
	nodeVersion1 = 1
	stateVersion = 1
)

const flagDeleted = 1

// recordFlags is the offset of the flags byte in a node record.
const recordFlags = 17

// maxLinks bounds a stored link list, as a sanity check on load.
const maxLinks = 4096

// encodeNodes returns the records of nodes nums (nil for a freed one),
// encoded in parallel: a checkpoint writes a record for every node, and
// its owner writes them while holding its write lock.
func (h *HNSW) encodeNodes(nums []uint32) [][]byte {
	recs := make([][]byte, len(nums))
	workers := min(runtime.NumCPU(), runtime.GOMAXPROCS(0), (len(nums)+255)/256)
	per := (len(nums) + max(workers, 1) - 1) / max(workers, 1)
	var wg sync.WaitGroup
	for lo := 0; lo < len(nums); lo += per {
		hi := min(lo+per, len(nums))
		wg.Go(func() {
			// One arena per worker; records are cut from it once it is final.
			var arena []byte
			ends := make([]int, hi-lo)
			for i := lo; i < hi; i++ {
				if n := h.node(nums[i]); n != nil {
					arena = h.encodeNode(arena, n)
				}
				ends[i-lo] = len(arena)
			}
			start := 0
			for i := lo; i < hi; i++ {
				if end := ends[i-lo]; end > start {
					recs[i] = arena[start:end:end]
					start = end
				}
			}
		})
	}
	wg.Wait()
	return recs
}

// encodeNode appends n's record to buf. It holds n's writer lock, so that
// a checkpoint running beside writers reads each list whole.
func (h *HNSW) encodeNode(buf []byte, n *hnswNode) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	deleted := n.deleted.Load()
	flags := byte(0)
	if deleted {
		flags |= flagDeleted
	}
	buf = append(buf, nodeVersion)
	buf = append(buf, n.id[:]...)
	buf = append(buf, flags, byte(n.level))
	var lbuf [128]uint32 // a default list, without allocating
	links := lbuf[:0]
	for l := 0; l <= n.level; l++ {
		links = n.linksInto(l, links[:0])
		slices.Sort(links)
		buf = binary.AppendUvarint(buf, uint64(len(links)))
		prev := uint32(0)
		for _, o := range links {
			buf = binary.AppendUvarint(buf, uint64(o-prev))
			prev = o
		}
	}
	if deleted {
		buf = binary.AppendUvarint(buf, uint64(len(n.vec)))
		for _, x := range n.vec {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
	}
	return buf
}

func (h *HNSW) encodeState() []byte {
	h.epMu.RLock()
	entry, top, has := h.entry, h.topLevel, h.hasEntry
	h.epMu.RUnlock()
	buf := []byte{stateVersion, 0}
	if has {
		buf[1] = 1
	}
	buf = binary.AppendUvarint(buf, uint64(entry))
	buf = binary.AppendUvarint(buf, uint64(top))
	return binary.AppendUvarint(buf, uint64(h.Dimensions()))
}

var errCorrupt = errors.New("corrupt hnsw record")

// recordReader decodes a record, remembering the first error.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

// links reads one link list of a node record of the given version.
func (r *recordReader) links(version byte) ([]uint32, error) {
	cnt := r.uvarint()
	if r.err != nil || cnt > maxLinks {
		return nil, errCorrupt
	}
	links := make([]uint32, cnt)
	if version == nodeVersion1 {
		raw := r.bytes(int(cnt) * 4)
		for i := range links {
			if r.err == nil {
				links[i] = binary.LittleEndian.Uint32(raw[4*i:])
			}
		}
		return links, r.err
	}
	prev := uint64(0)
	for i := range links {
		prev += r.uvarint()
		if prev > math.MaxUint32 {
			return nil, errCorrupt
		}
		links[i] = uint32(prev)
	}
	return links, r.err
}

func (r *recordReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = errCorrupt
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// LoadNode restores node num from its record. Loading happens on an empty
// index, before any Add: LoadNode for every record, LoadState, ReplayLog
// for every log entry, LoadVector for every live object, then FinishLoad.
func (h *HNSW) LoadNode(num uint32, rec []byte) error { return h.loadNode(num, rec, false) }

// loadNode restores node num from its record, replacing a loaded one if
// replace (a log entry's newer record).
func (h *HNSW) loadNode(num uint32, rec []byte, replace bool) error {
	r := &recordReader{b: rec}
	head := r.bytes(19)
	if r.err != nil || head[0] != nodeVersion && head[0] != nodeVersion1 {
		return fmt.Errorf("hnsw node %d: %w", num, errCorrupt)
	}
	level := int(head[18])
	if level > maxLevel {
		return fmt.Errorf("hnsw node %d: level %d: %w", num, level, errCorrupt)
	}
	n := newNode(ID(head[1:17]), level, point{}, h.maxLinks0())
	deleted := head[recordFlags]&flagDeleted != 0
	for l := 0; l <= n.level; l++ {
		links, err := r.links(head[0])
		if err != nil {
			return fmt.Errorf("hnsw node %d: %w", num, err)
		}
		n.setLinks(l, links)
	}
	if deleted {
		dims := r.uvarint()
		raw := r.bytes(int(dims) * 4)
		if r.err != nil || dims == 0 {
			return fmt.Errorf("hnsw node %d: %w", num, errCorrupt)
		}
		vec := make([]float32, dims)
		for i := range vec {
			vec[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		n.point = h.pointFor(vec)
		n.deleted.Store(true)
	}
	h.growMu.Lock()
	defer h.growMu.Unlock()
	if replace {
		h.removeLocked(num)
	}
	ns := *h.nodes.Load()
	if int(num) < len(ns) && ns[num].Load() != nil {
		return fmt.Errorf("hnsw node %d loaded twice", num)
	}
	for int(num) >= len(ns) {
		ns = append(ns, nodeSlot{})
	}
	ns[num].Store(n)
	h.nodes.Store(&ns)
	if deleted {
		h.dead++
	} else {
		if _, dup := h.byID[n.id]; dup {
			return fmt.Errorf("hnsw node %d: object %x has two live nodes", num, n.id)
		}
		h.byID[n.id] = num
		h.live++
	}
	return nil
}

// removeLocked forgets loaded node num, if any. Callers hold growMu.
func (h *HNSW) removeLocked(num uint32) {
	ns := *h.nodes.Load()
	if int(num) >= len(ns) {
		return
	}
	n := ns[num].Load()
	switch {
	case n == nil:
		return
	case n.deleted.Load():
		h.dead--
	default:
		if h.byID[n.id] == num {
			delete(h.byID, n.id)
		}
		h.live--
	}
	ns[num].Store(nil)
}

// LoadState restores the entry point and dimensions.
func (h *HNSW) LoadState(rec []byte) error {
	r := &recordReader{b: rec}
	head := r.bytes(2)
	entry, top, dims := r.uvarint(), r.uvarint(), r.uvarint()
	if r.err != nil || head[0] != stateVersion || top > maxLevel || entry > math.MaxUint32 {
		return fmt.Errorf("hnsw state: %w", errCorrupt)
	}
	h.epMu.Lock()
	h.entry, h.topLevel, h.hasEntry = uint32(entry), int(top), head[1] == 1
	h.epMu.Unlock()
	h.growMu.Lock()
	h.dims = int(dims)
	h.growMu.Unlock()
	return nil
}

// LoadVector gives the live node of id its vector. It reports false when id
// has no live node: the owner then adds it after FinishLoad.
func (h *HNSW) LoadVector(id ID, vec []float32) bool {
	h.growMu.Lock()
	defer h.growMu.Unlock()
	num, ok := h.byID[id]
	if !ok {
		return false
	}
	slot := &(*h.nodes.Load())[num]
	n := slot.Load()
	if n.vec != nil || h.dims != 0 && len(vec) != h.dims {
		return false
	}
	n.point = h.pointFor(h.prepare(vec))
	slot.Store(n)
	return true
}

// FinishLoad completes a load. Live nodes that got no vector (their object
// is missing) are freed, numbers without a record become free, and the
// entry point is checked; it returns how many nodes were freed. Any repair
// is marked dirty, for the next FlushLog to persist.
func (h *HNSW) FinishLoad() int {
	h.growMu.Lock()
	ns := *h.nodes.Load()
	h.free = h.free[:0]
	freed := 0
	for i := len(ns) - 1; i >= 0; i-- {
		n := ns[i].Load()
		if n != nil && n.vec == nil {
			delete(h.byID, n.id)
			h.live--
			ns[i].Store(nil)
			h.markDirty(uint32(i))
			n = nil
			freed++
		}
		if n == nil {
			h.free = append(h.free, uint32(i))
		}
	}
	if h.dims == 0 {
		for i := range ns {
			if n := ns[i].Load(); n != nil {
				h.dims = len(n.vec)
				break
			}
		}
	}
	h.growMu.Unlock()
	h.epMu.Lock()
	defer h.epMu.Unlock()
	if e := h.node(h.entry); !h.hasEntry || e == nil || e.level != h.topLevel {
		h.resetEntryLocked()
	}
	return freed
}

// resetEntryLocked makes the node of the highest level the entry point
// (live nodes preferred). Callers hold epMu.
func (h *HNSW) resetEntryLocked() {
	ns := *h.nodes.Load()
	best, bestLevel, found, foundLive := uint32(0), -1, false, false
	for i := range ns {
		n := ns[i].Load()
		if n == nil {
			continue
		}
		live := !n.deleted.Load()
		if n.level > bestLevel || n.level == bestLevel && live && !foundLive {
			best, bestLevel, found, foundLive = uint32(i), n.level, true, live
		}
	}
	h.entry, h.topLevel, h.hasEntry = best, max(bestLevel, 0), found
	h.markStateDirty()
}
