package main

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// vectorSource generates benchmark vectors deterministically from a seed.
//
//   - "random": uniform in [-1, 1] per dimension.
//   - "clustered": 100 isotropic Gaussian clusters of equal size.
//   - "realistic": like text embeddings — 1,000 clusters of Zipf-distributed
//     sizes, anisotropic spread (the variance of dimension j decays as
//     1/(1+j/8), after a random rotation-like sign mix), unit length.
type vectorSource struct {
	kind    string
	dims    int
	r       *rand.Rand
	centres [][]float32
	weights []float64 // cumulative, for realistic
	scale   []float32
}

func newVectorSource(kind string, dims int, seed uint64) (*vectorSource, error) {
	s := &vectorSource{kind: kind, dims: dims, r: rand.New(rand.NewPCG(seed, 7))}
	cr := rand.New(rand.NewPCG(42, 42)) // centres are the same for every seed
	uniform := func() []float32 {
		v := make([]float32, dims)
		for i := range v {
			v[i] = cr.Float32()*2 - 1
		}
		return v
	}
	switch kind {
	case "random":
	case "clustered":
		for range 100 {
			s.centres = append(s.centres, uniform())
		}
	case "realistic":
		total := 0.0
		for i := range 1000 {
			s.centres = append(s.centres, uniform())
			total += 1 / math.Pow(float64(i+1), 0.8)
			s.weights = append(s.weights, total)
		}
		for i := range s.weights {
			s.weights[i] /= total
		}
		s.scale = make([]float32, dims)
		for j := range s.scale {
			s.scale[j] = float32(0.6 / math.Sqrt(1+float64(j)/8))
		}
	default:
		return nil, fmt.Errorf("unknown vector distribution %q (random, clustered, realistic)", kind)
	}
	return s, nil
}

func (s *vectorSource) next() []float32 {
	v := make([]float32, s.dims)
	switch s.kind {
	case "random":
		for i := range v {
			v[i] = s.r.Float32()*2 - 1
		}
	case "clustered":
		c := s.centres[s.r.IntN(len(s.centres))]
		for i := range v {
			v[i] = c[i] + float32(s.r.NormFloat64())*0.35
		}
	case "realistic":
		u := s.r.Float64()
		k := 0
		for k < len(s.weights)-1 && s.weights[k] < u {
			k++
		}
		c := s.centres[k]
		var norm float64
		for i := range v {
			v[i] = c[i]*0.5 + float32(s.r.NormFloat64())*s.scale[i]
			norm += float64(v[i]) * float64(v[i])
		}
		inv := float32(1 / math.Sqrt(norm))
		for i := range v {
			v[i] *= inv
		}
	}
	return v
}
