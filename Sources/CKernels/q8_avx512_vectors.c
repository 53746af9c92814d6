// AVX-512 VNNI kernels for several activation vectors against one weight matrix (a batch of
// decode steps): each pass decodes a weight block once and dots it with up to VECS vectors.
//
// Provenance: the math and the per-(row, vector) order of operations are gemv32's in
// q8_avx512.c, so every y[v][r] is bit-for-bit what the single-vector kernel gives for vector v
// alone; only the weight decoding and scale conversion are shared between the vectors.
#if defined(__x86_64__) || defined(_M_X64)
#include "avx512_common.h"

/// Vectors per pass: one row's VECS float accumulators, its four decoded weight vectors and the
/// scale spreads stay in registers; activations come from L1.
#define VECS 4  // 8 measured 3× slower for q5_0 (spills)
/// Columns up to which the activations' scales are converted once per call (32 KiB of stack).
#define MAX_COLUMNS 16384
/// Columns up to which gemm32_prepared lays out each vector's side once per call (48 KiB of stack).
#define MAX_PREPARED_COLUMNS 4096

/// y[v][off + r] for `nrows` rows and V (≤ VECS) vectors of 32-element blocks of kind k. Rows go
/// one at a time, each decoded once for all V vectors: per (row, vector) the operations are
/// gemv32's, in its order, with the activation scales gemv32 converts per pass converted once
/// here (the same values).
INLINE void gemm32(enum kind32 k, int n, const uint8_t *w, size_t stride, const void *const *x, float *const *y,
                   int64_t off, int64_t nrows, const int V) {
    const int wb = wbytes(k), xb = affine(k) ? RMAS_Q8_1_BYTES : RMAS_Q8_0_BYTES, xqs = affine(k) ? 4 : 2;
    const size_t ahead = prefetch_distance(stride);
    __m512i spread, spread8[4];
    scale_spreads32(k, &spread, spread8);
    const int blocks = n / RMAS_QK, chunks = blocks / 8;
    // Each vector's eight-block scale vectors, as gemv32's halves8 gives them.
    float xsf[VECS][MAX_COLUMNS / 256][16] __attribute__((aligned(64)));
    for (int v = 0; v < V; v++)
        for (int c = 0; c < chunks; c++)
            _mm512_store_ps(xsf[v][c], halves8((const uint8_t *)x[v] + (size_t)c * 8 * xb, xb, affine(k)));
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *row = w + r * stride;
        __m512 acc[VECS];
        for (int v = 0; v < V; v++) acc[v] = _mm512_setzero_ps();
        int b = 0;
        for (int c = 0; c < chunks; c++, b += 8) {
            const uint8_t *wa = row + (size_t)b * wb;
            const __m512 ws = halves8(wa, wb, affine(k));
            prefetch(wa + ahead, 8 * wb);
            __m512i wq[4];
            for (int p = 0; p < 4; p++) wq[p] = weights32(k, wa + 2 * p * wb, wa + (2 * p + 1) * wb, 1);
            for (int v = 0; v < V; v++) {
                const uint8_t *xa = (const uint8_t *)x[v] + (size_t)b * xb;
                const __m512 prod = _mm512_mul_ps(ws, _mm512_load_ps(xsf[v][c]));
                if (affine(k)) acc[v] = _mm512_mask_add_ps(acc[v], 0xAAAA, acc[v], prod);
                for (int p = 0; p < 4; p++) {
                    const __m512i xq = load2x256(xa + 2 * p * xb + xqs, xa + (2 * p + 1) * xb + xqs);
                    __m512i init = _mm512_setzero_si512();
                    if (offset(k)) init = _mm512_sub_epi32(init, _mm512_dpbusd_epi32(init, _mm512_set1_epi8((char)offset(k)), xq));
                    const __m512i sum = _mm512_dpbusd_epi32(init, wq[p], xq);
                    acc[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_permutexvar_ps(spread8[p], prod), acc[v]);
                }
            }
        }
        for (; b < blocks; b += 2) {
            const int two = b + 1 < blocks;
            const uint8_t *wa = row + (size_t)b * wb, *wb2 = wa + wb;
            prefetch(wa + ahead, 2 * wb);
            const __m512i wq = weights32(k, wa, wb2, two);
            __m128 ws;
            if (affine(k)) ws = two ? halves2x2(wa, wb2) : _mm_cvtph_ps(_mm_cvtsi32_si128((int)rmas_ld32(wa)));
            else ws = two ? halves2(wa, wb2) : _mm_cvtph_ps(_mm_cvtsi32_si128(rmas_ld16(wa)));
            for (int v = 0; v < V; v++) {
                const uint8_t *xa = (const uint8_t *)x[v] + (size_t)b * xb, *xb2 = xa + xb;
                const __m512i xq = two ? load2x256(xa + xqs, xb2 + xqs) : _mm512_zextsi256_si512(load256(xa + xqs));
                __m128 xs;
                if (affine(k)) xs = two ? halves2x2(xa, xb2) : _mm_cvtph_ps(_mm_cvtsi32_si128((int)rmas_ld32(xa)));
                else xs = two ? halves2(xa, xb2) : _mm_cvtph_ps(_mm_cvtsi32_si128(rmas_ld16(xa)));
                __m512i init = _mm512_setzero_si512();
                if (offset(k)) init = _mm512_sub_epi32(init, _mm512_dpbusd_epi32(init, _mm512_set1_epi8((char)offset(k)), xq));
                const __m512i sum = _mm512_dpbusd_epi32(init, wq, xq);
                const __m128 prod = _mm_mul_ps(ws, xs);
                if (affine(k)) acc[v] = _mm512_mask_add_ps(acc[v], 0xA, acc[v], _mm512_castps128_ps512(prod));
                const __m512 scale = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(prod));
                acc[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, acc[v]);
            }
        }
        for (int v = 0; v < V; v++) y[v][off + r] = _mm512_reduce_add_ps(acc[v]);
    }
}

/// gemm32 for the offset formats (q8_0, q4_0, q5_0) with rows of at most MAX_PREPARED_COLUMNS:
/// what depends only on a vector is laid out once per call, so the per-(row, vector) work is the
/// dot product and its scaling. Per block pair and vector: the quants as one 64-byte vector, the
/// offset terms −Σ offset·x per 4-byte lane, and (eight-block passes) the activation scales
/// already spread over the pair's lanes; per row and pair the weight scales are spread once. Each
/// lane's scale is still d·dx, one float product, and the integer sums are gemv32's, so every
/// y[v][r] equals gemv32's bit for bit.
INLINE void gemm32_prepared(enum kind32 k, int n, const uint8_t *w, size_t stride, const void *const *x, float *const *y,
                            int64_t off, int64_t nrows, const int V) {
    const int wb = wbytes(k), xb = RMAS_Q8_0_BYTES, xqs = 2;
    const size_t ahead = prefetch_distance(stride);
    __m512i spread, spread8[4];
    scale_spreads32(k, &spread, spread8);
    const int blocks = n / RMAS_QK, chunks = blocks / 8, pairs = (blocks + 1) / 2;
    __m512i xq[VECS][MAX_PREPARED_COLUMNS / 64] __attribute__((aligned(64)));
    __m512i xinit[VECS][MAX_PREPARED_COLUMNS / 64] __attribute__((aligned(64)));
    __m512 xscale[VECS][MAX_PREPARED_COLUMNS / 64] __attribute__((aligned(64)));  // pairs of the eight-block passes
    const __m512i zero = _mm512_setzero_si512(), offsets = _mm512_set1_epi8((char)offset(k));
    for (int v = 0; v < V; v++) {
        const uint8_t *xv = (const uint8_t *)x[v];
        for (int q = 0; q < pairs; q++) {
            const uint8_t *xa = xv + (size_t)2 * q * xb;
            xq[v][q] = 2 * q + 1 < blocks ? load2x256(xa + xqs, xa + xb + xqs) : _mm512_zextsi256_si512(load256(xa + xqs));
            xinit[v][q] = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, offsets, xq[v][q]));
        }
        for (int c = 0; c < chunks; c++) {
            const __m512 xs = halves8(xv + (size_t)c * 8 * xb, xb, 0);
            for (int p = 0; p < 4; p++) xscale[v][4 * c + p] = _mm512_permutexvar_ps(spread8[p], xs);
        }
    }
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *row = w + r * stride;
        __m512 acc[VECS];
        for (int v = 0; v < V; v++) acc[v] = _mm512_setzero_ps();
        int b = 0;
        for (int c = 0; c < chunks; c++, b += 8) {
            const uint8_t *wa = row + (size_t)b * wb;
            const __m512 ws = halves8(wa, wb, 0);
            prefetch(wa + ahead, 8 * wb);
            __m512i wq[4];
            __m512 wscale[4];
            for (int p = 0; p < 4; p++) {
                wq[p] = weights32(k, wa + 2 * p * wb, wa + (2 * p + 1) * wb, 1);
                wscale[p] = _mm512_permutexvar_ps(spread8[p], ws);
            }
            for (int v = 0; v < V; v++)
                for (int p = 0; p < 4; p++) {
                    const __m512i sum = _mm512_dpbusd_epi32(xinit[v][b / 2 + p], wq[p], xq[v][b / 2 + p]);
                    acc[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(wscale[p], xscale[v][4 * c + p]), acc[v]);
                }
        }
        for (; b < blocks; b += 2) {
            const int two = b + 1 < blocks;
            const uint8_t *wa = row + (size_t)b * wb, *wb2 = wa + wb;
            prefetch(wa + ahead, 2 * wb);
            const __m512i wq = weights32(k, wa, wb2, two);
            const __m128 ws = two ? halves2(wa, wb2) : _mm_cvtph_ps(_mm_cvtsi32_si128(rmas_ld16(wa)));
            for (int v = 0; v < V; v++) {
                const uint8_t *xa = (const uint8_t *)x[v] + (size_t)b * xb;
                const __m128 xs = two ? halves2(xa, xa + xb) : _mm_cvtph_ps(_mm_cvtsi32_si128(rmas_ld16(xa)));
                const __m512i sum = _mm512_dpbusd_epi32(xinit[v][b / 2], wq, xq[v][b / 2]);
                const __m512 scale = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(_mm_mul_ps(ws, xs)));
                acc[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, acc[v]);
            }
        }
        for (int v = 0; v < V; v++) y[v][off + r] = _mm512_reduce_add_ps(acc[v]);
    }
}

// MARK: - K formats

/// Blocks up to which the K kernels keep per-vector activation terms on the stack (32 KiB).
#define MAX_K_BLOCKS 32

/// q4_K (q5 = 0) and q5_K: y[v][off + r] for `nrows` rows and V (≤ VECS) vectors; per (row,
/// vector) gemv_k45's operations in its order, each row's block decoded once (k45_block).
INLINE void gemm_k45(int q5, int n, const uint8_t *w, size_t stride, const void *const *x, float *const *y,
                     int64_t off, int64_t nrows, const int V) {
    const int wb = q5 ? RMAS_Q5_K_BYTES : RMAS_Q4_K_BYTES;
    const size_t ahead = prefetch_distance(stride);
    const int blocks = n / RMAS_QK_K;
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *row = w + r * stride;
        __m512 acc[VECS];
        for (int v = 0; v < V; v++) acc[v] = _mm512_setzero_ps();
        for (int b = 0; b < blocks; b++) {
            const uint8_t *wq = row + (size_t)b * wb;
            prefetch(wq + ahead, wb);
            __m512i q[4], scales[4];
            __m256i mins;
            k45_block(q5, wq, q, scales, &mins);
            const __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128((int)rmas_ld32(wq)));
            for (int v = 0; v < V; v++) {
                const uint8_t *xb = (const uint8_t *)x[v] + (size_t)b * RMAS_Q8_K_BYTES;
                __m512i sum = _mm512_setzero_si512();
                for (int i = 0; i < 4; i++)
                    sum = _mm512_dpwssd_epi32(sum, _mm512_maddubs_epi16(q[i], load512(xb + RMAS_Q8_K_QS + 64 * i)), scales[i]);
                const __m256i msum = _mm256_madd_epi16(load256(xb + RMAS_Q8_K_BSUMS), mins);
                const __m128 dd = _mm_mul_ps(dw, _mm_set1_ps(rmas_ldf32(xb)));  // [d·dx, dmin·dx]
                acc[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_broadcastss_ps(dd), acc[v]);
                acc[v] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(_mm512_zextsi256_si512(msum)),
                                          _mm512_broadcastss_ps(_mm_movehdup_ps(dd)), acc[v]);
            }
        }
        for (int v = 0; v < V; v++) y[v][off + r] = _mm512_reduce_add_ps(acc[v]);
    }
}

/// q6_K: y[v][off + r] for `nrows` rows and V (≤ VECS) vectors; per (row, vector) gemv_q6k's
/// operations in its order, each row's block decoded once (q6k_block). The activations' 32·(pair
/// sums) are computed once per call (≤ MAX_K_BLOCKS blocks).
INLINE void gemm_q6k(int n, const uint8_t *w, size_t stride, const void *const *x, float *const *y, int64_t off,
                     int64_t nrows, const int V) {
    const size_t ahead = prefetch_distance(stride);
    const int blocks = n / RMAS_QK_K;
    __m512i x32[VECS][MAX_K_BLOCKS][4];
    for (int v = 0; v < V; v++)
        for (int b = 0; b < blocks; b++)
            for (int k = 0; k < 4; k++)
                x32[v][b][k] = _mm512_maddubs_epi16(_mm512_set1_epi8(32),
                                                    load512((const uint8_t *)x[v] + (size_t)b * RMAS_Q8_K_BYTES + RMAS_Q8_K_QS + 64 * k));
    for (int64_t r = 0; r < nrows; r++) {
        const uint8_t *row = w + r * stride;
        __m512 acc[VECS];
        for (int v = 0; v < V; v++) acc[v] = _mm512_setzero_ps();
        for (int b = 0; b < blocks; b++) {
            const uint8_t *wq = row + (size_t)b * RMAS_Q6_K_BYTES;
            prefetch(wq + ahead, RMAS_Q6_K_BYTES);
            __m512i q[4], scales[4];
            q6k_block(wq, q, scales);
            const __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128(rmas_ld16(wq + RMAS_Q6_K_D)));
            for (int v = 0; v < V; v++) {
                const uint8_t *xb = (const uint8_t *)x[v] + (size_t)b * RMAS_Q8_K_BYTES;
                __m512i sum = _mm512_setzero_si512();
                for (int k = 0; k < 4; k++)
                    sum = _mm512_dpwssd_epi32(
                        sum, _mm512_sub_epi16(_mm512_maddubs_epi16(q[k], load512(xb + RMAS_Q8_K_QS + 64 * k)), x32[v][b][k]), scales[k]);
                const __m128 d = _mm_mul_ss(dw, _mm_set_ss(rmas_ldf32(xb)));
                acc[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_broadcastss_ps(d), acc[v]);
            }
        }
        for (int v = 0; v < V; v++) y[v][off + r] = _mm512_reduce_add_ps(acc[v]);
    }
}

// MARK: - Entry points

/// One pass of V (≤ VECS, a constant after inlining) vectors over `nrows` rows of GGML type `type`.
INLINE void gemm_pass(int type, int n, const uint8_t *w, size_t stride, const void *const *x, float *const *y, int64_t off,
                      int64_t nrows, const int V) {
    switch (type) {
    case 2:
        if (n <= MAX_PREPARED_COLUMNS) gemm32_prepared(K_Q4_0, n, w, stride, x, y, off, nrows, V);
        else gemm32(K_Q4_0, n, w, stride, x, y, off, nrows, V);
        break;
    case 3: gemm32(K_Q4_1, n, w, stride, x, y, off, nrows, V); break;
    case 6:
        if (n <= MAX_PREPARED_COLUMNS) gemm32_prepared(K_Q5_0, n, w, stride, x, y, off, nrows, V);
        else gemm32(K_Q5_0, n, w, stride, x, y, off, nrows, V);
        break;
    case 7: gemm32(K_Q5_1, n, w, stride, x, y, off, nrows, V); break;
    case 8:
        if (n <= MAX_PREPARED_COLUMNS) gemm32_prepared(K_Q8_0, n, w, stride, x, y, off, nrows, V);
        else gemm32(K_Q8_0, n, w, stride, x, y, off, nrows, V);
        break;
    case 12: gemm_k45(0, n, w, stride, x, y, off, nrows, V); break;
    case 13: gemm_k45(1, n, w, stride, x, y, off, nrows, V); break;
    default: gemm_q6k(n, w, stride, x, y, off, nrows, V); break;
    }
}

/// Vectors VECS at a time (constant-V passes keep the accumulators in registers). Rows longer than
/// the passes' stack arrays hold (MAX_COLUMNS; q6_K: MAX_K_BLOCKS blocks) use the single-vector
/// kernel per vector.
INLINE void gemm_groups(int type, int n, const uint8_t *w, size_t stride, const void *const *x, float *const *y, int64_t off,
                        int nvec, int64_t nrows) {
    const int fits = type == 14 ? n / RMAS_QK_K <= MAX_K_BLOCKS : type >= 12 || n <= MAX_COLUMNS;
    for (int v = 0; v < nvec; v += VECS) {
        const int left = nvec - v < VECS ? nvec - v : VECS;
        if (!fits) {
            for (int u = 0; u < left; u++) rmas_kernels_avx512.gemv[type](n, w, stride, x[v + u], y[v + u] + off, nrows);
            continue;
        }
        switch (left) {
        case 4: gemm_pass(type, n, w, stride, x + v, y + v, off, nrows, 4); break;
        case 3: gemm_pass(type, n, w, stride, x + v, y + v, off, nrows, 3); break;
        case 2: gemm_pass(type, n, w, stride, x + v, y + v, off, nrows, 2); break;
        default: gemm_pass(type, n, w, stride, x + v, y + v, off, nrows, 1); break;
        }
    }
}

#define GEMM(name, type)                                                                                     \
    TARGET void name(int n, const void *w, size_t stride, const void *const *x, float *const *y, int64_t off, \
                     int nvec, int64_t nrows) {                                                              \
        gemm_groups(type, n, w, stride, x, y, off, nvec, nrows);                                             \
    }

GEMM(rmas_avx512_gemm_q4_0, 2)
GEMM(rmas_avx512_gemm_q4_1, 3)
GEMM(rmas_avx512_gemm_q5_0, 6)
GEMM(rmas_avx512_gemm_q5_1, 7)
GEMM(rmas_avx512_gemm_q8_0, 8)
GEMM(rmas_avx512_gemm_q4_K, 12)
GEMM(rmas_avx512_gemm_q5_K, 13)
GEMM(rmas_avx512_gemm_q6_K, 14)
#endif
