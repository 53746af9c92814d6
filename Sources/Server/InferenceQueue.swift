// A bounded queue of model work served by a fixed set of worker threads. The workers' forward
// calls go through one BatchingExecutor, so requests in flight share batched forwards; a full
// queue refuses new work at once (429) instead of growing.
import Foundation
import Models
import Synchronization

/// Runs blocking jobs on `workers` threads, at most `capacity` admitted (running + waiting).
public final class InferenceQueue: Sendable {
    public typealias Job = @Sendable (any ForwardExecutor) -> Void

    private struct State {
        var waiting: [Job] = []
        var running = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let wake = NSCondition()
    public let workers: Int
    public let capacity: Int
    /// Batches the forward calls of the jobs running at once.
    public let executor: BatchingExecutor

    public init(workers: Int, capacity: Int, threads: Int) {
        self.workers = max(1, workers)
        self.capacity = max(self.workers, capacity)
        executor = BatchingExecutor(threads: threads)
        for i in 0..<self.workers {
            let thread = Thread { [self] in work() }
            thread.name = "rmas-serve-\(i)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Jobs running and waiting.
    public var depth: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count) } }

    /// Admits `job`, or refuses it when `capacity` jobs are already admitted.
    public func submit(_ job: @escaping Job) throws(ServerError) {
        let admitted = state.withLock { s -> Bool in
            guard !s.stopped, s.running + s.waiting.count < capacity else { return false }
            s.waiting.append(job)
            return true
        }
        guard admitted else { throw .busy(retryAfter: 2) }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Lets the workers exit once the queue is empty (jobs already admitted still run).
    public func stop() {
        state.withLock { $0.stopped = true }
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }

    private func work() {
        while true {
            wake.lock()
            var job: Job?
            while true {
                let (next, stopped) = state.withLock { s -> (Job?, Bool) in
                    guard !s.waiting.isEmpty else { return (nil, s.stopped) }
                    s.running += 1
                    return (s.waiting.removeFirst(), false)
                }
                if let next { job = next; break }
                if stopped { wake.unlock(); return }
                wake.wait()
            }
            wake.unlock()
            executor.participate { job!(executor) }
            state.withLock { $0.running -= 1 }
        }
    }
}
