// AVX-512 kernels of decode attention (few queries over a long KV span): the query heads that
// share one KV head read each key and value row once, and the per-key dot products are summed 16
// keys at a time through a register transpose.
//
// Provenance: the arithmetic is that of the Swift per-head loop (Sources/Kernels/Attention.swift,
// `attendOne` with `Dot.dot`/`Dot.axpy`), operation for operation, so the results are bit-for-bit
// equal: a score is the 16-lane fused chain acc = fma(q[16c..], k[16c..], acc) from zero over the
// head's chunks c, summed lane 0 → 15 in order (Swift's SIMD `sum()`), times the scale; an output
// element is the fused chain out = fma(p_j, v_j, out) from zero over keys j in order. The 16 × 16
// transpose is the usual unpack / shuffle_f32x4 network.
#if defined(__x86_64__) || defined(_M_X64)
#include "avx512_common.h"

/// r[j] (16 keys' lane vectors) → the 16 sums Σ_l r[j][l] in lane order, as one vector over j.
INLINE __m512 lane_sums16(__m512 r[16]) {
    __m512 column[16];
    transpose16(r, column);
    __m512 sum = column[0];
    for (int l = 1; l < 16; l++) sum = _mm512_add_ps(sum, column[l]);
    return sum;
}

/// The fused chain of one query chunk-set against one key: Σ over chunks, 16 lanes kept apart.
INLINE __m512 chain(const float *q, const float *k, int dh) {
    __m512 acc = _mm512_setzero_ps();
    for (int c = 0; c < dh; c += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + c), _mm512_loadu_ps(k + c), acc);
    return acc;
}

TARGET void rmas_avx512_attention_scores(int heads, int dh, int n, const float *q, const float *k, long stride,
                                         float scale, float *scores) {
    const __m512 s = _mm512_set1_ps(scale);
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        const float *block = k + (size_t)j * (size_t)stride;
        for (int g = 0; g < heads; g++) {
            __m512 r[16];
            for (int i = 0; i < 16; i++) r[i] = chain(q + (size_t)g * (size_t)dh, block + (size_t)i * (size_t)stride, dh);
            _mm512_storeu_ps(scores + (size_t)g * (size_t)n + j, _mm512_mul_ps(lane_sums16(r), s));
        }
    }
    for (; j < n; j++) {
        for (int g = 0; g < heads; g++) {
            float lanes[16];
            _mm512_storeu_ps(lanes, chain(q + (size_t)g * (size_t)dh, k + (size_t)j * (size_t)stride, dh));
            float total = lanes[0];
            for (int l = 1; l < 16; l++) total += lanes[l];
            scores[(size_t)g * (size_t)n + j] = total * scale;
        }
    }
}

/// out[g][c ..< c + 16·C] for G heads: fused chains over the n keys, each value chunk loaded once.
INLINE void mix_block(const int G, const int C, int n, const float *p, const float *v, long stride, int c,
                      float *out, int dh) {
    __m512 acc[8][2];
    for (int g = 0; g < G; g++)
        for (int i = 0; i < C; i++) acc[g][i] = _mm512_setzero_ps();
    for (int j = 0; j < n; j++) {
        const float *row = v + (size_t)j * (size_t)stride + c;
        __m512 value[2];
        for (int i = 0; i < C; i++) value[i] = _mm512_loadu_ps(row + 16 * i);
        for (int g = 0; g < G; g++) {
            const __m512 weight = _mm512_set1_ps(p[(size_t)g * (size_t)n + j]);
            for (int i = 0; i < C; i++) acc[g][i] = _mm512_fmadd_ps(weight, value[i], acc[g][i]);
        }
    }
    for (int g = 0; g < G; g++)
        for (int i = 0; i < C; i++) _mm512_storeu_ps(out + (size_t)g * (size_t)dh + c + 16 * i, acc[g][i]);
}

#define MIX_CASE(G)                                                                                  \
    case G:                                                                                          \
        if (C == 2) mix_block(G, 2, n, pg, v, stride, c, og, dh);                                    \
        else mix_block(G, 1, n, pg, v, stride, c, og, dh);                                            \
        break;

TARGET void rmas_avx512_attention_mix(int heads, int dh, int n, const float *p, const float *v, long stride, float *out) {
    for (int g0 = 0; g0 < heads; g0 += 8) {
        const int G = heads - g0 < 8 ? heads - g0 : 8;
        const float *pg = p + (size_t)g0 * (size_t)n;
        float *og = out + (size_t)g0 * (size_t)dh;
        for (int c = 0; c < dh; c += 32) {
            const int C = dh - c >= 32 ? 2 : 1;
            switch (G) {
                MIX_CASE(1) MIX_CASE(2) MIX_CASE(3) MIX_CASE(4) MIX_CASE(5) MIX_CASE(6) MIX_CASE(7) MIX_CASE(8)
            }
        }
    }
}
#endif
