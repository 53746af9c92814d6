/// Errors from agent-level work (data preparation, training, systems).
public enum AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    case promptNotPrefix(detail: String)
    case noTrainingPairs(detail: String)
    case nonFiniteLoss(step: Int)
    case checkpoint(String)
    case invalidArgument(String)
    /// The run's ``GenerationParameters/cancellation`` was set (a client left, a deadline passed).
    case cancelled

    public var description: String {
        switch self {
        case .promptNotPrefix(let detail): "chat rendering: \(detail)"
        case .noTrainingPairs(let detail): "no training pairs: \(detail)"
        case .nonFiniteLoss(let step): "the loss became NaN or infinite at step \(step); the last checkpoint is intact"
        case .checkpoint(let detail): "checkpoint: \(detail)"
        case .invalidArgument(let detail): detail
        case .cancelled: "cancelled"
        }
    }
}

extension AgentError {
    /// Refuses an integer setting below `minimum`: "steps must be at least 1 (got -5)".
    static func check(_ name: String, _ value: Int, atLeast minimum: Int) throws(AgentError) {
        guard value >= minimum else { throw .invalidArgument("\(name) must be at least \(minimum) (got \(value))") }
    }

    /// Refuses a non-finite real setting or one outside `range`.
    static func check<T: BinaryFloatingPoint>(_ name: String, _ value: T, in range: ClosedRange<T>) throws(AgentError) {
        guard value.isFinite, range.contains(value) else {
            throw .invalidArgument("\(name) must be a finite number in \(range.lowerBound)…\(range.upperBound) (got \(value))")
        }
    }
}
