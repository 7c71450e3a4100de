package vector

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkHNSWInsert indexes 20,000 128-dim vectors per round, one
// goroutine: clustered ones, and uniform random ones (the slowest case).
func BenchmarkHNSWInsert(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	random := make([][]float32, 20000)
	for i := range random {
		random[i] = make([]float32, 128)
		for j := range random[i] {
			random[i][j] = r.Float32()*2 - 1
		}
	}
	for _, set := range []struct {
		name string
		vecs [][]float32
	}{{"clustered", clustered(1, 20000, 128, 100)}, {"random", random}} {
		b.Run(set.name, func(b *testing.B) {
			for b.Loop() {
				h := newHNSW(b, HNSWConfig{Distance: Cosine})
				for i, v := range set.vecs {
					h.Add(idOf(i), v)
				}
			}
			b.ReportMetric(float64(b.N*len(set.vecs))/b.Elapsed().Seconds(), "vectors/s")
		})
	}
}
