import Synchronization

/// A request, from any thread (the CLI's signal handler), that a long run start no new work: what
/// is in flight finishes and is recorded, then the run returns with what it has — an interrupted
/// `rmas compare` keeps every answer it was computing, and a trainer checkpoints the step it was
/// taking, instead of losing them.
public final class DrainRequest: Sendable {
    private let requested = Atomic<Bool>(false)

    public init() {}

    public func request() { requested.store(true, ordering: .releasing) }

    public var isRequested: Bool { requested.load(ordering: .acquiring) }
}
