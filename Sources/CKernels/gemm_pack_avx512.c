// Packing for the GEMM with AVX-512. A (activations, row-major) for the bf16 GEMM: 32 k of a row rounded to
// bfloat16 at a time, paired (k, k + 1) into 32-bit lanes, and a tile's 14 rows transposed in
// registers into the packed [K'/2][14][2] layout (ckernels.h). Bit-identical to gemm.c's scalar
// packing (same round-to-nearest-even and NaN quieting, done with integer ops; the hardware
// `vcvtne2ps2bf16` would flush denormals), which the tests compare it with.
//
// Provenance: this project's own.
#if defined(__x86_64__) || defined(_M_X64)
#include "avx512_common.h"

/// fp32 → bfloat16 in the low half of each 32-bit lane (upper half zero): round to nearest even,
/// NaN → its upper half with the quiet bit set, as gemm.c's `to_bf16`.
INLINE __m512i round_bf16(__m512 x) {
    const __m512i u = _mm512_castps_si512(x);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)), _mm512_set1_epi32(0x7F800000));
    const __m512i upper = _mm512_srli_epi32(u, 16);
    const __m512i odd = _mm512_and_si512(upper, _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7FFF), odd)), 16);
    return _mm512_mask_blend_epi32(nan, rounded, _mm512_or_si512(upper, _mm512_set1_epi32(0x40)));
}

/// `count` (≤ 32) floats of a row from `src` → 16 lanes of pairs (bf16 of k = 2q low, 2q + 1 high),
/// zero past `count`.
INLINE __m512 row_pairs(const float *src, int count) {
    const __mmask16 m0 = count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
    const __mmask16 m1 = count >= 32 ? (__mmask16)0xFFFF : count > 16 ? (__mmask16)((1u << (count - 16)) - 1) : 0;
    const __m512i r0 = round_bf16(_mm512_maskz_loadu_ps(m0, src)), r1 = round_bf16(_mm512_maskz_loadu_ps(m1, src + 16));
    // Word w of the result is bf16(k = w): word 2w of (r0, r1) concatenated.
    const __m512i even = _mm512_set_epi16(62, 60, 58, 56, 54, 52, 50, 48, 46, 44, 42, 40, 38, 36, 34, 32,
                                          30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_castsi512_ps(_mm512_permutex2var_epi16(r0, even, r1));
}

TARGET void rmas_avx512_pack_a_bf16(const float *a, int64_t lda, int64_t m, int64_t k, int64_t t0, int64_t t1,
                                    void *packed) {
    const int64_t pairs = (k + 1) / 2;  // per row of a tile: K'/2
    for (int64_t t = t0; t < t1; t++) {
        const int64_t rows = m - t * RMAS_GEMM_MR < RMAS_GEMM_MR ? m - t * RMAS_GEMM_MR : RMAS_GEMM_MR;
        uint32_t *dst = (uint32_t *)packed + (size_t)t * (size_t)pairs * RMAS_GEMM_MR;
        const float *first = a + t * RMAS_GEMM_MR * lda;
        for (int64_t kb = 0; kb < k; kb += 32) {
            const int count = k - kb < 32 ? (int)(k - kb) : 32;
            __m512 r[16], column[16];
            for (int i = 0; i < 16; i++) r[i] = i < rows ? row_pairs(first + i * lda + kb, count) : _mm512_setzero_ps();
            transpose16(r, column);
            // column[q] lane i = pair q of row i: the 14 lanes of pair row kb/2 + q.
            for (int q = 0; q < (count + 1) / 2; q++)
                _mm512_mask_storeu_ps(dst + (kb / 2 + q) * RMAS_GEMM_MR, (__mmask16)0x3FFF, column[q]);
        }
    }
}

TARGET void rmas_avx512_pack_b_f32_columns(const float *src, int64_t j_stride, int64_t k, int64_t n, void *packed) {
    // B's column j is src[j·j_stride ..< + k]: 16 columns × 16 k at a time, transposed in
    // registers into 16 rows of a panel half (element (kk, lane) at kk·32 + lane).
    const int64_t panels = (n + RMAS_GEMM_NR - 1) / RMAS_GEMM_NR;
    for (int64_t p = 0; p < panels; p++) {
        float *dst = (float *)packed + (size_t)p * (size_t)k * RMAS_GEMM_NR;
        for (int h = 0; h < 2; h++) {
            const int64_t j0 = p * RMAS_GEMM_NR + h * 16;
            const int cols = n - j0 <= 0 ? 0 : n - j0 < 16 ? (int)(n - j0) : 16;
            for (int64_t kb = 0; kb < k; kb += 16) {
                const int count = k - kb < 16 ? (int)(k - kb) : 16;
                const __mmask16 m = count == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
                __m512 r[16], column[16];
                for (int i = 0; i < 16; i++)
                    r[i] = i < cols ? _mm512_maskz_loadu_ps(m, src + (j0 + i) * j_stride + kb) : _mm512_setzero_ps();
                transpose16(r, column);
                for (int q = 0; q < count; q++) _mm512_storeu_ps(dst + (kb + q) * RMAS_GEMM_NR + h * 16, column[q]);
            }
        }
    }
}
#endif
