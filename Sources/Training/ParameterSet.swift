/// An ordered collection of parameters with unique names: what an optimizer updates, a gradient
/// clip measures and a checkpoint saves.
///
/// Order is insertion order and is part of the contract: optimizer state, gradient-norm
/// accumulation and checkpoint layout all follow it, so a fixed construction order gives
/// bit-identical runs. The set holds references, so copies of it share the same parameters.
public struct ParameterSet: RandomAccessCollection, Sendable {
    private var parameters: [Parameter] = []
    private var indexByName: [String: Int] = [:]

    /// An empty set.
    public init() {}

    /// A set of `parameters`, in the given order.
    ///
    /// - Throws: ``TrainingError/duplicateParameterName(_:)`` if two share a name.
    public init(_ parameters: [Parameter]) throws(TrainingError) {
        for parameter in parameters { try append(parameter) }
    }

    /// Adds `parameter` at the end.
    ///
    /// - Throws: ``TrainingError/duplicateParameterName(_:)`` if the name is already present.
    public mutating func append(_ parameter: Parameter) throws(TrainingError) {
        guard indexByName[parameter.name] == nil else {
            throw .duplicateParameterName(parameter.name)
        }
        indexByName[parameter.name] = parameters.count
        parameters.append(parameter)
    }

    /// Adds every parameter of `other`, in its order.
    ///
    /// - Throws: ``TrainingError/duplicateParameterName(_:)``; the parameters before the
    ///   duplicate have been added.
    public mutating func append(contentsOf other: ParameterSet) throws(TrainingError) {
        for parameter in other { try append(parameter) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { parameters.count }
    public subscript(position: Int) -> Parameter { parameters[position] }

    /// The parameter called `name`, or nil.
    public subscript(name name: String) -> Parameter? {
        indexByName[name].map { parameters[$0] }
    }

    /// The position of the parameter called `name`, or nil.
    public func index(named name: String) -> Int? { indexByName[name] }

    /// Total number of trainable scalars (the sum of every parameter's `count`).
    public var scalarCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Clears every parameter's gradient.
    public func zeroGradients() {
        for parameter in parameters { parameter.zeroGradient() }
    }
}
