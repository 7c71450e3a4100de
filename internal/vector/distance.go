// Package vector owns vector indexes and distance kernels. An Index maps
// object ids to vectors and answers k-nearest-neighbour queries; it knows
// nothing of storage, schemas or HTTP. The flat index here does exact
// search; an approximate index implements the same interface.
package vector

import (
	"fmt"
	"math"
)

// Distance names, as in a class's vectorIndexConfig.
const (
	Cosine    = "cosine"
	Dot       = "dot"
	L2Squared = "l2-squared"
	Manhattan = "manhattan"
	Hamming   = "hamming"
)

// DistanceFunc returns the distance between two vectors of equal length.
type DistanceFunc func(a, b []float32) float32

// DistanceFor returns the kernel for a distance name. For cosine the kernel
// expects normalised vectors (see Normalize).
func DistanceFor(name string) (DistanceFunc, error) {
	switch name {
	case Cosine, "":
		return cosineKernel, nil
	case Dot:
		return negDotKernel, nil
	case L2Squared:
		return l2Kernel, nil
	case Manhattan:
		return manhattan, nil
	case Hamming:
		return hamming, nil
	}
	return nil, fmt.Errorf("unknown distance %q", name)
}

// Normalize returns a unit-length copy of v (v itself if it is all zeros).
func Normalize(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if sum == 0 {
		copy(out, v)
		return out
	}
	inv := 1 / math.Sqrt(sum)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

// The kernels: the portable ones below, replaced at init by assembly
// where the CPU has it (distance_amd64.go). Each is one call deep, as
// distances are most of the work of an index.
var (
	dotKernel    DistanceFunc = dotGo
	l2Kernel     DistanceFunc = l2SquaredGo
	cosineKernel DistanceFunc = func(a, b []float32) float32 { return 1 - dotGo(a, b) }
	negDotKernel DistanceFunc = func(a, b []float32) float32 { return -dotGo(a, b) }
)

func dot(a, b []float32) float32 { return dotKernel(a, b) }

func l2Squared(a, b []float32) float32 { return l2Kernel(a, b) }

func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

func l2SquaredGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-b[i], a[i+1]-b[i+1], a[i+2]-b[i+2], a[i+3]-b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return s0 + s1 + s2 + s3
}

func manhattan(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for i := range a {
		s += float32(math.Abs(float64(a[i] - b[i])))
	}
	return s
}

func hamming(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for i := range a {
		if a[i] != b[i] {
			s++
		}
	}
	return s
}
