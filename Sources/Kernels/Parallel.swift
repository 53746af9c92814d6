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

    /// The `chunk`-th of `chunks` contiguous ranges covering `0 ..< count`; the first
    /// `count % chunks` ranges are one longer.
    @inline(__always)
    static func range(ofChunk chunk: Int, chunks: Int, count: Int) -> Range<Int> {
        let base = count / chunks, extra = count % chunks
        let start = chunk * base + min(chunk, extra)
        return start ..< start + base + (chunk < extra ? 1 : 0)
    }
}
