// Continuous batching for blocking callers: each thread that answers a question calls forward as
// if it were alone; the calls that are waiting at the same moment are run as one batched forward
// (``Transformer/forward(batch:threads:)``), so B questions in flight share each pass over the
// weights. Results are bit-for-bit those of unbatched calls.
import Foundation
import Kernels

/// A ``ForwardExecutor`` that gathers concurrent calls into batched forwards on one worker thread.
///
/// Threads that will call it in a loop (one per question in flight) register with
/// ``participate(_:)``; the worker then waits until every registered thread has a call pending
/// (or `gatherWindow` has passed since the oldest call or the last forward's end, whichever is
/// later, as when a thread is busy elsewhere) and runs
/// all pending calls of the model with the most of them in one forward. Calls from threads that
/// never registered run as soon as the worker is free. Forwards run one at a time, each on
/// `threads` cores, so B questions never oversubscribe the machine.
public final class BatchingExecutor: ForwardExecutor, @unchecked Sendable {
    // Everything mutable lives in `State`, under its condition's lock.
    private let state: State
    private let worker: Thread

    /// Counts, for tests and reports.
    public struct Statistics: Sendable, Equatable {
        /// Batched forwards run and the calls they served.
        public var forwards = 0
        public var calls = 0
        /// The largest number of calls one forward served.
        public var largestBatch = 0
        public var meanBatch: Double { forwards > 0 ? Double(calls) / Double(forwards) : 0 }
    }

    /// - Parameters:
    ///   - threads: cores each batched forward uses.
    ///   - maxCalls: the most calls one forward serves.
    ///   - maxPositions: the most positions one forward takes (a call's prompt chunk counts whole;
    ///     a forward always takes at least one call), bounding its activation memory.
    ///   - gatherWindow: how long the oldest call may wait for the other participants.
    public init(threads: Int = Parallel.defaultThreadCount, maxCalls: Int = 64, maxPositions: Int = 2048,
                gatherWindow: Duration = .milliseconds(3)) {
        let state = State(threads: max(1, threads), maxCalls: max(1, maxCalls), maxPositions: max(1, maxPositions),
                          gatherWindow: gatherWindow)
        self.state = state
        worker = Thread { state.serve() }
        worker.name = "rmas-batching"
        worker.stackSize = 8 << 20
        worker.start()
    }

    deinit { state.stop() }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Runs `body` with the calling thread registered as a participant (see the type's note).
    public func participate<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { $0.participants += 1 }
        let marks = Thread.current.threadDictionary
        let depth = (marks[participationKey] as? Int) ?? 0
        marks[participationKey] = depth + 1
        defer {
            marks[participationKey] = depth
            state.withLock { $0.participants -= 1 }
        }
        return try body()
    }

    /// A participating thread that waits for other work stops counting as one meanwhile; on any
    /// other thread `body` just runs.
    public func standAside(_ body: () -> Void) {
        guard let depth = Thread.current.threadDictionary[participationKey] as? Int, depth > 0 else { return body() }
        state.withLock { $0.participants -= 1 }
        defer { state.withLock { $0.participants += 1 } }
        body()
    }

    /// The thread-dictionary key under which a thread's participation depth in this executor is kept.
    private var participationKey: String { "rmas.batching.\(UInt(bitPattern: ObjectIdentifier(self).hashValue))" }

    public func forward(_ transformer: Transformer, _ input: Transformer.SequenceInput, threads: Int) -> Transformer.Result {
        state.submit(Call(transformer: transformer, input: input))
    }

    /// A pending call; the caller blocks until `result` is set, so its pointers stay valid.
    final class Call: @unchecked Sendable {
        let transformer: Transformer
        let input: Transformer.SequenceInput
        let arrival = ContinuousClock.now
        var result: Transformer.Result?

        init(transformer: Transformer, input: Transformer.SequenceInput) {
            self.transformer = transformer
            self.input = input
        }
    }

    final class State: @unchecked Sendable {
        struct Fields {
            var pending: [Call] = []
            var participants = 0
            var stopped = false
            var statistics = Statistics()
        }

        private let condition = NSCondition()
        private var fields = Fields()
        let threads: Int, maxCalls: Int, maxPositions: Int, gatherWindow: Duration
        /// How long the oldest call may be passed over for a model with more calls pending.
        let patience = Duration.milliseconds(250)

        init(threads: Int, maxCalls: Int, maxPositions: Int, gatherWindow: Duration) {
            self.threads = threads
            self.maxCalls = maxCalls
            self.maxPositions = maxPositions
            self.gatherWindow = gatherWindow
        }

        func withLock<T>(_ body: (inout Fields) -> T) -> T {
            condition.lock()
            defer {
                condition.broadcast()
                condition.unlock()
            }
            return body(&fields)
        }

        func stop() { withLock { $0.stopped = true } }

        func submit(_ call: Call) -> Transformer.Result {
            condition.lock()
            defer { condition.unlock() }
            fields.pending.append(call)
            condition.broadcast()
            while call.result == nil { condition.wait() }
            return call.result!
        }

        /// The worker's loop: gather, run, hand back, until stopped with nothing pending.
        func serve() {
            var idleSince = ContinuousClock.now
            condition.lock()
            while true {
                while fields.pending.isEmpty, !fields.stopped { condition.wait() }
                if fields.pending.isEmpty { break }
                // Wait from the later of the oldest call and the end of the last forward: the calls
                // that arrived during a forward would otherwise go at once, without the threads that
                // forward just served, and the batch would stay split in two alternating halves.
                let deadline = max(fields.pending[0].arrival, idleSince) + gatherWindow
                while fields.pending.count < fields.participants, fields.pending.count < maxCalls, ContinuousClock.now < deadline {
                    let left = (deadline - ContinuousClock.now).seconds
                    _ = condition.wait(until: Date(timeIntervalSinceNow: max(left, 0)))
                }
                let batch = takeBatch()
                condition.unlock()
                let results = batch[0].transformer.forward(batch: batch.map(\.input), threads: threads)
                condition.lock()
                for (call, result) in zip(batch, results) { call.result = result }
                idleSince = ContinuousClock.now
                fields.statistics.forwards += 1
                fields.statistics.calls += batch.count
                fields.statistics.largestBatch = max(fields.statistics.largestBatch, batch.count)
                condition.broadcast()
            }
            condition.unlock()
        }

        /// The pending calls of the model with the most of them (ties: the oldest call's), or of the
        /// oldest call's model once that call has waited `patience` (so a thread on a model few others
        /// use is not starved by a busier one); at most `maxCalls` and `maxPositions` (but at least
        /// one), oldest first; removed from `pending`.
        private func takeBatch() -> [Call] {
            var counts: [ObjectIdentifier: Int] = [:]
            for call in fields.pending { counts[ObjectIdentifier(call.transformer), default: 0] += 1 }
            let top = counts.values.max()!
            let oldest = fields.pending[0]
            let chosen = ContinuousClock.now - oldest.arrival > patience ? oldest.transformer
                : fields.pending.first { counts[ObjectIdentifier($0.transformer)] == top }!.transformer
            var batch: [Call] = [], rest: [Call] = [], positions = 0
            for call in fields.pending {
                let fits = batch.isEmpty || (batch.count < maxCalls && positions + call.input.count <= maxPositions)
                if call.transformer === chosen, fits {
                    batch.append(call)
                    positions += call.input.count
                } else {
                    rest.append(call)
                }
            }
            fields.pending = rest
            return batch
        }
    }
}
