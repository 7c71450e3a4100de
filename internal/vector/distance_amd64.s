#include "textflag.h"

// func dotAVX2(a, b []float32) float32
// Requires AVX2 and FMA; len(b) >= len(a).
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

dot32:
	CMPQ CX, $32
	JL   dot8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  dot32

dot8:
	CMPQ CX, $8
	JL   dotreduce
	VMOVUPS (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  dot8

dotreduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

dottail:
	CMPQ CX, $0
	JE   dotdone
	VMOVSS (SI), X1
	VFMADD231SS (DI), X1, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  dottail

dotdone:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func l2AVX2(a, b []float32) float32
// Requires AVX2 and FMA; len(b) >= len(a).
TEXT ·l2AVX2(SB), NOSPLIT, $0-52
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

l2x32:
	CMPQ CX, $32
	JL   l2x8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VSUBPS (DI), Y4, Y4
	VSUBPS 32(DI), Y5, Y5
	VSUBPS 64(DI), Y6, Y6
	VSUBPS 96(DI), Y7, Y7
	VFMADD231PS Y4, Y4, Y0
	VFMADD231PS Y5, Y5, Y1
	VFMADD231PS Y6, Y6, Y2
	VFMADD231PS Y7, Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  l2x32

l2x8:
	CMPQ CX, $8
	JL   l2reduce
	VMOVUPS (SI), Y4
	VSUBPS (DI), Y4, Y4
	VFMADD231PS Y4, Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  l2x8

l2reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

l2tail:
	CMPQ CX, $0
	JE   l2done
	VMOVSS (SI), X1
	VSUBSS (DI), X1, X1
	VFMADD231SS X1, X1, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  l2tail

l2done:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func prefetch(p unsafe.Pointer, n int)
// Hints the CPU to load the n bytes at p into cache (PREFETCHT0 per line).
TEXT ·prefetch(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	ADDQ SI, CX

prefetchloop:
	CMPQ SI, CX
	JAE  prefetchdone
	PREFETCHT0 (SI)
	ADDQ $64, SI
	JMP  prefetchloop

prefetchdone:
	RET

// func dotI8ManyAVX2(q *int8, n int, codes **int8, count int, out *int32)
// Requires AVX2; out[i] = Σ q·codes[i] over n codes (a multiple of 32, no
// code -128) for i < count: one call for all the neighbours of a graph
// node. Per byte pair it multiplies |q| (unsigned) by the code with q's
// sign (signed) in VPMADDUBSW, whose pair sums stay below 2·127² < 2^15,
// then widens with VPMADDWD.
TEXT ·dotI8ManyAVX2(SB), NOSPLIT, $0-40
	MOVQ codes+16(FP), R8
	MOVQ count+24(FP), R9
	MOVQ out+32(FP), R10
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $15, Y15, Y15 // sixteen int16 ones

many:
	TESTQ R9, R9
	JZ    manydone
	MOVQ  q+0(FP), SI
	MOVQ  n+8(FP), CX
	MOVQ  (R8), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1

many64:
	CMPQ CX, $64
	JL   many32
	VMOVDQU (SI), Y2
	VMOVDQU (DI), Y3
	VMOVDQU 32(SI), Y4
	VMOVDQU 32(DI), Y5
	VPSIGNB Y2, Y3, Y3
	VPABSB Y2, Y2
	VPSIGNB Y4, Y5, Y5
	VPABSB Y4, Y4
	VPMADDUBSW Y3, Y2, Y2
	VPMADDUBSW Y5, Y4, Y4
	VPMADDWD Y15, Y2, Y2
	VPMADDWD Y15, Y4, Y4
	VPADDD Y2, Y0, Y0
	VPADDD Y4, Y1, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $64, CX
	JMP  many64

many32:
	CMPQ CX, $32
	JL   manyreduce
	VMOVDQU (SI), Y2
	VMOVDQU (DI), Y3
	VPSIGNB Y2, Y3, Y3
	VPABSB Y2, Y2
	VPMADDUBSW Y3, Y2, Y2
	VPMADDWD Y15, Y2, Y2
	VPADDD Y2, Y0, Y0

manyreduce:
	VPADDD Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0x4E, X0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0xB1, X0, X1
	VPADDD X1, X0, X0
	VMOVD X0, (R10)
	ADDQ  $8, R8
	ADDQ  $4, R10
	DECQ  R9
	JMP   many

manydone:
	VZEROUPPER
	RET
