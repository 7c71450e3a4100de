package azure

import (
	"container/heap"
	"strings"

	"strata/internal/blob"
)

// byteOrder turns the order in which the service lists blobs into the
// byte-wise order List promises.
//
// Azurite sorts names by UTF-16 code units (checked by TestListOrder), and
// so, by others' reports, does Azure with a flat namespace. That
// agrees with byte order (UTF-8) except where two names first differ in a
// character from U+E000 to U+FFFF in one and a character beyond U+FFFF
// (a surrogate pair in UTF-16) in the other: UTF-16 puts the latter first.
// So once the service listed u, every later name v >=16 u is byte-wise at
// least threshold(u) (see there), and the names received so far that are
// not above it can be released. Names are held back only in that rare
// case; otherwise each is released as soon as it arrives.
type byteOrder struct{ held attrsHeap }

// add takes the next blob in the service's order and calls emit for every
// blob that can now be released, in byte order, stopping at emit's first
// error.
func (o *byteOrder) add(a blob.Attrs, emit func(blob.Attrs) error) error {
	heap.Push(&o.held, a)
	t := threshold(a.Key)
	for o.held.Len() > 0 && o.held[0].Key <= t {
		if err := emit(heap.Pop(&o.held).(blob.Attrs)); err != nil {
			return err
		}
	}
	return nil
}

// flush releases the rest once the listing is complete.
func (o *byteOrder) flush(emit func(blob.Attrs) error) error {
	for o.held.Len() > 0 {
		if err := emit(heap.Pop(&o.held).(blob.Attrs)); err != nil {
			return err
		}
	}
	return nil
}

// threshold returns the byte-wise smallest name that can follow u in UTF-16
// order: u itself, unless u has a character beyond U+FFFF; then a name
// diverging there with a character from U+E000 up sorts after u in UTF-16
// but before it in bytes, and the bound is u up to that character followed
// by U+E000.
func threshold(u string) string {
	for i, r := range u {
		if r > 0xFFFF {
			return u[:i] + "\uE000"
		}
	}
	return u
}

// attrsHeap is a min-heap of blobs by key.
type attrsHeap []blob.Attrs

func (h attrsHeap) Len() int           { return len(h) }
func (h attrsHeap) Less(i, j int) bool { return strings.Compare(h[i].Key, h[j].Key) < 0 }
func (h attrsHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *attrsHeap) Push(x any)        { *h = append(*h, x.(blob.Attrs)) }
func (h *attrsHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
