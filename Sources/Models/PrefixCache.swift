// KV rows of prompt prefixes already run, shared by the questions and methods of an evaluation:
// every method on a question starts its prompts with the same system header and question, and
// self-consistency prefills one prompt k times.
import Synchronization

/// Stored key/value rows of token prefixes, per model, reused by later prompts that begin with
/// exactly those tokens. Thread-safe; least recently used entries go first past `maximumBytes`.
///
/// Reuse is exact when the prefix is always run as its own forward call (what
/// ``Transformer/prefill(_:embeddings:tokens:cache:precision:executor:threads:)`` does, hit or miss): the stored
/// rows are then bit for bit what the same call would compute again.
public final class PrefixCache: Sendable {
    private struct Key: Hashable {
        let model: ObjectIdentifier
        let tokens: [Int32]
        /// The rows differ with the products' formats (a bf16 prefill's from an fp32 one's).
        let precision: ActivationPrecision
    }

    private struct Entry {
        /// Keeps the model alive, so its identifier cannot be reused by another while stored.
        let transformer: Transformer
        /// `[count × kvWidth]` per layer.
        let keys: [[Float]]
        let values: [[Float]]
        var lastUse: UInt64
        var bytes: Int { 2 * keys.reduce(0) { $0 + $1.count } * MemoryLayout<Float>.size }
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
    }

    public let maximumBytes: Int
    private let state = Mutex(State())

    public init(maximumBytes: Int = 512 << 20) {
        self.maximumBytes = maximumBytes
    }

    /// Lookups that found their prefix, and those that did not.
    public var statistics: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }

    /// Bytes of the stored rows.
    public var byteCount: Int { state.withLock { $0.bytes } }

    /// Copies the stored rows of `tokens` for `transformer` into the empty `cache`; false (and
    /// `cache` untouched) when they are not stored.
    public func restore(_ transformer: Transformer, tokens: [Int32], precision: ActivationPrecision = .float32, into cache: KVCache) -> Bool {
        precondition(cache.count == 0, "a prefix goes into an empty cache")
        let key = Key(model: ObjectIdentifier(transformer), tokens: tokens, precision: precision)
        let found: Entry? = state.withLock { s in
            guard var entry = s.entries[key] else {
                s.misses += 1
                return nil
            }
            s.clock += 1
            entry.lastUse = s.clock
            s.entries[key] = entry
            s.hits += 1
            return entry
        }
        guard let found else { return false }
        cache.load(keys: found.keys, values: found.values, count: tokens.count)
        return true
    }

    /// Stores `cache`'s first `tokens.count` rows as those of `tokens` for `transformer` (run under `precision`),
    /// evicting the least recently used entries past `maximumBytes` (an entry larger than that
    /// is not stored).
    public func store(_ transformer: Transformer, tokens: [Int32], precision: ActivationPrecision = .float32, from cache: KVCache) {
        precondition(tokens.count <= cache.count, "the cache holds \(cache.count) rows, not \(tokens.count)")
        let (keys, values) = cache.rows(tokens.count)
        var entry = Entry(transformer: transformer, keys: keys, values: values, lastUse: 0)
        guard entry.bytes <= maximumBytes else { return }
        let key = Key(model: ObjectIdentifier(transformer), tokens: tokens, precision: precision)
        state.withLock { s in
            s.clock += 1
            entry.lastUse = s.clock
            if let old = s.entries.updateValue(entry, forKey: key) { s.bytes -= old.bytes }
            s.bytes += entry.bytes
            while s.bytes > maximumBytes, let oldest = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                s.bytes -= oldest.value.bytes
                s.entries[oldest.key] = nil
            }
        }
    }
}

extension KVCache {
    /// Copies of the first `count` rows of every layer: `[count × kvWidth]` keys and values.
    func rows(_ count: Int) -> (keys: [[Float]], values: [[Float]]) {
        precondition(count <= self.count)
        let n = count * kvWidth
        return (keys.map { Array(UnsafeBufferPointer(start: $0, count: n)) }, values.map { Array(UnsafeBufferPointer(start: $0, count: n)) })
    }

    /// Makes the empty cache hold `count` rows per layer taken from `keys` and `values`.
    func load(keys k: [[Float]], values v: [[Float]], count: Int) {
        precondition(self.count == 0 && k.count == layerCount && v.count == layerCount)
        reserve(count)
        for l in 0..<layerCount {
            k[l].withUnsafeBufferPointer { keys[l].update(from: $0.baseAddress!, count: count * kvWidth) }
            v[l].withUnsafeBufferPointer { values[l].update(from: $0.baseAddress!, count: count * kvWidth) }
        }
        advance(by: count)
    }
}

extension Transformer {
    /// Puts a prompt's leading text positions — `embeddings` `[P × D]` of the token ids `tokens`
    /// (P = tokens.count) — into the empty `cache`: restored from `prefixes`, or run as one
    /// forward call (no outputs) and stored. Without `prefixes` nothing runs and 0 is returned,
    /// so the caller's forward covers the whole prompt as before. Returns the positions now in
    /// `cache`; the caller runs the rest of the prompt after them.
    public func prefill(
        _ prefixes: PrefixCache?, embeddings: UnsafePointer<Float>, tokens: [Int32], cache: KVCache,
        precision: ActivationPrecision = .float32, executor: any ForwardExecutor, threads: Int
    ) -> Int {
        guard let prefixes, !tokens.isEmpty else { return 0 }
        if prefixes.restore(self, tokens: tokens, precision: precision, into: cache) { return tokens.count }
        _ = executor.forward(self, embeddings: embeddings, count: tokens.count, cache: cache, outputs: .none, logits: false,
                             precision: precision, threads: threads)
        prefixes.store(self, tokens: tokens, precision: precision, from: cache)
        return tokens.count
    }
}
