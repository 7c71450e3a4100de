package vector

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// Reference implementations in float64, written the obvious way.
func refDot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func refCosineDistance(a, b []float32) float64 {
	na, nb := math.Sqrt(refDot(a, a)), math.Sqrt(refDot(b, b))
	return 1 - refDot(a, b)/(na*nb)
}

func refL2Squared(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}

func refManhattan(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return s
}

func refHamming(a, b []float32) float64 {
	var s float64
	for i := range a {
		if a[i] != b[i] {
			s++
		}
	}
	return s
}

func close32(got float32, want float64, n int) bool {
	// float32 accumulation over n terms: allow a small relative error.
	tol := 2e-7 * float64(n+1) * math.Max(1, math.Abs(want))
	return math.Abs(float64(got)-want) <= tol
}

func TestKernelsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 31, 33, 127, 128, 129, 1536} {
		for trial := 0; trial < 20; trial++ {
			a, b := randVec(r, n), randVec(r, n)
			for _, tc := range []struct {
				name string
				in   func() ([]float32, []float32)
				ref  func(a, b []float32) float64
			}{
				{Cosine, func() ([]float32, []float32) { return Normalize(a), Normalize(b) }, refCosineDistance},
				{Dot, func() ([]float32, []float32) { return a, b }, func(a, b []float32) float64 { return -refDot(a, b) }},
				{L2Squared, func() ([]float32, []float32) { return a, b }, refL2Squared},
				{Manhattan, func() ([]float32, []float32) { return a, b }, refManhattan},
			} {
				f, err := DistanceFor(tc.name)
				if err != nil {
					t.Fatal(err)
				}
				x, y := tc.in()
				got := f(x, y)
				// The cosine reference works on the raw vectors: kernel on
				// normalised input must equal 1 - cos(a, b).
				want := tc.ref(a, b)
				if !close32(got, want, n) {
					t.Fatalf("%s n=%d: got %v, want %v", tc.name, n, got, want)
				}
			}
		}
	}
}

func TestHammingMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	f, err := DistanceFor(Hamming)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3, 4, 5, 17, 128, 130} {
		for trial := 0; trial < 20; trial++ {
			// Binary-ish vectors so that some positions are equal.
			a, b := make([]float32, n), make([]float32, n)
			for i := range a {
				a[i] = float32(r.IntN(2))
				b[i] = float32(r.IntN(2))
			}
			if got, want := f(a, b), refHamming(a, b); float64(got) != want {
				t.Fatalf("hamming n=%d: got %v, want %v", n, got, want)
			}
		}
	}
	if got := f([]float32{1, 2, 3}, []float32{1, 2, 3}); got != 0 {
		t.Fatalf("hamming of equal vectors = %v", got)
	}
}

func TestKernelsKnownValues(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5}
	b := []float32{5, 4, 3, 2, 1}
	for _, tc := range []struct {
		name string
		want float32
	}{
		{Dot, -35},              // 5+8+9+8+5
		{L2Squared, 40},         // 16+4+0+4+16
		{Manhattan, 12},         // 4+2+0+2+4
		{Hamming, 4},            // all but the middle
		{Cosine, 1 - 35.0/55.0}, // on normalised input: 1 - 35/(√55·√55)
		{"", 1 - 35.0/55.0},     // "" means cosine
	} {
		f, err := DistanceFor(tc.name)
		if err != nil {
			t.Fatalf("DistanceFor(%q): %v", tc.name, err)
		}
		x, y := a, b
		if tc.name == Cosine || tc.name == "" {
			x, y = Normalize(a), Normalize(b)
		}
		if got := f(x, y); math.Abs(float64(got-tc.want)) > 1e-6 {
			t.Errorf("%q: got %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := DistanceFor("euclid"); err == nil {
		t.Error("DistanceFor(euclid): no error")
	}
}

func TestNormalize(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 3, 128} {
		v := randVec(r, n)
		orig := append([]float32(nil), v...)
		u := Normalize(v)
		if got := refDot(u, u); math.Abs(got-1) > 1e-6 {
			t.Fatalf("|Normalize(v)|² = %v", got)
		}
		for i := range v {
			if v[i] != orig[i] {
				t.Fatal("Normalize modified its input")
			}
		}
		// Same direction: cosine distance to the original is ~0.
		if d := refCosineDistance(u, v); math.Abs(d) > 1e-6 {
			t.Fatalf("direction changed: %v", d)
		}
	}
	z := []float32{0, 0, 0}
	nz := Normalize(z)
	if len(nz) != 3 || nz[0] != 0 || nz[1] != 0 || nz[2] != 0 {
		t.Fatalf("Normalize(zero) = %v", nz)
	}
	nz[0] = 1
	if z[0] != 0 {
		t.Fatal("Normalize(zero) returned its input, not a copy")
	}
}

var sink float32

func benchKernel(b *testing.B, name string, n int) {
	f, err := DistanceFor(name)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	x, y := randVec(r, n), randVec(r, n)
	b.SetBytes(int64(8 * n))
	b.ResetTimer()
	for b.Loop() {
		sink += f(x, y)
	}
}

func BenchmarkDistance(b *testing.B) {
	for _, name := range []string{Cosine, Dot, L2Squared, Manhattan, Hamming} {
		for _, n := range []int{128, 1536} {
			b.Run(name+"/"+strconv.Itoa(n), func(b *testing.B) { benchKernel(b, name, n) })
		}
	}
}

// TestKernelsAgree compares the selected kernels (assembly where the CPU
// has it) with the portable ones on every length up to 70, covering the
// 32- and 8-wide loops and the scalar tail.
func TestKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for n := 0; n <= 70; n++ {
		a, b := randVec(r, n), randVec(r, n+3) // b may be longer
		for _, k := range []struct {
			name      string
			got, want func(a, b []float32) float32
		}{{"dot", dot, dotGo}, {"l2", l2Squared, l2SquaredGo}} {
			got, want := k.got(a, b), k.want(a, b)
			if math.Abs(float64(got-want)) > 1e-4*(1+math.Abs(float64(want))) {
				t.Fatalf("%s of length %d: %v, portable kernel %v", k.name, n, got, want)
			}
		}
	}
}
