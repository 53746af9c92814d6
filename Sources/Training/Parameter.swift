// A trainable fp32 tensor and its gradient: the buffers a link layer reads, its backward pass
// accumulates into, and the optimizer updates (llm.c's params_memory / grads_memory, per tensor).
import Kernels

/// A named trainable fp32 tensor with a gradient buffer of the same size.
///
/// Storage is row-major over `shape`: a weight `[out × in]` keeps element (o, i) at
/// `values[o * in + i]`, and `values.count == gradient.count == shape.reduce(1, *)` always holds
/// (replacing either array with one of another length is a programmer error and traps).
///
/// The layer that uses a parameter, the backward pass and the optimizer all hold the *same*
/// object, so it is a class: identity is the point. Backward functions accumulate (`+=`) into
/// ``gradient``; the training loop clears it with ``zeroGradient()`` once per step.
///
/// ## Why `@unchecked Sendable`
/// `name`, `shape` and `decays` are immutable. `values` and `gradient` are mutable and
/// deliberately *not* synchronised, because a lock around every element access would cost more
/// than the arithmetic. The contract, which the compiler cannot check:
/// - any number of tasks may **read** a parameter concurrently while nobody writes it (e.g. an
///   evaluation harness sharing one trained link across rollouts);
/// - **writes** (an optimizer step, gradient accumulation, zeroing) come from the one task that
///   owns the training loop, and never overlap reads or other writes of the same buffer. A
///   parallel kernel may write disjoint ranges of ``gradient`` through
///   `withUnsafeMutableBufferPointer` inside that one task, as Kernels' `Parallel` helpers do.
///
/// Making the type non-Sendable would be checkable but would forbid the legitimate read-only
/// sharing above, and with it every `Sendable` link or agent graph that holds a parameter.
public final class Parameter: @unchecked Sendable {
    /// Unique within a ``ParameterSet``; keys optimizer state and checkpoints.
    public let name: String
    /// Dimensions, slowest-varying first (`[out, in]` for a weight, `[width]` for a bias).
    public let shape: [Int]
    /// Element count, the product of `shape` (1 for a scalar, `shape == []`).
    public let count: Int
    /// Whether AdamW applies weight decay to this tensor (its decay group). By default true for
    /// tensors of two or more dimensions (weights) and false for 0-D/1-D ones (biases, norm
    /// gains), the usual GPT-2/llm.c split.
    public let decays: Bool

    /// Current values, `[count]`, row-major over `shape`.
    public var values: [Float] {
        didSet { precondition(values.count == count, "\(name): values must keep \(count) elements") }
    }
    /// ∂loss/∂values, `[count]`; accumulated by backward passes, cleared by ``zeroGradient()``.
    public var gradient: [Float] {
        didSet { precondition(gradient.count == count, "\(name): gradient must keep \(count) elements") }
    }

    /// A parameter with the given initial values and a zero gradient.
    ///
    /// - Parameters:
    ///   - name: unique name within the set the parameter joins.
    ///   - shape: non-negative dimensions; `values.count` must equal their product.
    ///   - values: initial values, row-major.
    ///   - decays: weight-decay group; `nil` means `shape.count >= 2`.
    public init(name: String, shape: [Int], values: [Float], decays: Bool? = nil) {
        precondition(shape.allSatisfy { $0 >= 0 }, "\(name): negative dimension in \(shape)")
        let count = shape.reduce(1, *)
        precondition(values.count == count, "\(name): \(values.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        self.count = count
        self.decays = decays ?? (shape.count >= 2)
        self.values = values
        self.gradient = [Float](repeating: 0, count: count)
    }

    /// A parameter with every value equal to `value` (zeros by default, e.g. a bias; ones for a
    /// LayerNorm gain).
    public convenience init(name: String, shape: [Int], repeating value: Float = 0, decays: Bool? = nil) {
        self.init(
            name: name, shape: shape, values: [Float](repeating: value, count: shape.reduce(1, *)),
            decays: decays)
    }

    /// Sets every element of ``gradient`` to zero, in place.
    public func zeroGradient() {
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

// MARK: - Seeded initialisation

extension Parameter {
    /// Values drawn i.i.d. from N(0, `standardDeviation`²), in row-major order from `generator`,
    /// so the same seed gives the same tensor on any machine.
    public static func normal(
        name: String, shape: [Int], standardDeviation: Float, decays: Bool? = nil,
        using generator: inout SplitMix64
    ) -> Parameter {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = standardDeviation * generator.nextGaussian() }
        return Parameter(name: name, shape: shape, values: values, decays: decays)
    }

    /// Values drawn i.i.d. from U[-`bound`, `bound`), in row-major order from `generator`.
    ///
    /// With `bound = 1/√in` this is torch.nn.Linear's default weight and bias initialisation
    /// (in distribution, not in the random stream).
    public static func uniform(
        name: String, shape: [Int], bound: Float, decays: Bool? = nil, using generator: inout SplitMix64
    ) -> Parameter {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count { values[i] = bound * (2 * generator.nextUnitFloat() - 1) }
        return Parameter(name: name, shape: shape, values: values, decays: decays)
    }
}
