import Foundation
import Kernels
import Models
import TestSupport
import Testing
import Training

@Suite("Cross-entropy loss head")
struct CrossEntropyTests {
    static func logits(rows: Int, vocabulary: Int) -> [Float] {
        var rng = SplitMix64(seed: 21)
        return (0..<(rows * vocabulary)).map { _ in 4 * rng.nextGaussian() }
    }

    @Test("loss and gradient equal a Float64 softmax, on one thread and on two")
    func againstReference() {
        // V large enough that rows split over threads and the sum crosses several 4096 flushes.
        let rows = 6, v = 20_011, scale: Float = 0.25
        let input = Self.logits(rows: rows, vocabulary: v)
        let targets: [Int32] = [0, 5, 20_010, 17, 4096, 9999]
        var expectedLoss = 0.0
        var expected = [Double](repeating: 0, count: rows * v)
        for r in 0..<rows {
            let row = input[(r * v)..<((r + 1) * v)].map(Double.init)
            let m = row.max()!
            let sum = row.reduce(0) { $0 + exp($1 - m) }
            expectedLoss += log(sum) + m - row[Int(targets[r])]
            for i in 0..<v { expected[r * v + i] = Double(scale) * exp(row[i] - m) / sum }
            expected[r * v + Int(targets[r])] -= Double(scale)
        }
        var results: [[Float]] = []
        for threads in [1, 2] {
            var gradient = input
            let loss = targets.withUnsafeBufferPointer {
                CrossEntropy.lossAndGradient(logits: &gradient, rows: rows, vocabulary: v, targets: $0, scale: scale,
                                             threads: threads)
            }
            #expect(abs(loss - expectedLoss) < 1e-4 * abs(expectedLoss))
            let worst = zip(gradient, expected).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 1e-6)
            results.append(gradient)
        }
        #expect(results[0] == results[1])
    }

    /// The LM head's loss and gradient with bfloat16 products: close to fp32's.
    @Test("cross-entropy through a bfloat16 head", arguments: [Architecture.llama, .qwen2, .gemma3])
    func crossEntropy(_ architecture: Architecture) throws {
        let model = try TinyModel(architecture).transformer()
        let t = 9, d = model.configuration.width
        let tokens = (0..<t).map { Int32($0 * 17 % 200 + 2) }
        let h = { var rng = SplitMix64(seed: 4); return (0..<(t * d)).map { _ in rng.nextGaussian() } }()
        func loss(_ precision: ActivationPrecision) -> (Double, [Float]) {
            var g = [Float](repeating: 0, count: t * d)
            let l = h.withUnsafeBufferPointer { hp in
                g.withUnsafeMutableBufferPointer {
                    model.crossEntropy(hidden: hp.baseAddress!, positions: Array(0..<(t - 1)), targets: Array(tokens.dropFirst()),
                                       hiddenGradient: $0.baseAddress!, precision: precision)
                }
            }
            return (l, g)
        }
        let (exactLoss, exactGradient) = loss(.float32), (roundedLoss, roundedGradient) = loss(.bfloat16)
        #expect(abs(roundedLoss - exactLoss) < 1e-2 * abs(exactLoss))
        let diff = zip(roundedGradient, exactGradient).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        let norm = exactGradient.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect((diff / norm).squareRoot() < 5e-2)
        if GEMMFormat.bfloat16.isSupported { #expect(roundedLoss != exactLoss, "the head's products really round") }
    }
}
