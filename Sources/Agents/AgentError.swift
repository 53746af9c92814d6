/// Errors from agent-level work (data preparation, training, systems).
public enum AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    case promptNotPrefix(detail: String)
    case noTrainingPairs(detail: String)
    case nonFiniteLoss(step: Int)
    case checkpoint(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .promptNotPrefix(let detail): "chat rendering: \(detail)"
        case .noTrainingPairs(let detail): "no training pairs: \(detail)"
        case .nonFiniteLoss(let step): "the loss became NaN or infinite at step \(step); the last checkpoint is intact"
        case .checkpoint(let detail): "checkpoint: \(detail)"
        case .invalidArgument(let detail): detail
        }
    }
}
