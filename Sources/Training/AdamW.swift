// Provenance: torch.optim.AdamW, torch 2.13 CPU default path (`_single_tensor_adam` with
// decoupled_weight_decay=True; foreach and fused are off for CPU tensors). Loshchilov & Hutter,
// "Decoupled Weight Decay Regularization" (2019). llm.c's gpt2_update is the same rule.
import Foundation

/// Adam with decoupled weight decay, updating a ``ParameterSet`` in place from its gradients.
///
/// Step t (1-based, counted in ``state``) with learning rate α, for each element p of each
/// parameter, with gradient g, decay λ (``Configuration/weightDecay`` when ``Parameter/decays``,
/// else 0), and in torch's operation order:
///
///     p ← p · (1 − α·λ)                          (decoupled decay; skipped when λ = 0)
///     m ← m + (1 − β₁)·(g − m)                   (torch's lerp_, one fused multiply-add)
///     v ← v·β₂, then v ← v + ((1 − β₂)·g)·g       (torch's mul_ + addcmul_, the add fused)
///     p ← p + ((−α/(1 − β₁ᵗ))·m) / (√v / √(1 − β₂ᵗ) + ε)     (torch's addcdiv_)
///
/// which is the textbook p ← p(1 − αλ) − α·m̂/(√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ).
/// Scalars (1 − α·λ, α/(1 − β₁ᵗ), √(1 − β₂ᵗ), …) are formed in Double, as Python does, and
/// rounded to Float once per step; element arithmetic is Float. The two fused multiply-adds
/// are what torch's compiled CPU kernels do (its vectorised lerp uses fmadd, and GCC contracts
/// addcmul's `self + value * t1 * t2`); with them, 30 steps fed torch's gradients reproduce
/// torch 2.13's parameters bit for bit (Tests/TrainingTests/AdamWTorchGoldenTests.swift).
///
/// Every parameter of the set is updated at every step, even with a zero gradient (momentum and
/// decay still move it), as torch does for parameters whose `.grad` is a zero tensor. Leave
/// frozen tensors out of the set.
///
/// The update runs over 16-lane SIMD vectors and allocates nothing after the first step
/// (a step right after reading ``state`` copies the moment arrays once, copy-on-write).
public struct AdamW: Sendable {
    /// Hyperparameters other than the learning rate (which is passed to each ``step(_:learningRate:)``).
    /// Defaults are torch.optim.AdamW's.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Decay rate of the first moment, β₁ ∈ [0, 1). Default 0.9.
        public var beta1: Double
        /// Decay rate of the second moment, β₂ ∈ [0, 1). Default 0.999.
        public var beta2: Double
        /// ε added to √v̂ in the denominator, > 0 in practice. Default 1e-8.
        public var epsilon: Double
        /// Decoupled weight decay λ for parameters whose ``Parameter/decays`` is true. Default 0.01.
        public var weightDecay: Double

        public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0.01) {
            precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "betas must lie in [0, 1)")
            precondition(epsilon >= 0 && weightDecay >= 0, "epsilon and weightDecay must be non-negative")
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    /// The hyperparameters this optimizer was made with.
    public let configuration: Configuration
    /// Names of the parameters, in the order of the set given at initialisation.
    private let names: [String]
    /// Steps taken so far.
    private var stepCount = 0
    /// m per parameter, `[count]` each.
    private var firstMoments: [[Float]]
    /// v per parameter, `[count]` each.
    private var secondMoments: [[Float]]

    /// An optimizer for `parameters`, with zero moments and no steps taken.
    ///
    /// Later calls must pass a set with the same names, counts and order.
    public init(parameters: ParameterSet, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        names = parameters.map(\.name)
        firstMoments = parameters.map { [Float](repeating: 0, count: $0.count) }
        secondMoments = firstMoments
    }

    /// A snapshot of the step count and moments, for a checkpoint.
    public var state: AdamWState {
        AdamWState(
            step: stepCount,
            moments: names.indices.map {
                AdamWState.Moments(name: names[$0], first: firstMoments[$0], second: secondMoments[$0])
            })
    }

    /// Replaces the step count and moments with `state` (matched to parameters by name, in any
    /// order), so that the next step continues a saved run bit-identically.
    ///
    /// - Throws: ``TrainingError/stateMismatch(parameter:reason:)`` if `state` lacks a
    ///   parameter, has an extra or duplicate one, a wrong element count, a negative step, or
    ///   non-finite moments; the optimizer is then unchanged.
    public mutating func restore(_ state: AdamWState) throws(TrainingError) {
        let aligned = try state.aligned(names: names, counts: firstMoments.map(\.count))
        stepCount = aligned.step
        firstMoments = aligned.moments.map(\.first)
        secondMoments = aligned.moments.map(\.second)
    }

    /// Performs one optimizer step with learning rate `learningRate` on every parameter of
    /// `parameters`, from their current gradients (which it does not clear).
    ///
    /// With a schedule, the k-th step (0-based) uses `schedule.learningRate(at: k)`, which is
    /// the same as calling `scheduler.step()` after each `optimizer.step()` in torch.
    ///
    /// - Throws: ``TrainingError/nonFiniteGradient(parameter:)`` naming the first parameter whose
    ///   gradient holds NaN or ±infinity; nothing (values, moments, step count) is changed then.
    public mutating func step(_ parameters: ParameterSet, learningRate: Double) throws(TrainingError) {
        precondition(
            parameters.count == names.count && zip(parameters, names).allSatisfy { $0.name == $1 },
            "AdamW.step: the parameter set differs from the one the optimizer was made for")
        if let parameter = firstNonFiniteGradient(in: parameters) {
            throw .nonFiniteGradient(parameter: parameter.name)
        }
        stepCount += 1
        let (beta1, beta2) = (configuration.beta1, configuration.beta2)
        let t = Double(stepCount)
        let correction1 = 1 - pow(beta1, t)
        let correction2 = 1 - pow(beta2, t)
        let stepSize = learningRate / correction1
        for index in parameters.indices {
            let parameter = parameters[index]
            let decay = parameter.decays ? configuration.weightDecay : 0
            let scalars = UpdateScalars(
                decayFactor: decay == 0 ? nil : Float(1 - learningRate * decay),
                firstWeight: Float(1 - beta1), beta2: Float(beta2), secondWeight: Float(1 - beta2),
                correction2Root: Float(pow(correction2, 0.5)),  // Python's `** 0.5`
                epsilon: Float(configuration.epsilon), negativeStepSize: Float(-stepSize))
            parameter.values.withUnsafeMutableBufferPointer { values in
                parameter.gradient.withUnsafeBufferPointer { gradient in
                    firstMoments[index].withUnsafeMutableBufferPointer { first in
                        secondMoments[index].withUnsafeMutableBufferPointer { second in
                            Self.update(
                                values: values, gradient: gradient, first: first, second: second,
                                scalars: scalars)
                        }
                    }
                }
            }
        }
    }
}

// MARK: - The element update

extension AdamW {
    /// One step's scalars, each rounded from Double to Float once, as torch rounds its
    /// Python-float arguments to the tensor's dtype.
    struct UpdateScalars {
        /// 1 − α·λ, or nil when λ = 0 (torch then skips the multiply).
        var decayFactor: Float?
        /// 1 − β₁, the lerp weight of the first moment.
        var firstWeight: Float
        var beta2: Float
        /// 1 − β₂.
        var secondWeight: Float
        /// √(1 − β₂ᵗ).
        var correction2Root: Float
        var epsilon: Float
        /// −α / (1 − β₁ᵗ).
        var negativeStepSize: Float
    }

    /// Updates `values`, `first` and `second` (all `[count]`) in place from `gradient` (`[count]`),
    /// 16 elements at a time; the tail goes through the same vector code, zero-padded, so every
    /// element sees identical arithmetic wherever it sits.
    static func update(
        values: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
        first: UnsafeMutableBufferPointer<Float>, second: UnsafeMutableBufferPointer<Float>,
        scalars: UpdateScalars
    ) {
        let count = values.count
        precondition(gradient.count == count && first.count == count && second.count == count)
        guard count > 0, let p = values.baseAddress, let g = gradient.baseAddress,
            let m = first.baseAddress, let v = second.baseAddress
        else { return }
        var i = 0
        while i + 16 <= count {
            var (pv, mv, vv) = (load(p + i), load(m + i), load(v + i))
            step(&pv, load(g + i), &mv, &vv, scalars)
            store(pv, p + i)
            store(mv, m + i)
            store(vv, v + i)
            i += 16
        }
        if i < count {
            var (pv, gv, mv, vv) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
            for j in i..<count {
                (pv[j - i], gv[j - i], mv[j - i], vv[j - i]) = (p[j], g[j], m[j], v[j])
            }
            step(&pv, gv, &mv, &vv, scalars)
            for j in i..<count { (p[j], m[j], v[j]) = (pv[j - i], mv[j - i], vv[j - i]) }
        }
    }

    /// The AdamW rule on 16 lanes, in torch's operation order (see the type's documentation).
    @inline(__always)
    private static func step(
        _ p: inout SIMD16<Float>, _ g: SIMD16<Float>, _ m: inout SIMD16<Float>, _ v: inout SIMD16<Float>,
        _ s: UpdateScalars
    ) {
        if let decayFactor = s.decayFactor { p *= decayFactor }
        // torch's lerp(m, g, w): m + w·(g − m) for |w| < 0.5, else g − (1 − w)·(g − m), fused.
        m = s.firstWeight < 0.5
            ? m.addingProduct(s.firstWeight, g - m)
            : g.addingProduct(s.firstWeight - 1, g - m)
        v = v * s.beta2
        v = v.addingProduct(s.secondWeight * g, g)  // torch: v + (w·g)·g, FMA-contracted
        let denominator = v.squareRoot() / s.correction2Root + s.epsilon
        p = p + s.negativeStepSize * m / denominator
    }

    @inline(__always)
    private static func load(_ pointer: UnsafeRawPointer) -> SIMD16<Float> {
        pointer.loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    private static func store(_ lanes: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: lanes, as: SIMD16<Float>.self)
    }
}
