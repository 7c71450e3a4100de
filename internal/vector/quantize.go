package vector

import (
	"math"
	"unsafe"
)

// Graph distances on int8 codes. For cosine, dot and l2-squared the graph
// compares vectors through 8-bit codes scaled per vector: a 128-dimension
// vector is two cache lines instead of eight, and an insert, which
// computes thousands of distances to vectors mostly not in cache, spends
// most of its time waiting for those lines. Search results are rescored
// with the float32 vectors, so the distances a query returns are exact.
//
// A vector v is coded as round(v[i] / scale) with scale = max|v[i]| / 127,
// so the dot product of two vectors is about scaleA × scaleB × Σ codeA·codeB.
// Codes are padded with zeros to a multiple of codeBlock.

// codeBlock is the granule of a code array, the kernels' step.
const codeBlock = 32

// point is a vector as the graph compares it: its float32 values and, for
// the quantized metrics, its codes, their scale and the vector's squared
// length (for l2-squared).
type point struct {
	vec    []float32
	codes  []int8
	scale  float32
	sqnorm float32
}

// codeForm is how a distance follows from the codes' dot product d.
type codeForm uint8

const (
	codeCosine codeForm = iota // 1 - d
	codeDot                    // -d
	codeL2                     // |a|² + |b|² - 2d
)

// codeFormOf reports whether the graph of a metric compares codes, and how.
func codeFormOf(distance string) (bool, codeForm) {
	switch distance {
	case Cosine, "":
		return true, codeCosine
	case Dot:
		return true, codeDot
	case L2Squared:
		return true, codeL2
	}
	return false, 0
}

// pointFor returns v as the graph compares it; v is kept, not copied.
func (h *HNSW) pointFor(v []float32) point {
	p := point{vec: v}
	if !h.quantized {
		return p
	}
	p.codes = make([]int8, (len(v)+codeBlock-1)/codeBlock*codeBlock)
	var maxAbs float64
	for _, x := range v {
		maxAbs = max(maxAbs, math.Abs(float64(x)))
	}
	if maxAbs == 0 || math.IsInf(maxAbs, 0) || math.IsNaN(maxAbs) {
		return p // all zeros: every code distance treats it as the origin
	}
	inv := 127 / maxAbs
	for i, x := range v {
		p.codes[i] = int8(math.Round(float64(x) * inv))
	}
	p.scale = float32(maxAbs / 127)
	p.sqnorm = dotKernel(v, v)
	return p
}

// codeMeta packs a point's scale and squared length for a node slot;
// unpackCodeMeta reverses it.
func (p *point) codeMeta() uint64 {
	return uint64(math.Float32bits(p.scale)) | uint64(math.Float32bits(p.sqnorm))<<32
}

func unpackCodeMeta(m uint64) (scale, sqnorm float32) {
	return math.Float32frombits(uint32(m)), math.Float32frombits(uint32(m >> 32))
}

// codeDist is the distance from p to the vector with codes c, their scale
// and the vector's squared length, in the index's metric.
func (h *HNSW) codeDist(p *point, c *int8, scale, sqnorm float32) float32 {
	return h.codeDistOfDot(p, dotI8(&p.codes[0], c, len(p.codes)), scale, sqnorm)
}

// codeDistOfDot is codeDist given the codes' dot product.
func (h *HNSW) codeDistOfDot(p *point, dot int32, scale, sqnorm float32) float32 {
	d := float32(dot) * p.scale * scale
	switch h.codeForm {
	case codeDot:
		return -d
	case codeL2:
		return p.sqnorm + sqnorm - 2*d
	}
	return 1 - d
}

// dotI8 is Σ a[i]·b[i] over n codes (n a multiple of codeBlock); replaced
// by an assembly kernel where the CPU has AVX2.
var dotI8 = dotI8Go

// dotI8Many sets out[i] to the dot product of q's and codes[i]'s n codes
// for every i: one call for all the neighbours of a graph node.
var dotI8Many = dotI8ManyGo

func dotI8ManyGo(q *int8, n int, codes []*int8, out []int32) {
	for i, c := range codes {
		out[i] = dotI8Go(q, c, n)
	}
}

func dotI8Go(a, b *int8, n int) int32 {
	x, y := unsafe.Slice(a, n), unsafe.Slice(b, n)
	var s0, s1, s2, s3 int32
	for i := 0; i < n; i += 4 {
		s0 += int32(x[i]) * int32(y[i])
		s1 += int32(x[i+1]) * int32(y[i+1])
		s2 += int32(x[i+2]) * int32(y[i+2])
		s3 += int32(x[i+3]) * int32(y[i+3])
	}
	return s0 + s1 + s2 + s3
}
