// Portable reference kernels: the activation quantizers and the integer dot products in plain C.
//
// Provenance: the math is ggml's (ggml-quants.c quantize_row_q8_*_ref and the generic
// ggml_vec_dot_*_q8_* in ggml-cpu/quants.c): per block an exact integer dot of the quants,
// then float32 scaling. The x86 rounding (ties to even, id = 127/amax) follows ggml's AVX
// quantizers. These are also the ground truth the SIMD kernels are tested against.
#include <math.h>

#include "internal.h"

// MARK: - Quantizers

void rmas_quantize_q8_0_scalar(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / RMAS_QK; b++, x += RMAS_QK, y += RMAS_Q8_0_BYTES) {
        int sum;
        const float d = rmas_quantize_block32(x, (int8_t *)(y + 2), &sum);
        const uint16_t dh = rmas_f32_to_f16(d);
        memcpy(y, &dh, 2);
    }
}

void rmas_quantize_q8_1_scalar(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / RMAS_QK; b++, x += RMAS_QK, y += RMAS_Q8_1_BYTES) {
        int sum;
        const float d = rmas_quantize_block32(x, (int8_t *)(y + 4), &sum);
        const uint16_t dh = rmas_f32_to_f16(d), sh = rmas_f32_to_f16(d * (float)sum);
        memcpy(y, &dh, 2);
        memcpy(y + 2, &sh, 2);
    }
}

void rmas_quantize_q8_K_scalar(const float *x, void *vy, int64_t n) {
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / RMAS_QK_K; b++, x += RMAS_QK_K, y += RMAS_Q8_K_BYTES) {
        int8_t *qs = (int8_t *)(y + RMAS_Q8_K_QS);
        int16_t bsums[16];
        float amax = 0.0f, max = 0.0f;
        for (int i = 0; i < RMAS_QK_K; i++) {
            const float a = fabsf(x[i]);
            if (a > amax) { amax = a; max = x[i]; }
        }
        float d = 0.0f;
        if (amax == 0.0f) {
            memset(qs, 0, RMAS_QK_K);
        } else {
            const float iscale = -127.0f / max;
            for (int i = 0; i < RMAS_QK_K; i++) qs[i] = rmas_round_q8(iscale * x[i]);
            d = 1.0f / iscale;
        }
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int i = 0; i < 16; i++) s += qs[16 * j + i];
            bsums[j] = (int16_t)s;
        }
        memcpy(y, &d, 4);
        memcpy(y + RMAS_Q8_K_BSUMS, bsums, sizeof bsums);
    }
}

// MARK: - Dots, 32-element blocks

/// Σ over one block of weight quant × activation quant, exactly.
static inline int idot32(const int8_t *w, const int8_t *x) {
    int s = 0;
    for (int i = 0; i < RMAS_QK; i++) s += w[i] * x[i];
    return s;
}

static float dot_q8_0(int n, const uint8_t *w, const uint8_t *x) {
    float sum = 0.0f;
    for (int b = 0; b < n / RMAS_QK; b++, w += RMAS_Q8_0_BYTES, x += RMAS_Q8_0_BYTES) {
        const float d = rmas_f16_to_f32(rmas_ld16(w)) * rmas_f16_to_f32(rmas_ld16(x));
        sum += d * (float)idot32((const int8_t *)(w + 2), (const int8_t *)(x + 2));
    }
    return sum;
}

/// q4_0 (bias -8, no qh) and q5_0 (bias -16, qh at +2, nibbles at +6) against q8_0.
static float dot_symmetric4or5(int n, const uint8_t *w, const uint8_t *x, int q5) {
    const int bytes = q5 ? RMAS_Q5_0_BYTES : RMAS_Q4_0_BYTES;
    float sum = 0.0f;
    for (int b = 0; b < n / RMAS_QK; b++, w += bytes, x += RMAS_Q8_0_BYTES) {
        int8_t q[RMAS_QK];
        if (q5) rmas_unpack_nibbles(w + 6, rmas_ld32(w + 2), -16, q);
        else rmas_unpack_nibbles(w + 2, 0, -8, q);
        const float d = rmas_f16_to_f32(rmas_ld16(w)) * rmas_f16_to_f32(rmas_ld16(x));
        sum += d * (float)idot32(q, (const int8_t *)(x + 2));
    }
    return sum;
}

/// q4_1 (nibbles at +4) and q5_1 (qh at +4, nibbles at +8) against q8_1:
/// Σ_b d_w·d_x·Σ q_w·q_x + m_w·s_x.
static float dot_affine4or5(int n, const uint8_t *w, const uint8_t *x, int q5) {
    const int bytes = q5 ? RMAS_Q5_1_BYTES : RMAS_Q4_1_BYTES;
    float sum = 0.0f;
    for (int b = 0; b < n / RMAS_QK; b++, w += bytes, x += RMAS_Q8_1_BYTES) {
        int8_t q[RMAS_QK];
        if (q5) rmas_unpack_nibbles(w + 8, rmas_ld32(w + 4), 0, q);
        else rmas_unpack_nibbles(w + 4, 0, 0, q);
        const float d = rmas_f16_to_f32(rmas_ld16(w)) * rmas_f16_to_f32(rmas_ld16(x));
        const float ms = rmas_f16_to_f32(rmas_ld16(w + 2)) * rmas_f16_to_f32(rmas_ld16(x + 2));
        sum += d * (float)idot32(q, (const int8_t *)(x + 4)) + ms;
    }
    return sum;
}

// MARK: - Dots, K super-blocks

/// q4_K (has_qh = 0) and q5_K against q8_K:
/// Σ_b d_x·(d·Σ_j sc_j·Σ_{i∈j} q_i·x_i − dmin·Σ_j m_j·Σ_{i∈j} x_i).
static float dot_k45(int n, const uint8_t *w, const uint8_t *x, int q5) {
    const int bytes = q5 ? RMAS_Q5_K_BYTES : RMAS_Q4_K_BYTES;
    const int qs_at = q5 ? RMAS_Q5_K_QS : RMAS_Q4_K_QS;
    float sum = 0.0f;
    for (int b = 0; b < n / RMAS_QK_K; b++, w += bytes, x += RMAS_Q8_K_BYTES) {
        uint8_t sc[8], mn[8];
        rmas_unpack_k_scales(w + RMAS_K_SCALES, sc, mn);
        const int8_t *xq = (const int8_t *)(x + RMAS_Q8_K_QS);
        int16_t bsums[16];
        memcpy(bsums, x + RMAS_Q8_K_BSUMS, sizeof bsums);
        int sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            const uint8_t *qs = w + qs_at + 32 * (j / 2);
            const int shift = 4 * (j % 2);
            int s = 0;
            for (int l = 0; l < 32; l++) {
                int q = (qs[l] >> shift) & 0x0F;
                if (q5) q |= ((w[RMAS_Q5_K_QH + l] >> j) & 1) << 4;
                s += q * xq[32 * j + l];
            }
            sumi += sc[j] * s;
            summ += mn[j] * (bsums[2 * j] + bsums[2 * j + 1]);
        }
        const float dx = rmas_ldf32(x);
        const float d = rmas_f16_to_f32(rmas_ld16(w)) * dx;
        const float dmin = rmas_f16_to_f32(rmas_ld16(w + 2)) * dx;
        sum += d * (float)sumi - dmin * (float)summ;
    }
    return sum;
}

/// q6_K against q8_K: Σ_b d·d_x·Σ_g scale_g·Σ_{i∈g} (q_i − 32)·x_i over 16-element groups g.
static float dot_q6_K(int n, const uint8_t *w, const uint8_t *x) {
    float sum = 0.0f;
    for (int b = 0; b < n / RMAS_QK_K; b++, w += RMAS_Q6_K_BYTES, x += RMAS_Q8_K_BYTES) {
        int8_t q[RMAS_QK_K];
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w + 64 * h, *qh = w + RMAS_Q6_K_QH + 32 * h;
            int8_t *o = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                o[l] = (int8_t)(((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32);
                o[l + 32] = (int8_t)(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
                o[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                o[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        const int8_t *xq = (const int8_t *)(x + RMAS_Q8_K_QS);
        const int8_t *scales = (const int8_t *)(w + RMAS_Q6_K_SCALES);
        int sumi = 0;
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int i = 0; i < 16; i++) s += q[16 * g + i] * xq[16 * g + i];
            sumi += scales[g] * s;
        }
        const float d = rmas_f16_to_f32(rmas_ld16(w + RMAS_Q6_K_D)) * rmas_ldf32(x);
        sum += d * (float)sumi;
    }
    return sum;
}

// MARK: - Table

#define ROWS_LOOP(body)                                                                       \
    const uint8_t *row = w;                                                                   \
    for (int64_t r = 0; r < nrows; r++, row += row_stride) y[r] = (body);

static void gemv_q8_0(int n, const void *w, size_t row_stride, const void *x, float *y, int64_t nrows) {
    ROWS_LOOP(dot_q8_0(n, row, x))
}
static void gemv_q4_0(int n, const void *w, size_t row_stride, const void *x, float *y, int64_t nrows) {
    ROWS_LOOP(dot_symmetric4or5(n, row, x, 0))
}
static void gemv_q5_0(int n, const void *w, size_t row_stride, const void *x, float *y, int64_t nrows) {
    ROWS_LOOP(dot_symmetric4or5(n, row, x, 1))
}
static void gemv_q4_1(int n, const void *w, size_t row_stride, const void *x, float *y, int64_t nrows) {
    ROWS_LOOP(dot_affine4or5(n, row, x, 0))
}
static void gemv_q5_1(int n, const void *w, size_t row_stride, const void *x, float *y, int64_t nrows) {
    ROWS_LOOP(dot_affine4or5(n, row, x, 1))
}
static void gemv_q4_K(int n, const void *w, size_t row_stride, const void *x, float *y, int64_t nrows) {
    ROWS_LOOP(dot_k45(n, row, x, 0))
}
static void gemv_q5_K(int n, const void *w, size_t row_stride, const void *x, float *y, int64_t nrows) {
    ROWS_LOOP(dot_k45(n, row, x, 1))
}
static void gemv_q6_K(int n, const void *w, size_t row_stride, const void *x, float *y, int64_t nrows) {
    ROWS_LOOP(dot_q6_K(n, row, x))
}

const rmas_kernel_table rmas_kernels_scalar = {
    .quantize_q8_0 = rmas_quantize_q8_0_scalar,
    .quantize_q8_1 = rmas_quantize_q8_1_scalar,
    .quantize_q8_K = rmas_quantize_q8_K_scalar,
    .gemv = {
        [2] = gemv_q4_0, [3] = gemv_q4_1, [6] = gemv_q5_0, [7] = gemv_q5_1, [8] = gemv_q8_0,
        [12] = gemv_q4_K, [13] = gemv_q5_K, [14] = gemv_q6_K,
    },
};
