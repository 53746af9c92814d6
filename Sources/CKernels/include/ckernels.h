// C kernels for the hot quantized dot products: llama.cpp-style 8-bit activations.
//
// A matrix-vector product y = W·x with W in a GGUF block format is done as llama.cpp does it:
// x is quantized once to 8-bit blocks (q8_0, q8_1 or q8_K, whichever the weight format pairs
// with), then every row is an integer dot product of the weight quants with the activation
// quants, scaled per block in float32. The integer part runs on AVX-512 VNNI (`vpdpbusd`,
// `vpdpwssd`) where the CPU has it, chosen once at first use; a portable scalar version of the
// same integer math runs everywhere else.
//
// Block layouts (little-endian, no padding) are ggml's, so activation blocks are bit-for-bit
// what llama.cpp computes from the same floats:
//   q8_0 (34 B / 32 elements):  f16 d; int8 qs[32].          x[i] ≈ d·qs[i], d = amax/127
//   q8_1 (36 B / 32 elements):  f16 d; f16 s = d·Σqs; int8 qs[32]
//   q8_K (292 B / 256 elements): f32 d; int8 qs[256]; int16 bsums[16] (sums of 16 quants)
//
// Pairings (weight type → activation type), as ggml's `vec_dot_type`:
//   q8_0, q4_0, q5_0 → q8_0;   q4_1, q5_1 → q8_1;   q4_K, q5_K, q6_K → q8_K.
//
// Type ids are GGML's `enum ggml_type` values (q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7,
// q8_0 = 8, q8_1 = 9, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15).
//
// Nothing here allocates, and every function may run on several threads at once.
#pragma once
#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels of the kernels.
/// Each level's CPUs can also run every lower level.
enum {
    RMAS_ISA_SCALAR = 0,     ///< portable C
    RMAS_ISA_AVX2 = 1,       ///< x86-64 AVX2 + FMA + F16C (Haswell, Zen 1 and later)
    RMAS_ISA_AVX512VNNI = 2, ///< x86-64 AVX-512 F/BW/VL/VNNI (Cascade Lake, Ice Lake and later, Zen 4/5)
};

/// The level the dispatching functions use: the best one this CPU supports (detected once).
int rmas_isa_best(void);
/// Whether this CPU can run level `isa`.
int rmas_isa_supported(int isa);
/// Where the vector kernels prefetch weight rows on this CPU: 1 (L1) or 2 (L2). Chosen by vendor
/// (AMD: L2), or by `RMAS_PREFETCH=l1|l2` in the environment at first use.
int rmas_prefetch_level(void);
/// A short name for a level ("scalar", "avx2", "avx512vnni").
const char *rmas_isa_name(int isa);

// MARK: - Activation quantizers
// `n` must be a multiple of 32 (q8_0, q8_1) or 256 (q8_K); `y` receives n/32 or n/256 blocks.
// x must be finite. Rounding is to nearest, ties to even, as ggml's x86 code does.

/// ggml block_q8_0: d = f16(amax/127); qs[i] = round(x[i]·127/amax).
void rmas_quantize_row_q8_0(const float *x, void *y, int64_t n);
/// ggml block_q8_1: as q8_0, plus s = f16((amax/127)·Σ qs).
void rmas_quantize_row_q8_1(const float *x, void *y, int64_t n);
/// ggml block_q8_K (quantize_row_q8_K_ref): with m the first element of largest magnitude,
/// qs[i] = round(x[i]·(-127/m)) (≤ 127), d = 1/(-127/m); bsums[j] = Σ qs[16j ..< 16j+16].
/// An all-zero block gets d = 0, qs = 0, bsums = 0.
void rmas_quantize_row_q8_K(const float *x, void *y, int64_t n);

// MARK: - Row dots
// `n` elements (a multiple of the weight's block size); `w` is one row of weight blocks and
// `xq` the activation blocks of the paired type (see above) covering the same n elements.

float rmas_dot_q8_0_q8_0(int n, const void *w, const void *xq);
float rmas_dot_q4_0_q8_0(int n, const void *w, const void *xq);
float rmas_dot_q4_1_q8_1(int n, const void *w, const void *xq);
float rmas_dot_q5_0_q8_0(int n, const void *w, const void *xq);
float rmas_dot_q5_1_q8_1(int n, const void *w, const void *xq);
float rmas_dot_q4_K_q8_K(int n, const void *w, const void *xq);
float rmas_dot_q5_K_q8_K(int n, const void *w, const void *xq);
float rmas_dot_q6_K_q8_K(int n, const void *w, const void *xq);

// MARK: - By type id

/// The GGML type id of the activation blocks that weight type `weight_type` pairs with
/// (8 = q8_0, 9 = q8_1, 15 = q8_K), or -1 if the weight type has no kernel here.
int rmas_activation_type(int weight_type);
/// Bytes of quantized activations for `n` elements paired with `weight_type` (0 if unsupported
/// or `n` is not a whole number of activation blocks).
size_t rmas_activation_bytes(int weight_type, int64_t n);
/// Quantizes `x[0 ..< n]` into `xq` in the activation type that `weight_type` pairs with.
/// Returns 0, or -1 (nothing written) if the type is unsupported or `n` not whole blocks.
int rmas_quantize_activation(int weight_type, const float *x, void *xq, int64_t n);

/// y[r] = dot(row r, xq) for r in 0 ..< nrows, row r starting at `w + r·row_stride` bytes.
/// Several rows go through the kernel at once, sharing the activation loads; every y[r] is
/// the same value the single-row dot gives. Returns 0, or -1 (nothing written) if unsupported.
int rmas_gemv(int weight_type, int n, const void *w, size_t row_stride, const void *xq, float *y, int64_t nrows);

/// As `rmas_gemv`, with the rows split over `threads` threads: the caller and up to
/// `threads - 1` persistent helper threads (started on first use, at most 15), which spin for
/// 0.2 ms after each job (yielding the core after the first µs) so that back-to-back matvecs
/// of a few µs each still run in parallel, then sleep. One job at a time: a call made while another thread's job runs (or with
/// threads ≤ 1) runs on the calling thread alone; so do the next 256 calls (doubling while it
/// recurs) after a call that the helpers did not speed up (helpers descheduled on an
/// oversubscribed machine). Same results as `rmas_gemv`.
int rmas_gemv_parallel(int weight_type, int n, const void *w, size_t row_stride, const void *xq, float *y,
                       int64_t nrows, int threads);

/// Several activation vectors against one matrix: y[v][r] = dot(row r, xq[v]) for v in
/// 0 ..< nvec, r in 0 ..< nrows. Tiles of rows small enough for L1 are run against every
/// vector in turn, so the weights stream from memory once for all vectors (a batch of decode
/// steps costs about one step's memory traffic); each y[v][r] is the value `rmas_gemv` gives
/// for xq[v] alone. Threads as in `rmas_gemv_parallel`. Returns 0, or -1 if unsupported.
int rmas_gemm_vectors_parallel(int weight_type, int n, const void *w, size_t row_stride, const void *const *xq,
                               float *const *y, int nvec, int64_t nrows, int threads);

/// As `rmas_gemv`, on level `isa` (for tests and benchmarks); -1 if the CPU lacks it.
int rmas_gemv_isa(int isa, int weight_type, int n, const void *w, size_t row_stride, const void *xq,
                  float *y, int64_t nrows);
/// As `rmas_quantize_activation`, on level `isa`; -1 if the CPU lacks it.
int rmas_quantize_activation_isa(int isa, int weight_type, const float *x, void *xq, int64_t n);


// MARK: - fp32 activations (the exact path)

// Tiled 8-bit products (tiled_int8.c): a weight matrix of a 32-element or K format (q4_0, q4_1,
// q5_0, q5_1, q8_0, q4_K, q5_K, q6_K) repacked once into tiles of 16 rows. Tile g, block b (32 k)
// is int8 q[8][16 rows][4] (k = 4·step + byte), fp32 scale[16], int32 128·Σq[16] (640 bytes);
// formats with mins add fp32 min[16] (704); q6_K, whose scales cover 16 k, holds the first 16
// k's scale and sum there and adds the second 16's (768). Row r's weights are scale·q + min
// exactly as the GGUF block defines them. Activations: per vector n bytes q + 128
// (q = round(x/d), d = amax/127 per 32), then fp32 d[n/32] and d·Σq [n/32]. Each y[v][r] is the
// same float function of row r and vector v on every level, thread split and vector count;
// it differs from `rmas_gemv` by the order of the float sums (the integer dots are exact).

/// Whether `weight_type` can be tiled.
int rmas_tiled_supported(int weight_type);
/// Block layouts of the tiled weights (640 + 64 × layout bytes per block).
enum { RMAS_TILED_PLAIN = 0, RMAS_TILED_AFFINE = 1, RMAS_TILED_HALVES = 2 };
/// The layout `weight_type` tiles into.
int rmas_tiled_layout(int weight_type);
/// Bytes of the tiled copy of `rows` × `n` (0 if unsupported or n is not a whole number of blocks).
size_t rmas_tiled_bytes(int weight_type, int64_t rows, int64_t n);
/// Repacks tiles g0 ..< g1 (rows 16·g …) of the GGUF rows at `w` (`row_stride` bytes apart) into
/// `packed`; rows past `rows` become zero. Tiles are disjoint, so threads may pack ranges at once.
int rmas_tiled_pack(int weight_type, int n, const void *w, size_t row_stride, int64_t rows, int64_t g0, int64_t g1,
                    void *packed);
/// Bytes of one quantized activation vector of n floats (0 unless n is a positive multiple of 32).
size_t rmas_tiled_activation_bytes(int64_t n);
/// Quantizes x[0 ..< n] for the tiled products.
int rmas_tiled_quantize(const float *x, int64_t n, void *out);
/// y[v][0 ..< rows] for `nvec` vectors, tiles split over the helper threads (as rmas_gemv_parallel).
int rmas_tiled_parallel(int weight_type, int n, const void *tiles, int64_t rows, const void *const *xq, float *const *y,
                        int nvec, int threads);
/// Tiles g0 ..< g1 on level `isa` on the calling thread (tests; the portable C below AVX-512).
void rmas_tiled_rows_isa(int isa, int n, int layout, const void *tiles, int64_t rows, const void *const *xq,
                         float *const *y, int nvec, int64_t g0, int64_t g1);

/// Whether `rmas_dot_f32` has a kernel for `weight_type` on this CPU (q8_0, q5_0, q4_1, q4_K and
/// q6_K with AVX-512). One vector at a time the Swift kernels keep q4_1, q4_K and q6_K (measured
/// as fast); `rmas_dot_f32_rows` runs all five for several vectors.
int rmas_dot_f32_supported(int weight_type);
/// Σ w[i]·x[i] over one row of `n` elements (whole blocks: 32 elements, 256 for the K formats) with fp32 activations,
/// bit-for-bit what the Swift `decodeDot` of the format returns; NaN when unsupported.
float rmas_dot_f32(int weight_type, int n, const void *w, const float *x);
/// y[v][r] = rmas_dot_f32(weight_type, n, w + r·stride, x[v]) for rows r0 ..< r1 and nvec
/// vectors, bit for bit, each row decoded once for up to 8 vectors (4 for q4_1 and the K formats); on the
/// calling thread.
/// Returns -1 (writing nothing) where `rmas_dot_f32_supported` is false or n is not whole blocks.
int rmas_dot_f32_rows(int weight_type, int n, const void *w, size_t stride, int64_t r0, int64_t r1, const float *const *x,
                      float *const *y, int nvec);

// MARK: - Decode attention (fp32)
//
// The query heads that share one KV head, against a span of n keys/values (row j at +j·stride
// floats), bit-for-bit the Swift per-head loop of `Attention.forward` (see attention_avx512.c).

/// Whether the decode-attention kernels run on this CPU for head dimension `dh` (AVX-512, dh % 16 == 0).
int rmas_attention_supported(int dh);
/// scores[g·n + j] = (q_g · k_j) · scale for g < heads, j < n; q `[heads × dh]` contiguous.
void rmas_attention_scores(int heads, int dh, int n, const float *q, const float *k, long stride, float scale,
                           float *scores);
/// out[g·dh + i] = Σ_j p[g·n + j] · v_j[i] (fused, keys in order) for g < heads; out `[heads × dh]`.
void rmas_attention_mix(int heads, int dh, int n, const float *p, const float *v, long stride, float *out);

// MARK: - Packed GEMM (fp32 and bf16)
//
// C[M×N] = alpha·A[M×K]·B[K×N] + beta·C, row-major C with leading dimension ldc, in three steps:
// B is packed into panels of RMAS_GEMM_NR columns (frozen weights: once, and kept), A into
// tiles of RMAS_GEMM_MR rows (per call), and `rmas_gemm_packed_run` multiplies a range of
// panels (callers split the panels over threads). Formats: RMAS_GEMM_F32 (fp32 FMA; AVX-512,
// AVX2 or portable C), RMAS_GEMM_BF16 (operands rounded to bfloat16, nearest-even, products
// accumulated in fp32 by AVX512-BF16 `vdpbf16ps`; only where `rmas_gemm_format_supported`).
//
// Layouts (K' = K rounded up to even for bf16): B panel p holds columns 32p ..< 32p + 32,
//   f32:  [K][32] floats;          bf16: [K'/2][32][2] bfloat16 (pairs of consecutive k);
// A tile t holds rows 14t ..< 14t + 14,
//   f32:  [K][14] floats;          bf16: [K'/2][14][2] bfloat16.
// Pad lanes (columns ≥ N, rows ≥ M, k ≥ K) are zero. Every C element is the same function of
// its own row of A and column of B whatever M, the tile it falls in or the panel range, so a
// row's result does not depend on the other rows multiplied with it.

enum { RMAS_GEMM_F32 = 0, RMAS_GEMM_BF16 = 1 };
#define RMAS_GEMM_NR 32
#define RMAS_GEMM_MR 14

/// Whether this CPU runs `format` (F32: always; BF16: with AVX512-BF16).
int rmas_gemm_format_supported(int format);
/// Whether inference's approximate products (text prefill) should run in RMAS_GEMM_BF16 here by
/// default: a CPU with AVX512-BF16 that is AMD (its `vdpbf16ps` outruns fp32 FMA on Zen 4,
/// measured 1.5–1.7× fp32 on Qwen2.5 shapes; 0.6× on the Xeon measured), or
/// `RMAS_GEMM_APPROXIMATE=bf16|f32` overriding the vendor check.
int rmas_gemm_bf16_preferred(void);
/// Bytes of packed B for K×N, and of packed A for M×K (0 for an unknown format or negative sizes).
size_t rmas_gemm_packed_b_bytes(int format, int64_t k, int64_t n);
size_t rmas_gemm_packed_a_bytes(int format, int64_t m, int64_t k);
/// Writes B(k0 + i, j0 + j) = src[i·k_stride + j·j_stride] for i < kcount, j < jcount into the
/// packed B (K×N) `packed`, which the caller zero-filled once. Returns 0, or -1 on bad arguments.
int rmas_gemm_pack_b(int format, const float *src, int64_t k_stride, int64_t j_stride, int64_t k0, int64_t kcount,
                     int64_t j0, int64_t jcount, int64_t k, int64_t n, void *packed);
/// Packs all of B(kk, j) = src[kk·k_stride + j·j_stride] (K×N) into `packed`, pads included, so
/// `packed` need not be zero-filled first: the same bytes as zero-filling and `rmas_gemm_pack_b` of
/// the whole range. Returns 0, or -1 on bad arguments.
int rmas_gemm_pack_b_all(int format, const float *src, int64_t k_stride, int64_t j_stride, int64_t k, int64_t n,
                         void *packed);
/// As `rmas_gemm_pack_b_all` with the code of level `isa` (RMAS_ISA_*; tests): fp32 with k_stride 1
/// (B's columns contiguous, e.g. Kᵀ) has an AVX-512 version; -1 if `isa` is not supported here.
int rmas_gemm_pack_b_all_isa(int isa, int format, const float *src, int64_t k_stride, int64_t j_stride, int64_t k,
                             int64_t n, void *packed);
/// Packs tiles t0 ..< t1 of A(i, kk) = a[i·lda + kk] (or a[kk·lda + i] when `transpose`), M×K,
/// pads included (tiles are disjoint, so threads may pack different ranges at once).
int rmas_gemm_pack_a(int format, const float *a, int64_t lda, int transpose, int64_t m, int64_t k, int64_t t0,
                     int64_t t1, void *packed);
/// As `rmas_gemm_pack_a` with the code of level `isa` (RMAS_ISA_*; tests): the bf16 packing of a
/// non-transposed A has an AVX-512 version; -1 if `isa` is not supported here.
int rmas_gemm_pack_a_isa(int isa, int format, const float *a, int64_t lda, int transpose, int64_t m, int64_t k,
                         int64_t t0, int64_t t1, void *packed);
/// C columns of panels p0 ..< p1 (rows 0 ..< M): alpha·A·B + beta·C (C not read when beta is 0).
int rmas_gemm_packed_run(int format, const void *a_packed, int64_t m, int64_t k, const void *b_packed, int64_t n,
                         int64_t p0, int64_t p1, float *c, int64_t ldc, float alpha, float beta);
/// As `rmas_gemm_packed_run` with the kernels of level `isa` (RMAS_ISA_*; tests); -1 if unsupported.
int rmas_gemm_packed_run_isa(int isa, int format, const void *a_packed, int64_t m, int64_t k, const void *b_packed,
                             int64_t n, int64_t p0, int64_t p1, float *c, int64_t ldc, float alpha, float beta);

#ifdef __cplusplus
}
#endif
