/// Everything AdamW remembers between steps, as plain arrays keyed by parameter name: what a
/// checkpoint must store so that a resumed run continues bit-identically.
///
/// It is a value: reading ``AdamW/state`` takes a snapshot (the arrays are shared copy-on-write,
/// so the snapshot costs nothing until the optimizer's next step copies them once).
public struct AdamWState: Codable, Sendable, Equatable {
    /// The first and second moments of one parameter (torch's `exp_avg` and `exp_avg_sq`).
    public struct Moments: Codable, Sendable, Equatable {
        /// The ``Parameter/name`` these moments belong to.
        public var name: String
        /// m, the running mean of gradients, `[count]` in the parameter's element order.
        public var first: [Float]
        /// v, the running mean of squared gradients, `[count]`; never negative.
        public var second: [Float]

        public init(name: String, first: [Float], second: [Float]) {
            self.name = name
            self.first = first
            self.second = second
        }
    }

    /// Optimizer steps taken so far (torch's `state[p]["step"]`; one counter for the whole set,
    /// because every parameter is updated at every step). Step t uses bias corrections
    /// 1 − β₁ᵗ and 1 − β₂ᵗ with t = `step` after the increment.
    public var step: Int
    /// One entry per parameter, in ``ParameterSet`` order.
    public var moments: [Moments]

    public init(step: Int, moments: [Moments]) {
        self.step = step
        self.moments = moments
    }

    /// This state reordered to follow `names`, after checking that it fits the parameters so
    /// named, whose element counts are `counts`: a step ≥ 0, exactly one entry per name, moments
    /// of the parameter's element count, and finite moments with v ≥ 0.
    func aligned(names: [String], counts: [Int]) throws(TrainingError) -> AdamWState {
        guard step >= 0 else { throw .stateMismatch(parameter: "", reason: "negative step count \(step)") }
        var byName: [String: Moments] = [:]
        for entry in moments {
            guard byName.updateValue(entry, forKey: entry.name) == nil else {
                throw .stateMismatch(parameter: entry.name, reason: "moments appear twice")
            }
        }
        var ordered: [Moments] = []
        ordered.reserveCapacity(names.count)
        for (name, count) in zip(names, counts) {
            guard let entry = byName.removeValue(forKey: name) else {
                throw .stateMismatch(parameter: name, reason: "no moments for this parameter")
            }
            guard entry.first.count == count, entry.second.count == count else {
                throw .stateMismatch(
                    parameter: name,
                    reason: "moments have \(entry.first.count)/\(entry.second.count) elements, the parameter \(count)")
            }
            guard entry.first.allSatisfy(\.isFinite), entry.second.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw .stateMismatch(parameter: name, reason: "moments are non-finite or v < 0")
            }
            ordered.append(entry)
        }
        if let extra = byName.keys.sorted().first {
            throw .stateMismatch(parameter: extra, reason: "moments for a parameter that is not in the set")
        }
        return AdamWState(step: step, moments: ordered)
    }
}
