// AVX2 kernels (x86-64 with AVX2, FMA and F16C: Haswell, Zen 1 and later): the weight-row ×
// activation dots for CPUs without AVX-512 VNNI, several rows per pass. The quantizers are the
// scalar ones (they cost well under 1% of a matvec).
//
// Provenance: same math as q8_scalar.c (ggml's); one 32-element block per ymm as in ggml's AVX2
// kernels, with this project's own multi-row structure and bias handling.
//
// Products go through `vpmaddubsw` (u8 × s8 → int16 pairs), so the weights must be unsigned
// and every pair sum must fit int16: q8_0 uses |w| and x·sign(w) (|pair| ≤ 2·128·127); the
// 4/5/6-bit quants are stored unsigned (pairs ≤ 2·63·127), and their offsets (-8, -16, -32)
// are removed in int16 by subtracting offset·(x pair sums), exactly.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "internal.h"

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline)) TARGET

#define ROWS 4

/// See q8_avx512.c: prefetch the same bytes about 4 KiB (whole rows, ≥ one pass) ahead.
#ifndef PREFETCH_BYTES
#define PREFETCH_BYTES 4096
#endif

INLINE size_t prefetch_distance(size_t stride) {
    size_t rows = (PREFETCH_BYTES + stride - 1) / (stride ? stride : 1);
    return stride * (rows < ROWS ? ROWS : rows);
}

INLINE void prefetch(const uint8_t *p, int bytes) { rmas_prefetch_lines(p, bytes); }

INLINE __m256i load256(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
INLINE __m128i load128(const uint8_t *p) { return _mm_loadu_si128((const __m128i *)p); }
INLINE float f16(const uint8_t *p) { return _cvtsh_ss(rmas_ld16(p)); }

INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Bytes 0x10 where bit i of `bits` is set (byte i), else 0.
INLINE __m256i fifth_bits(uint32_t bits) {
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
                                               _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL,
                                                                 0x0101010101010101LL, 0));
    const __m256i select = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select), _mm256_set1_epi8(16));
}

// MARK: - 32-element formats

/// The offset subtracted from the stored unsigned 4/5-bit quants (q8_0 is signed already).
INLINE int offset(enum kind32 k) { return k == K_Q4_0 ? 8 : k == K_Q5_0 ? 16 : 0; }

INLINE void gemv32(enum kind32 k, int n, const uint8_t *w, size_t stride, const uint8_t *x, float *y, const int R) {
    const int wb = wbytes(k), xb = affine(k) ? RMAS_Q8_1_BYTES : RMAS_Q8_0_BYTES, xqs = affine(k) ? 4 : 2;
    const size_t ahead = prefetch_distance(stride);
    const __m256i ones = _mm256_set1_epi16(1), low4 = _mm256_set1_epi8(0x0F);
    __m256 acc[ROWS];
    float msum[ROWS];
    for (int r = 0; r < R; r++) { acc[r] = _mm256_setzero_ps(); msum[r] = 0.0f; }
    for (int b = 0; b < n / RMAS_QK; b++) {
        const uint8_t *xa = x + (size_t)b * xb;
        const __m256i xq = load256(xa + xqs);
        const float dx = f16(xa), sx = affine(k) ? f16(xa + 2) : 0.0f;
        __m256i bias = _mm256_setzero_si256();
        if (offset(k)) bias = _mm256_maddubs_epi16(_mm256_set1_epi8((char)offset(k)), xq);
        for (int r = 0; r < R; r++) {
            const uint8_t *wa = w + r * stride + (size_t)b * wb;
            if (b % 2 == 0) prefetch(wa + ahead, 2 * wb);
            __m256i pairs;
            if (k == K_Q8_0) {
                const __m256i q = load256(wa + 2);
                pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(q), _mm256_sign_epi8(xq, q));
            } else {
                const __m128i packed = load128(wa + nibbles_at(k));
                __m256i q = _mm256_and_si256(
                    _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1), low4);
                if (k == K_Q5_0 || k == K_Q5_1) q = _mm256_or_si256(q, fifth_bits(rmas_ld32(wa + qh_at(k))));
                pairs = _mm256_maddubs_epi16(q, xq);
                if (offset(k)) pairs = _mm256_sub_epi16(pairs, bias);
            }
            const __m256 sum = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
            acc[r] = _mm256_fmadd_ps(sum, _mm256_set1_ps(f16(wa) * dx), acc[r]);
            if (affine(k)) msum[r] += f16(wa + 2) * sx;
        }
    }
    for (int r = 0; r < R; r++) y[r] = hsum8(acc[r]) + msum[r];
}

#define GEMV(name, call)                                                                                \
    TARGET static void name(int n, const void *w, size_t stride, const void *x, float *y, int64_t nrows) { \
        const uint8_t *row = w;                                                                         \
        int64_t r = 0;                                                                                  \
        for (; r + ROWS <= nrows; r += ROWS) call(n, row + r * stride, stride, x, y + r, ROWS);         \
        for (; r < nrows; r++) call(n, row + r * stride, stride, x, y + r, 1);                          \
    }

#define KIND(k) INLINE void gemv32_##k(int n, const uint8_t *w, size_t s, const uint8_t *x, float *y, const int R) { \
        gemv32(k, n, w, s, x, y, R);                                                                               \
    }
KIND(K_Q8_0)
KIND(K_Q4_0)
KIND(K_Q5_0)
KIND(K_Q4_1)
KIND(K_Q5_1)

GEMV(gemv_q8_0, gemv32_K_Q8_0)
GEMV(gemv_q4_0, gemv32_K_Q4_0)
GEMV(gemv_q5_0, gemv32_K_Q5_0)
GEMV(gemv_q4_1, gemv32_K_Q4_1)
GEMV(gemv_q5_1, gemv32_K_Q5_1)

// MARK: - K formats

/// q4_K (q5 = 0) and q5_K.
INLINE void gemv_k45(int q5, int n, const uint8_t *w, size_t stride, const uint8_t *x, float *y, const int R) {
    const int wb = q5 ? RMAS_Q5_K_BYTES : RMAS_Q4_K_BYTES, qs_at = q5 ? RMAS_Q5_K_QS : RMAS_Q4_K_QS;
    const size_t ahead = prefetch_distance(stride);
    const __m256i low4 = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16);
    const __m128i dup = _mm_set_epi8(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    __m256 acc[ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    for (int b = 0; b < n / RMAS_QK_K; b++) {
        const uint8_t *xb = x + (size_t)b * RMAS_Q8_K_BYTES;
        const __m256i bsums = load256(xb + RMAS_Q8_K_BSUMS);
        const float dx = rmas_ldf32(xb);
        for (int r = 0; r < R; r++) {
            const uint8_t *wq = w + r * stride + (size_t)b * wb;
            prefetch(wq + ahead, wb);
            const uint32_t a0 = rmas_ld32(wq + 4), a1 = rmas_ld32(wq + 8), a2 = rmas_ld32(wq + 12);
            const uint64_t sc = (a0 & 0x3F3F3F3Fu) |
                                (uint64_t)((a2 & 0x0F0F0F0Fu) | ((a0 >> 2) & 0x30303030u)) << 32;
            const uint64_t mn = (a1 & 0x3F3F3F3Fu) |
                                (uint64_t)(((a2 >> 4) & 0x0F0F0F0Fu) | ((a1 >> 2) & 0x30303030u)) << 32;
            const __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(_mm_cvtsi64_si128((long long)mn), dup));
            __m256i highs = _mm256_setzero_si256();
            if (q5) highs = load256(wq + RMAS_Q5_K_QH);
            __m256i sum = _mm256_setzero_si256();
            for (int i = 0; i < 4; i++) {
                const __m256i packed = load256(wq + qs_at + 32 * i);
                __m256i lo = _mm256_and_si256(packed, low4);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low4);
                if (q5) {
                    const __m256i bl = _mm256_set1_epi8((char)(1 << (2 * i))), bh = _mm256_set1_epi8((char)(1 << (2 * i + 1)));
                    lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(highs, bl), bl), sixteen));
                    hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(highs, bh), bh), sixteen));
                }
                const __m256i plo = _mm256_maddubs_epi16(lo, load256(xb + RMAS_Q8_K_QS + 64 * i));
                const __m256i phi = _mm256_maddubs_epi16(hi, load256(xb + RMAS_Q8_K_QS + 64 * i + 32));
                const int s0 = (int)((sc >> (16 * i)) & 0xFF), s1 = (int)((sc >> (16 * i + 8)) & 0xFF);
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(plo, _mm256_set1_epi16((short)s0)));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(phi, _mm256_set1_epi16((short)s1)));
            }
            const __m256i msum = _mm256_madd_epi16(bsums, mins);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(f16(wq) * dx), acc[r]);
            acc[r] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(f16(wq + 2) * dx), acc[r]);
        }
    }
    for (int r = 0; r < R; r++) y[r] = hsum8(acc[r]);
}

INLINE void gemv_q4k(int n, const uint8_t *w, size_t s, const uint8_t *x, float *y, const int R) { gemv_k45(0, n, w, s, x, y, R); }
INLINE void gemv_q5k(int n, const uint8_t *w, size_t s, const uint8_t *x, float *y, const int R) { gemv_k45(1, n, w, s, x, y, R); }

/// q6_K.
INLINE void gemv_q6k(int n, const uint8_t *w, size_t stride, const uint8_t *x, float *y, const int R) {
    const size_t ahead = prefetch_distance(stride);
    const __m256i low4 = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3), thirty2 = _mm256_set1_epi8(32);
    __m256 acc[ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    for (int b = 0; b < n / RMAS_QK_K; b++) {
        const uint8_t *xb = x + (size_t)b * RMAS_Q8_K_BYTES;
        __m256i xq[8], x32[8];  // elements 32j ..< 32j + 32, and 32·(their pair sums)
        for (int j = 0; j < 8; j++) {
            xq[j] = load256(xb + RMAS_Q8_K_QS + 32 * j);
            x32[j] = _mm256_maddubs_epi16(thirty2, xq[j]);
        }
        const float dx = rmas_ldf32(xb);
        for (int r = 0; r < R; r++) {
            const uint8_t *wq = w + r * stride + (size_t)b * RMAS_Q6_K_BYTES;
            prefetch(wq + ahead, RMAS_Q6_K_BYTES);
            const __m128i scales = load128(wq + RMAS_Q6_K_SCALES);
            __m256i sum = _mm256_setzero_si256();
            for (int h = 0; h < 2; h++) {
                const __m256i a0 = load256(wq + 64 * h), a1 = load256(wq + 64 * h + 32);
                const __m256i qh = load256(wq + RMAS_Q6_K_QH + 32 * h);
                const __m256i q[4] = {
                    _mm256_or_si256(_mm256_and_si256(a0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, three), 4)),
                    _mm256_or_si256(_mm256_and_si256(a1, low4),
                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), three), 4)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a0, 4), low4),
                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), three), 4)),
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a1, 4), low4),
                                    _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), three), 4)),
                };
                for (int j = 0; j < 4; j++) {
                    const int e = 4 * h + j, g = 2 * e;  // elements 32e ..< 32e + 32 = groups g, g + 1
                    const __m256i pairs = _mm256_sub_epi16(_mm256_maddubs_epi16(q[j], xq[e]), x32[e]);
                    const __m128i pick = _mm_set_epi64x((g + 1) * 0x0101010101010101LL, g * 0x0101010101010101LL);
                    const __m256i scale = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales, pick));
                    sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, scale));
                }
            }
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(f16(wq + RMAS_Q6_K_D) * dx), acc[r]);
        }
    }
    for (int r = 0; r < R; r++) y[r] = hsum8(acc[r]);
}

GEMV(gemv_q4_K, gemv_q4k)
GEMV(gemv_q5_K, gemv_q5k)
GEMV(gemv_q6_K, gemv_q6k)

const rmas_kernel_table rmas_kernels_avx2 = {
    .quantize_q8_0 = rmas_quantize_q8_0_scalar,
    .quantize_q8_1 = rmas_quantize_q8_1_scalar,
    .quantize_q8_K = rmas_quantize_q8_K_scalar,
    .gemv = {
        [2] = gemv_q4_0, [3] = gemv_q4_1, [6] = gemv_q5_0, [7] = gemv_q5_1, [8] = gemv_q8_0,
        [12] = gemv_q4_K, [13] = gemv_q5_K, [14] = gemv_q6_K,
    },
};
#endif
