package vector

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
)

// The change log. Rewriting the record of every node a write touched costs
// nearly as much as the write itself once the graph is large: an insert
// appends a back link to dozens of nodes spread over the whole graph, and
// each of their records is 100–200 bytes. So the owner stores
//
//   - the node records and the state record as of the last checkpoint, and
//   - one log entry per write since then (FlushLog): the whole record of
//     each node created, pruned, tombstoned or reconnected, the number of
//     each node freed, and of a back link only the link — a few bytes
//     where the record took a hundred.
//
// Once the log outgrows the graph (NeedsCheckpoint), the owner writes the
// records of every node changed since the last checkpoint and then deletes
// the log entries they replace (CheckpointRun), in the background. Loading
// reads the records (LoadNode, LoadState), replays the log entries in
// order (ReplayLog), and then takes the vectors (LoadVector, FinishLoad).
//
// Log entry, version 1: byte version, then operations up to its end, each
// a uvarint num<<2 | op followed by
//
//	opRecord  uvarint length, the node record     (node num's whole record)
//	opFree                                        (node num was freed)
//	opLink    uvarint link<<6 | layer             (link appended to num's list)
//	opState   uvarint length, the state record    (num is 0)
//
// An entry lists frees and tombstones' records before live records, so
// that a replaced vector's old node is a tombstone before its new node
// loads.
const (
	logVersion = 1

	opRecord = 0
	opFree   = 1
	opLink   = 2
	opState  = 3

	layerBits = 6 // maxLevel < 1<<layerBits
)

// minCheckpointLog and checkpointBytesPerNode set when the log is due for
// a checkpoint: once it holds more than minCheckpointLog bytes and more
// than checkpointBytesPerNode per node, about the size of the records a
// checkpoint writes. The log then costs at most about as much again as
// the records, in store space and in replay time on load.
const (
	minCheckpointLog       = 16 << 20
	checkpointBytesPerNode = 128
)

// checkpointChunk is how many records a checkpoint encodes at a time, to
// bound its memory beside the owner's batch (a variable for tests).
var checkpointChunk = 1 << 14

// linkAppend is a link appended to node from's list on a layer.
type linkAppend struct {
	from, to uint32
	level    uint8
}

// changeLog tracks the graph's changes for the log and the checkpoints.
type changeLog struct {
	mu      sync.Mutex
	records map[uint32]struct{} // nodes whose whole record changed since the last FlushLog
	links   []linkAppend        // links appended since the last FlushLog
	state   bool                // the entry point changed since the last FlushLog

	// Since the last checkpoint (or the start of the running one).
	changed       bitset // nodes the log entries touch
	bytes         int    // size of the log entries since the last checkpoint
	seq           uint64 // number of the next log entry
	checkpointing bool   // a CheckpointRun has not finished
}

// bitset is a set of node numbers.
type bitset []uint64

func (b *bitset) add(i uint32) {
	w := int(i / 64)
	if w >= len(*b) {
		*b = append(*b, make([]uint64, w+1-len(*b))...)
	}
	(*b)[w] |= 1 << (i % 64)
}

func (b bitset) members() []uint32 {
	var out []uint32
	for w, word := range b {
		for word != 0 {
			out = append(out, uint32(w*64+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	return out
}

// markDirty records that the whole records of nodes nums changed.
func (h *HNSW) markDirty(nums ...uint32) { h.markChanged(nums, nil) }

// markChanged records an insert's changes under one lock: it touches
// dozens of nodes, and parallel inserts would otherwise queue on the lock
// for each.
func (h *HNSW) markChanged(records []uint32, links []linkAppend) {
	c := &h.changes
	c.mu.Lock()
	for _, i := range records {
		c.records[i] = struct{}{}
	}
	c.links = append(c.links, links...)
	c.mu.Unlock()
}

func (h *HNSW) markStateDirty() {
	h.changes.mu.Lock()
	h.changes.state = true
	h.changes.mu.Unlock()
}

// FlushLog returns the changes since the last FlushLog as a log entry and
// its number; entry is nil (and seq meaningless) if nothing changed. The
// owner stores the entry in the same atomic batch as the write that made
// the changes, or calls Checkpoint instead when NeedsCheckpoint says so.
// Writers must not run concurrently with FlushLog.
func (h *HNSW) FlushLog() (seq uint64, entry []byte) {
	c := &h.changes
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.records) == 0 && len(c.links) == 0 && !c.state {
		return 0, nil
	}
	nums := make([]uint32, 0, len(c.records))
	for num := range c.records {
		nums = append(nums, num)
	}
	recs := h.encodeNodes(nums)
	entry = []byte{logVersion}
	for pass := range 2 { // frees and tombstones first
		for i, num := range nums {
			if (recs[i] == nil || recs[i][recordFlags]&flagDeleted != 0) != (pass == 0) {
				continue
			}
			if recs[i] == nil {
				entry = binary.AppendUvarint(entry, uint64(num)<<2|opFree)
			} else {
				entry = binary.AppendUvarint(entry, uint64(num)<<2|opRecord)
				entry = binary.AppendUvarint(entry, uint64(len(recs[i])))
				entry = append(entry, recs[i]...)
			}
			c.changed.add(num)
		}
	}
	// In node order, so that a replay walks the graph's memory in order.
	slices.SortFunc(c.links, func(a, b linkAppend) int { return cmp.Compare(a.from, b.from) })
	for _, l := range c.links {
		if _, whole := c.records[l.from]; whole {
			continue
		}
		entry = binary.AppendUvarint(entry, uint64(l.from)<<2|opLink)
		entry = binary.AppendUvarint(entry, uint64(l.to)<<layerBits|uint64(l.level))
		c.changed.add(l.from)
	}
	if c.state {
		rec := h.encodeState()
		entry = binary.AppendUvarint(entry, opState)
		entry = binary.AppendUvarint(entry, uint64(len(rec)))
		entry = append(entry, rec...)
	}
	clear(c.records)
	c.links, c.state = c.links[:0], false
	seq = c.seq
	c.seq++
	c.bytes += len(entry)
	return seq, entry
}

// NeedsCheckpoint reports whether the log entries since the last
// checkpoint outgrew the records a checkpoint would write, and no
// checkpoint is running.
func (h *HNSW) NeedsCheckpoint() bool {
	c := &h.changes
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.checkpointing && c.bytes > max(minCheckpointLog, checkpointBytesPerNode*len(*h.nodes.Load()))
}

// A CheckpointRun writes the records of every node the log entries before
// it touched, while writers go on, so that those entries can be deleted.
//
// It reads each node as it is when Next reaches it, which may be newer
// than the entries it replaces. That is safe because every change after
// the run started is in a later log entry, and replaying a log on records
// of any later state converges to the same graph: a node's whole record
// (opRecord) or its free (opFree) resets it, a link append (opLink) is
// skipped when the link is there already or the node is gone, and the
// state record is logged whenever it changes. The owner must store a
// record only after every write whose changes it may hold (writes applied
// to the index before Next encoded it) is committed, ahead of it in the
// store's write order, and must delete the log entries numbered below
// Upto only once every record and the state are stored.
type CheckpointRun struct {
	h     *HNSW
	nums  []uint32
	next  int
	upto  uint64
	bytes int
}

// StartCheckpoint starts a checkpoint of the log entries flushed so far;
// nil if one is running. Callers serialise it with FlushLog (the owner's
// write lock) and end the run with Finish.
func (h *HNSW) StartCheckpoint() *CheckpointRun {
	c := &h.changes
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.checkpointing {
		return nil
	}
	c.checkpointing = true
	r := &CheckpointRun{h: h, nums: c.changed.members(), upto: c.seq, bytes: c.bytes}
	c.changed = c.changed[:0]
	return r
}

// Upto is the number of the first log entry the run does not replace.
func (r *CheckpointRun) Upto() uint64 { return r.upto }

// Next reports the current record of up to checkpointChunk more nodes:
// put with the record (only valid during the call) or del for a freed
// node. It reports done, without calling put or del, once every node is
// reported. Safe to call while writers change the graph.
func (r *CheckpointRun) Next(put func(num uint32, rec []byte) error, del func(num uint32) error) (done bool, err error) {
	if r.next >= len(r.nums) {
		return true, nil
	}
	chunk := r.nums[r.next:min(r.next+checkpointChunk, len(r.nums))]
	r.next += len(chunk)
	for i, rec := range r.h.encodeNodes(chunk) {
		if rec != nil {
			err = put(chunk[i], rec)
		} else {
			err = del(chunk[i])
		}
		if err != nil {
			return false, err
		}
	}
	return false, nil
}

// State is the current state record, to store with the last records.
func (r *CheckpointRun) State() []byte { return r.h.encodeState() }

// Finish ends the run: stored says whether every record, the state and the
// deletion of the replaced log entries were stored. If not, the nodes are
// still due for the next checkpoint.
func (r *CheckpointRun) Finish(stored bool) {
	c := &r.h.changes
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkpointing = false
	if stored {
		c.bytes -= r.bytes
		return
	}
	for _, num := range r.nums {
		c.changed.add(num)
	}
}

// ReplayLog applies log entry seq while loading: after LoadNode and
// LoadState for the records, before LoadVector; entries in the order of
// their numbers.
func (h *HNSW) ReplayLog(seq uint64, entry []byte) error {
	if len(entry) == 0 || entry[0] != logVersion {
		return fmt.Errorf("hnsw log entry %d: %w", seq, errCorrupt)
	}
	r := &recordReader{b: entry[1:]}
	for len(r.b) > 0 && r.err == nil {
		head := r.uvarint()
		if head>>2 > math.MaxUint32 {
			return fmt.Errorf("hnsw log entry %d: %w", seq, errCorrupt)
		}
		num := uint32(head >> 2)
		var err error
		switch head & 3 {
		case opRecord:
			err = h.loadNode(num, r.bytes(int(r.uvarint())), true)
		case opFree:
			h.growMu.Lock()
			h.removeLocked(num)
			h.growMu.Unlock()
		case opLink:
			err = h.replayLink(num, r.uvarint())
		case opState:
			err = h.LoadState(r.bytes(int(r.uvarint())))
		}
		if r.err == nil && err != nil {
			return fmt.Errorf("hnsw log entry %d: %w", seq, err)
		}
		if head&3 != opState {
			h.changes.changed.add(num)
		}
	}
	if r.err != nil {
		return fmt.Errorf("hnsw log entry %d: %w", seq, r.err)
	}
	h.changes.seq = max(h.changes.seq, seq+1)
	h.changes.bytes += len(entry)
	return nil
}

// replayLink appends a logged link (link<<layerBits | layer) to node num.
func (h *HNSW) replayLink(num uint32, v uint64) error {
	to, level := v>>layerBits, int(v&(1<<layerBits-1))
	if to > math.MaxUint32 || level > maxLevel {
		return fmt.Errorf("link of node %d on layer %d: %w", num, level, errCorrupt)
	}
	n := h.node(num)
	if n == nil || level > n.level {
		// The node's record is newer than this entry (see CheckpointRun): a
		// later entry frees or rewrites it.
		return nil
	}
	if level > 0 {
		if links := n.linksAt(level); !slices.Contains(links, uint32(to)) {
			n.setLinks(level, append(links, uint32(to)))
		}
		return nil
	}
	// Layer 0 in place: a log holds millions of these.
	c := n.links0[0].Load()
	for i := uint32(1); i <= c; i++ {
		if n.links0[i].Load() == uint32(to) {
			return nil
		}
	}
	if int(c)+1 < len(n.links0) {
		n.links0[c+1].Store(uint32(to))
		n.links0[0].Store(c + 1)
	}
	return nil
}
