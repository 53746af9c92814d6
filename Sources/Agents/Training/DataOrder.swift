// The example order of every trainer: a fresh seeded permutation per epoch, a pure function of
// (seed, step), so a resumed run sees exactly the batches an uninterrupted one would.
import Kernels

struct DataOrder: Sendable {
    let count: Int
    let seed: UInt64

    func permutation(epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1))
        var p = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { p.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return p
    }

    func indices(step: Int, batchSize: Int) -> [Int] {
        (0..<batchSize).map { j in
            let k = step * batchSize + j
            return permutation(epoch: k / count)[k % count]
        }
    }
}
