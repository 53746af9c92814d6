// The AVX-512 VNNI kernel of the tiled 8-bit products (tiled_int8.c): per 16-row tile and
// 32-element block, 8 `vpdpbusd` per vector (the tile's 4 interleaved bytes of 16 rows against 4
// broadcast activation bytes), then per vector one convert and one FMA (one more for a min, or
// two of each for q6_K's two 16-element scales).
// Up to 8 vectors share each weight load: 8 integer and 8 float accumulators stay in registers.
//
// Provenance: this project's own (layout and reference in tiled_int8.c).
#if defined(__x86_64__) || defined(_M_X64)
#include "avx512_common.h"

INLINE __attribute__((no_builtin("memset"))) void tiled_tile(const int V, const int layout, int n, const uint8_t *tile, size_t bb,
                                                             const uint8_t *const *x, float *const *y, int64_t row0, int valid) {
    const int blocks = n / 32;
    __m512 acc[8];
    for (int v = 0; v < V; v++) acc[v] = _mm512_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const uint8_t *blk = tile + (size_t)b * bb;
        prefetch(blk + PREFETCH_BYTES, (int)bb);
        // Halves (q6_K): the 16 k of steps 0-3 and of 4-7 have their own scales, each summed
        // and scaled in turn; the other layouts scale the block's 32 k once.
        const int parts = layout == RMAS_TILED_HALVES ? 2 : 1, steps = 8 / parts;
        for (int part = 0; part < parts; part++) {
            __m512i s[8];
            for (int v = 0; v < V; v++) s[v] = _mm512_setzero_si512();
            for (int q = part * steps; q < (part + 1) * steps; q++) {
                const __m512i w = _mm512_load_si512((const void *)(blk + 64 * q));
                for (int v = 0; v < V; v++) {
                    int32_t four;
                    memcpy(&four, x[v] + 32 * b + 4 * q, 4);
                    s[v] = _mm512_dpbusd_epi32(s[v], _mm512_set1_epi32(four), w);
                }
            }
            const __m512 scale = _mm512_load_ps((const float *)(blk + 512 + 128 * part));
            const __m512i corr = _mm512_load_si512((const void *)(blk + 576 + 128 * part));
            for (int v = 0; v < V; v++) {
                const float *d = (const float *)(x[v] + n);
                acc[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(s[v], corr)), _mm512_mul_ps(scale, _mm512_set1_ps(d[b])),
                                         acc[v]);
            }
        }
        if (layout == RMAS_TILED_AFFINE) {
            const __m512 mn = _mm512_load_ps((const float *)(blk + 640));
            for (int v = 0; v < V; v++) {
                const float *dsum = (const float *)(x[v] + n) + blocks;
                acc[v] = _mm512_fmadd_ps(mn, _mm512_set1_ps(dsum[b]), acc[v]);
            }
        }
    }
    const __mmask16 m = valid >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << valid) - 1);
    for (int v = 0; v < V; v++) _mm512_mask_storeu_ps(y[v] + row0, m, acc[v]);
}

#define TILED_CASES(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)

TARGET __attribute__((no_builtin("memset"))) void rmas_avx512_tiled_rows(int n, int layout, const void *tiles, int64_t rows,
                                                                         const void *const *xq, float *const *y, int nvec,
                                                                         int64_t g0, int64_t g1) {
    const size_t bb = 640 + 64 * (size_t)layout, tile_bytes = (size_t)(n / 32) * bb;
    const uint8_t *const *x = (const uint8_t *const *)xq;
    for (int64_t g = g0; g < g1; g++) {
        const uint8_t *tile = (const uint8_t *)tiles + (size_t)g * tile_bytes;
        const int valid = rows - g * 16 < 16 ? (int)(rows - g * 16) : 16;
        switch (nvec * 4 + layout) {
#define TILED_CASE(V) \
        case 4 * V + RMAS_TILED_PLAIN: tiled_tile(V, RMAS_TILED_PLAIN, n, tile, bb, x, y, g * 16, valid); break; \
        case 4 * V + RMAS_TILED_AFFINE: tiled_tile(V, RMAS_TILED_AFFINE, n, tile, bb, x, y, g * 16, valid); break; \
        case 4 * V + RMAS_TILED_HALVES: tiled_tile(V, RMAS_TILED_HALVES, n, tile, bb, x, y, g * 16, valid); break;
            TILED_CASES(TILED_CASE)
#undef TILED_CASE
        default: break;
        }
    }
}
#endif
