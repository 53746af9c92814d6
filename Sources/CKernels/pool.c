// A small persistent worker pool for `rmas_gemv_parallel`: helper threads that spin briefly
// between jobs, as llama.cpp's threadpool does, so that a matvec of a few tens of µs really
// runs on several cores. (A fork-join that wakes sleeping threads per call, such as
// DispatchQueue.concurrentPerform, typically finishes such a matvec on the calling thread
// before a helper has woken up.)
//
// One job at a time: a caller that finds the pool busy (another thread is dispatching) runs
// its rows itself. Helpers spin for RMAS_POOL_SPIN_NS after their last job (with sched_yield
// after the first few µs, so that other runnable threads get the core), then sleep on a
// condition variable until the next one.
//
// Measured (2-core VM, real-time priority standing in for an idle machine): a SmolLM2-135M
// decode step's matvecs alone take 8.2 ms on one thread and 4.5–5.1 ms with one helper.
//
// Spinning pays only while the helpers have cores to themselves. On an oversubscribed machine a
// helper can be descheduled holding a chunk, and the caller then waits for it (llama.cpp's
// spinning threads collapse the same way: 2-thread tg128 drops to a few tok/s under load here).
// So the dispatcher checks that the helpers help: from its own time per chunk it estimates the
// single-thread time of a job and compares it with the job's wall time. When the running mean
// of that speedup (over jobs whose estimate is ≥ 50 µs, with the helpers awake; each new job
// weighs 1/8, so a run of about five bad jobs is needed, and at least 8 jobs since the last
// backoff) falls below 1.3×, the next jobs run on the caller alone:
// MIN_BACKOFF of them (about one decode step), doubling up to MAX_BACKOFF while it recurs, back
// to MIN_BACKOFF after GOOD_RUN helped jobs. With the helpers on otherwise idle cores a decode
// step's jobs measure ~1.9× (2 threads) and isolated hiccups do not trigger it. Jobs are chosen
// for judging by their size, not by their wall time: selecting on wall time picks exactly the
// small jobs a late helper stretched. On a Zen 4 VM the 13–30 µs jobs (Qwen2.5's K/V and 896-row
// matrices) read 0.2–1.3× now and then while helping on the whole; with a mean over jobs whose
// wall time was ≥ 10 µs, halving its weight per job, the backoff held a 2-thread decode at
// 35–40 tok/s (Qwen2.5) against 50–60 without it, and Gemma-3's ran 99% of its jobs alone.
// (A benchmark repeating one L2-sized matrix does trigger it: the caller's core has the rows
// cached, the helper's not, so the helper really adds little there.)
#define _POSIX_C_SOURCE 200809L  // clock_gettime under strict -std=c11
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "internal.h"

#define MAX_HELPERS 15
#define RMAS_POOL_SPIN_NS 200000  // 0.2 ms: covers the gaps between the matvecs of a decode step
#define YIELD_AFTER_SPINS 64      // pause-only spins (a few µs) before spinning with sched_yield
#define MIN_SPEEDUP 1.3           // a mean speedup below this...
#define MIN_JUDGED_NS 50000       // (over jobs whose single-thread estimate is at least this,
#define MIN_JUDGED_JOBS 8         //  and at least this many of them since the last backoff)
#define MIN_BACKOFF 256           // ...runs this many jobs single-threaded, doubling
#define MAX_BACKOFF 8192          //    up to this (~40 decode steps) while it recurs
#define GOOD_RUN 1024             // helped jobs that reset the backoff length

typedef struct {
    int n;
    const uint8_t *w;
    size_t stride;
    int64_t nrows, chunk_rows;  // rows per chunk: a multiple of 4, except maybe the last chunk
    rmas_gemv_fn fn;
    rmas_gemm_fn gemm;  // several-vector kernel, or NULL
    // Vector v reads xqs[v] and writes ys[v][0 ..< nrows] (one vector: a plain matvec).
    int nvec;
    const void *const *xqs;
    float *const *ys;
    // A tiled product (tiled_int8.c) instead: "rows" are its 16-row tiles.
    const void *tiles;
    int tiles_layout;
    int64_t tiled_rows;
} job_t;

// `claim` packs the job generation (bits 32-63), its chunk count (16-31) and the next unclaimed
// chunk (0-15); a worker takes chunk c by moving `next` from c to c + 1 with a CAS that also
// checks the generation, so a straggler from an earlier job can never take a chunk of a later
// one. The job's fields are stable while any of its chunks is unfinished (`chunks_left` > 0):
// the dispatcher only writes the next job after all chunks are done.
static struct {
    pthread_mutex_t dispatch;  // held by the thread that owns the current job
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;
    int helpers;               // started so far (grows on demand, never shrinks)
    int sleepers;              // helpers waiting on `wake` (under sleep_lock)
    int backoff;               // jobs left to run without helpers (under dispatch, as the next two)
    int backoff_length;        // the next backoff (0 = MIN_BACKOFF)
    int good_jobs;             // helped jobs since the last backoff
    double mean_speedup;       // running mean over the jobs judged since the last backoff
    int judged;                // how many
    _Atomic uint64_t claim;
    _Atomic int chunks_left;
    job_t job;
} pool = {.dispatch = PTHREAD_MUTEX_INITIALIZER, .sleep_lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline uint32_t generation_of(uint64_t claim) { return (uint32_t)(claim >> 32); }

/// Rows (tiles, for a tiled job) first ..< first + count of `j` on the calling thread.
static void run_rows(const job_t *j, int64_t first, int64_t count) {
    if (j->tiles)
        rmas_tiled_rows_isa(rmas_isa_best(), j->n, j->tiles_layout, j->tiles, j->tiled_rows, j->xqs, j->ys, j->nvec, first,
                            first + count);
    else
        rmas_gemm_vectors_rows(j->fn, j->gemm, j->n, j->w, j->stride, j->xqs, j->ys, j->nvec, first, count);
}

/// Claims and runs chunks of job `generation` until none are left; returns how many it ran.
static int run_chunks(uint32_t generation) {
    int ran = 0;
    uint64_t c = atomic_load_explicit(&pool.claim, memory_order_acquire);
    for (;;) {
        const unsigned chunks = (unsigned)(c >> 16) & 0xFFFF, next = (unsigned)c & 0xFFFF;
        if (generation_of(c) != generation || next >= chunks) return ran;
        if (!atomic_compare_exchange_weak_explicit(&pool.claim, &c, c + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        const job_t *j = &pool.job;
        const int64_t first = (int64_t)next * j->chunk_rows;
        const int64_t count = first + j->chunk_rows <= j->nrows ? j->chunk_rows : j->nrows - first;
        run_rows(j, first, count);
        atomic_fetch_sub_explicit(&pool.chunks_left, 1, memory_order_release);
        ran++;
        c = atomic_load_explicit(&pool.claim, memory_order_acquire);
    }
}

static void *helper_main(void *arg) {
    (void)arg;
    uint32_t seen = generation_of(atomic_load_explicit(&pool.claim, memory_order_acquire));
    for (;;) {
        uint32_t g = generation_of(atomic_load_explicit(&pool.claim, memory_order_acquire));
        if (g == seen) {
            const int64_t deadline = now_ns() + RMAS_POOL_SPIN_NS;
            for (int spins = 0; g == seen; spins++) {
                // After a short pure spin, yield on every turn: a thread made runnable on this
                // core meanwhile (e.g. a Dispatch worker of a parallel attention) then gets it,
                // instead of waiting for the end of our spin.
                if (spins < YIELD_AFTER_SPINS) cpu_relax();
                else sched_yield();
                g = generation_of(atomic_load_explicit(&pool.claim, memory_order_acquire));
                if ((spins & 255) == 255 && g == seen && now_ns() > deadline) {
                    pthread_mutex_lock(&pool.sleep_lock);
                    pool.sleepers++;
                    while ((g = generation_of(atomic_load_explicit(&pool.claim, memory_order_acquire))) == seen)
                        pthread_cond_wait(&pool.wake, &pool.sleep_lock);
                    pool.sleepers--;
                    pthread_mutex_unlock(&pool.sleep_lock);
                }
            }
        }
        seen = g;
        (void)run_chunks(seen);
    }
    return NULL;
}

/// Starts helpers until there are `count` (or as many as could be started).
static void ensure_helpers(int count) {
    if (count > MAX_HELPERS) count = MAX_HELPERS;
    while (pool.helpers < count) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&t, &attr, helper_main, NULL);
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool.helpers++;
    }
}

/// Rows first ..< first + count of a product with `nvec` activation vectors. One vector is a plain
/// matvec over the rows. Several go in tiles of rows small enough to stay in L1 (a multiple of 4
/// rows, the kernels' group): the several-vector kernel, where the format has one, decodes each
/// weight block once per group of vectors; otherwise the single-vector kernel runs once per vector
/// over the tile. Either way the weights are read from memory once for all the vectors, and each
/// y is what the single-vector kernel gives (per-row results do not depend on the grouping).
void rmas_gemm_vectors_rows(rmas_gemv_fn fn, rmas_gemm_fn gemm, int n, const uint8_t *w, size_t stride,
                            const void *const *xqs, float *const *ys, int nvec, int64_t first, int64_t count) {
    if (nvec == 1) {
        fn(n, w + first * stride, stride, xqs[0], ys[0] + first, count);
        return;
    }
    int64_t tile = (int64_t)((gemm ? 32768 : 16384) / (stride ? stride : 1)) / 4 * 4;
    if (tile < 4) tile = 4;
    for (int64_t r = first; r < first + count; r += tile) {
        const int64_t rows = r + tile <= first + count ? tile : first + count - r;
        if (gemm) gemm(n, w + r * stride, stride, xqs, ys, r, nvec, rows);
        else for (int v = 0; v < nvec; v++) fn(n, w + r * stride, stride, xqs[v], ys[v] + r, rows);
    }
}

/// Runs `job` (its fn, rows and vectors set) on the caller and the helpers; the caller holds
/// `pool.dispatch`, which this releases.
static void dispatch_job(job_t job, int threads) {
    const int started = pool.helpers;
    ensure_helpers(threads - 1);
    const int fresh = pool.helpers != started;  // a helper just created may not run yet: don't judge
    const int workers = pool.helpers + 1 < threads ? pool.helpers + 1 : threads;
    const int64_t nrows = job.nrows;
    // Two chunks per worker, in whole groups of 4 rows, so that a worker descheduled for a
    // moment leaves its second chunk to the others.
    int64_t chunk_rows = (nrows + 2 * workers - 1) / (2 * workers);
    chunk_rows = (chunk_rows + 3) / 4 * 4;
    const unsigned chunks = (unsigned)((nrows + chunk_rows - 1) / chunk_rows);
    job.chunk_rows = chunk_rows;
    pool.job = job;
    atomic_store_explicit(&pool.chunks_left, (int)chunks, memory_order_relaxed);
    const uint32_t generation = generation_of(atomic_load_explicit(&pool.claim, memory_order_relaxed)) + 1;
    atomic_store_explicit(&pool.claim, (uint64_t)generation << 32 | (uint64_t)chunks << 16, memory_order_release);
    pthread_mutex_lock(&pool.sleep_lock);
    const int all_awake = pool.sleepers == 0;
    if (!all_awake) pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.sleep_lock);
    const int64_t start = now_ns();
    const int mine = run_chunks(generation);
    const int64_t own = now_ns() - start;
    while (atomic_load_explicit(&pool.chunks_left, memory_order_acquire) > 0) cpu_relax();
    const int64_t total = now_ns() - start;
    const double alone = mine > 0 ? (double)own / mine * chunks : 0;  // estimated single-thread time
    if (all_awake && !fresh && alone >= MIN_JUDGED_NS) {
        const double speedup = alone / (double)total;
        pool.mean_speedup = pool.judged > 0 ? pool.mean_speedup + (speedup - pool.mean_speedup) / 8 : speedup;
        if (++pool.judged >= MIN_JUDGED_JOBS && pool.mean_speedup < MIN_SPEEDUP) {
            if (pool.backoff_length < MIN_BACKOFF) pool.backoff_length = MIN_BACKOFF;
            pool.backoff = pool.backoff_length;
            if (pool.backoff_length < MAX_BACKOFF) pool.backoff_length *= 2;
            pool.good_jobs = 0;
            pool.judged = 0;
        } else if (speedup >= MIN_SPEEDUP && ++pool.good_jobs >= GOOD_RUN) {
            pool.backoff_length = MIN_BACKOFF;
            pool.good_jobs = 0;
        }
    }
    pthread_mutex_unlock(&pool.dispatch);
}

/// Runs `job` on the helpers, or on the calling thread alone when it is small (4 rows or fewer),
/// `threads` is 1, another thread is dispatching, or the pool is backing off.
static void submit(job_t job, int threads) {
    if (threads <= 1 || job.nrows <= 4 || pthread_mutex_trylock(&pool.dispatch) != 0) {
        run_rows(&job, 0, job.nrows);
        return;
    }
    if (pool.backoff > 0) {
        pool.backoff--;
        pthread_mutex_unlock(&pool.dispatch);
        run_rows(&job, 0, job.nrows);
        return;
    }
    dispatch_job(job, threads);
}

int rmas_gemv_parallel(int weight_type, int n, const void *w, size_t row_stride, const void *xq, float *y,
                       int64_t nrows, int threads) {
    return rmas_gemm_vectors_parallel(weight_type, n, w, row_stride, &xq, &y, 1, nrows, threads);
}

int rmas_gemm_vectors_parallel(int weight_type, int n, const void *w, size_t row_stride, const void *const *xq,
                               float *const *y, int nvec, int64_t nrows, int threads) {
    rmas_gemv_fn fn = rmas_gemv_kernel(weight_type, n);
    rmas_gemm_fn gemm = rmas_gemm_kernel(weight_type, n);
    if (!fn || nvec < 0 || nrows < 0) return -1;
    if (nvec == 0 || nrows == 0) return 0;
    submit((job_t){.n = n, .w = w, .stride = row_stride, .nrows = nrows, .fn = fn, .gemm = gemm, .nvec = nvec, .xqs = xq, .ys = y},
           threads);
    return 0;
}

int rmas_tiled_parallel(int weight_type, int n, const void *tiles, int64_t rows, const void *const *xq, float *const *y,
                        int nvec, int threads) {
    if (!rmas_tiled_bytes(weight_type, rows, n) || nvec < 0) return -1;
    if (nvec == 0 || rows == 0) return 0;
    submit((job_t){.n = n, .nrows = (rows + 15) / 16, .nvec = nvec, .xqs = xq, .ys = y, .tiles = tiles,
                   .tiles_layout = rmas_tiled_layout(weight_type), .tiled_rows = rows},
           threads);
    return 0;
}
