// Provenance: softmax cross-entropy as torch.nn.functional.cross_entropy (reduction "mean",
// no label smoothing); its gradient is softmax − one-hot, so forward and backward are one pass.
import Foundation
import Kernels
import Models

/// Mean cross-entropy of next-token predictions, fused with its backward.
public enum CrossEntropy {
    /// Turns `logits` `[R × V]` into dL/dlogits in place, where L = scale · Σ_r −log softmax(logits_r)[target_r];
    /// returns Σ_r −log p(target_r) (unscaled, in Double). Callers wanting the mean pass `scale = 1/R`.
    public static func lossAndGradient(
        logits: UnsafeMutablePointer<Float>, rows: Int, vocabulary v: Int, targets: UnsafeBufferPointer<Int32>, scale: Float
    ) -> Double {
        precondition(targets.count == rows, "one target per row")
        var total: Double = 0
        for r in 0..<rows {
            let row = logits + r * v, target = Int(targets[r])
            precondition(target >= 0 && target < v, "target \(target) outside the vocabulary")
            var maximum = -Float.infinity
            for i in 0..<v { maximum = max(maximum, row[i]) }
            let targetLogit = row[target]
            VectorMath.map(row, row, count: v) { VectorMath.exp($0 - maximum) }
            var sum: Double = 0
            for i in 0..<v { sum += Double(row[i]) }
            total += Foundation.log(sum) + Double(maximum) - Double(targetLogit)
            let factor = Float(Double(scale) / sum)
            for i in 0..<v { row[i] *= factor }
            row[target] -= scale
        }
        return total
    }
}

extension Transformer {
    /// Mean cross-entropy of the LM head's predictions at `positions` of `hidden` `[T × D]` (the
    /// post-final-norm states of ``forwardForTraining(embeddings:count:threads:)``) against
    /// `targets`, times `scale`; **adds** dL/dH into `hiddenGradient` `[T × D]`.
    ///
    /// Logits are made `chunk` rows at a time (default: as many as fit in 64 MB; Qwen2.5's
    /// V = 151 936 makes a row 0.6 MB), so memory stays bounded for any number of targets, while
    /// large chunks stream the V × D head weights as few times as possible. Returns the mean
    /// loss (unscaled).
    public func crossEntropy(
        hidden: UnsafePointer<Float>, positions: [Int], targets: [Int32], scale: Float = 1,
        hiddenGradient: UnsafeMutablePointer<Float>, chunk: Int? = nil, threads: Int = Parallel.defaultThreadCount
    ) -> Double {
        precondition(positions.count == targets.count, "one target per position")
        guard !positions.isEmpty else { return 0 }
        let d = configuration.width, v = configuration.vocabularySize, n = positions.count
        let chunk = max(1, chunk ?? (64 << 20) / (v * MemoryLayout<Float>.size))
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: min(chunk, n) * d)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: min(chunk, n) * v)
        let dRows = UnsafeMutablePointer<Float>.allocate(capacity: min(chunk, n) * d)
        defer {
            rows.deallocate()
            logits.deallocate()
            dRows.deallocate()
        }
        var total: Double = 0
        for first in stride(from: 0, to: n, by: chunk) {
            let count = min(chunk, n - first)
            for i in 0..<count { (rows + i * d).update(from: hidden + positions[first + i] * d, count: d) }
            weights.output.forward(rows, rows: count, logits, threads: threads)
            total += targets[first..<(first + count)].withUnsafeBufferPointer {
                CrossEntropy.lossAndGradient(logits: logits, rows: count, vocabulary: v, targets: $0, scale: scale / Float(n))
            }
            weights.output.backwardInput(logits, rows: count, dRows, threads: threads)
            for i in 0..<count { Dot.axpy(1, dRows + i * d, hiddenGradient + positions[first + i] * d, count: d) }
        }
        return total / Double(n)
    }
}
