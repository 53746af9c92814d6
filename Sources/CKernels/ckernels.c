// Public entry points: CPU detection (once, at first use) and dispatch to a kernel table.
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

// MARK: - Detection

static int detect_isa(void) {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
        return RMAS_ISA_AVX512VNNI;
    if (avx2) return RMAS_ISA_AVX2;
#endif
    return RMAS_ISA_SCALAR;
}

/// Where the weight prefetches of the vector kernels go on this CPU (see internal.h).
///
/// AMD (Zen 4, measured): prefetcht0 streams a 145 MB q8_0 matrix at 8.8 GB/s on one core,
/// prefetcht1 at 19.1 GB/s (a plain sequential read: 20.5) — several rows read side by side
/// with L1 prefetches defeat its prefetchers. Intel (Xeon, measured): prefetcht0 1.5× over none;
/// L2 there not measured. `RMAS_PREFETCH=l1|l2` overrides (for measuring both on one CPU).
static int detect_prefetch_l2(void) { return rmas_amd_or_override("RMAS_PREFETCH", "l1", "l2"); }

int rmas_amd_or_override(const char *variable, const char *no, const char *yes) {
    const char *choice = getenv(variable);
    if (choice && strcmp(choice, no) == 0) return 0;
    if (choice && strcmp(choice, yes) == 0) return 1;
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    return __builtin_cpu_is("amd");
#else
    return 0;
#endif
}

_Atomic int rmas_prefetch_l2 = 0;

/// -1 until the first call detects the CPU. Racing first calls all store the same values; the
/// prefetch level is stored before the level that publishes it, and no kernel runs before a
/// level is known.
static _Atomic int best_isa = -1;

int rmas_isa_best(void) {
    int isa = atomic_load_explicit(&best_isa, memory_order_acquire);
    if (isa < 0) {
        isa = detect_isa();
        atomic_store_explicit(&rmas_prefetch_l2, detect_prefetch_l2(), memory_order_relaxed);
        atomic_store_explicit(&best_isa, isa, memory_order_release);
    }
    return isa;
}

int rmas_prefetch_level(void) {
    (void)rmas_isa_best();
    return atomic_load_explicit(&rmas_prefetch_l2, memory_order_relaxed) ? 2 : 1;
}

int rmas_isa_supported(int isa) { return isa >= RMAS_ISA_SCALAR && isa <= rmas_isa_best(); }

const char *rmas_isa_name(int isa) {
    switch (isa) {
    case RMAS_ISA_SCALAR: return "scalar";
    case RMAS_ISA_AVX2: return "avx2";
    case RMAS_ISA_AVX512VNNI: return "avx512vnni";
    default: return "unknown";
    }
}

static const rmas_kernel_table *table_for(int isa) {
    if (!rmas_isa_supported(isa)) return NULL;
#if defined(__x86_64__) || defined(_M_X64)
    if (isa == RMAS_ISA_AVX512VNNI) return &rmas_kernels_avx512;
    if (isa == RMAS_ISA_AVX2) return &rmas_kernels_avx2;
#endif
    return &rmas_kernels_scalar;
}

static const rmas_kernel_table *best_table(void) {
    static const rmas_kernel_table *_Atomic cached = NULL;
    const rmas_kernel_table *t = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!t) {
        t = table_for(rmas_isa_best());
        atomic_store_explicit(&cached, t, memory_order_relaxed);
    }
    return t;
}

// MARK: - Type plumbing

int rmas_activation_type(int weight_type) {
    switch (weight_type) {
    case 2: case 6: case 8: return 8;      // q4_0, q5_0, q8_0 → q8_0
    case 3: case 7: return 9;              // q4_1, q5_1 → q8_1
    case 12: case 13: case 14: return 15;  // q4_K, q5_K, q6_K → q8_K
    default: return -1;
    }
}

size_t rmas_activation_bytes(int weight_type, int64_t n) {
    if (n < 0) return 0;
    switch (rmas_activation_type(weight_type)) {
    case 8: return n % RMAS_QK ? 0 : (size_t)(n / RMAS_QK) * RMAS_Q8_0_BYTES;
    case 9: return n % RMAS_QK ? 0 : (size_t)(n / RMAS_QK) * RMAS_Q8_1_BYTES;
    case 15: return n % RMAS_QK_K ? 0 : (size_t)(n / RMAS_QK_K) * RMAS_Q8_K_BYTES;
    default: return 0;
    }
}

static int quantize_with(const rmas_kernel_table *t, int weight_type, const float *x, void *xq, int64_t n) {
    if (!t || rmas_activation_bytes(weight_type, n) == 0) return -1;
    switch (rmas_activation_type(weight_type)) {
    case 8: t->quantize_q8_0(x, xq, n); return 0;
    case 9: t->quantize_q8_1(x, xq, n); return 0;
    default: t->quantize_q8_K(x, xq, n); return 0;
    }
}

static int gemv_with(const rmas_kernel_table *t, int weight_type, int n, const void *w, size_t row_stride,
                     const void *xq, float *y, int64_t nrows) {
    if (!t || weight_type < 0 || weight_type >= 16 || !t->gemv[weight_type] || n <= 0 || nrows < 0 ||
        rmas_activation_bytes(weight_type, n) == 0)
        return -1;
    if (nrows > 0) t->gemv[weight_type](n, w, row_stride, xq, y, nrows);
    return 0;
}

rmas_gemv_fn rmas_gemv_kernel(int weight_type, int n) {
    const rmas_kernel_table *t = best_table();
    if (weight_type < 0 || weight_type >= 16 || !t->gemv[weight_type] || n <= 0 ||
        rmas_activation_bytes(weight_type, n) == 0)
        return NULL;
    return t->gemv[weight_type];
}

rmas_gemm_fn rmas_gemm_kernel(int weight_type, int n) {
    if (!rmas_gemv_kernel(weight_type, n)) return NULL;
    return best_table()->gemm[weight_type];
}

int rmas_quantize_activation(int weight_type, const float *x, void *xq, int64_t n) {
    return quantize_with(best_table(), weight_type, x, xq, n);
}

int rmas_quantize_activation_isa(int isa, int weight_type, const float *x, void *xq, int64_t n) {
    return quantize_with(table_for(isa), weight_type, x, xq, n);
}

int rmas_gemv(int weight_type, int n, const void *w, size_t row_stride, const void *xq, float *y, int64_t nrows) {
    return gemv_with(best_table(), weight_type, n, w, row_stride, xq, y, nrows);
}

int rmas_gemv_isa(int isa, int weight_type, int n, const void *w, size_t row_stride, const void *xq, float *y,
                  int64_t nrows) {
    return gemv_with(table_for(isa), weight_type, n, w, row_stride, xq, y, nrows);
}

// MARK: - Named entry points

void rmas_quantize_row_q8_0(const float *x, void *y, int64_t n) { best_table()->quantize_q8_0(x, y, n); }
void rmas_quantize_row_q8_1(const float *x, void *y, int64_t n) { best_table()->quantize_q8_1(x, y, n); }
void rmas_quantize_row_q8_K(const float *x, void *y, int64_t n) { best_table()->quantize_q8_K(x, y, n); }

#define ROW_DOT(name, type_id)                                        \
    float name(int n, const void *w, const void *xq) {                \
        float y = 0.0f;                                               \
        best_table()->gemv[type_id](n, w, 0, xq, &y, 1);              \
        return y;                                                     \
    }

ROW_DOT(rmas_dot_q4_0_q8_0, 2)
ROW_DOT(rmas_dot_q4_1_q8_1, 3)
ROW_DOT(rmas_dot_q5_0_q8_0, 6)
ROW_DOT(rmas_dot_q5_1_q8_1, 7)
ROW_DOT(rmas_dot_q8_0_q8_0, 8)
ROW_DOT(rmas_dot_q4_K_q8_K, 12)
ROW_DOT(rmas_dot_q5_K_q8_K, 13)
ROW_DOT(rmas_dot_q6_K_q8_K, 14)

// MARK: - fp32-activation dots

int rmas_attention_supported(int dh) {
#if defined(__x86_64__) || defined(_M_X64)
    return dh > 0 && dh % 16 == 0 && rmas_isa_best() == RMAS_ISA_AVX512VNNI;
#else
    (void)dh;
    return 0;
#endif
}

void rmas_attention_scores(int heads, int dh, int n, const float *q, const float *k, long stride, float scale,
                           float *scores) {
#if defined(__x86_64__) || defined(_M_X64)
    if (rmas_attention_supported(dh)) rmas_avx512_attention_scores(heads, dh, n, q, k, stride, scale, scores);
#else
    (void)heads; (void)dh; (void)n; (void)q; (void)k; (void)stride; (void)scale; (void)scores;
#endif
}

void rmas_attention_mix(int heads, int dh, int n, const float *p, const float *v, long stride, float *out) {
#if defined(__x86_64__) || defined(_M_X64)
    if (rmas_attention_supported(dh)) rmas_avx512_attention_mix(heads, dh, n, p, v, stride, out);
#else
    (void)heads; (void)dh; (void)n; (void)p; (void)v; (void)stride; (void)out;
#endif
}

/// Elements per block of the fp32-activation dot formats.
static int dot_f32_block(int weight_type) { return weight_type == 12 || weight_type == 14 ? 256 : RMAS_QK; }

/// q4_1, q4_K and q6_K: the kernels with four accumulators per vector.
static int dot_f32_acc4(int weight_type) { return weight_type == 3 || weight_type == 12 || weight_type == 14; }

int rmas_dot_f32_supported(int weight_type) {
#if defined(__x86_64__) || defined(_M_X64)
    return (weight_type == 8 || weight_type == 6 || dot_f32_acc4(weight_type)) && rmas_isa_best() == RMAS_ISA_AVX512VNNI;
#else
    (void)weight_type;
    return 0;
#endif
}

float rmas_dot_f32(int weight_type, int n, const void *w, const float *x) {
#if defined(__x86_64__) || defined(_M_X64)
    if (rmas_dot_f32_supported(weight_type) && n % dot_f32_block(weight_type) == 0) {
        switch (weight_type) {
        case 8: return rmas_avx512_dot_f32_q8_0(n, w, x);
        case 6: return rmas_avx512_dot_f32_q5_0(n, w, x);
        default: return rmas_avx512_dot_f32_acc4(weight_type, n, w, x);
        }
    }
#else
    (void)weight_type; (void)n; (void)w; (void)x;
#endif
    return __builtin_nanf("");
}

int rmas_dot_f32_rows(int weight_type, int n, const void *w, size_t stride, int64_t r0, int64_t r1, const float *const *x,
                      float *const *y, int nvec) {
#if defined(__x86_64__) || defined(_M_X64)
    if (rmas_dot_f32_supported(weight_type) && n % dot_f32_block(weight_type) == 0 && nvec >= 0 && r0 <= r1) {
        if (dot_f32_acc4(weight_type)) rmas_avx512_rows_f32_acc4(weight_type, n, w, stride, r0, r1, x, y, nvec);
        else rmas_avx512_rows_f32(weight_type == 6, n, w, stride, r0, r1, x, y, nvec);
        return 0;
    }
#else
    (void)weight_type; (void)n; (void)w; (void)stride; (void)r0; (void)r1; (void)x; (void)y; (void)nvec;
#endif
    return -1;
}
