package vector

import (
	"container/heap"
	"fmt"
	"sync"
)

// ID identifies an object in an index (the object's UUID bytes).
type ID = [16]byte

// Result is one search hit.
type Result struct {
	ID       ID
	Distance float32
}

// Index is a vector index of one shard and one named vector.
// Implementations are safe for concurrent use.
type Index interface {
	// Add inserts or replaces the vector of id. All vectors of an index
	// have the same length; the first one added fixes it.
	Add(id ID, vec []float32) error
	// Delete removes id; deleting an absent id is a no-op.
	Delete(id ID)
	// Search returns up to k nearest vectors in ascending distance, keeping
	// only those with distance <= maxDistance (when maxDistance is not nil)
	// and accepted by allow (when not nil).
	Search(query []float32, k int, maxDistance *float32, allow func(ID) bool) ([]Result, error)
	// Dimensions is the vector length, 0 while empty and never set.
	Dimensions() int
	// Len is the number of vectors in the index.
	Len() int
}

// DimensionError reports a vector whose length differs from the index's.
type DimensionError struct{ Got, Want int }

func (e *DimensionError) Error() string {
	return fmt.Sprintf("new node has a vector with length %d. Existing nodes have vectors with length %d: vector dimensions do not match the index dimensions", e.Got, e.Want)
}

// Flat is an exact (brute-force) index holding vectors in memory.
type Flat struct {
	distance string
	dist     DistanceFunc
	mu       sync.RWMutex
	dims     int
	slot     map[ID]int
	ids      []ID
	vecs     []float32 // len(ids) * dims, contiguous
}

var _ Index = (*Flat)(nil)

// NewFlat returns an empty flat index for the named distance.
func NewFlat(distance string) (*Flat, error) {
	d, err := DistanceFor(distance)
	if err != nil {
		return nil, err
	}
	return &Flat{distance: distance, dist: d, slot: map[ID]int{}}, nil
}

func (f *Flat) prepare(v []float32) []float32 {
	if f.distance == Cosine || f.distance == "" {
		return Normalize(v)
	}
	return v
}

// Add implements Index.
func (f *Flat) Add(id ID, vec []float32) error {
	if len(vec) == 0 {
		return fmt.Errorf("vector is empty")
	}
	v := f.prepare(vec)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dims == 0 {
		f.dims = len(v)
	} else if len(v) != f.dims {
		return &DimensionError{Got: len(v), Want: f.dims}
	}
	if i, ok := f.slot[id]; ok {
		copy(f.vecs[i*f.dims:(i+1)*f.dims], v)
		return nil
	}
	f.slot[id] = len(f.ids)
	f.ids = append(f.ids, id)
	f.vecs = append(f.vecs, v...)
	return nil
}

// Delete implements Index: the last entry moves into the freed slot.
func (f *Flat) Delete(id ID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.slot[id]
	if !ok {
		return
	}
	last := len(f.ids) - 1
	if i != last {
		f.ids[i] = f.ids[last]
		f.slot[f.ids[i]] = i
		copy(f.vecs[i*f.dims:(i+1)*f.dims], f.vecs[last*f.dims:])
	}
	f.ids = f.ids[:last]
	f.vecs = f.vecs[:last*f.dims]
	delete(f.slot, id)
}

// Dimensions implements Index.
func (f *Flat) Dimensions() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.dims
}

// Len implements Index.
func (f *Flat) Len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.ids)
}

// Search implements Index.
func (f *Flat) Search(query []float32, k int, maxDistance *float32, allow func(ID) bool) ([]Result, error) {
	if k <= 0 {
		return nil, nil
	}
	q := f.prepare(query)
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.dims == 0 {
		return nil, nil
	}
	if len(q) != f.dims {
		return nil, &DimensionError{Got: len(q), Want: f.dims}
	}
	h := make(maxHeap, 0, k+1)
	for i, id := range f.ids {
		d := f.dist(q, f.vecs[i*f.dims:(i+1)*f.dims])
		if maxDistance != nil && d > *maxDistance {
			continue
		}
		if len(h) == k && (d > h[0].Distance || d == h[0].Distance && string(id[:]) >= string(h[0].ID[:])) {
			continue
		}
		if allow != nil && !allow(id) {
			continue
		}
		heap.Push(&h, Result{ID: id, Distance: d})
		if len(h) > k {
			heap.Pop(&h)
		}
	}
	out := make([]Result, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(Result)
	}
	return out, nil
}

// maxHeap keeps the k best results with the worst on top.
type maxHeap []Result

func (h maxHeap) Len() int { return len(h) }
func (h maxHeap) Less(i, j int) bool {
	if h[i].Distance != h[j].Distance {
		return h[i].Distance > h[j].Distance
	}
	return string(h[i].ID[:]) > string(h[j].ID[:])
}
func (h maxHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *maxHeap) Push(x any)   { *h = append(*h, x.(Result)) }
func (h *maxHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
