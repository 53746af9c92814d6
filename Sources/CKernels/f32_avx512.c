// AVX-512 dots of a quantized weight row with fp32 activations (the exact `float32` matvec path:
// latent rollouts, training forwards), for q8_0, q5_0, q4_1, q4_K and q6_K.
//
// Provenance: block layouts are ggml's; the order of every float operation is that of the Swift
// kernels (Sources/Kernels/Quant/QuantFormat.swift `decodeDot` / `DotSink`), so each dot is
// bit-for-bit what they return: per block, partial = q[0..<16]·x (products rounded), then
// partial += q[16..<32]·x fused, then acc += partial·d fused, blocks alternating between two
// 16-lane accumulators (an odd last block into the first); the total is ((acc0 + acc1) + (0 + 0))
// summed as halves (8 + 8, 4 + 4, 2 + 2, then lane 0 + lane 1). Quants become floats exactly.
// q4_1 and the K formats follow the Swift `DotSink.take(_:at:)` instead: each 16 weights (q4_1:
// fma(q, d, m); q4_K: fma(q, d·sc, −dmin·m); q6_K: (d·sc) × (q − 32)) fused into accumulator
// (offset / 16) mod 4 (offsets within a pair of blocks for q4_1), the total
// ((acc0 + acc1) + (acc2 + acc3)) summed as halves.
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

// q8_0 / q5_0 rows r0 ..< r1 against V ≤ 8 vectors (16 accumulators + the quants stay in
// registers): each row's blocks are decoded once and taken into every vector's two accumulators,
// so the decoding (most of a single dot's work) is shared while each vector sees exactly the
// single dot's operations in its order (V = 1 is the single dot).
INLINE void rows_vectors(const int V, const int q5, int n, const uint8_t *w, size_t stride, int64_t r0, int64_t r1,
                         const float *const *x, float *const *y) {
    const int blocks = n / RMAS_QK;
    const size_t bytes = q5 ? RMAS_Q5_0_BYTES : RMAS_Q8_0_BYTES;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * stride;
        __m512 acc0[8], acc1[8], q0, q1;
        for (int v = 0; v < V; v++) acc0[v] = acc1[v] = _mm512_setzero_ps();
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            const uint8_t *a = row + (size_t)b * bytes, *c = a + bytes;
            prefetch(a + PREFETCH_BYTES, 2 * (int)bytes);
            if (q5) quants_q5_0(a, &q0, &q1); else quants_q8_0(a, &q0, &q1);
            for (int v = 0; v < V; v++) acc0[v] = take_block(acc0[v], q0, q1, x[v] + (size_t)b * RMAS_QK, a);
            if (q5) quants_q5_0(c, &q0, &q1); else quants_q8_0(c, &q0, &q1);
            for (int v = 0; v < V; v++) acc1[v] = take_block(acc1[v], q0, q1, x[v] + (size_t)b * RMAS_QK + RMAS_QK, c);
        }
        if (b < blocks) {
            const uint8_t *a = row + (size_t)b * bytes;
            if (q5) quants_q5_0(a, &q0, &q1); else quants_q8_0(a, &q0, &q1);
            for (int v = 0; v < V; v++) acc0[v] = take_block(acc0[v], q0, q1, x[v] + (size_t)b * RMAS_QK, a);
        }
        for (int v = 0; v < V; v++) y[v][r] = total(acc0[v], acc1[v]);
    }
}

TARGET void rmas_avx512_rows_f32(int q5, int n, const void *w, size_t stride, int64_t r0, int64_t r1, const float *const *x,
                                 float *const *y, int nvec) {
    for (int v0 = 0; v0 < nvec; v0 += 8) {
        const int V = nvec - v0 < 8 ? nvec - v0 : 8;
        switch (V * 2 + (q5 != 0)) {
#define ROWS_CASE(K) \
        case 2 * K: rows_vectors(K, 0, n, w, stride, r0, r1, x + v0, y + v0); break; \
        case 2 * K + 1: rows_vectors(K, 1, n, w, stride, r0, r1, x + v0, y + v0); break;
            ROWS_CASE(1) ROWS_CASE(2) ROWS_CASE(3) ROWS_CASE(4) ROWS_CASE(5) ROWS_CASE(6) ROWS_CASE(7) ROWS_CASE(8)
#undef ROWS_CASE
        default: break;
        }
    }
}
TARGET float rmas_avx512_dot_f32_q8_0(int n, const void *w, const float *x) {
    float y = 0, *out = &y;
    rows_vectors(1, 0, n, w, 0, 0, 1, &x, &out);
    return y;
}

TARGET float rmas_avx512_dot_f32_q5_0(int n, const void *w, const float *x) {
    float y = 0, *out = &y;
    rows_vectors(1, 1, n, w, 0, 0, 1, &x, &out);
    return y;
}

// MARK: - Four accumulators per vector: q4_K, q6_K (256-element super-blocks) and q4_1

enum { F_Q4_K, F_Q6_K, F_Q4_1 };

/// The Swift kernels' horizontalSum of (acc0 + acc1) + (acc2 + acc3).
INLINE float total4(const __m512 *acc) {
    const __m512 v = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    const __m256 eight = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    const __m128 four = _mm_add_ps(_mm256_castps256_ps128(eight), _mm256_extractf128_ps(eight, 1));
    const __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
    return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
}

/// One q4_K super-block into V vectors' accumulators (acc[4·v + i]); x[v] + at is its first element.
INLINE void take_q4_k(const int V, const uint8_t *blk, const float *const *x, size_t at, __m512 *acc) {
    const float d = _cvtsh_ss(rmas_ld16(blk)), dmin = _cvtsh_ss(rmas_ld16(blk + 2));
    uint8_t sc[8], mn[8];
    rmas_unpack_k_scales(blk + RMAS_K_SCALES, sc, mn);
    const __m128i low4 = _mm_set1_epi8(0x0F);
    for (int pair = 0; pair < 4; pair++) {
        const __m512 lowD = _mm512_set1_ps(d * (float)sc[2 * pair]), lowM = _mm512_set1_ps(-(dmin * (float)mn[2 * pair]));
        const __m512 highD = _mm512_set1_ps(d * (float)sc[2 * pair + 1]), highM = _mm512_set1_ps(-(dmin * (float)mn[2 * pair + 1]));
        for (int half = 0; half < 2; half++) {
            const __m128i bytes = load128(blk + RMAS_Q4_K_QS + 32 * pair + 16 * half);
            const __m512i lo = _mm512_cvtepu8_epi32(_mm_and_si128(bytes, low4));
            const __m512i hi = _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(bytes, 4), low4));
            const __m512 wl = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), lowD, lowM);
            const __m512 wh = _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), highD, highM);
            const size_t o = at + 64 * (size_t)pair + 16 * (size_t)half;
            for (int v = 0; v < V; v++) {
                acc[4 * v + half] = _mm512_fmadd_ps(wl, _mm512_loadu_ps(x[v] + o), acc[4 * v + half]);
                acc[4 * v + half + 2] = _mm512_fmadd_ps(wh, _mm512_loadu_ps(x[v] + o + 32), acc[4 * v + half + 2]);
            }
        }
    }
}

/// One q6_K super-block into V vectors' accumulators, as take_q4_k.
INLINE void take_q6_k(const int V, const uint8_t *blk, const float *const *x, size_t at, __m512 *acc) {
    const float d = _cvtsh_ss(rmas_ld16(blk + RMAS_Q6_K_D));
    const int8_t *scales = (const int8_t *)(blk + RMAS_Q6_K_SCALES);
    const __m128i three = _mm_set1_epi8(3), low4 = _mm_set1_epi8(0x0F), centre = _mm_set1_epi8(32);
    for (int half = 0; half < 2; half++) {
        for (int l = 0; l < 32; l += 16) {
            // Byte lanes (16-bit shifts: the masks keep each byte's own bits), centred, then widened.
            const __m128i a = load128(blk + 64 * half + l), b = load128(blk + 64 * half + 32 + l);
            const __m128i h = load128(blk + RMAS_Q6_K_QH + 32 * half + l);
            __m128i q[4];
            q[0] = _mm_or_si128(_mm_and_si128(a, low4), _mm_slli_epi16(_mm_and_si128(h, three), 4));
            q[1] = _mm_or_si128(_mm_and_si128(b, low4), _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(h, 2), three), 4));
            q[2] = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(a, 4), low4), _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(h, 4), three), 4));
            q[3] = _mm_or_si128(_mm_and_si128(_mm_srli_epi16(b, 4), low4), _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(h, 6), three), 4));
            const int e = 128 * half + l;
            for (int k = 0; k < 4; k++) {
                const __m512 w = _mm512_mul_ps(_mm512_set1_ps(d * (float)scales[(e + 32 * k) / 16]),
                                               _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_sub_epi8(q[k], centre))));
                const int i = l / 16 + (k & 1) * 2;
                for (int v = 0; v < V; v++)
                    acc[4 * v + i] = _mm512_fmadd_ps(w, _mm512_loadu_ps(x[v] + at + (size_t)(e + 32 * k)), acc[4 * v + i]);
            }
        }
    }
}

/// One q4_1 block (32 elements, `b`-th of its row) into V vectors' accumulators: its low and high
/// 16 weights, fma(q, d, m), go to accumulators 2·(b mod 2) and 2·(b mod 2) + 1 (the Swift
/// sink's offsets within a pair of blocks).
INLINE void take_q4_1(const int V, const uint8_t *blk, int b, const float *const *x, __m512 *acc) {
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(rmas_ld16(blk))), m = _mm512_set1_ps(_cvtsh_ss(rmas_ld16(blk + 2)));
    const __m128i bytes = load128(blk + 4), low4 = _mm_set1_epi8(0x0F);
    const __m512 wl = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(bytes, low4))), d, m);
    const __m512 wh = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(bytes, 4), low4))), d, m);
    const int i = 2 * (b & 1);
    const size_t at = 32 * (size_t)b;
    for (int v = 0; v < V; v++) {
        acc[4 * v + i] = _mm512_fmadd_ps(wl, _mm512_loadu_ps(x[v] + at), acc[4 * v + i]);
        acc[4 * v + i + 1] = _mm512_fmadd_ps(wh, _mm512_loadu_ps(x[v] + at + 16), acc[4 * v + i + 1]);
    }
}

/// Rows r0 ..< r1 of a four-accumulator format (F_Q4_K, F_Q6_K, F_Q4_1) against V ≤ 4 vectors.
INLINE void rows_k(const int V, const int format, int n, const uint8_t *w, size_t stride, int64_t r0, int64_t r1,
                   const float *const *x, float *const *y) {
    const int elements = format == F_Q4_1 ? 32 : 256, blocks = n / elements;
    const size_t bytes = format == F_Q4_1 ? RMAS_Q4_1_BYTES : format == F_Q6_K ? RMAS_Q6_K_BYTES : RMAS_Q4_K_BYTES;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * stride;
        __m512 acc[16];
        for (int i = 0; i < 4 * V; i++) acc[i] = _mm512_setzero_ps();
        for (int b = 0; b < blocks; b++) {
            const uint8_t *blk = row + (size_t)b * bytes;
            prefetch(blk + PREFETCH_BYTES, (int)bytes);
            switch (format) {
            case F_Q6_K: take_q6_k(V, blk, x, 256 * (size_t)b, acc); break;
            case F_Q4_K: take_q4_k(V, blk, x, 256 * (size_t)b, acc); break;
            default: take_q4_1(V, blk, b, x, acc); break;
            }
        }
        for (int v = 0; v < V; v++) y[v][r] = total4(acc + 4 * v);
    }
}

/// The ggml type id's format, or -1.
static int four_accumulator_format(int weight_type) {
    return weight_type == 12 ? F_Q4_K : weight_type == 14 ? F_Q6_K : weight_type == 3 ? F_Q4_1 : -1;
}

TARGET float rmas_avx512_dot_f32_acc4(int weight_type, int n, const void *w, const float *x) {
    float y = 0, *out = &y;
    switch (four_accumulator_format(weight_type)) {
    case F_Q4_K: rows_k(1, F_Q4_K, n, w, 0, 0, 1, &x, &out); break;
    case F_Q6_K: rows_k(1, F_Q6_K, n, w, 0, 0, 1, &x, &out); break;
    case F_Q4_1: rows_k(1, F_Q4_1, n, w, 0, 0, 1, &x, &out); break;
    default: return __builtin_nanf("");
    }
    return y;
}

TARGET void rmas_avx512_rows_f32_acc4(int weight_type, int n, const void *w, size_t stride, int64_t r0, int64_t r1,
                                      const float *const *x, float *const *y, int nvec) {
    const int format = four_accumulator_format(weight_type);
    for (int v0 = 0; v0 < nvec; v0 += 4) {
        const int V = nvec - v0 < 4 ? nvec - v0 : 4;
        switch (V * 4 + format) {
#define ROWS_K_CASE(K) \
        case 4 * K + F_Q4_K: rows_k(K, F_Q4_K, n, w, stride, r0, r1, x + v0, y + v0); break; \
        case 4 * K + F_Q6_K: rows_k(K, F_Q6_K, n, w, stride, r0, r1, x + v0, y + v0); break; \
        case 4 * K + F_Q4_1: rows_k(K, F_Q4_1, n, w, stride, r0, r1, x + v0, y + v0); break;
            ROWS_K_CASE(1) ROWS_K_CASE(2) ROWS_K_CASE(3) ROWS_K_CASE(4)
#undef ROWS_K_CASE
        default: break;
        }
    }
}
#endif
