// Provenance: the module structure shared by RecursiveMAS train/model.py `Adapter` and
// `CrossModelAdapter` (spec §1.1, §2.1): optional input LayerNorm → linear or Linear-GELU-Linear
// body, plus a residual that reads the raw input → optional output LayerNorm.
import Kernels
import Training

/// The one network behind every RecursiveLink variant:
///
///     h = LN_in(x)            (or h = x without an input norm)
///     m = proj1(h)            (linear body)  or  m = proj2(GELU(proj1(h)))  (MLP body)
///     s = m                   (no residual)  or  m + x  (identity)  or  m + residual_proj(x)
///     y = LN_out(s)           (or y = s without an output norm)
///
/// The residual branch reads the raw `x`, never `LN_in(x)`. Every tensor is a ``Parameter``
/// named as in the reference state dict (`proj1.weight`, `pre_ln.bias`, …) after an optional
/// prefix such as `"outer_12."`; ``parameters`` lists them in the reference's state-dict order
/// (proj1, proj2, input norm, output norm, residual_proj).
///
/// ``forward(_:rows:)`` returns a ``Context`` that holds what its backward needs, so any number
/// of forwards (several rounds, several agents) may be alive before their backwards run, in any
/// order. Nothing else is cached: the network itself is immutable apart from its parameters.
public struct LinkNetwork: Sendable {
    /// The architecture: widths, which optional parts are present, and the names of the norms.
    public struct Layout: Sendable, Hashable {
        public enum Body: Sendable, Hashable {
            /// `proj1: in → out`.
            case linear
            /// `proj2(GELU(proj1(h)))` with `proj1: in → hiddenWidth`, `proj2: hiddenWidth → out`.
            case mlp(hiddenWidth: Int)
        }

        public enum Residual: Sendable, Hashable {
            case none
            /// `+ x`; needs `inputWidth == outputWidth`.
            case identity
            /// `+ residual_proj(x)` with `residual_proj: in → out`.
            case projection
        }

        public let inputWidth: Int
        public let outputWidth: Int
        /// State-dict name of the LayerNorm on the body's input (`"pre_ln"`, `"ln_source"`), or nil.
        public let inputNorm: String?
        public let body: Body
        public let residual: Residual
        /// State-dict name of the LayerNorm on the sum (`"post_ln"`, `"ln_target"`), or nil.
        public let outputNorm: String?

        public init(
            inputWidth: Int, outputWidth: Int, inputNorm: String?, body: Body, residual: Residual,
            outputNorm: String?
        ) {
            precondition(inputWidth > 0 && outputWidth > 0, "link widths must be positive")
            if case .mlp(let hidden) = body { precondition(hidden > 0, "the hidden width must be positive") }
            precondition(residual != .identity || inputWidth == outputWidth,
                         "an identity residual needs inputWidth == outputWidth")
            self.inputWidth = inputWidth
            self.outputWidth = outputWidth
            self.inputNorm = inputNorm
            self.body = body
            self.residual = residual
            self.outputNorm = outputNorm
        }

        /// Every tensor's name (without prefix) and torch shape, in state-dict order.
        public var parameterShapes: [(name: String, shape: [Int])] {
            var shapes: [(name: String, shape: [Int])] = []
            switch body {
            case .linear:
                shapes += [("proj1.weight", [outputWidth, inputWidth]), ("proj1.bias", [outputWidth])]
            case .mlp(let hidden):
                shapes += [("proj1.weight", [hidden, inputWidth]), ("proj1.bias", [hidden]),
                           ("proj2.weight", [outputWidth, hidden]), ("proj2.bias", [outputWidth])]
            }
            if let inputNorm { shapes += [(inputNorm + ".weight", [inputWidth]), (inputNorm + ".bias", [inputWidth])] }
            if let outputNorm { shapes += [(outputNorm + ".weight", [outputWidth]), (outputNorm + ".bias", [outputWidth])] }
            if residual == .projection {
                shapes += [("residual_proj.weight", [outputWidth, inputWidth]), ("residual_proj.bias", [outputWidth])]
            }
            return shapes
        }
    }

    /// What one ``forward(_:rows:)`` call keeps for its backward.
    public struct Context: Sendable {
        public let rows: Int
        /// x, `[rows × inputWidth]`.
        let input: [Float]
        let inputNorm: LayerNorm.Context?
        /// h = LN_in(x) or x, `[rows × inputWidth]`: proj1's input.
        let bodyInput: [Float]
        /// proj1(h), `[rows × hiddenWidth]` (MLP body only): GELU's input.
        let preActivation: [Float]
        /// GELU(proj1(h)), `[rows × hiddenWidth]` (MLP body only): proj2's input.
        let activation: [Float]
        let outputNorm: LayerNorm.Context?
    }

    public let layout: Layout
    /// Prepended to every parameter name (e.g. `"outer_12."`); may be empty.
    public let prefix: String
    /// All trainable tensors, in state-dict order, names prefixed.
    public let parameters: ParameterSet

    private let inputNorm: LayerNorm?
    private let proj1: Dense
    private let proj2: Dense?
    private let residualProjection: Dense?
    private let outputNorm: LayerNorm?

    public var inputWidth: Int { layout.inputWidth }
    public var outputWidth: Int { layout.outputWidth }

    /// A network with torch's default initialisation (in distribution): each Linear's weight and
    /// then bias i.i.d. U[−1/√fan_in, 1/√fan_in) (see ``Dense/init(name:inputWidth:outputWidth:using:)``),
    /// drawn in the order torch constructs them (proj1, proj2, residual_proj); LayerNorm γ = 1, β = 0.
    public init(layout: Layout, prefix: String = "", using generator: inout SplitMix64) {
        let (inWidth, outWidth) = (layout.inputWidth, layout.outputWidth)
        var tensors: [String: Parameter] = [:]
        func add(_ dense: Dense) { tensors[dense.weight.name] = dense.weight; tensors[dense.bias.name] = dense.bias }
        switch layout.body {
        case .linear:
            add(Dense(name: prefix + "proj1", inputWidth: inWidth, outputWidth: outWidth, using: &generator))
        case .mlp(let hidden):
            add(Dense(name: prefix + "proj1", inputWidth: inWidth, outputWidth: hidden, using: &generator))
            add(Dense(name: prefix + "proj2", inputWidth: hidden, outputWidth: outWidth, using: &generator))
        }
        if layout.residual == .projection {
            add(Dense(name: prefix + "residual_proj", inputWidth: inWidth, outputWidth: outWidth, using: &generator))
        }
        for (norm, width) in [(layout.inputNorm, inWidth), (layout.outputNorm, outWidth)] {
            guard let norm else { continue }
            let layer = LayerNorm(name: prefix + norm, width: width)
            tensors[layer.weight.name] = layer.weight
            tensors[layer.bias.name] = layer.bias
        }
        self.init(layout: layout, prefix: prefix, tensors: tensors)
    }

    /// A network over existing parameters (a restored checkpoint), matched by name: for every
    /// tensor of `layout`, `parameters` must hold `prefix + name` with the torch shape. The network
    /// shares those ``Parameter`` objects. Parameters whose names do not start with `prefix`
    /// (other links' tensors in one checkpoint) are ignored; with an empty prefix, every parameter
    /// of the set must belong to the layout.
    ///
    /// - Throws: ``LinkError/missingParameter(_:)``, ``LinkError/shapeMismatch(parameter:expected:found:)``,
    ///   or ``LinkError/unexpectedParameter(_:)`` for a name under `prefix` that the layout lacks
    ///   (torch's strict `load_state_dict`).
    public init(layout: Layout, parameters: ParameterSet, prefix: String = "") throws(LinkError) {
        let expected = layout.parameterShapes
        var tensors: [String: Parameter] = [:]
        for (name, shape) in expected {
            guard let parameter = parameters[name: prefix + name] else { throw .missingParameter(prefix + name) }
            guard parameter.shape == shape else {
                throw .shapeMismatch(parameter: parameter.name, expected: shape, found: parameter.shape)
            }
            tensors[parameter.name] = parameter
        }
        if let stray = parameters.first(where: { $0.name.hasPrefix(prefix) && tensors[$0.name] == nil }) {
            throw .unexpectedParameter(stray.name)
        }
        self.init(layout: layout, prefix: prefix, tensors: tensors)
    }

    /// Assembles the layers from `tensors` (full names → parameters), which holds exactly the
    /// layout's tensors with their shapes.
    private init(layout: Layout, prefix: String, tensors: [String: Parameter]) {
        func tensor(_ name: String) -> Parameter { tensors[prefix + name]! }
        func dense(_ module: String) -> Dense { Dense(weight: tensor(module + ".weight"), bias: tensor(module + ".bias")) }
        func norm(_ module: String?) -> LayerNorm? {
            module.map { LayerNorm(weight: tensor($0 + ".weight"), bias: tensor($0 + ".bias")) }
        }
        self.layout = layout
        self.prefix = prefix
        inputNorm = norm(layout.inputNorm)
        outputNorm = norm(layout.outputNorm)
        proj1 = dense("proj1")
        proj2 = layout.body == .linear ? nil : dense("proj2")
        residualProjection = layout.residual == .projection ? dense("residual_proj") : nil
        var ordered = ParameterSet()
        for (name, _) in layout.parameterShapes {
            do { try ordered.append(tensor(name)) } catch {
                preconditionFailure("link parameter names are distinct by construction: \(error)")
            }
        }
        parameters = ordered
    }

    /// The link applied to `rows` rows.
    ///
    /// - Parameter x: `[rows × inputWidth]`, row-major.
    /// - Returns: y `[rows × outputWidth]` and the context for ``backward(_:outputGradient:)``.
    public func forward(_ x: [Float], rows: Int) -> (output: [Float], context: Context) {
        precondition(rows >= 0 && x.count == rows * inputWidth,
                     "LinkNetwork.forward: \(x.count) inputs for \(rows) × \(inputWidth)")
        let normalizedInput = inputNorm?.forward(x, rows: rows)
        let h = normalizedInput?.output ?? x
        var sum: [Float]
        var (preActivation, activation): ([Float], [Float]) = ([], [])
        if let proj2 {
            preActivation = proj1.forward(h, rows: rows)
            activation = GELU.forward(preActivation)
            sum = proj2.forward(activation, rows: rows)
        } else {
            sum = proj1.forward(h, rows: rows)
        }
        switch layout.residual {
        case .none: break
        case .identity: add(x, into: &sum)
        case .projection: add(residualProjection!.forward(x, rows: rows), into: &sum)
        }
        let normalizedOutput = outputNorm?.forward(sum, rows: rows)
        let context = Context(
            rows: rows, input: x, inputNorm: normalizedInput?.context, bodyInput: h, preActivation: preActivation,
            activation: activation, outputNorm: normalizedOutput?.context)
        return (normalizedOutput?.output ?? sum, context)
    }

    /// The output alone, for inference: `forward(x, rows: rows).output`.
    public func callAsFunction(_ x: [Float], rows: Int) -> [Float] { forward(x, rows: rows).output }

    /// Backward of one ``forward(_:rows:)`` call: accumulates every parameter's gradient (`+=`)
    /// and returns ∂loss/∂x.
    ///
    /// - Parameters:
    ///   - context: that call's context.
    ///   - dy: ∂loss/∂y, `[rows × outputWidth]`.
    /// - Returns: ∂loss/∂x, `[rows × inputWidth]`.
    public func backward(_ context: Context, outputGradient dy: [Float]) -> [Float] {
        let rows = context.rows
        precondition(dy.count == rows * outputWidth,
                     "LinkNetwork.backward: \(dy.count) gradients for \(rows) × \(outputWidth)")
        let dSum = outputNorm.map { $0.backward(context.outputNorm!, outputGradient: dy) } ?? dy
        let dBodyInput: [Float]
        if let proj2 {
            let dActivation = proj2.backward(input: context.activation, outputGradient: dSum, rows: rows)
            let dPreActivation = GELU.backward(input: context.preActivation, outputGradient: dActivation)
            dBodyInput = proj1.backward(input: context.bodyInput, outputGradient: dPreActivation, rows: rows)
        } else {
            dBodyInput = proj1.backward(input: context.bodyInput, outputGradient: dSum, rows: rows)
        }
        var dx = inputNorm.map { $0.backward(context.inputNorm!, outputGradient: dBodyInput) } ?? dBodyInput
        switch layout.residual {
        case .none: break
        case .identity: add(dSum, into: &dx)
        case .projection:
            add(residualProjection!.backward(input: context.input, outputGradient: dSum, rows: rows), into: &dx)
        }
        return dx
    }
}

/// `y += x`, elementwise over equal counts.
private func add(_ x: [Float], into y: inout [Float]) {
    precondition(x.count == y.count)
    for i in y.indices { y[i] += x[i] }
}
