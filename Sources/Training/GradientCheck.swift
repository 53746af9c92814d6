// Provenance: directional-derivative gradient checking (compare ⟨∇L, v⟩ with a finite difference
// of L along v), with the five-point central stencil f′ ≈ [8(f(ε) − f(−ε)) − (f(2ε) − f(−2ε))]/12ε.
import Foundation
import Kernels
import Models

/// Compares the analytic gradient of a training loss w.r.t. the input embeddings with finite
/// differences of the forward pass, along random directions, on any model.
///
/// The loss exercises both heads: mean next-token cross-entropy over every position, plus the
/// mean cosine distance of every 4th hidden state to a random target (the inner-link objective).
public struct GradientCheck: Sendable {
    public struct Direction: Sendable {
        public var analytic: Double
        /// The five-point derivative with step ε.
        public var numeric: Double
        /// |numeric(ε) − numeric(2ε)|: how far Float32 rounding moves the finite difference itself
        /// (rounding noise scales as 1/ε, the stencil's truncation as ε⁴, so at these steps the
        /// spread is the rounding noise).
        public var numericSpread: Double = 0
        /// |analytic − numeric| / max(|numeric|, 1e-6).
        public var relativeError: Double { abs(analytic - numeric) / max(abs(numeric), 1e-6) }
        /// The relative error beyond twice the measured numeric spread: what the check judges, so
        /// a direction whose derivative is small against the loss's rounding noise does not fail
        /// on noise, while a wrong gradient (off by tens of percent) still does.
        public var errorBeyondNoise: Double { max(0, abs(analytic - numeric) - 2 * numericSpread) / max(abs(numeric), 1e-6) }
    }

    public let transformer: Transformer
    public let tokens: [Int32]
    /// Step along each direction, relative to the embeddings' RMS: perturbations of ~0.5 %
    /// keep the stencil's truncation (~ε⁴) and Float32 rounding (~1e-7·|L|/ε) both small.
    public var relativeStep: Float = 5e-3
    public var seed: UInt64 = 1
    /// The matrix products of the analytic gradient's forward and backward. The finite
    /// differences always run in fp32, so with ``ActivationPrecision/bfloat16`` the check
    /// measures how far the bfloat16 gradient is from the exact loss's derivative.
    public var precision = ActivationPrecision.float32

    public init(transformer: Transformer, tokens: [Int32]) {
        precondition(tokens.count >= 2, "need at least two tokens")
        self.transformer = transformer
        self.tokens = tokens
    }

    /// The loss and, when `gradient` is given, dL/dX written into it.
    func loss(_ x: [Float], targets: [Float], gradient: UnsafeMutablePointer<Float>?, precision: ActivationPrecision = .float32) -> Double {
        let t = tokens.count, d = transformer.configuration.width
        let (tape, hidden) = x.withUnsafeBufferPointer {
            transformer.forwardForTraining(embeddings: $0.baseAddress!, count: t, precision: precision)
        }
        var dH = [Float](repeating: 0, count: t * d)
        let cosineRows = Array(stride(from: 0, to: t, by: 4))
        var total = 0.0
        hidden.withUnsafeBufferPointer { h in
            dH.withUnsafeMutableBufferPointer { g in
                total += transformer.crossEntropy(hidden: h.baseAddress!, positions: Array(0..<(t - 1)),
                                                  targets: Array(tokens.dropFirst()), hiddenGradient: g.baseAddress!,
                                                  precision: precision)
                for (k, row) in cosineRows.enumerated() {
                    total += targets.withUnsafeBufferPointer {
                        CosineDistance.lossAndGradient(
                            prediction: h.baseAddress! + row * d, target: $0.baseAddress! + k * d, rows: 1, width: d,
                            scale: 1 / Float(cosineRows.count), predictionGradient: g.baseAddress! + row * d)
                    } / Double(cosineRows.count)
                }
            }
        }
        if let gradient {
            dH.withUnsafeBufferPointer { transformer.backward(tape: tape, hiddenGradient: $0.baseAddress!, embeddingGradient: gradient) }
        }
        return total
    }

    /// Runs `directions` random directions; returns each one's analytic and numeric derivative.
    public func run(directions: Int) -> [Direction] {
        let t = tokens.count, d = transformer.configuration.width
        let x = transformer.embeddings(tokens)
        let rms = (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)).squareRoot()
        var rng = SplitMix64(seed: seed)
        let targets = (0..<(((t + 3) / 4) * d)).map { _ in rng.nextGaussian() }
        var gradient = [Float](repeating: 0, count: t * d)
        _ = gradient.withUnsafeMutableBufferPointer { loss(x, targets: targets, gradient: $0.baseAddress!, precision: precision) }
        return (0..<directions).map { _ in
            let v = (0..<(t * d)).map { _ in rng.nextGaussian() * Float(rms) }
            let epsilon = relativeStep
            func shifted(_ k: Float) -> Double { loss(zip(x, v).map { $0 + k * epsilon * $1 }, targets: targets, gradient: nil) }
            let (p1, m1, p2, m2) = (shifted(1), shifted(-1), shifted(2), shifted(-2))
            let numeric = (8 * (p1 - m1) - (p2 - m2)) / Double(12 * epsilon)
            let numericWide = (8 * (p2 - m2) - (shifted(4) - shifted(-4))) / Double(24 * epsilon)
            let analytic = zip(gradient, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            return Direction(analytic: analytic, numeric: numeric, numericSpread: abs(numeric - numericWide))
        }
    }

    /// |analytic − numeric| / rms(numeric over `directions`) for each direction: how an
    /// approximate (bfloat16) gradient is judged. A direction nearly orthogonal to the gradient
    /// has a tiny derivative that bf16 rounding can move by tens of percent while the gradient as
    /// a whole is within a few percent; the typical derivative's size is the fair scale.
    public static func errorsOfRMS(_ directions: [Direction]) -> [Double] {
        let rms = (directions.reduce(0.0) { $0 + $1.numeric * $1.numeric } / Double(max(1, directions.count))).squareRoot()
        return directions.map { abs($0.analytic - $0.numeric) / max(rms, 1e-12) }
    }
}
