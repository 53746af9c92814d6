// Shared inline helpers of the AVX-512 VNNI kernels (q8_avx512.c, q8_avx512_vectors.c): block
// loads, f16 scale conversion, prefetching, the 32-element formats' weight decoding and the K
// formats' scale spreads, and the 16 × 16 register transpose (attention, bf16 A packing).
//
// Provenance: the block layouts are ggml's; the vectorisation is this project's own.
#pragma once
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "internal.h"

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))
#define INLINE static inline __attribute__((always_inline)) TARGET

/// Rows per pass of the multi-row kernels: 4 rows share each activation load and scale
/// conversion (measured 15–25% faster than 1 row for the 32-element formats, ~5% for K formats;
/// 2 rows are in between).
#ifndef ROWS
#define ROWS 4
#endif

/// While a pass reads rows r ..< r + ROWS, the same bytes of a row about PREFETCH_BYTES further
/// on are prefetched (at least one pass ahead). That keeps enough DRAM reads in flight that the
/// weights of a decode step (96 MB, streamed from memory) go through about 1.5× faster than with
/// the hardware prefetchers alone (measured 13.6 → 8.8 ms on one core; 16 KiB ahead is no
/// better, non-temporal hints worse). Past the matrix end the hints touch whatever follows;
/// prefetches never fault.
/// The prefetch instruction is prefetcht0 or prefetcht1 by CPU (`rmas_prefetch_l2`, measured
/// in ckernels.c: Zen 4 streams 2.2× faster with L2 prefetches, the Xeon was tuned with L1 ones).
#ifndef PREFETCH_BYTES  // (tuning builds may override this)
#define PREFETCH_BYTES 4096
#endif

/// The prefetch distance in bytes for rows `stride` bytes apart: a whole number of rows.
INLINE size_t prefetch_distance(size_t stride) {
    size_t rows = (PREFETCH_BYTES + stride - 1) / (stride ? stride : 1);
    return stride * (rows < ROWS ? ROWS : rows);
}

/// The 16 × 16 transpose of 32-bit lanes: column[l] lane j = r[j] lane l (the usual unpack /
/// shuffle_f32x4 network; pure data movement, so integer lanes pass through bit for bit).
INLINE void transpose16(const __m512 r[16], __m512 column[16]) {
    __m512 t[16], u[16], w[8], x[8];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // u[4b + e]: within each 128-bit block, element e of rows 4b … 4b + 3.
    for (int b = 0; b < 4; b++) {
        const __m512d a = _mm512_castps_pd(t[4 * b]), c = _mm512_castps_pd(t[4 * b + 1]);
        const __m512d d = _mm512_castps_pd(t[4 * b + 2]), e = _mm512_castps_pd(t[4 * b + 3]);
        u[4 * b + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, d));
        u[4 * b + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, d));
        u[4 * b + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, e));
        u[4 * b + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, e));
    }
    for (int e = 0; e < 4; e++) {
        w[2 * e] = _mm512_shuffle_f32x4(u[e], u[4 + e], 0x88);
        w[2 * e + 1] = _mm512_shuffle_f32x4(u[e], u[4 + e], 0xDD);
        x[2 * e] = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0x88);
        x[2 * e + 1] = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0xDD);
    }
    // Column (lane) l = 4·block + e: block 0 from (w, x)[2e] 0x88, 2 from 0xDD; 1 and 3 from [2e + 1].
    for (int e = 0; e < 4; e++) {
        column[e] = _mm512_shuffle_f32x4(w[2 * e], x[2 * e], 0x88);
        column[8 + e] = _mm512_shuffle_f32x4(w[2 * e], x[2 * e], 0xDD);
        column[4 + e] = _mm512_shuffle_f32x4(w[2 * e + 1], x[2 * e + 1], 0x88);
        column[12 + e] = _mm512_shuffle_f32x4(w[2 * e + 1], x[2 * e + 1], 0xDD);
    }
}

// MARK: - Helpers

INLINE __m512i load512(const uint8_t *p) { return _mm512_loadu_si512((const void *)p); }
INLINE __m256i load256(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
INLINE __m128i load128(const uint8_t *p) { return _mm_loadu_si128((const __m128i *)p); }

/// Prefetch hints for `bytes` bytes from `p` (one per 64).
INLINE void prefetch(const uint8_t *p, int bytes) {
    if (PREFETCH_BYTES == 0) return;  // (tuning builds only)
    rmas_prefetch_lines(p, bytes);
}

/// Two 32-byte runs as one zmm: `a` in bytes 0-31, `b` in 32-63.
INLINE __m512i load2x256(const uint8_t *a, const uint8_t *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(load256(a)), load256(b), 1);
}

/// f16 pairs → floats: [a.lo, a.hi, b.lo, b.hi] from the 32-bit words at a and b.
INLINE __m128 halves2x2(const uint8_t *a, const uint8_t *b) {
    return _mm_cvtph_ps(_mm_insert_epi32(_mm_cvtsi32_si128((int)rmas_ld32(a)), (int)rmas_ld32(b), 1));
}

/// f16 scalars → floats: [a, 0, b, 0].
INLINE __m128 halves2(const uint8_t *a, const uint8_t *b) {
    return _mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(rmas_ld16(a)), rmas_ld16(b), 2));
}

/// Float clamp to ±127 then round to nearest-even int32 (see rmas_round_q8; NaN → -127).
INLINE __m512i round_q8(__m512 v) {
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
    return _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

INLINE uint16_t f32_to_f16(float f) { return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }

// MARK: - 32-element formats

/// What the stored unsigned weight exceeds the signed quant by (0 for the affine formats).
INLINE int offset(enum kind32 k) { return k == K_Q8_0 ? 128 : k == K_Q4_0 ? 8 : k == K_Q5_0 ? 16 : 0; }

/// Scale-lane permutations of the 32-element kernels: `*pair` sends lane 0 of a block pair's
/// [d_a·dx_a, ·, d_b·dx_b, ·] to lanes 0-7 and lane 2 to lanes 8-15; `eight[p]` does the same for
/// pair p of an eight-block scale vector, where block j's d·dx is lane 2j (affine: d, m
/// interleaved) or lane j.
INLINE void scale_spreads32(enum kind32 k, __m512i *pair, __m512i eight[4]) {
    *pair = _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0);
    for (int p = 0; p < 4; p++) {
        const int a = affine(k) ? 4 * p : 2 * p, b = affine(k) ? 4 * p + 2 : 2 * p + 1;
        eight[p] = _mm512_set_epi32(b, b, b, b, b, b, b, b, a, a, a, a, a, a, a, a);
    }
}

/// The 64 unsigned weight quants of blocks a and b (b unused when !two; its lanes then meet
/// zero activations), in element order.
INLINE __m512i weights32(enum kind32 k, const uint8_t *a, const uint8_t *b, int two) {
    if (k == K_Q8_0) {
        const __m512i w = two ? load2x256(a + 2, b + 2) : _mm512_zextsi256_si512(load256(a + 2));
        return _mm512_xor_si512(w, _mm512_set1_epi8((char)0x80));
    }
    // 128-bit lanes [a.qs, a.qs, b.qs, b.qs]; lanes 1 and 3 shifted to their high nibbles.
    __m512i q = _mm512_broadcast_i32x4(load128(a + nibbles_at(k)));
    if (two) q = _mm512_mask_broadcast_i32x4(q, 0xFF00, load128(b + nibbles_at(k)));
    q = _mm512_mask_srli_epi16(q, (__mmask32)0xFF00FF00u, q, 4);
    q = _mm512_and_si512(q, _mm512_set1_epi8(0x0F));
    if (k == K_Q5_0 || k == K_Q5_1) {
        uint64_t high = rmas_ld32(a + qh_at(k));
        if (two) high |= (uint64_t)rmas_ld32(b + qh_at(k)) << 32;
        q = _mm512_mask_add_epi8(q, (__mmask64)high, q, _mm512_set1_epi8(16));
    }
    return q;
}

/// The f16 scale fields of eight consecutive blocks `bytes` apart from `p`, as floats: the two
/// halves of each block's first 32-bit word for the affine formats ([d0, m0, d1, m1, ...]), else
/// the first half ([d0, d1, ..., d7] in lanes 0-7).
INLINE __m512 halves8(const uint8_t *p, int bytes, int pairs) {
    if (pairs) {
        const __m256i v = _mm256_setr_epi32((int)rmas_ld32(p), (int)rmas_ld32(p + bytes), (int)rmas_ld32(p + 2 * bytes),
                                            (int)rmas_ld32(p + 3 * bytes), (int)rmas_ld32(p + 4 * bytes),
                                            (int)rmas_ld32(p + 5 * bytes), (int)rmas_ld32(p + 6 * bytes),
                                            (int)rmas_ld32(p + 7 * bytes));
        return _mm512_cvtph_ps(v);
    }
    const __m128i v = _mm_setr_epi16((short)rmas_ld16(p), (short)rmas_ld16(p + bytes), (short)rmas_ld16(p + 2 * bytes),
                                     (short)rmas_ld16(p + 3 * bytes), (short)rmas_ld16(p + 4 * bytes),
                                     (short)rmas_ld16(p + 5 * bytes), (short)rmas_ld16(p + 6 * bytes),
                                     (short)rmas_ld16(p + 7 * bytes));
    return _mm512_castps256_ps512(_mm256_cvtph_ps(v));
}

// MARK: - K formats

/// Word-index vectors for vpermw: `spread_pairs(i)` = [2i ×16, 2i+1 ×16] (one scale per 32
/// elements, q4_K/q5_K); `spread_quads(k)` = [4k ×8, 4k+1 ×8, 4k+2 ×8, 4k+3 ×8] (one per 16, q6_K).
INLINE __m512i spread_pairs(int i) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)(2 * i))),
                              _mm256_set1_epi16((short)(2 * i + 1)), 1);
}
INLINE __m512i spread_quads(int k) {
    const long long w = 0x0001000100010001LL;  // four words of 1
    return _mm512_set_epi64((4 * k + 3) * w, (4 * k + 3) * w, (4 * k + 2) * w, (4 * k + 2) * w,
                            (4 * k + 1) * w, (4 * k + 1) * w, (4 * k) * w, (4 * k) * w);
}

/// A q4_K/q5_K weight block (`q5` selects q5_K) decoded for the integer dots: its 4 × 64
/// unsigned quants in element order (`q[i]`: low nibbles of qs[32i ..< 32i+32], then high
/// nibbles, plus 16 where q5_K's fifth bit is set), each 64's pair of 6-bit scales spread to
/// int16 lanes (`scales[i]`, for vpdpwssd), and the 8 mins doubled to 16 int16 lanes (`mins`,
/// one per 16 activation sums, for the Σ m·bsums term).
INLINE void k45_block(int q5, const uint8_t *wq, __m512i q[4], __m512i scales[4], __m256i *mins) {
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m128i dup = _mm_set_epi8(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    // The eight 6-bit scales and mins, as bytes (see q8_scalar.c unpack_k_scales).
    const uint32_t a0 = rmas_ld32(wq + 4), a1 = rmas_ld32(wq + 8), a2 = rmas_ld32(wq + 12);
    const uint64_t sc = (a0 & 0x3F3F3F3Fu) | (uint64_t)((a2 & 0x0F0F0F0Fu) | ((a0 >> 2) & 0x30303030u)) << 32;
    const uint64_t mn = (a1 & 0x3F3F3F3Fu) | (uint64_t)(((a2 >> 4) & 0x0F0F0F0Fu) | ((a1 >> 2) & 0x30303030u)) << 32;
    const __m512i words = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc)));
    *mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(_mm_cvtsi64_si128((long long)mn), dup));
    __m512i highs = _mm512_setzero_si512();
    if (q5) highs = _mm512_broadcast_i64x4(load256(wq + RMAS_Q5_K_QH));
    const int qs_at = q5 ? RMAS_Q5_K_QS : RMAS_Q4_K_QS;
    for (int i = 0; i < 4; i++) {
        q[i] = _mm512_broadcast_i64x4(load256(wq + qs_at + 32 * i));
        q[i] = _mm512_and_si512(_mm512_mask_srli_epi16(q[i], (__mmask32)0xFFFF0000u, q[i], 4), low4);
        if (q5) {
            const __m512i fifth = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8((char)(1 << (2 * i)))),
                                                     _mm256_set1_epi8((char)(1 << (2 * i + 1))), 1);
            q[i] = _mm512_mask_add_epi8(q[i], _mm512_test_epi8_mask(highs, fifth), q[i], _mm512_set1_epi8(16));
        }
        scales[i] = _mm512_permutexvar_epi16(spread_pairs(i), words);
    }
}

/// A q6_K weight block decoded for the integer dots: its 4 × 64 unsigned 6-bit quants in element
/// order (`q[2h]`: elements 128h + [0, 64), low nibbles | qh bits; `q[2h+1]`: 128h + [64, 128),
/// high nibbles | qh bits), and each 64's four 8-bit scales spread to int16 lanes (`scales[k]`).
INLINE void q6k_block(const uint8_t *wq, __m512i q[4], __m512i scales[4]) {
    const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
    const __m512i words = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(load128(wq + RMAS_Q6_K_SCALES)));
    for (int h = 0; h < 2; h++) {
        const __m512i ql = load512(wq + 64 * h);
        __m512i qh = _mm512_broadcast_i64x4(load256(wq + RMAS_Q6_K_QH + 32 * h));
        qh = _mm512_mask_srli_epi16(qh, (__mmask32)0xFFFF0000u, qh, 2);  // upper half: bits 2-3 → 0-1
        q[2 * h] = _mm512_ternarylogic_epi32(_mm512_and_si512(ql, low4), _mm512_slli_epi16(qh, 4), bits45, 0xF8);
        q[2 * h + 1] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4), qh, bits45, 0xF8);
        scales[2 * h] = _mm512_permutexvar_epi16(spread_quads(2 * h), words);
        scales[2 * h + 1] = _mm512_permutexvar_epi16(spread_quads(2 * h + 1), words);
    }
}

#endif
