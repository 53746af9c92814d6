/// Everything that can go wrong while updating trainable parameters, each case naming what.
///
/// Shape mismatches between buffers the caller wires together are programmer errors and stay
/// `precondition`s; these cases cover what data (a diverging run, a checkpoint file) can cause.
public enum TrainingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A gradient holds NaN or ±infinity; `parameter` is the first such parameter in set order.
    /// The operation that found it changed nothing.
    case nonFiniteGradient(parameter: String)
    /// Two parameters in one ``ParameterSet`` share a name.
    case duplicateParameterName(String)
    /// Restored optimizer state does not fit the parameters it is restored onto.
    case stateMismatch(parameter: String, reason: String)

    public var description: String {
        switch self {
        case .nonFiniteGradient(let parameter):
            return "gradient of '\(parameter)' is not finite (NaN or infinity); nothing was updated. "
                + "Lower the learning rate or check the loss for overflow."
        case .duplicateParameterName(let name):
            return "parameter name '\(name)' appears twice; names key optimizer state and checkpoints"
        case .stateMismatch(let parameter, let reason):
            return "optimizer state does not match parameter '\(parameter)': \(reason)"
        }
    }
}
