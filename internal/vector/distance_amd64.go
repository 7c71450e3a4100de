package vector

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// AVX2+FMA kernels (distance_amd64.s): 8 lanes, 4 accumulators. They sum
// in a different order than the portable kernels, so results may differ
// in the last bits; a process uses one kind throughout.

//go:noescape
func dotAVX2(a, b []float32) float32

//go:noescape
func l2AVX2(a, b []float32) float32

//go:noescape
func dotI8ManyAVX2(q *int8, n int, codes **int8, count int, out *int32)

// prefetch hints the CPU to load n bytes at p into cache.
//
//go:noescape
func prefetch(p unsafe.Pointer, n int)

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		dotKernel = func(a, b []float32) float32 { return dotAVX2(a, b[:len(a)]) }
		l2Kernel = func(a, b []float32) float32 { return l2AVX2(a, b[:len(a)]) }
		cosineKernel = func(a, b []float32) float32 { return 1 - dotAVX2(a, b[:len(a)]) }
		negDotKernel = func(a, b []float32) float32 { return -dotAVX2(a, b[:len(a)]) }
	}
	if cpu.X86.HasAVX2 {
		dotI8 = func(a, b *int8, n int) int32 {
			var out int32
			dotI8ManyAVX2(a, n, &b, 1, &out)
			return out
		}
		dotI8Many = func(q *int8, n int, codes []*int8, out []int32) {
			if len(codes) > 0 {
				dotI8ManyAVX2(q, n, &codes[0], len(codes), &out[:len(codes)][0])
			}
		}
	}
}
