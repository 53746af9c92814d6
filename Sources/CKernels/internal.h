// Private to CKernels: block layouts, scalar helpers and the per-ISA kernel tables.
//
// Provenance: the block layouts are ggml's (ggml-common.h `block_q4_0` ... `block_q8_K`), so
// that weights are read straight from GGUF bytes and activation blocks hold the same numbers
// llama.cpp computes. The code is this project's own.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdatomic.h>
#include <math.h>

#include "ckernels.h"

#define RMAS_QK 32    // elements per block of the q4_0/q4_1/q5_0/q5_1/q8_0/q8_1 formats
#define RMAS_QK_K 256 // elements per super-block of the K formats

// Byte sizes of the blocks, as ggml's static_asserts state them.
enum {
    RMAS_Q4_0_BYTES = 18,   // f16 d, 16 B nibbles
    RMAS_Q4_1_BYTES = 20,   // f16 d, f16 m, 16 B nibbles
    RMAS_Q5_0_BYTES = 22,   // f16 d, u32 qh, 16 B nibbles
    RMAS_Q5_1_BYTES = 24,   // f16 d, f16 m, u32 qh, 16 B nibbles
    RMAS_Q8_0_BYTES = 34,   // f16 d, 32 × i8
    RMAS_Q8_1_BYTES = 36,   // f16 d, f16 s, 32 × i8
    RMAS_Q4_K_BYTES = 144,  // f16 d, f16 dmin, 12 B scales, 128 B nibbles
    RMAS_Q5_K_BYTES = 176,  // f16 d, f16 dmin, 12 B scales, 32 B qh, 128 B nibbles
    RMAS_Q6_K_BYTES = 210,  // 128 B ql, 64 B qh, 16 × i8 scales, f16 d
    RMAS_Q8_K_BYTES = 292,  // f32 d, 256 × i8, 16 × i16 bsums
};

// Field offsets inside the blocks that are not at 0.
enum {
    RMAS_Q8_K_QS = 4, RMAS_Q8_K_BSUMS = 260,
    RMAS_K_SCALES = 4, RMAS_Q4_K_QS = 16, RMAS_Q5_K_QH = 16, RMAS_Q5_K_QS = 48,
    RMAS_Q6_K_QH = 128, RMAS_Q6_K_SCALES = 192, RMAS_Q6_K_D = 208,
};

// Unaligned little-endian loads (weights come from mmapped files at arbitrary offsets).
static inline uint16_t rmas_ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t rmas_ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline float rmas_ldf32(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }

/// Rounds to the nearest integer, ties to even, for |v| < 2^22 (adding and removing 1.5·2^23
/// leaves no fraction bits); no libm call, unlike rintf on baseline x86-64.
static inline float rmas_rint_small(float v) { return (v + 12582912.0f) - 12582912.0f; }

/// IEEE binary16 → binary32, exact for every finite value and ±inf (what F16C's vcvtph2ps gives).
static inline float rmas_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    uint32_t bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (man << 13);
    } else if (exp == 0) {
        // ±0 or subnormal: man · 2^-24, exact in binary32.
        float v = (float)man * 0x1p-24f;
        memcpy(&bits, &v, 4);
        bits |= sign;
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// binary32 → binary16 with round-to-nearest-even; bit-identical to F16C's vcvtps2ph with
/// imm 0 for every non-NaN input (NaN becomes a quiet NaN).
static inline uint16_t rmas_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return sign | 0x7E00 | (uint16_t)((ax >> 13) & 0x3FF);  // NaN
    if (ax >= 0x477FF000u) return sign | 0x7C00;  // ≥ 65520 rounds to ±inf (and inf stays)
    if (ax < 0x38800000u) {
        // Below 2^-14: an f16 subnormal (or zero) m · 2^-24. |f|·2^24 is exact; rounding it to
        // an integer with the default (nearest-even) mode rounds m correctly, and m = 1024
        // lands on the smallest normal's encoding.
        float m;
        const uint32_t a = ax;
        memcpy(&m, &a, 4);
        m = rmas_rint_small(m * 0x1p24f);
        return sign | (uint16_t)m;
    }
    // Normal: rebias the exponent (127 → 15) and round the mantissa from 23 to 10 bits, ties to
    // even; a carry out of the mantissa correctly bumps the exponent (up to inf).
    uint32_t r = ax - 0x38000000u;
    r += 0x0FFFu + ((r >> 13) & 1u);
    return sign | (uint16_t)(r >> 13);
}

/// q8 rounding shared by every quantizer: clamp to ±127, then round to nearest, ties to even (as
/// vcvtps2dq under the default MXCSR, and as ggml's `_mm256_round_ps(.., _MM_ROUND_NEAREST)` /
/// `nearest_int`; the bounds are integers, so clamping first changes nothing else). NaN becomes -127 and ±inf ±127, as the SIMD paths' max-then-min clamp does;
/// finite activations never reach the clamp (|x·id| ≤ 127·(1 + 2⁻²³)).
static inline int8_t rmas_round_q8(float v) {
    if (!(v > -127.0f)) v = -127.0f;
    if (v > 127.0f) v = 127.0f;
    return (int8_t)rmas_rint_small(v);
}

/// Quantizes one 32-element block, returns d (unrounded) and Σqs (the scalar q8_0 and q8_1
/// quantizers, and the tiled products' activations).
static inline float rmas_quantize_block32(const float *x, int8_t *qs, int *sum) {
    float amax = 0.0f;
    for (int i = 0; i < RMAS_QK; i++) {
        const float a = fabsf(x[i]);
        amax = a > amax ? a : amax;
    }
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int s = 0;
    for (int i = 0; i < RMAS_QK; i++) {
        qs[i] = rmas_round_q8(x[i] * id);
        s += qs[i];
    }
    *sum = s;
    return d;
}

/// The 32 quants of a 4-bit block (element j < 16: low nibble of qs[j]; j + 16: high nibble),
/// plus `bias` (-8 for q4_0) and the fifth bits of `qh` (bit j → +16) for the q5 formats.
static inline void rmas_unpack_nibbles(const uint8_t *qs, uint32_t qh, int bias, int8_t *q) {
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)((qs[j] & 0x0F) + (int)((qh >> j) & 1) * 16 + bias);
        q[j + 16] = (int8_t)((qs[j] >> 4) + (int)((qh >> (j + 16)) & 1) * 16 + bias);
    }
}

/// The eight 6-bit scales and mins of a q4_K/q5_K super-block from its 12 packed bytes.
static inline void rmas_unpack_k_scales(const uint8_t *s, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = s[j] & 63;
        mn[j] = s[j + 4] & 63;
        sc[j + 4] = (uint8_t)((s[j + 8] & 0x0F) | ((s[j] >> 6) << 4));
        mn[j + 4] = (uint8_t)((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
}

/// A per-CPU tuning choice: 1 when environment `variable` is `yes`, 0 when it is `no`, else
/// whether the CPU is AMD's (the choices measured faster on Zen 4 than the Xeon's defaults).
int rmas_amd_or_override(const char *variable, const char *no, const char *yes);

/// 1 when the vector kernels' weight prefetches go to L2 (prefetcht1), 0 for L1 (prefetcht0):
/// chosen per CPU vendor at detection (ckernels.c), before any kernel can run.
extern _Atomic int rmas_prefetch_l2;

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
/// Prefetch hints for `bytes` bytes from `p` (one per 64), to L1 or L2 as `rmas_prefetch_l2`
/// says (the AVX2 and AVX-512 kernels' prefetches; a hint never faults).
static inline __attribute__((always_inline)) void rmas_prefetch_lines(const uint8_t *p, int bytes) {
    if (atomic_load_explicit(&rmas_prefetch_l2, memory_order_relaxed))
        for (int l = 0; l < bytes; l += 64) _mm_prefetch((const char *)(p + l), _MM_HINT_T1);
    else
        for (int l = 0; l < bytes; l += 64) _mm_prefetch((const char *)(p + l), _MM_HINT_T0);
}
#endif

// MARK: - 32-element formats' layouts (shared by the vector kernels)

enum kind32 { K_Q8_0, K_Q4_0, K_Q5_0, K_Q4_1, K_Q5_1 };

/// Bytes per 32-element weight block.
static inline int wbytes(enum kind32 k) {
    return k == K_Q8_0 ? RMAS_Q8_0_BYTES : k == K_Q4_0 ? RMAS_Q4_0_BYTES : k == K_Q5_0 ? RMAS_Q5_0_BYTES
         : k == K_Q4_1 ? RMAS_Q4_1_BYTES : RMAS_Q5_1_BYTES;
}
/// Whether the block has a min (x = d·q + m) rather than a signed centre.
static inline int affine(enum kind32 k) { return k == K_Q4_1 || k == K_Q5_1; }
/// Offset of the 16 nibble bytes (4/5-bit formats).
static inline int nibbles_at(enum kind32 k) { return k == K_Q4_0 ? 2 : k == K_Q4_1 ? 4 : k == K_Q5_0 ? 6 : 8; }
/// Offset of the 32 fifth bits (q5 formats).
static inline int qh_at(enum kind32 k) { return k == K_Q5_0 ? 2 : 4; }

/// `y[0 ..< nrows]` = dot of row r (at `w + r·row_stride`) with the activation blocks `xq`.
typedef void (*rmas_gemv_fn)(int n, const void *w, size_t row_stride, const void *xq, float *y, int64_t nrows);
typedef void (*rmas_quantize_fn)(const float *x, void *y, int64_t n);
/// `y[v][y_offset + r]` = dot of row r with the activation blocks `xq[v]`, for v in 0 ..< nvec
/// and r in 0 ..< nrows; each equal to what the same table's gemv gives for xq[v] alone.
typedef void (*rmas_gemm_fn)(int n, const void *w, size_t row_stride, const void *const *xq, float *const *y,
                             int64_t y_offset, int nvec, int64_t nrows);

/// One instruction set's kernels. `gemv` is indexed by the weight's GGML type id (< 16); a null
/// entry means the type has no kernel there.
typedef struct {
    rmas_quantize_fn quantize_q8_0, quantize_q8_1, quantize_q8_K;
    rmas_gemv_fn gemv[16];
    /// Several-vector kernels sharing the weight decoding (null: gemv per vector).
    rmas_gemm_fn gemm[16];
} rmas_kernel_table;

/// A packed-GEMM micro-tile (gemm.c): C[rows × cols] = alpha·A·B + beta·C over `kc` values of k,
/// `a` and `b` pointing at the tile's and the panel's data for the first of them (layouts in
/// ckernels.h); rows ≤ RMAS_GEMM_MR, cols ≤ RMAS_GEMM_NR; C is not read when beta is 0.
typedef void (*rmas_gemm_tile_fn)(int rows, int cols, int64_t kc, const void *a, const void *b, float *c,
                                  int64_t ldc, float alpha, float beta);

extern const rmas_kernel_table rmas_kernels_scalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const rmas_kernel_table rmas_kernels_avx2;
extern const rmas_kernel_table rmas_kernels_avx512;
/// Whether the CPU has AVX512-BF16 (and the AVX-512 level of `RMAS_ISA_AVX512VNNI`).
int rmas_cpu_has_avx512bf16(void);
void rmas_gemm_tile_f32_avx512(int, int, int64_t, const void *, const void *, float *, int64_t, float, float);
void rmas_gemm_tile_bf16_avx512(int, int, int64_t, const void *, const void *, float *, int64_t, float, float);
void rmas_gemm_tile_f32_avx2(int, int, int64_t, const void *, const void *, float *, int64_t, float, float);
/// `rmas_gemm_pack_b_all` of RMAS_GEMM_F32 with k_stride 1, with AVX-512 (gemm_pack_avx512.c).
void rmas_avx512_pack_b_f32_columns(const float *src, int64_t j_stride, int64_t k, int64_t n, void *packed);
/// `rmas_gemm_pack_a` of RMAS_GEMM_BF16, not transposed, with AVX-512 (gemm_pack_avx512.c).
void rmas_avx512_pack_a_bf16(const float *a, int64_t lda, int64_t m, int64_t k, int64_t t0, int64_t t1, void *packed);
float rmas_avx512_dot_f32_q8_0(int n, const void *w, const float *x);
/// Tiles g0 ..< g1 of the tiled 8-bit product for nvec ≤ 8 vectors (tiled_int8_avx512.c).
void rmas_avx512_tiled_rows(int n, int layout, const void *tiles, int64_t rows, const void *const *xq, float *const *y,
                            int nvec, int64_t g0, int64_t g1);
void rmas_avx512_attention_scores(int heads, int dh, int n, const float *q, const float *k, long stride,
                                  float scale, float *scores);
void rmas_avx512_attention_mix(int heads, int dh, int n, const float *p, const float *v, long stride, float *out);
float rmas_avx512_dot_f32_q5_0(int n, const void *w, const float *x);
/// The four-accumulator formats (q4_1, q4_K, q6_K by ggml type id): one dot, and rows as
/// rmas_avx512_rows_f32 with up to 4 vectors per decoded row (f32_avx512.c).
float rmas_avx512_dot_f32_acc4(int weight_type, int n, const void *w, const float *x);
void rmas_avx512_rows_f32_acc4(int weight_type, int n, const void *w, size_t stride, int64_t r0, int64_t r1,
                               const float *const *x, float *const *y, int nvec);
/// Rows r0 ..< r1 (`stride` bytes apart) against nvec vectors, q5 ? q5_0 : q8_0 (f32_avx512.c).
void rmas_avx512_rows_f32(int q5, int n, const void *w, size_t stride, int64_t r0, int64_t r1, const float *const *x,
                          float *const *y, int nvec);
void rmas_avx512_gemm_q8_0(int, const void *, size_t, const void *const *, float *const *, int64_t, int, int64_t);
void rmas_avx512_gemm_q4_0(int, const void *, size_t, const void *const *, float *const *, int64_t, int, int64_t);
void rmas_avx512_gemm_q5_0(int, const void *, size_t, const void *const *, float *const *, int64_t, int, int64_t);
void rmas_avx512_gemm_q4_1(int, const void *, size_t, const void *const *, float *const *, int64_t, int, int64_t);
void rmas_avx512_gemm_q5_1(int, const void *, size_t, const void *const *, float *const *, int64_t, int, int64_t);
void rmas_avx512_gemm_q4_K(int, const void *, size_t, const void *const *, float *const *, int64_t, int, int64_t);
void rmas_avx512_gemm_q5_K(int, const void *, size_t, const void *const *, float *const *, int64_t, int, int64_t);
void rmas_avx512_gemm_q6_K(int, const void *, size_t, const void *const *, float *const *, int64_t, int, int64_t);
#endif

/// The kernel `rmas_gemv` would run for `weight_type` and `n` columns on the best level, or
/// NULL if unsupported (ckernels.c).
rmas_gemv_fn rmas_gemv_kernel(int weight_type, int n);
/// The several-vector kernel for `weight_type` on the best level, or NULL (use gemv per vector).
rmas_gemm_fn rmas_gemm_kernel(int weight_type, int n);
void rmas_gemm_vectors_rows(rmas_gemv_fn fn, rmas_gemm_fn gemm, int n, const uint8_t *w, size_t stride, const void *const *xqs,
                            float *const *ys, int nvec, int64_t first, int64_t count);

// The portable quantizers (q8_scalar.c), shared by the AVX2 table.
void rmas_quantize_q8_0_scalar(const float *x, void *y, int64_t n);
void rmas_quantize_q8_1_scalar(const float *x, void *y, int64_t n);
void rmas_quantize_q8_K_scalar(const float *x, void *y, int64_t n);
