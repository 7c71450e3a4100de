package vector

import "testing"

// BenchmarkHNSWInsert indexes 20,000 clustered 128-dim vectors per round.
func BenchmarkHNSWInsert(b *testing.B) {
	all := clustered(1, 20000, 128, 100)
	for b.Loop() {
		h := newHNSW(b, HNSWConfig{Distance: Cosine})
		for i, v := range all {
			h.Add(idOf(i), v)
		}
	}
	b.ReportMetric(float64(b.N*len(all))/b.Elapsed().Seconds(), "vectors/s")
}
