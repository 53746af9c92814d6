// Packed GEMM: operand packing, the blocked driver, the portable tile and the ISA dispatch (the
// x86 tiles are in gemm_x86.c; layouts and contracts in ckernels.h).
//
// Provenance: the loop structure is the classic Goto/BLIS one (B in panels that stay in cache,
// A in row tiles, a register-blocked micro-tile); the code is this project's own.
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

// Block sizes (tuning builds may override them; 128–448 measured alike within this VM's noise).
#ifndef MC
#define MC (RMAS_GEMM_MR * 16)  // rows of A per block: 224 rows × KC k, 224 KiB fp32, stays in L2
#endif
#ifndef KC
#define KC 256  // k per block: a panel's block (32 KiB fp32) stays in L1/L2
#endif

static inline int64_t padded_k(int format, int64_t k) { return format == RMAS_GEMM_BF16 ? (k + 1) & ~(int64_t)1 : k; }
static inline size_t element_bytes(int format) { return format == RMAS_GEMM_BF16 ? 2 : 4; }

/// fp32 → bfloat16, round to nearest even (NaN stays a quiet NaN), as `vcvtneps2bf16` does for
/// normal values.
static inline uint16_t to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x40);
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1)) >> 16);
}

int rmas_gemm_format_supported(int format) {
    if (format == RMAS_GEMM_F32) return 1;
#if defined(__x86_64__) || defined(_M_X64)
    if (format == RMAS_GEMM_BF16) return rmas_cpu_has_avx512bf16();
#endif
    return 0;
}

int rmas_gemm_bf16_preferred(void) {
    return rmas_gemm_format_supported(RMAS_GEMM_BF16) && rmas_amd_or_override("RMAS_GEMM_APPROXIMATE", "f32", "bf16");
}

size_t rmas_gemm_packed_b_bytes(int format, int64_t k, int64_t n) {
    if ((format != RMAS_GEMM_F32 && format != RMAS_GEMM_BF16) || k < 0 || n < 0) return 0;
    const int64_t panels = (n + RMAS_GEMM_NR - 1) / RMAS_GEMM_NR;
    return (size_t)panels * RMAS_GEMM_NR * (size_t)padded_k(format, k) * element_bytes(format);
}

size_t rmas_gemm_packed_a_bytes(int format, int64_t m, int64_t k) {
    if ((format != RMAS_GEMM_F32 && format != RMAS_GEMM_BF16) || m < 0 || k < 0) return 0;
    const int64_t tiles = (m + RMAS_GEMM_MR - 1) / RMAS_GEMM_MR;
    return (size_t)tiles * RMAS_GEMM_MR * (size_t)padded_k(format, k) * element_bytes(format);
}

/// Index of element (kk, lane) inside a block of `width` lanes (32 for B panels, 14 for A tiles).
static inline size_t lane_index(int format, int64_t kk, int64_t lane, int width) {
    return format == RMAS_GEMM_BF16 ? (size_t)(kk >> 1) * (size_t)width * 2 + (size_t)lane * 2 + (size_t)(kk & 1)
                                    : (size_t)kk * (size_t)width + (size_t)lane;
}

int rmas_gemm_pack_b(int format, const float *src, int64_t k_stride, int64_t j_stride, int64_t k0, int64_t kcount,
                     int64_t j0, int64_t jcount, int64_t k, int64_t n, void *packed) {
    if (!rmas_gemm_packed_b_bytes(format, k, n) && (k > 0 && n > 0)) return -1;
    if (k0 < 0 || kcount < 0 || j0 < 0 || jcount < 0 || k0 + kcount > k || j0 + jcount > n) return -1;
    const int64_t kp = padded_k(format, k);
    const size_t panel = (size_t)kp * RMAS_GEMM_NR;  // elements per panel
    for (int64_t j = 0; j < jcount; j++) {
        const int64_t col = j0 + j, p = col / RMAS_GEMM_NR, lane = col % RMAS_GEMM_NR;
        const float *s = src + j * j_stride;
        if (format == RMAS_GEMM_BF16) {
            uint16_t *dst = (uint16_t *)packed + (size_t)p * panel;
            for (int64_t i = 0; i < kcount; i++) dst[lane_index(format, k0 + i, lane, RMAS_GEMM_NR)] = to_bf16(s[i * k_stride]);
        } else {
            float *dst = (float *)packed + (size_t)p * panel + (size_t)lane;
            for (int64_t i = 0; i < kcount; i++) dst[(size_t)(k0 + i) * RMAS_GEMM_NR] = s[i * k_stride];
        }
    }
    return 0;
}

/// The portable whole-operand packing (every byte, pads zero), reading along whichever source
/// stride is 1 so the reads are sequential.
static void pack_b_all_portable(int format, const float *src, int64_t k_stride, int64_t j_stride, int64_t k, int64_t n,
                                void *packed) {
    const int64_t kp = padded_k(format, k), panels = (n + RMAS_GEMM_NR - 1) / RMAS_GEMM_NR;
    const size_t panel = (size_t)kp * RMAS_GEMM_NR;
    for (int64_t p = 0; p < panels; p++) {
        const int cols = n - p * RMAS_GEMM_NR < RMAS_GEMM_NR ? (int)(n - p * RMAS_GEMM_NR) : RMAS_GEMM_NR;
        const float *s = src + p * RMAS_GEMM_NR * j_stride;
        if (format == RMAS_GEMM_BF16) {
            uint16_t *dst = (uint16_t *)packed + (size_t)p * panel;
            if (cols < RMAS_GEMM_NR || kp > k) memset(dst, 0, panel * 2);
            for (int64_t j = 0; j < cols; j++)
                for (int64_t kk = 0; kk < k; kk++)
                    dst[lane_index(format, kk, j, RMAS_GEMM_NR)] = to_bf16(s[kk * k_stride + j * j_stride]);
        } else {
            float *dst = (float *)packed + (size_t)p * panel;
            if (cols < RMAS_GEMM_NR) memset(dst, 0, panel * 4);
            if (j_stride == 1) {
                for (int64_t kk = 0; kk < k; kk++) memcpy(dst + kk * RMAS_GEMM_NR, s + kk * k_stride, (size_t)cols * 4);
            } else {
                for (int64_t j = 0; j < cols; j++)
                    for (int64_t kk = 0; kk < k; kk++) dst[kk * RMAS_GEMM_NR + j] = s[kk * k_stride + j * j_stride];
            }
        }
    }
}

int rmas_gemm_pack_b_all_isa(int isa, int format, const float *src, int64_t k_stride, int64_t j_stride, int64_t k,
                             int64_t n, void *packed) {
    if ((!rmas_gemm_packed_b_bytes(format, k, n) && k > 0 && n > 0) || k < 0 || n < 0 || !rmas_isa_supported(isa)) return -1;
#if defined(__x86_64__) || defined(_M_X64)
    if (isa == RMAS_ISA_AVX512VNNI && format == RMAS_GEMM_F32 && k_stride == 1) {
        rmas_avx512_pack_b_f32_columns(src, j_stride, k, n, packed);
        return 0;
    }
#endif
    pack_b_all_portable(format, src, k_stride, j_stride, k, n, packed);
    return 0;
}

int rmas_gemm_pack_b_all(int format, const float *src, int64_t k_stride, int64_t j_stride, int64_t k, int64_t n,
                         void *packed) {
    return rmas_gemm_pack_b_all_isa(rmas_isa_best(), format, src, k_stride, j_stride, k, n, packed);
}

int rmas_gemm_pack_a_isa(int isa, int format, const float *a, int64_t lda, int transpose, int64_t m, int64_t k,
                         int64_t t0, int64_t t1, void *packed) {
    const size_t bytes = rmas_gemm_packed_a_bytes(format, m, k);
    const int64_t tiles = (m + RMAS_GEMM_MR - 1) / RMAS_GEMM_MR;
    if ((!bytes && m > 0 && k > 0) || t0 < 0 || t1 > tiles || !rmas_isa_supported(isa)) return -1;
#if defined(__x86_64__) || defined(_M_X64)
    if (isa == RMAS_ISA_AVX512VNNI && format == RMAS_GEMM_BF16 && !transpose && rmas_cpu_has_avx512bf16()) {
        rmas_avx512_pack_a_bf16(a, lda, m, k, t0, t1, packed);
        return 0;
    }
#endif
    const int64_t kp = padded_k(format, k);
    const size_t tile = (size_t)kp * RMAS_GEMM_MR;
    for (int64_t t = t0; t < t1; t++) {
        const int64_t rows = m - t * RMAS_GEMM_MR < RMAS_GEMM_MR ? m - t * RMAS_GEMM_MR : RMAS_GEMM_MR;
        if (format == RMAS_GEMM_BF16) {
            uint16_t *dst = (uint16_t *)packed + (size_t)t * tile;
            memset(dst, 0, tile * 2);
            for (int64_t i = 0; i < rows; i++) {
                const int64_t row = t * RMAS_GEMM_MR + i;
                for (int64_t kk = 0; kk < k; kk++) {
                    const float v = transpose ? a[kk * lda + row] : a[row * lda + kk];
                    dst[lane_index(format, kk, i, RMAS_GEMM_MR)] = to_bf16(v);
                }
            }
        } else {
            float *dst = (float *)packed + (size_t)t * tile;
            if (rows < RMAS_GEMM_MR) memset(dst, 0, tile * 4);
            if (transpose) {
                for (int64_t kk = 0; kk < k; kk++)
                    for (int64_t i = 0; i < rows; i++) dst[kk * RMAS_GEMM_MR + i] = a[kk * lda + t * RMAS_GEMM_MR + i];
            } else {
                for (int64_t i = 0; i < rows; i++) {
                    const float *s = a + (t * RMAS_GEMM_MR + i) * lda;
                    for (int64_t kk = 0; kk < k; kk++) dst[kk * RMAS_GEMM_MR + i] = s[kk];
                }
            }
        }
    }
    return 0;
}

int rmas_gemm_pack_a(int format, const float *a, int64_t lda, int transpose, int64_t m, int64_t k, int64_t t0,
                     int64_t t1, void *packed) {
    return rmas_gemm_pack_a_isa(rmas_isa_best(), format, a, lda, transpose, m, k, t0, t1, packed);
}

/// The portable fp32 tile: C[rows × cols] = alpha·Σ_q a[q][i]·b[q][j] + beta·C, the sum in k order.
static void tile_f32_scalar(int rows, int cols, int64_t kc, const void *a_, const void *b_, float *c, int64_t ldc,
                            float alpha, float beta) {
    const float *a = a_, *b = b_;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            float s = 0;
            for (int64_t q = 0; q < kc; q++) s = fmaf(a[q * RMAS_GEMM_MR + i], b[q * RMAS_GEMM_NR + j], s);
            float *out = c + i * ldc + j;
            *out = beta == 0 ? alpha * s : fmaf(alpha, s, beta * *out);
        }
}

static int run_with(rmas_gemm_tile_fn tile, int format, const void *a_packed, int64_t m, int64_t k,
                    const void *b_packed, int64_t n, int64_t p0, int64_t p1, float *c, int64_t ldc, float alpha,
                    float beta) {
    const int64_t panels = (n + RMAS_GEMM_NR - 1) / RMAS_GEMM_NR;
    if (!tile || m < 0 || k < 0 || n < 0 || p0 < 0 || p1 > panels || ldc < n) return -1;
    const int64_t kp = padded_k(format, k);
    const size_t es = element_bytes(format);
    const uint8_t *A = a_packed, *B = b_packed;
    if (kp == 0) {  // an empty sum: C = beta·C
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = p0 * RMAS_GEMM_NR; j < n && j < p1 * RMAS_GEMM_NR; j++)
                c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
        return 0;
    }
    for (int64_t r0 = 0; r0 < m; r0 += MC) {
        const int64_t r1 = r0 + MC < m ? r0 + MC : m;
        for (int64_t k0 = 0; k0 < kp; k0 += KC) {
            const int64_t kc = k0 + KC < kp ? KC : kp - k0;
            const float b = k0 == 0 ? beta : 1;
            for (int64_t p = p0; p < p1; p++) {
                const uint8_t *panel = B + ((size_t)p * RMAS_GEMM_NR * (size_t)kp + (size_t)k0 * RMAS_GEMM_NR) * es;
                const int cols = n - p * RMAS_GEMM_NR < RMAS_GEMM_NR ? (int)(n - p * RMAS_GEMM_NR) : RMAS_GEMM_NR;
                for (int64_t t0 = r0; t0 < r1; t0 += RMAS_GEMM_MR) {
                    const int rows = r1 - t0 < RMAS_GEMM_MR ? (int)(r1 - t0) : RMAS_GEMM_MR;
                    const uint8_t *a = A + ((size_t)t0 * (size_t)kp + (size_t)k0 * RMAS_GEMM_MR) * es;
                    tile(rows, cols, kc, a, panel, c + t0 * ldc + p * RMAS_GEMM_NR, ldc, alpha, b);
                }
            }
        }
    }
    return 0;
}

static rmas_gemm_tile_fn tile_for(int isa, int format) {
    if (!rmas_isa_supported(isa)) return NULL;
#if defined(__x86_64__) || defined(_M_X64)
    if (format == RMAS_GEMM_BF16) return isa == RMAS_ISA_AVX512VNNI && rmas_cpu_has_avx512bf16() ? rmas_gemm_tile_bf16_avx512 : NULL;
    if (isa == RMAS_ISA_AVX512VNNI) return rmas_gemm_tile_f32_avx512;
    if (isa == RMAS_ISA_AVX2) return rmas_gemm_tile_f32_avx2;
#endif
    return format == RMAS_GEMM_F32 ? tile_f32_scalar : NULL;
}

int rmas_gemm_packed_run(int format, const void *a_packed, int64_t m, int64_t k, const void *b_packed, int64_t n,
                         int64_t p0, int64_t p1, float *c, int64_t ldc, float alpha, float beta) {
    return run_with(tile_for(rmas_isa_best(), format), format, a_packed, m, k, b_packed, n, p0, p1, c, ldc, alpha, beta);
}

int rmas_gemm_packed_run_isa(int isa, int format, const void *a_packed, int64_t m, int64_t k, const void *b_packed,
                             int64_t n, int64_t p0, int64_t p1, float *c, int64_t ldc, float alpha, float beta) {
    return run_with(tile_for(isa, format), format, a_packed, m, k, b_packed, n, p0, p1, c, ldc, alpha, beta);
}
