/// Errors raised while interpreting a GGUF file as a model.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    case unsupportedArchitecture(String, supported: [String])
    case missingMetadata(key: String)
    case invalidMetadata(key: String, detail: String)
    case missingTensor(String)
    case tensorShape(name: String, expected: [Int], found: [Int])
    case unsupportedTensorType(name: String, type: String)
    /// A weight or norm is NaN or infinite (a corrupt file); `detail` says where.
    case nonFiniteWeights(name: String, detail: String)
    /// A prompt of `positions` does not fit the model's trained context of `context` positions.
    case promptTooLong(positions: Int, context: Int)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let name, let supported):
            "unsupported architecture '\(name)' (supported: \(supported.joined(separator: ", ")))"
        case .missingMetadata(let key): "required metadata key '\(key)' is missing"
        case .invalidMetadata(let key, let detail): "metadata '\(key)' is invalid: \(detail)"
        case .missingTensor(let name): "required tensor '\(name)' is missing"
        case .tensorShape(let name, let expected, let found):
            "tensor '\(name)' has shape \(found), expected \(expected)"
        case .unsupportedTensorType(let name, let type):
            "tensor '\(name)' uses type \(type), which this engine cannot compute with"
        case .promptTooLong(let positions, let context):
            "the prompt is \(positions) positions, more than the model's context of \(context); shorten it"
        case .nonFiniteWeights(let name, let detail):
            "tensor '\(name)' holds NaN or infinite values (\(detail)): the file is corrupt"
        }
    }
}
