// AVX-512 VNNI kernels (x86-64 with AVX-512 F/BW/VL/VNNI and F16C): the activation
// quantizers and the weight-row × activation dots, several rows per pass.
//
// Provenance: same math as q8_scalar.c (ggml's); the vectorisation is this project's own.
//
// Integer parts are exact and every int32 lane stays below 2^24 in magnitude, so converting
// lanes to float is exact; rounding happens only in the float32 scaling and accumulation.
//
// 32-element formats work on pairs of blocks: one zmm holds 64 weight quants (block a's 32, then
// block b's, as bytes 0-31 / 32-63) against the 64 activation quants in the same order;
// `vpdpbusd` (u8 × s8, four products per int32 lane) leaves lanes 0-7 = partial sums of block a
// and lanes 8-15 of block b, which are converted and multiplied by [d_a·dx_a ×8, d_b·dx_b ×8].
// vpdpbusd needs unsigned weights, so signed ones are offset: q8_0 weights are xor'ed with 0x80
// (w + 128), q4_0/q5_0 use the stored unsigned quants; the accumulator then starts at
// -128/-8/-16 × (the activation's per-lane sums) instead of 0, which cancels the offset exactly.
// Eight blocks go per step where the row has them, their f16 scales converted in one vector.
//
// K formats multiply the unsigned weight quants with `vpmaddubsw` (pairs into int16, no
// saturation: |q·x + q'·x'| ≤ 2·63·127) and apply the per-sub-block scales with `vpdpwssd`;
// q6_K's -32 offset is removed in int16 by subtracting 32·(activation pair sums), exactly.
//
// Every kernel prefetches the rows a few KiB ahead (see PREFETCH_BYTES) and handles ROWS rows
// per pass; a row's result does not depend on how many rows share its pass.
#if defined(__x86_64__) || defined(_M_X64)
#include "avx512_common.h"

// MARK: - Quantizers

/// One 32-element block; returns d = amax/127 (unrounded) and the quants' sum in *sum.
INLINE float quantize_block32(const float *x, int8_t *qs, int *sum) {
    const __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
    const float d = amax / 127.0f;
    const __m512 id = _mm512_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    const __m512i qa = round_q8(_mm512_mul_ps(a, id)), qb = round_q8(_mm512_mul_ps(b, id));
    _mm_storeu_si128((__m128i *)qs, _mm512_cvtepi32_epi8(qa));
    _mm_storeu_si128((__m128i *)(qs + 16), _mm512_cvtepi32_epi8(qb));
    *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
    return d;
}

TARGET static void quantize_q8_0(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / RMAS_QK; b++, x += RMAS_QK, y += RMAS_Q8_0_BYTES) {
        int sum;
        const uint16_t dh = f32_to_f16(quantize_block32(x, (int8_t *)(y + 2), &sum));
        memcpy(y, &dh, 2);
    }
}

TARGET static void quantize_q8_1(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / RMAS_QK; b++, x += RMAS_QK, y += RMAS_Q8_1_BYTES) {
        int sum;
        const float d = quantize_block32(x, (int8_t *)(y + 4), &sum);
        const uint16_t dh = f32_to_f16(d), sh = f32_to_f16(d * (float)sum);
        memcpy(y, &dh, 2);
        memcpy(y + 2, &sh, 2);
    }
}

TARGET static void quantize_q8_K(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / RMAS_QK_K; b++, x += RMAS_QK_K, y += RMAS_Q8_K_BYTES) {
        int8_t *qs = (int8_t *)(y + RMAS_Q8_K_QS);
        int16_t bsums[16];
        __m512 m = _mm512_setzero_ps();
        for (int c = 0; c < 16; c++) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + 16 * c)));
        const float amax = _mm512_reduce_max_ps(m);
        float d = 0.0f;
        if (amax == 0.0f) {
            memset(qs, 0, RMAS_QK_K);
            memset(bsums, 0, sizeof bsums);
        } else {
            // The reference keeps the first element of largest magnitude, sign included.
            int first = 0;
            for (int c = 0; c < 16; c++) {
                const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + 16 * c)),
                                                         _mm512_set1_ps(amax), _CMP_EQ_OQ);
                if (hit) { first = 16 * c + __builtin_ctz(hit); break; }
            }
            const float iscale = -127.0f / x[first];
            for (int c = 0; c < 16; c++) {
                const __m512i q = round_q8(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * c), _mm512_set1_ps(iscale)));
                _mm_storeu_si128((__m128i *)(qs + 16 * c), _mm512_cvtepi32_epi8(q));
                bsums[c] = (int16_t)_mm512_reduce_add_epi32(q);
            }
            d = 1.0f / iscale;
        }
        memcpy(y, &d, 4);
        memcpy(y + RMAS_Q8_K_BSUMS, bsums, sizeof bsums);
    }
}

/// y[r] for R rows (R ≤ ROWS, a constant after inlining) of 32-element blocks of kind k.
///
/// Eight blocks at a time: their scales are converted and multiplied in one vector, then
/// spread per block pair; a remainder of fewer than eight blocks goes a pair at a time.
INLINE void gemv32(enum kind32 k, int n, const uint8_t *w, size_t stride, const uint8_t *x, float *y, const int R) {
    const int wb = wbytes(k), xb = affine(k) ? RMAS_Q8_1_BYTES : RMAS_Q8_0_BYTES, xqs = affine(k) ? 4 : 2;
    const size_t ahead = prefetch_distance(stride);
    __m512i spread, spread8[4];
    scale_spreads32(k, &spread, spread8);
    // Affine formats also add their m·s terms into the odd lanes of acc; the lanes are summed
    // at the end, so where a term lands does not matter.
    __m512 acc[ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    const int blocks = n / RMAS_QK;
    int b = 0;
    for (; b + 8 <= blocks; b += 8) {
        const uint8_t *xa = x + (size_t)b * xb;
        __m512i xq[4], init[4];
        for (int p = 0; p < 4; p++) {
            xq[p] = load2x256(xa + 2 * p * xb + xqs, xa + (2 * p + 1) * xb + xqs);
            init[p] = _mm512_setzero_si512();
            if (offset(k))
                init[p] = _mm512_sub_epi32(init[p], _mm512_dpbusd_epi32(init[p], _mm512_set1_epi8((char)offset(k)), xq[p]));
        }
        const __m512 xs = halves8(xa, xb, affine(k));
        for (int r = 0; r < R; r++) {
            const uint8_t *wa = w + r * stride + (size_t)b * wb;
            const __m512 prod = _mm512_mul_ps(halves8(wa, wb, affine(k)), xs);
            prefetch(wa + ahead, 8 * wb);
            if (affine(k)) acc[r] = _mm512_mask_add_ps(acc[r], 0xAAAA, acc[r], prod);
            for (int p = 0; p < 4; p++) {
                const __m512i sum = _mm512_dpbusd_epi32(init[p], weights32(k, wa + 2 * p * wb, wa + (2 * p + 1) * wb, 1), xq[p]);
                acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_permutexvar_ps(spread8[p], prod), acc[r]);
            }
        }
    }
    for (; b < blocks; b += 2) {
        const int two = b + 1 < blocks;
        const uint8_t *xa = x + (size_t)b * xb, *xb2 = xa + xb;
        // Activation side, shared by the R rows.
        const __m512i xq = two ? load2x256(xa + xqs, xb2 + xqs) : _mm512_zextsi256_si512(load256(xa + xqs));
        __m128 xs;  // [dx_a, sx_a, dx_b, sx_b] (s only for q8_1)
        if (affine(k)) xs = two ? halves2x2(xa, xb2) : _mm_cvtph_ps(_mm_cvtsi32_si128((int)rmas_ld32(xa)));
        else xs = two ? halves2(xa, xb2) : _mm_cvtph_ps(_mm_cvtsi32_si128(rmas_ld16(xa)));
        __m512i init = _mm512_setzero_si512();
        if (offset(k)) init = _mm512_sub_epi32(init, _mm512_dpbusd_epi32(init, _mm512_set1_epi8((char)offset(k)), xq));
        for (int r = 0; r < R; r++) {
            const uint8_t *wa = w + r * stride + (size_t)b * wb, *wb2 = wa + wb;
            prefetch(wa + ahead, 2 * wb);
            const __m512i sum = _mm512_dpbusd_epi32(init, weights32(k, wa, wb2, two), xq);
            __m128 ws;  // [d_a, m_a, d_b, m_b] (m only for the affine formats)
            if (affine(k)) ws = two ? halves2x2(wa, wb2) : _mm_cvtph_ps(_mm_cvtsi32_si128((int)rmas_ld32(wa)));
            else ws = two ? halves2(wa, wb2) : _mm_cvtph_ps(_mm_cvtsi32_si128(rmas_ld16(wa)));
            const __m128 prod = _mm_mul_ps(ws, xs);  // [d_a·dx_a, m_a·s_a, d_b·dx_b, m_b·s_b]
            if (affine(k)) acc[r] = _mm512_mask_add_ps(acc[r], 0xA, acc[r], _mm512_castps128_ps512(prod));
            const __m512 scale = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(prod));
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, acc[r]);
        }
    }
    for (int r = 0; r < R; r++) y[r] = _mm512_reduce_add_ps(acc[r]);
}

#define GEMV32(name, kind)                                                                              \
    TARGET static void name(int n, const void *w, size_t stride, const void *x, float *y, int64_t nrows) { \
        const uint8_t *row = w;                                                                         \
        int64_t r = 0;                                                                                  \
        for (; r + ROWS <= nrows; r += ROWS) gemv32(kind, n, row + r * stride, stride, x, y + r, ROWS); \
        for (; r < nrows; r++) gemv32(kind, n, row + r * stride, stride, x, y + r, 1);                  \
    }

GEMV32(gemv_q8_0, K_Q8_0)
GEMV32(gemv_q4_0, K_Q4_0)
GEMV32(gemv_q5_0, K_Q5_0)
GEMV32(gemv_q4_1, K_Q4_1)
GEMV32(gemv_q5_1, K_Q5_1)

// MARK: - K formats

/// q4_K (q5 = 0) and q5_K: y[r] for R rows.
INLINE void gemv_k45(int q5, int n, const uint8_t *w, size_t stride, const uint8_t *x, float *y, const int R) {
    const int wb = q5 ? RMAS_Q5_K_BYTES : RMAS_Q4_K_BYTES;
    const size_t ahead = prefetch_distance(stride);
    __m512 acc[ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    for (int b = 0; b < n / RMAS_QK_K; b++) {
        const uint8_t *xb = x + (size_t)b * RMAS_Q8_K_BYTES;
        __m512i xq[4];
        for (int i = 0; i < 4; i++) xq[i] = load512(xb + RMAS_Q8_K_QS + 64 * i);
        const __m256i bsums = load256(xb + RMAS_Q8_K_BSUMS);
        const __m128 dx = _mm_set1_ps(rmas_ldf32(xb));
        for (int r = 0; r < R; r++) {
            const uint8_t *wq = w + r * stride + (size_t)b * wb;
            prefetch(wq + ahead, wb);
            __m512i q[4], scales[4];
            __m256i mins;
            k45_block(q5, wq, q, scales, &mins);
            __m512i sum = _mm512_setzero_si512();
            for (int i = 0; i < 4; i++) sum = _mm512_dpwssd_epi32(sum, _mm512_maddubs_epi16(q[i], xq[i]), scales[i]);
            // Σ_j m_j·(bsums[2j] + bsums[2j+1]).
            const __m256i msum = _mm256_madd_epi16(bsums, mins);
            const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)rmas_ld32(wq))), dx);  // [d·dx, dmin·dx]
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_broadcastss_ps(dd), acc[r]);
            acc[r] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(_mm512_zextsi256_si512(msum)),
                                      _mm512_broadcastss_ps(_mm_movehdup_ps(dd)), acc[r]);
        }
    }
    for (int r = 0; r < R; r++) y[r] = _mm512_reduce_add_ps(acc[r]);
}

/// q6_K: y[r] for R rows.
INLINE void gemv_q6k(int n, const uint8_t *w, size_t stride, const uint8_t *x, float *y, const int R) {
    const size_t ahead = prefetch_distance(stride);
    __m512 acc[ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    for (int b = 0; b < n / RMAS_QK_K; b++) {
        const uint8_t *xb = x + (size_t)b * RMAS_Q8_K_BYTES;
        // Activations of elements 64k ..< 64k + 64, and 32·(pair sums) of them: subtracting
        // those from the unsigned products centres the quants at -32 in int16, exactly.
        __m512i xq[4], x32[4];
        for (int k = 0; k < 4; k++) {
            xq[k] = load512(xb + RMAS_Q8_K_QS + 64 * k);
            x32[k] = _mm512_maddubs_epi16(_mm512_set1_epi8(32), xq[k]);
        }
        const __m128 dx = _mm_set_ss(rmas_ldf32(xb));
        for (int r = 0; r < R; r++) {
            const uint8_t *wq = w + r * stride + (size_t)b * RMAS_Q6_K_BYTES;
            prefetch(wq + ahead, RMAS_Q6_K_BYTES);
            __m512i q[4], scales[4];
            q6k_block(wq, q, scales);
            __m512i sum = _mm512_setzero_si512();
            for (int k = 0; k < 4; k++)
                sum = _mm512_dpwssd_epi32(sum, _mm512_sub_epi16(_mm512_maddubs_epi16(q[k], xq[k]), x32[k]), scales[k]);
            const __m128 d = _mm_mul_ss(_mm_cvtph_ps(_mm_cvtsi32_si128(rmas_ld16(wq + RMAS_Q6_K_D))), dx);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_broadcastss_ps(d), acc[r]);
        }
    }
    for (int r = 0; r < R; r++) y[r] = _mm512_reduce_add_ps(acc[r]);
}

TARGET static void gemv_q4_K(int n, const void *w, size_t stride, const void *x, float *y, int64_t nrows) {
    const uint8_t *row = w;
    int64_t r = 0;
    for (; r + ROWS <= nrows; r += ROWS) gemv_k45(0, n, row + r * stride, stride, x, y + r, ROWS);
    for (; r < nrows; r++) gemv_k45(0, n, row + r * stride, stride, x, y + r, 1);
}

TARGET static void gemv_q5_K(int n, const void *w, size_t stride, const void *x, float *y, int64_t nrows) {
    const uint8_t *row = w;
    int64_t r = 0;
    for (; r + ROWS <= nrows; r += ROWS) gemv_k45(1, n, row + r * stride, stride, x, y + r, ROWS);
    for (; r < nrows; r++) gemv_k45(1, n, row + r * stride, stride, x, y + r, 1);
}

TARGET static void gemv_q6_K(int n, const void *w, size_t stride, const void *x, float *y, int64_t nrows) {
    const uint8_t *row = w;
    int64_t r = 0;
    for (; r + ROWS <= nrows; r += ROWS) gemv_q6k(n, row + r * stride, stride, x, y + r, ROWS);
    for (; r < nrows; r++) gemv_q6k(n, row + r * stride, stride, x, y + r, 1);
}

const rmas_kernel_table rmas_kernels_avx512 = {
    .quantize_q8_0 = quantize_q8_0,
    .quantize_q8_1 = quantize_q8_1,
    .quantize_q8_K = quantize_q8_K,
    .gemv = {
        [2] = gemv_q4_0, [3] = gemv_q4_1, [6] = gemv_q5_0, [7] = gemv_q5_1, [8] = gemv_q8_0,
        [12] = gemv_q4_K, [13] = gemv_q5_K, [14] = gemv_q6_K,
    },
    .gemm = {
        [2] = rmas_avx512_gemm_q4_0, [3] = rmas_avx512_gemm_q4_1, [6] = rmas_avx512_gemm_q5_0,
        [7] = rmas_avx512_gemm_q5_1, [8] = rmas_avx512_gemm_q8_0, [12] = rmas_avx512_gemm_q4_K,
        [13] = rmas_avx512_gemm_q5_K, [14] = rmas_avx512_gemm_q6_K,
    },
};
#endif
