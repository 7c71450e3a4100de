package vector

// candidate is a graph node and its distance to the query.
type candidate struct {
	dist float32
	node uint32
}

// less orders candidates by distance, then node id, so that results are
// deterministic among equal distances.
func (a candidate) less(b candidate) bool {
	return a.dist < b.dist || a.dist == b.dist && a.node < b.node
}

// minHeap pops the nearest candidate first.
type minHeap []candidate

func (h *minHeap) push(c candidate) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *minHeap) pop() candidate {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	*h = s[:n]
	s = s[:n]
	i := 0
	for {
		l, m := 2*i+1, i
		if l < n && s[l].less(s[m]) {
			m = l
		}
		if r := l + 1; r < n && s[r].less(s[m]) {
			m = r
		}
		if m == i {
			return top
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
}

// maxHeapC keeps the farthest candidate on top, to bound a result set.
type maxHeapC []candidate

func (h *maxHeapC) push(c candidate) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[p].less(s[i]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *maxHeapC) pop() candidate {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	*h = s[:n]
	s = s[:n]
	i := 0
	for {
		l, m := 2*i+1, i
		if l < n && s[m].less(s[l]) {
			m = l
		}
		if r := l + 1; r < n && s[m].less(s[r]) {
			m = r
		}
		if m == i {
			return top
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
}

// top is the farthest candidate; the heap must not be empty.
func (h maxHeapC) top() candidate { return h[0] }
