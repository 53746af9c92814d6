import Testing
@testable import Models
import Kernels

@Suite("Sampler: top-k candidates without sorting the vocabulary")
struct SamplerTopKTests {
    /// The reference the selection replaces: a stable descending sort of every (id, logit), cut at k.
    static func sortedPrefix(_ logits: [Float], _ k: Int) -> [Sampler.Candidate] {
        Array(logits.indices.map { (id: $0, logit: logits[$0]) }.sorted { $0.logit > $1.logit }.prefix(k))
    }

    /// Logits drawn from `levels` distinct values, so equal logits are common and their order counts.
    static func logits(count: Int, levels: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float(Int(rng.nextUnitFloat() * Float(levels))) * 0.25 - 3 }
    }

    @Test("equals the stable sort's prefix, ties by id", arguments: [1, 2, 7, 40, 999])
    func matchesStableSort(k: Int) {
        for (seed, levels) in [(1 as UInt64, 3), (2, 17), (3, 1000), (4, 1)] {
            let l = Self.logits(count: 1000, levels: levels, seed: seed)
            let got = Sampler.best(k, of: l.count) { l[$0] }
            let want = Self.sortedPrefix(l, k)
            #expect(got.map(\.id) == want.map(\.id), "k \(k), \(levels) levels")
            #expect(got.map(\.logit) == want.map(\.logit))
        }
    }

    @Test func increasingAndDecreasingRuns() {
        // Worst cases for a heap scan: every logit enters (rising), or none after the first k (falling).
        let rising = (0..<500).map { Float($0) }, falling = Array(rising.reversed())
        for l in [rising, falling] {
            #expect(Sampler.best(40, of: l.count) { l[$0] }.map(\.id) == Self.sortedPrefix(l, 40).map(\.id))
        }
    }

    @Test func penalisedDrawsEqualDrawsOverPenalisedLogits() {
        // The repetition penalty's lookup path and the plain path choose alike: sampling with a
        // penalty draws what sampling without one draws from logits penalised by hand.
        let l = Self.logits(count: 3000, levels: 40, seed: 5)
        let history: [Int32] = [0, 17, 17, 2999, 1234]
        var byHand = l
        for id in Set(history) { let v = l[Int(id)]; byHand[Int(id)] = v > 0 ? v / 2 : v * 2 }
        l.withUnsafeBufferPointer { raw in
            byHand.withUnsafeBufferPointer { penalised in
                var a = Sampler(SamplingParameters(temperature: 0.9, topK: 40, topP: 1, minP: 0, repetitionPenalty: 2, seed: 4))
                var b = Sampler(SamplingParameters(temperature: 0.9, topK: 40, topP: 1, minP: 0, seed: 4))
                let drawsA = (0..<200).map { _ in a.sample(raw, history: history) }
                let drawsB = (0..<200).map { _ in b.sample(penalised, history: []) }
                #expect(drawsA == drawsB)
                let allowed = Set(Self.sortedPrefix(byHand, 40).map { Int32($0.id) })
                #expect(drawsA.allSatisfy(allowed.contains))
                #expect(Set(drawsA).count > 1)
            }
        }
    }
}
