// Stage results shared between runs whose stages have exactly the same input: in an evaluation
// the methods of one question repeat each other's work — latent-tuned's rollouts are latent's
// (its soft prompt only follows the answering message), every latent method's first planner
// stage is the same, latent-shuffled's donor pass is the next question's latent pass, and
// latent-zero's later rounds repeat its first. A stage is a deterministic function of its node,
// its prompt (tokens and latent rows, bit for bit) and its settings, so a stored result is exactly
// what computing it again would give.
import Foundation
import Models

/// Results of latent rollouts and decodes, keyed by everything that determines them; a run that
/// needs a stage another thread is computing waits for it instead of computing it twice.
/// Thread-safe; least recently used results go first past `maximumBytes`.
public final class StageMemo: @unchecked Sendable {  // all state under `condition`
    /// What determines a stage's result.
    struct Key: Hashable {
        var node: Int
        var kind: StageKind
        /// Token ids of the prompt, −1 at latent rows.
        var tokens: [Int32]
        /// The latent rows' bit patterns, in prompt order.
        var latentBits: [UInt32]
        /// Latent steps of a rollout (0 for a decode).
        var steps: Int
        var threads: Int
        /// A decode's generation settings (nil for a rollout).
        var decoding: DecodeSettings?

        init(node: Int, kind: StageKind, prompt: SlottedPrompt, width d: Int, steps: Int, threads: Int, decoding: DecodeSettings?) {
            self.node = node
            self.kind = kind
            tokens = prompt.tokens.map { $0 ?? -1 }
            var bits: [UInt32] = []
            bits.reserveCapacity(prompt.latentCount * d)
            for (p, token) in prompt.tokens.enumerated() where token == nil {
                for x in prompt.embeddings[(p * d)..<((p + 1) * d)] { bits.append(x.bitPattern) }
            }
            latentBits = bits
            self.steps = steps
            self.threads = threads
            self.decoding = decoding
        }

        var bytes: Int { tokens.count * 4 + latentBits.count * 4 + 64 }
    }

    /// The generation settings a decode's text depends on (floats by bit pattern).
    struct DecodeSettings: Hashable {
        var maxTokens: Int
        var sampling: [UInt64]
        var stopStrings: [String]
        var prefillChunk: Int
        var precision: ActivationPrecision

        init(_ g: GenerationParameters) {
            let s = g.sampling
            maxTokens = g.maxTokens
            sampling = [UInt64(s.temperature.bitPattern), UInt64(s.topK), UInt64(s.topP.bitPattern), UInt64(s.minP.bitPattern),
                        UInt64(s.repetitionPenalty.bitPattern), UInt64(s.repetitionWindow), s.seed]
            stopStrings = g.stopStrings
            prefillChunk = g.prefillChunk
            precision = g.precision
        }
    }

    /// A stage's result: its record (the first computation's, time included) and, for a rollout,
    /// the latent thoughts `[m × D]`.
    struct Value {
        var record: StageRecord
        var latents: [Float]
        var bytes: Int { latents.count * 4 + (record.text?.utf8.count ?? 0) + 256 }
    }

    private enum Slot {
        case computing
        case done(Value, lastUse: UInt64)
    }

    /// Lookups that found a stored or in-flight result, and those that computed it.
    public struct Statistics: Sendable, Equatable {
        public var hits = 0
        public var misses = 0
    }

    public let maximumBytes: Int
    private let condition = NSCondition()
    private var slots: [Key: Slot] = [:]
    private var bytes = 0, clock: UInt64 = 0
    private var counts = Statistics()

    public init(maximumBytes: Int = 256 << 20) {
        self.maximumBytes = maximumBytes
    }

    public var statistics: Statistics {
        condition.lock()
        defer { condition.unlock() }
        return counts
    }

    /// Bytes of the stored results and their keys.
    public var byteCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return bytes
    }

    /// The result for `key`: stored, or awaited from the thread computing it (inside `waiting`, so a
    /// batching executor does not hold its forwards for this thread), or computed by `compute` and
    /// stored. `reused` is false only for the caller that computed it.
    func value(for key: Key, waiting: (() -> Void) -> Void, compute: () -> Value) -> (value: Value, reused: Bool) {
        condition.lock()
        while case .computing? = slots[key] {
            condition.unlock()
            waiting {
                condition.lock()
                while case .computing? = slots[key] { condition.wait() }
                condition.unlock()
            }
            condition.lock()  // then done, or evicted meanwhile (computed below), or computing again
        }
        if case .done(let value, _)? = slots[key] {
            clock += 1
            slots[key] = .done(value, lastUse: clock)
            counts.hits += 1
            condition.unlock()
            return (value, true)
        }
        // Absent (never computed, or evicted while this thread waited): compute it here.
        slots[key] = .computing
        counts.misses += 1
        condition.unlock()
        let value = compute()
        condition.lock()
        clock += 1
        let size = key.bytes + value.bytes
        if size <= maximumBytes {
            slots[key] = .done(value, lastUse: clock)
            bytes += size
            evict(keeping: key)
        } else {
            slots[key] = nil
        }
        condition.broadcast()
        condition.unlock()
        return (value, false)
    }

    /// Drops least recently used results until the stored bytes fit (never `kept`, just stored).
    private func evict(keeping kept: Key) {
        guard bytes > maximumBytes else { return }
        let order = slots.compactMap { key, slot -> (Key, UInt64, Int)? in
            guard key != kept, case .done(let value, let lastUse) = slot else { return nil }
            return (key, lastUse, key.bytes + value.bytes)
        }.sorted { $0.1 < $1.1 }
        for (key, _, size) in order {
            guard bytes > maximumBytes else { break }
            slots[key] = nil
            bytes -= size
        }
    }
}

extension GraphRunner {
    /// Node `i`'s m latent thoughts for `prompt` (see ``computeRollout(_:round:prompt:steps:threads:stages:events:)``),
    /// from ``memo`` when an identical rollout was computed; the stage is appended to `stages` either way.
    func rollout(
        _ i: Int, round: Int, prompt: SlottedPrompt, steps m: Int, threads: Int, stages: inout [StageRecord], events: (RunEvent) -> Void
    ) -> [Float] {
        guard let memo else { return computeRollout(i, round: round, prompt: prompt, steps: m, threads: threads, stages: &stages, events: events) }
        let key = StageMemo.Key(node: i, kind: .latent, prompt: prompt, width: graph.nodes[i].model.configuration.width, steps: m,
                                threads: threads, decoding: nil)
        let (value, reused) = memo.value(for: key, waiting: executor.standAside) {
            var computed: [StageRecord] = []
            let latents = computeRollout(i, round: round, prompt: prompt, steps: m, threads: threads, stages: &computed, events: events)
            return StageMemo.Value(record: computed[0], latents: latents)
        }
        stages.append(reused ? replay(value.record, round: round, kind: .latent, events: events) : value.record)
        return value.latents
    }

    /// Node `i`'s decoded reply to `prompt` (see ``computeDecode(_:round:prompt:generation:events:)``), from ``memo``
    /// when an identical decode was computed. Never memoized: cancellable decodes (a cancelled
    /// text is cut short) and tool loops (their tools may not be deterministic).
    func decode(_ i: Int, round: Int, prompt: SlottedPrompt, generation: GenerationParameters, events: (RunEvent) -> Void) -> StageRecord {
        var toolLoop = false
        if case .toolLoop = graph.nodes[i].decoder, tools != nil { toolLoop = true }
        guard let memo, generation.cancellation == nil, !toolLoop else {
            return computeDecode(i, round: round, prompt: prompt, generation: generation, events: events)
        }
        let key = StageMemo.Key(node: i, kind: .decode, prompt: prompt, width: graph.nodes[i].model.configuration.width, steps: 0,
                                threads: generation.threads, decoding: .init(generation))
        let (value, reused) = memo.value(for: key, waiting: executor.standAside) {
            StageMemo.Value(record: computeDecode(i, round: round, prompt: prompt, generation: generation, events: events), latents: [])
        }
        return reused ? replay(value.record, round: round, kind: .decode, events: events) : value.record
    }

    /// A stored stage's record as this run's stage in `round`, marked reused, with its events.
    private func replay(_ stored: StageRecord, round: Int, kind: StageKind, events: (RunEvent) -> Void) -> StageRecord {
        var record = stored
        record.round = round
        record.reused = true
        events(.stageStarted(node: record.node, round: round, kind: kind))
        if let text = record.text, !text.isEmpty { events(.text(node: record.node, round: round, chunk: text)) }
        events(.stageFinished(record))
        return record
    }
}
