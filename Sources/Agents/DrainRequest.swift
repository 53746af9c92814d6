import Synchronization

/// A request, from any thread (the CLI's signal handler) or from the clock (a deadline), that a
/// long run start no new work: what is in flight finishes and is recorded, then the run returns
/// with what it has — an interrupted `rmas compare` keeps every answer it was computing, and a
/// trainer checkpoints the step it was taking, instead of losing them. Once requested it stays
/// requested, so a run may check it at several places and see one answer.
public final class DrainRequest: Sendable {
    /// What asked for the drain first.
    public enum Cause: UInt8, Sendable {
        case request = 1  // ``request()``: a signal, a caller
        case deadline = 2  // the wall time given at ``init(deadline:)`` passed
    }

    private let state = Atomic<UInt8>(0)  // 0, or a Cause's raw value
    private let deadline: ContinuousClock.Instant?

    /// `deadline`: the drain is requested by itself once the clock reaches it (checked whenever
    /// ``isRequested`` is read, so no timer thread is involved).
    public init(deadline: ContinuousClock.Instant? = nil) {
        self.deadline = deadline
    }

    /// A request that starts the drain `after` from now.
    public convenience init(after: Duration) {
        self.init(deadline: ContinuousClock.now.advanced(by: after))
    }

    public func request() { settle(.request) }

    public var isRequested: Bool { cause != nil }

    /// Why the drain started; nil while it has not.
    public var cause: Cause? {
        if let settled = Cause(rawValue: state.load(ordering: .acquiring)) { return settled }
        if let deadline, ContinuousClock.now >= deadline { settle(.deadline) }
        return Cause(rawValue: state.load(ordering: .acquiring))
    }

    /// The first cause wins; later ones leave it.
    private func settle(_ cause: Cause) {
        _ = state.compareExchange(expected: 0, desired: cause.rawValue, ordering: .acquiringAndReleasing)
    }
}
