package vector

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestDotI8KernelsAgree compares the selected int8 kernel with the
// portable one, exactly, including the extreme codes.
func TestDotI8KernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{32, 64, 96, 128, 160, 768, 1536} {
		a, b := make([]int8, n), make([]int8, n)
		for i := range a {
			a[i], b[i] = int8(r.IntN(255)-127), int8(r.IntN(255)-127)
		}
		if got, want := dotI8(&a[0], &b[0], n), dotI8Go(&a[0], &b[0], n); got != want {
			t.Fatalf("length %d: %d, portable kernel %d", n, got, want)
		}
		for i := range a {
			a[i], b[i] = -127, -127
		}
		if got := dotI8(&a[0], &b[0], n); got != int32(127*127*n) {
			t.Fatalf("length %d, all -127: %d, want %d", n, got, 127*127*n)
		}
	}
}

func TestDotI8ManyAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	random := func(n int) []int8 {
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(r.IntN(255) - 127)
		}
		return v
	}
	for _, n := range []int{32, 96, 128, 768} {
		q := random(n)
		for _, count := range []int{0, 1, 5, 96} {
			codes := make([]*int8, count)
			for i := range codes {
				codes[i] = &random(n)[0]
			}
			out := make([]int32, count+1)
			out[count] = 12345 // must stay
			dotI8Many(&q[0], n, codes, out)
			for i, c := range codes {
				if want := dotI8Go(&q[0], c, n); out[i] != want {
					t.Fatalf("length %d, %d codes: [%d] = %d, portable kernel %d", n, count, i, out[i], want)
				}
			}
			if out[count] != 12345 {
				t.Fatalf("length %d, %d codes: wrote past the last result", n, count)
			}
		}
	}
}

// TestCodeDistanceApproximates checks the graph's code distances against
// the exact ones for each quantized metric, on dimensions that are not a
// multiple of the code block.
func TestCodeDistanceApproximates(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, name := range []string{Cosine, Dot, L2Squared} {
		h, err := NewHNSW(HNSWConfig{Distance: name})
		if err != nil {
			t.Fatal(err)
		}
		if !h.quantized {
			t.Fatalf("%s: not quantized", name)
		}
		for _, dims := range []int{3, 100, 128, 300} {
			for range 50 {
				a, b := h.prepare(randVec(r, dims)), h.prepare(randVec(r, dims))
				pa, pb := h.pointFor(a), h.pointFor(b)
				if len(pa.codes)%codeBlock != 0 || len(pa.codes) < dims {
					t.Fatalf("%d dims: %d codes", dims, len(pa.codes))
				}
				got, want := h.pointDist(&pa, &pb), h.dist(a, b)
				// Each code is off by at most half a step, max|v|/254.
				tol := 0.02 * math.Sqrt(float64(pa.sqnorm)*float64(pb.sqnorm))
				if math.Abs(float64(got-want)) > tol {
					t.Fatalf("%s, %d dims: code distance %v, exact %v", name, dims, got, want)
				}
			}
		}
	}
	zero := make([]float32, 16)
	h, _ := NewHNSW(HNSWConfig{Distance: Cosine})
	pz, pa := h.pointFor(zero), h.pointFor(h.prepare(randVec(r, 16)))
	if d := h.pointDist(&pa, &pz); d != 1 {
		t.Fatalf("cosine code distance to the zero vector: %v, want 1", d)
	}
	if h, _ := NewHNSW(HNSWConfig{Distance: Manhattan}); h.quantized {
		t.Fatal("manhattan is quantized")
	}
}

// TestSearchDistancesAreExact checks that search results carry exact
// distances, not code distances: graph search and exact search agree on
// the distance of every id both return.
func TestSearchDistancesAreExact(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, name := range []string{Cosine, Dot, L2Squared} {
		h := newHNSW(t, HNSWConfig{Distance: name})
		exact, _ := NewFlat(name)
		for i := range 2000 {
			v := randVec(r, 40)
			h.Add(idOf(i), v)
			exact.Add(idOf(i), v)
		}
		for range 20 {
			q := randVec(r, 40)
			want, _ := exact.Search(q, 10, nil, nil)
			byID := map[ID]float32{}
			for _, w := range want {
				byID[w.ID] = w.Distance
			}
			got, _ := h.Search(q, 10, nil, nil)
			matched := 0
			for _, g := range got {
				if d, ok := byID[g.ID]; ok {
					matched++
					if math.Abs(float64(g.Distance-d)) > 1e-5*(1+math.Abs(float64(d))) {
						t.Fatalf("%s: distance %v, exact %v", name, g.Distance, d)
					}
				}
			}
			if matched < 8 {
				t.Fatalf("%s: %d of 10 results in the exact top 10", name, matched)
			}
		}
	}
}

func BenchmarkDotI8(b *testing.B) {
	for _, n := range []int{128, 768} {
		x, y := make([]int8, n), make([]int8, n)
		for i := range x {
			x[i], y[i] = int8(i%255-127), int8((i*7)%255-127)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var s int32
			for b.Loop() {
				s += dotI8(&x[0], &y[0], n)
			}
			sinkI8 = s
		})
	}
}

var sinkI8 int32
