package vector

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
)

func idOf(n int) ID {
	var id ID
	id[12], id[13], id[14], id[15] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return id
}

func numOf(id ID) int {
	return int(id[12])<<24 | int(id[13])<<16 | int(id[14])<<8 | int(id[15])
}

func newFlat(t testing.TB, distance string) *Flat {
	t.Helper()
	f, err := NewFlat(distance)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// bruteForce is the reference search: every vector, sorted by (distance, id).
func bruteForce(vecs map[ID][]float32, distance string, q []float32, k int, maxDistance *float32, allow func(ID) bool) []Result {
	f, _ := DistanceFor(distance)
	prep := func(v []float32) []float32 {
		if distance == Cosine || distance == "" {
			return Normalize(v)
		}
		return v
	}
	pq := prep(q)
	var all []Result
	for id, v := range vecs {
		d := f(pq, prep(v))
		if maxDistance != nil && d > *maxDistance {
			continue
		}
		if allow != nil && !allow(id) {
			continue
		}
		all = append(all, Result{ID: id, Distance: d})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Distance != all[j].Distance {
			return all[i].Distance < all[j].Distance
		}
		return string(all[i].ID[:]) < string(all[j].ID[:])
	})
	if len(all) > k {
		all = all[:k]
	}
	return all
}

func sameResults(t *testing.T, what string, got, want []Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d\n got %v\nwant %v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Distance != want[i].Distance {
			t.Fatalf("%s: result %d = {%d %v}, want {%d %v}", what, i,
				numOf(got[i].ID), got[i].Distance, numOf(want[i].ID), want[i].Distance)
		}
	}
}

// checkInvariants verifies the slot map, id list and vector storage agree
// with the expected contents.
func checkInvariants(t *testing.T, f *Flat, want map[ID][]float32) {
	t.Helper()
	f.mu.RLock()
	defer f.mu.RUnlock()
	if len(f.ids) != len(want) || len(f.slot) != len(want) || len(f.vecs) != len(want)*f.dims {
		t.Fatalf("sizes: ids %d slot %d vecs %d (dims %d), want %d entries", len(f.ids), len(f.slot), len(f.vecs), f.dims, len(want))
	}
	for i, id := range f.ids {
		if f.slot[id] != i {
			t.Fatalf("slot[%d] = %d, but ids[%d] holds it", numOf(id), f.slot[id], i)
		}
		v, ok := want[id]
		if !ok {
			t.Fatalf("index holds unexpected id %d", numOf(id))
		}
		exp := f.prepare(v)
		if !slices.Equal(f.vecs[i*f.dims:(i+1)*f.dims], exp) {
			t.Fatalf("vector of %d = %v, want %v", numOf(id), f.vecs[i*f.dims:(i+1)*f.dims], exp)
		}
	}
}

func TestNewFlatUnknownDistance(t *testing.T) {
	if _, err := NewFlat("bogus"); err == nil {
		t.Fatal("NewFlat(bogus): no error")
	}
}

func TestFlatEmpty(t *testing.T) {
	f := newFlat(t, Cosine)
	if f.Len() != 0 || f.Dimensions() != 0 {
		t.Fatalf("empty index: len %d dims %d", f.Len(), f.Dimensions())
	}
	res, err := f.Search([]float32{1, 2, 3}, 10, nil, nil)
	if err != nil || len(res) != 0 {
		t.Fatalf("search of empty index: %v, %v", res, err)
	}
	f.Delete(idOf(1)) // no-op, must not panic
	if f.Len() != 0 {
		t.Fatal("delete of absent id changed Len")
	}
	if err := f.Add(idOf(1), nil); err == nil {
		t.Fatal("Add of an empty vector succeeded")
	}
	if f.Dimensions() != 0 {
		t.Fatal("failed Add fixed the dimensions")
	}
}

func TestFlatAddReplaceDelete(t *testing.T) {
	for _, dist := range []string{Cosine, L2Squared} {
		t.Run(dist, func(t *testing.T) {
			f := newFlat(t, dist)
			want := map[ID][]float32{}
			add := func(n int, v []float32) {
				t.Helper()
				if err := f.Add(idOf(n), v); err != nil {
					t.Fatal(err)
				}
				want[idOf(n)] = v
			}
			for i := 0; i < 6; i++ {
				add(i, []float32{float32(i + 1), float32(i * i), 1})
			}
			if f.Len() != 6 || f.Dimensions() != 3 {
				t.Fatalf("len %d dims %d", f.Len(), f.Dimensions())
			}
			checkInvariants(t, f, want)

			// Replace keeps the count and changes the vector.
			add(2, []float32{-5, 4, 3})
			if f.Len() != 6 {
				t.Fatalf("replace changed Len to %d", f.Len())
			}
			checkInvariants(t, f, want)

			// Delete from the middle: the last entry moves into the hole.
			f.Delete(idOf(1))
			delete(want, idOf(1))
			checkInvariants(t, f, want)
			// Delete the last slot (no move) and the first.
			f.mu.RLock()
			last := f.ids[len(f.ids)-1]
			first := f.ids[0]
			f.mu.RUnlock()
			f.Delete(last)
			delete(want, last)
			checkInvariants(t, f, want)
			f.Delete(first)
			delete(want, first)
			checkInvariants(t, f, want)
			f.Delete(idOf(99)) // absent
			checkInvariants(t, f, want)

			// Every remaining vector is found as its own nearest neighbour.
			for id, v := range want {
				res, err := f.Search(v, 1, nil, nil)
				if err != nil || len(res) != 1 || res[0].ID != id {
					t.Fatalf("self search of %d: %v, %v", numOf(id), res, err)
				}
			}
			// Deleted ids are never returned.
			res, err := f.Search([]float32{1, 1, 1}, 100, nil, nil)
			if err != nil || len(res) != len(want) {
				t.Fatalf("search all: %v, %v", res, err)
			}
			for _, r := range res {
				if _, ok := want[r.ID]; !ok {
					t.Fatalf("deleted id %d returned", numOf(r.ID))
				}
			}
			// Re-adding a deleted id works.
			add(1, []float32{0, 0, 7})
			checkInvariants(t, f, want)

			// Delete everything; dimensions stay fixed.
			for id := range want {
				f.Delete(id)
				delete(want, id)
			}
			checkInvariants(t, f, want)
			if f.Len() != 0 || f.Dimensions() != 3 {
				t.Fatalf("after deleting all: len %d dims %d", f.Len(), f.Dimensions())
			}
		})
	}
}

func TestFlatRandomOpsAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	f := newFlat(t, L2Squared)
	want := map[ID][]float32{}
	for step := 0; step < 5000; step++ {
		n := r.IntN(200)
		if r.IntN(3) == 0 {
			f.Delete(idOf(n))
			delete(want, idOf(n))
		} else {
			v := randVec(r, 7)
			if err := f.Add(idOf(n), v); err != nil {
				t.Fatal(err)
			}
			want[idOf(n)] = v
		}
	}
	checkInvariants(t, f, want)
	for i := 0; i < 20; i++ {
		q := randVec(r, 7)
		res, err := f.Search(q, 10, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		sameResults(t, "after random ops", res, bruteForce(want, L2Squared, q, 10, nil, nil))
	}
}

func TestFlatAddCopiesInput(t *testing.T) {
	for _, dist := range []string{Cosine, Dot, L2Squared} {
		f := newFlat(t, dist)
		v := []float32{1, 0, 0}
		if err := f.Add(idOf(1), v); err != nil {
			t.Fatal(err)
		}
		v[0], v[1] = 0, 1 // caller reuses its buffer
		res, err := f.Search([]float32{1, 0, 0}, 1, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]float32{Cosine: 0, Dot: -1, L2Squared: 0}[dist]
		if len(res) != 1 || res[0].Distance != want {
			t.Fatalf("%s: index saw the caller's later change: %v", dist, res)
		}
	}
}

func TestFlatSearchMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, dist := range []string{Cosine, Dot, L2Squared, Manhattan} {
		for _, dims := range []int{1, 3, 8, 37} {
			f := newFlat(t, dist)
			vecs := map[ID][]float32{}
			for i := 0; i < 500; i++ {
				v := randVec(r, dims)
				vecs[idOf(i)] = v
				if err := f.Add(idOf(i), v); err != nil {
					t.Fatal(err)
				}
			}
			for trial := 0; trial < 10; trial++ {
				q := randVec(r, dims)
				for _, k := range []int{1, 5, 10, 499, 500, 1000} {
					got, err := f.Search(q, k, nil, nil)
					if err != nil {
						t.Fatal(err)
					}
					sameResults(t, dist, got, bruteForce(vecs, dist, q, k, nil, nil))
				}
			}
		}
	}
}

func TestFlatSearchHamming(t *testing.T) {
	f := newFlat(t, Hamming)
	vecs := map[ID][]float32{
		idOf(1): {1, 0, 1, 0},
		idOf(2): {1, 1, 1, 1},
		idOf(3): {0, 0, 0, 0},
		idOf(4): {1, 0, 1, 1},
	}
	for id, v := range vecs {
		if err := f.Add(id, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.Search([]float32{1, 0, 1, 0}, 4, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{{idOf(1), 0}, {idOf(4), 1}, {idOf(2), 2}, {idOf(3), 2}}
	sameResults(t, "hamming", got, want)
}

func TestFlatSearchKZeroOrNegative(t *testing.T) {
	f := newFlat(t, L2Squared)
	if err := f.Add(idOf(1), []float32{1}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{0, -1} {
		res, err := f.Search([]float32{1}, k, nil, nil)
		if err != nil || len(res) != 0 {
			t.Fatalf("k=%d: %v, %v", k, res, err)
		}
	}
}

func TestFlatSearchMaxDistance(t *testing.T) {
	f := newFlat(t, L2Squared)
	vecs := map[ID][]float32{}
	for i := 0; i < 10; i++ {
		v := []float32{float32(i), 0}
		vecs[idOf(i)] = v
		if err := f.Add(idOf(i), v); err != nil {
			t.Fatal(err)
		}
	}
	q := []float32{0, 0}
	maxD := float32(9) // distances are i²: 0,1,4,9 qualify; 9 is kept (<=)
	got, err := f.Search(q, 100, &maxD, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "maxDistance", got, []Result{{idOf(0), 0}, {idOf(1), 1}, {idOf(2), 4}, {idOf(3), 9}})
	// k smaller than the qualifying set.
	got, err = f.Search(q, 2, &maxD, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "maxDistance k=2", got, []Result{{idOf(0), 0}, {idOf(1), 1}})
	// Nothing qualifies.
	neg := float32(-1)
	got, err = f.Search(q, 10, &neg, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("negative maxDistance: %v, %v", got, err)
	}

	// Random cross-check with cosine.
	r := rand.New(rand.NewPCG(31, 32))
	fc := newFlat(t, Cosine)
	cv := map[ID][]float32{}
	for i := 0; i < 300; i++ {
		v := randVec(r, 16)
		cv[idOf(i)] = v
		if err := fc.Add(idOf(i), v); err != nil {
			t.Fatal(err)
		}
	}
	for _, md := range []float32{0.5, 0.8, 1, 1.2} {
		q := randVec(r, 16)
		got, err := fc.Search(q, 50, &md, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range got {
			if res.Distance > md {
				t.Fatalf("result beyond maxDistance %v: %v", md, res)
			}
		}
		sameResults(t, "cosine maxDistance", got, bruteForce(cv, Cosine, q, 50, &md, nil))
	}
}

func TestFlatSearchAllow(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	f := newFlat(t, Dot)
	vecs := map[ID][]float32{}
	for i := 0; i < 400; i++ {
		v := randVec(r, 12)
		vecs[idOf(i)] = v
		if err := f.Add(idOf(i), v); err != nil {
			t.Fatal(err)
		}
	}
	even := func(id ID) bool { return numOf(id)%2 == 0 }
	for trial := 0; trial < 10; trial++ {
		q := randVec(r, 12)
		got, err := f.Search(q, 15, nil, even)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range got {
			if !even(res.ID) {
				t.Fatalf("disallowed id %d returned", numOf(res.ID))
			}
		}
		sameResults(t, "allow", got, bruteForce(vecs, Dot, q, 15, nil, even))
	}
	none := func(ID) bool { return false }
	got, err := f.Search(randVec(r, 12), 5, nil, none)
	if err != nil || len(got) != 0 {
		t.Fatalf("allow none: %v, %v", got, err)
	}
}

func TestFlatSearchTiesBreakByID(t *testing.T) {
	// Equal distances are ordered by id, whatever the insertion order.
	f := newFlat(t, L2Squared)
	for i := 9; i >= 0; i-- {
		if err := f.Add(idOf(i), []float32{1, 1}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.Search([]float32{1, 1}, 3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "ties", got, []Result{{idOf(0), 0}, {idOf(1), 0}, {idOf(2), 0}})
}

func TestFlatDimensionMismatch(t *testing.T) {
	f := newFlat(t, Cosine)
	if err := f.Add(idOf(1), []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	const msg = "new node has a vector with length 2. Existing nodes have vectors with length 3: vector dimensions do not match the index dimensions"

	err := f.Add(idOf(2), []float32{1, 2})
	var de *DimensionError
	if !errors.As(err, &de) || de.Got != 2 || de.Want != 3 {
		t.Fatalf("Add: err = %#v", err)
	}
	if err.Error() != msg {
		t.Fatalf("Add: message %q, want %q", err, msg)
	}
	// Replacing an existing id with the wrong length fails too and keeps the old vector.
	if err := f.Add(idOf(1), []float32{1, 2}); !errors.As(err, &de) {
		t.Fatalf("replace with wrong dims: %v", err)
	}
	if f.Len() != 1 || f.Dimensions() != 3 {
		t.Fatalf("failed adds changed the index: len %d dims %d", f.Len(), f.Dimensions())
	}

	_, err = f.Search([]float32{1, 2}, 1, nil, nil)
	if !errors.As(err, &de) || err.Error() != msg {
		t.Fatalf("Search: err = %v", err)
	}
	_, err = f.Search([]float32{1, 2, 3, 4}, 1, nil, nil)
	if !errors.As(err, &de) || de.Got != 4 || de.Want != 3 {
		t.Fatalf("Search longer: err = %v", err)
	}
}

func TestFlatCosineZeroVector(t *testing.T) {
	f := newFlat(t, Cosine)
	if err := f.Add(idOf(1), []float32{0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := f.Add(idOf(2), []float32{3, 4}); err != nil {
		t.Fatal(err)
	}
	got, err := f.Search([]float32{6, 8}, 2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != idOf(2) || math.Abs(float64(got[0].Distance)) > 1e-6 || got[1].Distance != 1 {
		t.Fatalf("got %v", got)
	}
}

func TestFlatConcurrent(t *testing.T) {
	f := newFlat(t, Cosine)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			for i := 0; i < 500; i++ {
				id := idOf(r.IntN(100))
				switch r.IntN(3) {
				case 0:
					f.Delete(id)
				case 1:
					if err := f.Add(id, randVec(r, 8)); err != nil {
						t.Error(err)
						return
					}
				default:
					res, err := f.Search(randVec(r, 8), 5, nil, nil)
					if err != nil {
						t.Error(err)
						return
					}
					for j := 1; j < len(res); j++ {
						if res[j].Distance < res[j-1].Distance {
							t.Errorf("results out of order: %v", res)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if f.Len() > 100 {
		t.Fatalf("Len %d > number of distinct ids", f.Len())
	}
}

func BenchmarkFlatSearch(b *testing.B) {
	const n, dims, k = 100_000, 128, 10
	r := rand.New(rand.NewPCG(51, 52))
	for _, dist := range []string{Cosine, L2Squared} {
		b.Run(dist, func(b *testing.B) {
			f := newFlat(b, dist)
			for i := 0; i < n; i++ {
				if err := f.Add(idOf(i), randVec(r, dims)); err != nil {
					b.Fatal(err)
				}
			}
			q := randVec(r, dims)
			b.ResetTimer()
			for b.Loop() {
				res, err := f.Search(q, k, nil, nil)
				if err != nil || len(res) != k {
					b.Fatalf("%d results, %v", len(res), err)
				}
			}
		})
	}
}

func BenchmarkFlatAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(61, 62))
	f := newFlat(b, Cosine)
	v := randVec(r, 128)
	i := 0
	for b.Loop() {
		if err := f.Add(idOf(i), v); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
