import Dispatch

/// Minimal fork-join over contiguous index ranges, on top of `DispatchQueue.concurrentPerform`.
public enum Parallel {
    /// Worker count used when a caller does not choose one (this project's machines have 2 cores).
    public static let defaultThreadCount = 2

    /// Splits `0 ..< count` into at most `threads` contiguous, near-equal, non-empty ranges and
    /// runs `body` once per range, concurrently; returns when all have finished.
    ///
    /// Chunks never go below `minimumChunk` items (so tiny loops run inline instead of paying
    /// the dispatch cost). `body` runs on several threads at once, hence `@Sendable`: it may
    /// write only state that is disjoint per range.
    public static func forEachChunk(
        count: Int, threads: Int = defaultThreadCount, minimumChunk: Int = 1,
        _ body: @Sendable (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let byMinimum = max(1, count / max(1, minimumChunk))
        let chunks = max(1, min(threads, byMinimum, count))
        if chunks == 1 {
            body(0 ..< count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            body(range(ofChunk: chunk, chunks: chunks, count: count))
        }
    }

    /// Runs `body` over contiguous spans of `0 ..< count` floats on up to `threads` threads;
    /// spans start at multiples of 16 (whole cache lines, whole SIMD16 vectors) and hold at
    /// least ~32 K floats (a cheap element-wise pass over fewer is not worth a wake-up).
    public static func forEachSpan(count: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let blocks = (count + 15) / 16
        forEachChunk(count: blocks, threads: threads, minimumChunk: 32_768 / 16) { range in
            body(range.lowerBound * 16 ..< min(count, range.upperBound * 16))
        }
    }

    /// Rows of `width` floats below which a cheap per-row loop (a norm, an activation) is not
    /// worth a second thread: a chunk must hold at least ~32 K floats to pay for its wake-up.
    @inline(__always)
    public static func minimumRows(width: Int) -> Int { max(1, 32_768 / max(1, width)) }

    /// The `chunk`-th of `chunks` contiguous ranges covering `0 ..< count`; the first
    /// `count % chunks` ranges are one longer.
    @inline(__always)
    static func range(ofChunk chunk: Int, chunks: Int, count: Int) -> Range<Int> {
        let base = count / chunks, extra = count % chunks
        let start = chunk * base + min(chunk, extra)
        return start ..< start + base + (chunk < extra ? 1 : 0)
    }
}
