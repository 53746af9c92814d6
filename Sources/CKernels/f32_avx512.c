// AVX-512 dots of a quantized weight row with fp32 activations (the exact `float32` matvec path:
// latent rollouts, training forwards), for the 32-element q8_0 and q5_0 formats.
//
// Provenance: block layouts are ggml's; the order of every float operation is that of the Swift
// kernels (Sources/Kernels/Quant/QuantFormat.swift `decodeDot` / `DotSink`), so each dot is
// bit-for-bit what they return: per block, partial = q[0..<16]·x (products rounded), then
// partial += q[16..<32]·x fused, then acc += partial·d fused, blocks alternating between two
// 16-lane accumulators (an odd last block into the first); the total is ((acc0 + acc1) + (0 + 0))
// summed as halves (8 + 8, 4 + 4, 2 + 2, then lane 0 + lane 1). Quants become floats exactly.
#if defined(__x86_64__) || defined(_M_X64)
#include "avx512_common.h"

/// The 32 quants of a block as two float vectors (elements 0-15, 16-31).
INLINE void quants_q8_0(const uint8_t *block, __m512 *q0, __m512 *q1) {
    *q0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(load128(block + 2)));
    *q1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(load128(block + 18)));
}

INLINE void quants_q5_0(const uint8_t *block, __m512 *q0, __m512 *q1) {
    const __m512i bytes = _mm512_cvtepu8_epi32(load128(block + 6)), low4 = _mm512_set1_epi32(0x0F);
    const __m512i sixteen = _mm512_set1_epi32(16);
    const uint32_t qh = rmas_ld32(block + 2);
    __m512i low = _mm512_and_si512(bytes, low4), high = _mm512_and_si512(_mm512_srli_epi32(bytes, 4), low4);
    low = _mm512_mask_add_epi32(low, (__mmask16)(qh & 0xFFFF), low, sixteen);
    high = _mm512_mask_add_epi32(high, (__mmask16)(qh >> 16), high, sixteen);
    *q0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(low, sixteen));
    *q1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(high, sixteen));
}

/// acc = fma(q0·x[0..<16] then fma(q1, x[16..<32]), d, acc) for one block.
INLINE __m512 take_block(__m512 acc, __m512 q0, __m512 q1, const float *x, const uint8_t *block) {
    __m512 partial = _mm512_mul_ps(q0, _mm512_loadu_ps(x));
    partial = _mm512_fmadd_ps(q1, _mm512_loadu_ps(x + 16), partial);
    const float d = _cvtsh_ss(rmas_ld16(block));
    return _mm512_fmadd_ps(partial, _mm512_set1_ps(d), acc);
}

/// The Swift kernels' horizontalSum of (acc0 + acc1) + (0 + 0).
INLINE float total(__m512 acc0, __m512 acc1) {
    const __m512 zero = _mm512_setzero_ps();
    const __m512 v = _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(zero, zero));
    const __m256 eight = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    const __m128 four = _mm_add_ps(_mm256_castps256_ps128(eight), _mm256_extractf128_ps(eight, 1));
    const __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
    return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
}

#define DOT_F32(name, bytes, quants)                                                                 \
    TARGET float name(int n, const void *w, const float *x) {                                        \
        const uint8_t *row = w;                                                                      \
        const int blocks = n / RMAS_QK;                                                              \
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), q0, q1;                       \
        int b = 0;                                                                                   \
        for (; b + 2 <= blocks; b += 2) {                                                            \
            const uint8_t *a = row + (size_t)b * bytes, *c = a + bytes;                              \
            quants(a, &q0, &q1);                                                                     \
            acc0 = take_block(acc0, q0, q1, x + (size_t)b * RMAS_QK, a);                             \
            quants(c, &q0, &q1);                                                                     \
            acc1 = take_block(acc1, q0, q1, x + (size_t)b * RMAS_QK + RMAS_QK, c);                   \
        }                                                                                            \
        if (b < blocks) {                                                                            \
            const uint8_t *a = row + (size_t)b * bytes;                                              \
            quants(a, &q0, &q1);                                                                     \
            acc0 = take_block(acc0, q0, q1, x + (size_t)b * RMAS_QK, a);                             \
        }                                                                                            \
        return total(acc0, acc1);                                                                    \
    }

DOT_F32(rmas_avx512_dot_f32_q8_0, RMAS_Q8_0_BYTES, quants_q8_0)
DOT_F32(rmas_avx512_dot_f32_q5_0, RMAS_Q5_0_BYTES, quants_q5_0)
#endif
