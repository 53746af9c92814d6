// Provenance: softmax cross-entropy as torch.nn.functional.cross_entropy (reduction "mean",
// no label smoothing); its gradient is softmax − one-hot, so forward and backward are one pass.
import Foundation
import Kernels
import Models

/// Mean cross-entropy of next-token predictions, fused with its backward.
public enum CrossEntropy {
    /// Turns `logits` `[R × V]` into dL/dlogits in place, where L = scale · Σ_r −log softmax(logits_r)[target_r];
    /// returns Σ_r −log p(target_r) (unscaled, in Double). Callers wanting the mean pass `scale = 1/R`.
    /// Rows are spread over `threads`; the per-row losses are summed in row order.
    public static func lossAndGradient(
        logits: UnsafeMutablePointer<Float>, rows: Int, vocabulary v: Int, targets: UnsafeBufferPointer<Int32>, scale: Float,
        threads: Int = 1
    ) -> Double {
        precondition(targets.count == rows, "one target per row")
        for target in targets { precondition(target >= 0 && Int(target) < v, "target \(target) outside the vocabulary") }
        var losses = [Double](repeating: 0, count: rows)
        losses.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let (logits, out, targets) = (logits, out.baseAddress!, targets)  // rows are disjoint
            Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: Parallel.minimumRows(width: v)) { range in
                for r in range { out[r] = row(logits + r * v, count: v, target: Int(targets[r]), scale: scale) }
            }
        }
        return losses.reduce(0, +)
    }

    /// One row: −log softmax(row)[target], leaving scale · (softmax − one-hot) in `row`.
    @inline(__always)
    private static func row(_ row: UnsafeMutablePointer<Float>, count v: Int, target: Int, scale: Float) -> Double {
        let maximum = VectorMath.maximum(row, count: v)
        let targetLogit = row[target]
        // exp(x − max) in place; the sum in 16 float lanes, flushed into a Double every 4096
        // elements so a 150 K vocabulary loses nothing.
        var sum: Double = 0
        var start = 0
        while start < v {
            let count = min(4096, v - start)
            sum += Double(VectorMath.exponentiate(row + start, count: count, subtracting: maximum))
            start += count
        }
        VectorMath.scale(row, count: v, by: Float(Double(scale) / sum))
        row[target] -= scale
        return Foundation.log(sum) + Double(maximum) - Double(targetLogit)
    }
}

extension Transformer {
    /// Mean cross-entropy of the LM head's predictions at `positions` of `hidden` `[T × D]` (the
    /// post-final-norm states of ``forwardForTraining(embeddings:count:threads:)``) against
    /// `targets`, times `scale`; **adds** dL/dH into `hiddenGradient` `[T × D]`.
    ///
    /// Logits are made `chunk` rows at a time (default: as many as fit in 64 MB; Qwen2.5's
    /// V = 151 936 makes a row 0.6 MB), so memory stays bounded for any number of targets, while
    /// large chunks stream the V × D head weights as few times as possible. The head's products
    /// run as `precision` says (``Linear/forward(_:rows:_:threads:precision:)``, ``Linear/backwardInput(_:rows:_:accumulate:precision:threads:)``).
    /// Returns the mean loss (unscaled).
    public func crossEntropy(
        hidden: UnsafePointer<Float>, positions: [Int], targets: [Int32], scale: Float = 1,
        hiddenGradient: UnsafeMutablePointer<Float>, chunk: Int? = nil, precision: ActivationPrecision = .float32,
        threads: Int = Parallel.defaultThreadCount
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
            weights.output.forward(rows, rows: count, logits, threads: threads, precision: precision)
            total += targets[first..<(first + count)].withUnsafeBufferPointer {
                CrossEntropy.lossAndGradient(logits: logits, rows: count, vocabulary: v, targets: $0, scale: scale / Float(n),
                                             threads: threads)
            }
            weights.output.backwardInput(logits, rows: count, dRows, precision: precision, threads: threads)
            for i in 0..<count { Dot.axpy(1, dRows + i * d, hiddenGradient + positions[first + i] * d, count: d) }
        }
        return total / Double(n)
    }
}
