// Provenance: sampling steps as in llama.cpp's default sampler chain (penalties → top-k → top-p
// → min-p → temperature → draw); repetition penalty as CTRL / llama.cpp (divide positive logits,
// multiply negative ones).
import Kernels

/// How the next token is chosen from logits.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy (argmax).
    public var temperature: Float = 0
    public var topK: Int = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    public var repetitionPenalty: Float = 1
    /// How many recent tokens the repetition penalty looks at.
    public var repetitionWindow: Int = 64
    public var seed: UInt64 = 0

    public init(temperature: Float = 0, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
                repetitionPenalty: Float = 1, repetitionWindow: Int = 64, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    public static let greedy = SamplingParameters()
}

/// A stateful sampler (owns its RNG).
public struct Sampler: Sendable {
    typealias Candidate = (id: Int, logit: Float)
    public let parameters: SamplingParameters
    private var rng: SplitMix64

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        rng = SplitMix64(seed: parameters.seed)
    }

    /// Picks a token from `logits [V]`, given the tokens so far (for the repetition penalty).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, history: [Int32]) -> Int32 {
        let p = parameters
        var penalized: [Int32: Float] = [:]
        if p.repetitionPenalty != 1 {
            for id in history.suffix(p.repetitionWindow) where penalized[id] == nil {
                let l = logits[Int(id)]
                penalized[id] = l > 0 ? l / p.repetitionPenalty : l * p.repetitionPenalty
            }
        }
        @inline(__always) func logit(_ i: Int) -> Float { penalized[Int32(i)] ?? logits[i] }

        if p.temperature <= 0 {
            var best = 0
            for i in 1..<logits.count where logit(i) > logit(best) { best = i }
            return Int32(best)
        }
        // Candidates: top-k by logit (all when topK ≤ 0), sorted descending, equal logits by id.
        let candidates: [Candidate]
        if p.topK > 0, p.topK < logits.count {
            candidates = penalized.isEmpty
                ? Self.best(p.topK, of: logits.count) { logits[$0] }
                : Self.best(p.topK, of: logits.count, logit)
        } else {
            candidates = (0..<logits.count).map { (id: $0, logit: logit($0)) }.sorted { $0.logit > $1.logit }
        }
        // Probabilities at temperature 1 drive top-p and min-p, as in llama.cpp.
        let top = candidates[0].logit
        var probabilities = candidates.map { Kernels.VectorMath.exp($0.logit - top) }
        let total = probabilities.reduce(0, +)
        probabilities = probabilities.map { $0 / total }
        var keep = candidates.count
        if p.topP < 1 {
            var cumulative: Float = 0
            for (i, q) in probabilities.enumerated() {
                cumulative += q
                if cumulative >= p.topP { keep = min(keep, i + 1); break }
            }
        }
        if p.minP > 0 {
            let floor = probabilities[0] * p.minP
            keep = min(keep, max(1, probabilities.prefix(keep).filter { $0 >= floor }.count))
        }
        // Draw from softmax(logit / T) over the survivors.
        let kept = candidates.prefix(keep)
        let weights = kept.map { Kernels.VectorMath.exp(($0.logit - top) / p.temperature) }
        var r = rng.nextUnitFloat() * weights.reduce(0, +)
        for (candidate, weight) in zip(kept, weights) {
            r -= weight
            if r < 0 { return Int32(candidate.id) }
        }
        return Int32(kept[kept.startIndex].id)
    }

    /// The `k` best of `n` candidates (`0 < k < n`), best first: the higher logit first, the lower id
    /// first among equal logits — the prefix a stable descending sort of all `n` gives, found in one
    /// pass over a `k`-element min-heap (O(n) compares when most logits fall below the k-th), instead
    /// of sorting the whole vocabulary (V = 151,936 for Qwen2.5) per sampled token.
    static func best(_ k: Int, of n: Int, _ logit: (Int) -> Float) -> [Candidate] {
        // `worse(a, b)`: a ranks after b. The heap's root is its worst member.
        @inline(__always) func worse(_ a: Candidate, _ b: Candidate) -> Bool {
            a.logit < b.logit || (a.logit == b.logit && a.id > b.id)
        }
        var heap = [Candidate]()
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, worse(heap[l], heap[m]) { m = l }
                if r < heap.count, worse(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for id in 0..<n {
            let c = (id: id, logit: logit(id))
            if heap.count < k {
                heap.append(c)
                var i = heap.count - 1
                while i > 0, worse(heap[i], heap[(i - 1) / 2]) {
                    heap.swapAt(i, (i - 1) / 2)
                    i = (i - 1) / 2
                }
            } else if c.logit > heap[0].logit {
                // Ids rise through the scan, so an equal logit never beats the root.
                heap[0] = c
                siftDown(0)
            }
        }
        return heap.sorted { worse($1, $0) }
    }
}

