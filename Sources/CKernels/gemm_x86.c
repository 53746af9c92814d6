// The x86 micro-tiles of the packed GEMM (gemm.c): AVX-512 fp32 and bf16, AVX2 fp32.
//
// Each C element is accumulated in k order by one fused multiply-add per k (fp32), so the fp32
// tiles of every level give bit-identical results (the portable tile uses fmaf in the same
// order); the bf16 tile adds one `vdpbf16ps` pair-product per two k.
//
// Provenance: register blocking as in the Goto/BLIS micro-kernels (a 14 × 32 tile: 28 zmm
// accumulators, two B vectors and a broadcast A value); the code is this project's own.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "internal.h"

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#define TBF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))
#define T256 __attribute__((target("avx2,fma")))
#define ALWAYS static inline __attribute__((always_inline))
/// Keeps clang from turning a tile's accumulator zeroing into a `memset` of a stack copy that is
/// then loaded into registers (it did for the 13- and 14-row tiles: ~3% of a bf16 prefill).
#define NO_MEMSET __attribute__((no_builtin("memset")))

int rmas_cpu_has_avx512bf16(void) {
    static _Atomic int cached = -1;
    int v = cached;
    if (v < 0) {
        __builtin_cpu_init();
        v = rmas_isa_best() >= RMAS_ISA_AVX512VNNI && __builtin_cpu_supports("avx512bf16");
        cached = v;
    }
    return v;
}

/// Column masks of a 32-wide panel with `cols` valid columns.
ALWAYS T512 void column_masks(int cols, __mmask16 *m0, __mmask16 *m1) {
    *m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
    *m1 = cols >= 32 ? (__mmask16)0xFFFF : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
}

/// C rows ← alpha·acc + beta·C (C not read when beta is 0), masked to the valid columns.
ALWAYS T512 void store_rows(const int R, __m512 acc[][2], int cols, float *c, int64_t ldc, float alpha, float beta) {
    __mmask16 m0, m1;
    column_masks(cols, &m0, &m1);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int i = 0; i < R; i++) {
        float *ci = c + i * ldc;
        if (beta == 0) {
            _mm512_mask_storeu_ps(ci, m0, _mm512_mul_ps(va, acc[i][0]));
            _mm512_mask_storeu_ps(ci + 16, m1, _mm512_mul_ps(va, acc[i][1]));
        } else {
            const __m512 o0 = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, ci));
            const __m512 o1 = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, ci + 16));
            _mm512_mask_storeu_ps(ci, m0, _mm512_fmadd_ps(va, acc[i][0], o0));
            _mm512_mask_storeu_ps(ci + 16, m1, _mm512_fmadd_ps(va, acc[i][1], o1));
        }
    }
}

ALWAYS T512 NO_MEMSET void f32_tile(const int R, int cols, int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                          float alpha, float beta) {
    __m512 acc[RMAS_GEMM_MR][2];
    for (int i = 0; i < R; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t q = 0; q < kc; q++, a += RMAS_GEMM_MR, b += RMAS_GEMM_NR) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        for (int i = 0; i < R; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    store_rows(R, acc, cols, c, ldc, alpha, beta);
}

ALWAYS TBF16 NO_MEMSET void bf16_tile(const int R, int cols, int64_t kc, const uint32_t *a, const uint16_t *b, float *c,
                            int64_t ldc, float alpha, float beta) {
    __m512 acc[RMAS_GEMM_MR][2];
    for (int i = 0; i < R; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t q = 0; q < kc / 2; q++, a += RMAS_GEMM_MR, b += 2 * RMAS_GEMM_NR) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 32);
        for (int i = 0; i < R; i++) {
            const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    store_rows(R, acc, cols, c, ldc, alpha, beta);
}

#define ROW_CASES(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14)

T512 NO_MEMSET void rmas_gemm_tile_f32_avx512(int rows, int cols, int64_t kc, const void *a, const void *b, float *c,
                                    int64_t ldc, float alpha, float beta) {
    switch (rows) {
#define F32_CASE(R) case R: f32_tile(R, cols, kc, a, b, c, ldc, alpha, beta); break;
        ROW_CASES(F32_CASE)
#undef F32_CASE
    default: break;
    }
}

TBF16 NO_MEMSET void rmas_gemm_tile_bf16_avx512(int rows, int cols, int64_t kc, const void *a, const void *b, float *c,
                                      int64_t ldc, float alpha, float beta) {
    switch (rows) {
#define BF16_CASE(R) case R: bf16_tile(R, cols, kc, a, b, c, ldc, alpha, beta); break;
        ROW_CASES(BF16_CASE)
#undef BF16_CASE
    default: break;
    }
}

// MARK: - AVX2: rows in groups of 3, each row's 32 columns in four ymm accumulators.

ALWAYS T256 void f32_rows_avx2(const int R, int cols, int64_t kc, const float *a, const float *b, float *c,
                               int64_t ldc, float alpha, float beta) {
    __m256 acc[3][4];
    for (int i = 0; i < R; i++)
        for (int v = 0; v < 4; v++) acc[i][v] = _mm256_setzero_ps();
    for (int64_t q = 0; q < kc; q++, a += RMAS_GEMM_MR, b += RMAS_GEMM_NR)
        for (int i = 0; i < R; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            for (int v = 0; v < 4; v++) acc[i][v] = _mm256_fmadd_ps(ai, _mm256_loadu_ps(b + 8 * v), acc[i][v]);
        }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int i = 0; i < R; i++) {
        float *ci = c + i * ldc;
        float out[RMAS_GEMM_NR];
        if (cols < RMAS_GEMM_NR && beta != 0) memcpy(out, ci, sizeof(float) * (size_t)cols);
        float *dst = cols < RMAS_GEMM_NR ? out : ci;
        for (int v = 0; v < 4; v++) {
            const __m256 r = beta == 0 ? _mm256_mul_ps(va, acc[i][v])
                                       : _mm256_fmadd_ps(va, acc[i][v], _mm256_mul_ps(vb, _mm256_loadu_ps(dst + 8 * v)));
            _mm256_storeu_ps(dst + 8 * v, r);
        }
        if (cols < RMAS_GEMM_NR) memcpy(ci, out, sizeof(float) * (size_t)cols);
    }
}

T256 void rmas_gemm_tile_f32_avx2(int rows, int cols, int64_t kc, const void *a_, const void *b, float *c,
                                  int64_t ldc, float alpha, float beta) {
    const float *a = a_;
    for (int i0 = 0; i0 < rows; i0 += 3) {
        const int r = rows - i0 < 3 ? rows - i0 : 3;
        if (r == 3) f32_rows_avx2(3, cols, kc, a + i0, b, c + i0 * ldc, ldc, alpha, beta);
        else if (r == 2) f32_rows_avx2(2, cols, kc, a + i0, b, c + i0 * ldc, ldc, alpha, beta);
        else f32_rows_avx2(1, cols, kc, a + i0, b, c + i0 * ldc, ldc, alpha, beta);
    }
}
#endif
