// Provenance: transformers.get_cosine_schedule_with_warmup (transformers 5.23,
// optimization.py `_get_cosine_schedule_with_warmup_lr_lambda`) driven by torch's LambdaLR,
// whose learning rate is `base_lr * lr_lambda(last_epoch)`.
import Foundation

/// A learning rate for each optimizer step.
///
/// Step indices are 0-based and count optimizer steps: the k-th call to
/// ``AdamW/step(_:learningRate:)`` (k = 0, 1, …) uses `learningRate(at: k)`. This matches torch's
/// usual loop, `optimizer.step(); scheduler.step()`, where step k runs with the scheduler's
/// `last_epoch == k`.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for optimizer step `step` (0-based, ≥ 0).
    func learningRate(at step: Int) -> Double
}

/// The same learning rate at every step.
public struct ConstantSchedule: LearningRateSchedule, Codable, Equatable {
    /// The learning rate, ≥ 0.
    public var value: Double

    public init(_ value: Double) { self.value = value }

    public func learningRate(at step: Int) -> Double { value }
}

/// Linear warm-up from 0 to `peak`, then cosine decay: transformers'
/// `get_cosine_schedule_with_warmup(optimizer, warmupSteps, totalSteps, cycles)` with `peak` as
/// the optimizer's base learning rate, value for value (same Double operations, same libm).
///
///     step < warmup:  peak · step / max(1, warmup)
///     otherwise:      peak · max(0, ½(1 + cos(π · cycles · 2 · progress))),
///                     progress = (step − warmup) / max(1, total − warmup)
///
/// So step 0 has learning rate 0 when `warmupSteps > 0`, the peak is reached at step
/// `warmupSteps`, and with `cycles = 0.5` the rate reaches 0 at step `totalSteps`. Past
/// `totalSteps` the formula is not clamped: with `cycles = 0.5` the cosine rises again, exactly
/// as in transformers, so a caller should stop at `totalSteps`.
public struct WarmupCosineSchedule: LearningRateSchedule, Codable, Equatable {
    /// The learning rate at the end of warm-up.
    public var peak: Double
    /// Steps of linear warm-up, ≥ 0.
    public var warmupSteps: Int
    /// Total optimizer steps of the run, ≥ 0.
    public var totalSteps: Int
    /// Cosine periods over the decay phase; 0.5 is a half period, from peak down to 0.
    public var cycles: Double

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, cycles: Double = 0.5) {
        precondition(warmupSteps >= 0 && totalSteps >= 0, "step counts must be non-negative")
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.cycles = cycles
    }

    /// transformers' `lr_lambda(step)`: the factor applied to `peak` at `step`.
    public func multiplier(at step: Int) -> Double {
        precondition(step >= 0, "step must be non-negative, got \(step)")
        if step < warmupSteps {
            return Double(step) / Double(max(1, warmupSteps))
        }
        let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
        return max(0, 0.5 * (1 + cos(Double.pi * cycles * 2 * progress)))
    }

    public func learningRate(at step: Int) -> Double { peak * multiplier(at: step) }
}
