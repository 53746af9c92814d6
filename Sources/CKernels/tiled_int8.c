// Tiled 8-bit decode products: a quantized weight matrix repacked once into tiles of 16 rows,
// each row's 32-element blocks held as exact int8 values with an fp32 scale (and min), bytes
// interleaved 4 at a time across the 16 rows. One `vpdpbusd` then advances 16 rows by 4 k for one
// activation vector, with the 4 activation bytes broadcast, and a block's 16 integer dots are
// complete after 8 of them: its scaling is one convert and one FMA per vector for 16 rows × 32 k.
// The row-major kernels (q8_avx512*.c) instead finish 16 partial sums per (row, vector) and scale
// each per block, which bounds them to ~40 GMAC/s per core on Zen 4 against ~150–190 here
// (measured, 8 vectors). Integer dots are exact, so this differs from the row-major kernels only
// by the order of the float sums; every result is the same function of its own row and vector
// whatever the other vectors, the thread split or the instruction set (the portable C below
// does the same float operations in the same order).
//
// Provenance: interleaving weight rows so that SIMD lanes hold output rows is the usual repacked
// GEMM layout (llama.cpp's repacked q4_0 8×8 kernels do the same for ARM and AVX); this
// project's code, block layouts per ggml's definitions.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

// MARK: - Decoding a weight row into int8 blocks

/// GGML type ids of the formats repacked here.
enum { T_Q4_0 = 2, T_Q4_1 = 3, T_Q5_0 = 6, T_Q5_1 = 7, T_Q8_0 = 8, T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14 };

static inline float f16(const uint8_t *p) { return rmas_f16_to_f32(rmas_ld16(p)); }

int rmas_tiled_supported(int weight_type) {
    switch (weight_type) {
    case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0:
    case T_Q4_K: case T_Q5_K: case T_Q6_K: return 1;
    default: return 0;
    }
}

int rmas_tiled_layout(int weight_type) {
    if (weight_type == T_Q6_K) return RMAS_TILED_HALVES;
    return weight_type == T_Q4_1 || weight_type == T_Q5_1 || weight_type == T_Q4_K || weight_type == T_Q5_K
               ? RMAS_TILED_AFFINE : RMAS_TILED_PLAIN;
}

/// Row `row` (n columns) as n/32 blocks: q[32·b + i] exact integers, W = scale[b]·q + min[b]
/// (q6_K: scale[b] for i < 16, high[b] for i ≥ 16, no min).
static void decode_row(int type, const uint8_t *row, int n, int8_t *q, float *scale, float *high, float *min) {
    const int blocks = n / 32;
    if (type == T_Q6_K) {  // 16 sub-blocks of 16 per 256: d·sc[j]·(q − 32), q 4 low bits + 2 high
        for (int s = 0; s < n / 256; s++) {
            const uint8_t *blk = row + (size_t)s * RMAS_Q6_K_BYTES;
            const uint8_t *ql = blk, *qh = blk + RMAS_Q6_K_QH;
            const int8_t *sc = (const int8_t *)(blk + RMAS_Q6_K_SCALES);
            const float d = f16(blk + RMAS_Q6_K_D);
            for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8) {  // halves of 128
                for (int l = 0; l < 32; l++) {
                    const int base = s * 256 + h * 128;
                    q[base + l] = (int8_t)(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                    q[base + l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                    q[base + l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                    q[base + l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
                }
                for (int m = 0; m < 4; m++) {  // 32-blocks of this half: sub-blocks 2m, 2m + 1
                    const int b = s * 8 + h * 4 + m;
                    scale[b] = d * (float)sc[2 * m];
                    high[b] = d * (float)sc[2 * m + 1];
                    min[b] = 0;
                }
            }
        }
        return;
    }
    if (type == T_Q4_K || type == T_Q5_K) {
        const int bytes = type == T_Q4_K ? RMAS_Q4_K_BYTES : RMAS_Q5_K_BYTES;
        for (int s = 0; s < n / 256; s++) {
            const uint8_t *blk = row + (size_t)s * bytes;
            const uint8_t *qh = type == T_Q5_K ? blk + RMAS_Q5_K_QH : NULL, *qs = blk + (qh ? RMAS_Q5_K_QS : RMAS_Q4_K_QS);
            const float d = f16(blk), dmin = f16(blk + 2);
            uint8_t sc[8], mn[8];
            rmas_unpack_k_scales(blk + RMAS_K_SCALES, sc, mn);
            for (int j = 0; j < 8; j++) {  // sub-block j: nibble (j & 1) of bytes 32·(j/2) …
                const int b = s * 8 + j;
                scale[b] = d * sc[j];
                min[b] = -(dmin * mn[j]);
                for (int l = 0; l < 32; l++) {
                    const uint8_t byte = qs[32 * (j / 2) + l];
                    int v = (j & 1) ? byte >> 4 : byte & 0xF;
                    if (qh && (qh[l] & (1u << j))) v += 16;
                    q[32 * b + l] = (int8_t)v;
                }
            }
        }
        return;
    }
    for (int b = 0; b < blocks; b++) {
        int8_t *out = q + 32 * b;
        min[b] = 0;
        switch (type) {
        case T_Q8_0: {
            const uint8_t *blk = row + (size_t)b * RMAS_Q8_0_BYTES;
            scale[b] = f16(blk);
            memcpy(out, blk + 2, 32);
            break;
        }
        case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: {
            const int q5 = type == T_Q5_0 || type == T_Q5_1, affine = type == T_Q4_1 || type == T_Q5_1;
            const int bytes = q5 ? (affine ? RMAS_Q5_1_BYTES : RMAS_Q5_0_BYTES) : (affine ? RMAS_Q4_1_BYTES : RMAS_Q4_0_BYTES);
            const uint8_t *blk = row + (size_t)b * bytes, *after = blk + (affine ? 4 : 2);  // past d (and m)
            scale[b] = f16(blk);
            if (affine) min[b] = f16(blk + 2);
            if (q5) rmas_unpack_nibbles(after + 4, rmas_ld32(after), affine ? 0 : -16, out);
            else rmas_unpack_nibbles(after, 0, affine ? 0 : -8, out);
            break;
        }
        default: break;
        }
    }
}

// MARK: - The repacked matrix

size_t rmas_tiled_block_bytes(int weight_type) { return 640 + 64 * (size_t)rmas_tiled_layout(weight_type); }

size_t rmas_tiled_bytes(int weight_type, int64_t rows, int64_t n) {
    if (!rmas_tiled_supported(weight_type) || rows < 0 || n <= 0 || n % (weight_type == T_Q4_K || weight_type == T_Q5_K ? 256 : 32)) return 0;
    return (size_t)((rows + 15) / 16) * (size_t)(n / 32) * rmas_tiled_block_bytes(weight_type);
}

int rmas_tiled_pack(int weight_type, int n, const void *w, size_t row_stride, int64_t rows, int64_t g0, int64_t g1,
                    void *packed) {
    if (!rmas_tiled_bytes(weight_type, rows, n) || g0 < 0 || g1 > (rows + 15) / 16 || g0 > g1) return -1;
    const int blocks = n / 32;
    const size_t bb = rmas_tiled_block_bytes(weight_type);
    int8_t *q = malloc((size_t)n);
    float *scale = malloc(sizeof(float) * (size_t)blocks), *min = malloc(sizeof(float) * (size_t)blocks);
    float *high = malloc(sizeof(float) * (size_t)blocks);
    const int layout = rmas_tiled_layout(weight_type);
    if (!q || !scale || !min || !high) {
        free(q), free(scale), free(min), free(high);
        return -1;
    }
    for (int64_t g = g0; g < g1; g++) {
        uint8_t *tile = (uint8_t *)packed + (size_t)g * (size_t)blocks * bb;
        memset(tile, 0, (size_t)blocks * bb);  // rows past the end: zero weights, scales and mins
        for (int l = 0; l < 16 && g * 16 + l < rows; l++) {
            decode_row(weight_type, (const uint8_t *)w + (size_t)(g * 16 + l) * row_stride, n, q, scale, high, min);
            for (int b = 0; b < blocks; b++) {
                uint8_t *blk = tile + (size_t)b * bb;
                int32_t sum = 0, upper = 0;  // (halves: of i < 16 and i ≥ 16)
                for (int i = 0; i < 32; i++) {
                    blk[(i / 4) * 64 + l * 4 + i % 4] = (uint8_t)q[32 * b + i];
                    if (layout == RMAS_TILED_HALVES && i >= 16) upper += q[32 * b + i];
                    else sum += q[32 * b + i];
                }
                memcpy(blk + 512 + 4 * l, &scale[b], 4);
                const int32_t corr = 128 * sum, corr_upper = 128 * upper;
                memcpy(blk + 576 + 4 * l, &corr, 4);
                if (layout == RMAS_TILED_AFFINE) memcpy(blk + 640 + 4 * l, &min[b], 4);
                if (layout == RMAS_TILED_HALVES) {
                    memcpy(blk + 640 + 4 * l, &high[b], 4);
                    memcpy(blk + 704 + 4 * l, &corr_upper, 4);
                }
            }
        }
    }
    free(q), free(scale), free(min), free(high);
    return 0;
}

// MARK: - Activations

size_t rmas_tiled_activation_bytes(int64_t n) { return n <= 0 || n % 32 ? 0 : (size_t)n + (size_t)(n / 32) * 8; }

int rmas_tiled_quantize(const float *x, int64_t n, void *out) {
    if (!rmas_tiled_activation_bytes(n)) return -1;
    uint8_t *q = out;
    float *d = (float *)(q + n), *dsum = d + n / 32;
    for (int64_t b = 0; b < n / 32; b++) {
        int8_t qs[32];
        int sum;
        d[b] = rmas_quantize_block32(x + 32 * b, qs, &sum);  // q8_0's rounding, d kept in fp32
        for (int i = 0; i < 32; i++) q[32 * b + i] = (uint8_t)(qs[i] + 128);
        dsum[b] = d[b] * (float)sum;
    }
    return 0;
}

// MARK: - Portable products (the reference the AVX-512 kernel equals bit for bit)

static void rows_portable(int n, int layout, const uint8_t *tiles, int64_t rows, const void *const *xq,
                          float *const *y, int nvec, int64_t g0, int64_t g1) {
    const int blocks = n / 32;
    const size_t bb = 640 + 64 * (size_t)layout;
    for (int64_t g = g0; g < g1; g++) {
        for (int v = 0; v < nvec; v++) {
            const uint8_t *x = xq[v];
            const float *d = (const float *)(x + n), *dsum = d + blocks;
            float acc[16] = {0};
            for (int b = 0; b < blocks; b++) {
                const uint8_t *blk = tiles + ((size_t)g * blocks + b) * bb;
                for (int l = 0; l < 16; l++) {
                    const int split = layout == RMAS_TILED_HALVES ? 16 : 32;  // k of the first scale
                    int32_t s = 0, t = 0;
                    for (int i = 0; i < 32; i++) {
                        const int32_t p = (int32_t)x[32 * b + i] * (int8_t)blk[(i / 4) * 64 + l * 4 + i % 4];
                        if (i < split) s += p;
                        else t += p;
                    }
                    float scale, mn;
                    int32_t corr;
                    memcpy(&scale, blk + 512 + 4 * l, 4);
                    memcpy(&corr, blk + 576 + 4 * l, 4);
                    acc[l] = fmaf((float)(s - corr), scale * d[b], acc[l]);
                    if (layout == RMAS_TILED_AFFINE) {
                        memcpy(&mn, blk + 640 + 4 * l, 4);
                        acc[l] = fmaf(mn, dsum[b], acc[l]);
                    } else if (layout == RMAS_TILED_HALVES) {
                        memcpy(&scale, blk + 640 + 4 * l, 4);
                        memcpy(&corr, blk + 704 + 4 * l, 4);
                        acc[l] = fmaf((float)(t - corr), scale * d[b], acc[l]);
                    }
                }
            }
            for (int l = 0; l < 16 && g * 16 + l < rows; l++) y[v][g * 16 + l] = acc[l];
        }
    }
}

void rmas_tiled_rows_isa(int isa, int n, int layout, const void *tiles, int64_t rows, const void *const *xq,
                         float *const *y, int nvec, int64_t g0, int64_t g1) {
#if defined(__x86_64__) || defined(_M_X64)
    if (isa >= RMAS_ISA_AVX512VNNI) {
        for (int v0 = 0; v0 < nvec; v0 += 8)
            rmas_avx512_tiled_rows(n, layout, tiles, rows, xq + v0, y + v0, nvec - v0 < 8 ? nvec - v0 : 8, g0, g1);
        return;
    }
#endif
    (void)isa;
    rows_portable(n, layout, tiles, rows, xq, y, nvec, g0, g1);
}
