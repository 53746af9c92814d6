import Foundation

/// Items worked on by a few threads at once, their results handed to the calling thread.
enum ConcurrentWork {
    /// Runs `work(i)` for every i in `0 ..< count` on `workers` threads (each wrapped in
    /// `participate`), taking items in order, and calls `deliver(i, result)` on the calling thread
    /// as each finishes (in finishing order). After the first error (from `work` or `deliver`) no
    /// new item starts; the items already running finish and are still delivered, then the first
    /// error is thrown. Once `drain` is requested no new item starts either; the running ones are
    /// delivered and the call returns normally.
    static func run<Result>(
        count: Int, workers: Int, drain: DrainRequest? = nil, participate: @escaping @Sendable (() -> Void) -> Void,
        work: @escaping @Sendable (Int) throws -> Result, deliver: (Int, Result) throws -> Void
    ) throws {
        guard count > 0 else { return }
        let queue = Queue<Result>()
        let workers = max(1, min(workers, count))
        for _ in 0..<workers {
            let thread = Thread {
                participate {
                    while drain?.isRequested != true, let i = queue.next(count: count) {
                        do { queue.finish(i, .success(try work(i))) } catch { queue.finish(i, .failure(error)) }
                    }
                }
                queue.workerExited()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        var firstError: Error?
        while let (i, outcome) = queue.take(workers: workers) {
            do {
                try deliver(i, try outcome.get())
            } catch {
                if firstError == nil { firstError = error }
                queue.cancel()
            }
        }
        if let firstError { throw firstError }
    }

    private final class Queue<Result>: @unchecked Sendable {  // all state under `condition`
        private let condition = NSCondition()
        private var nextItem = 0, exited = 0, cancelled = false
        private var finished: [(Int, Swift.Result<Result, Error>)] = []

        func next(count: Int) -> Int? {
            condition.lock()
            defer { condition.unlock() }
            guard !cancelled, nextItem < count else { return nil }
            nextItem += 1
            return nextItem - 1
        }

        func finish(_ i: Int, _ result: Swift.Result<Result, Error>) {
            condition.lock()
            finished.append((i, result))
            if case .failure = result { cancelled = true }
            condition.broadcast()
            condition.unlock()
        }

        func workerExited() {
            condition.lock()
            exited += 1
            condition.broadcast()
            condition.unlock()
        }

        func cancel() {
            condition.lock()
            cancelled = true
            condition.unlock()
        }

        /// The next finished item, or nil once every worker has exited and all were taken.
        func take(workers: Int) -> (Int, Swift.Result<Result, Error>)? {
            condition.lock()
            defer { condition.unlock() }
            while finished.isEmpty, exited < workers { condition.wait() }
            return finished.isEmpty ? nil : finished.removeFirst()
        }
    }
}
