import Agents
import Dispatch
import Foundation
import Synchronization

/// SIGINT and SIGTERM for a long run: the first calls `first` (which asks the run to finish what
/// it has in flight), the second ends the process at once with status 128 + the signal's number,
/// as a shell reports a process the signal killed. ``stop()`` restores the default handlers.
final class GracefulInterrupt {
    private let sources: [any DispatchSourceSignal]
    private static let signals = [SIGINT, SIGTERM]

    private final class Count: Sendable {
        let value = Atomic<Int>(0)
    }

    init(_ first: @escaping @Sendable (Int32) -> Void) {
        let signals = Self.signals
        for number in signals { signal(number, SIG_IGN) }  // delivered to the sources below instead
        let made = signals.map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        sources = made
        let received = Count()
        for (number, source) in zip(signals, made) {
            source.setEventHandler {  // holds the source until stop() cancels it
                // Signals arriving close together come as one event; `data` counts them.
                let count = received.value.add(max(1, Int(source.data)), ordering: .sequentiallyConsistent).newValue
                if count == 1 {
                    first(number)
                } else {
                    // Not raise(): the dispatch source keeps the signal blocked and would take it again.
                    _exit(128 + number)
                }
            }
            source.resume()
        }
    }

    func stop() {
        for source in sources { source.cancel() }
        for number in Self.signals { signal(number, SIG_DFL) }
    }
}

extension GracefulInterrupt {
    /// The usual pairing for a long run: the first signal prints what happens now (`message`) and
    /// requests the drain the run watches; `deadline` starts the drain by itself (``StopAfterArgument``).
    static func draining(_ message: String, deadline: ContinuousClock.Instant? = nil) -> (interrupt: GracefulInterrupt, drain: DrainRequest) {
        let drain = DrainRequest(deadline: deadline)
        let interrupt = GracefulInterrupt { signal in
            Console.error("\n\(signal == SIGTERM ? "SIGTERM" : "interrupted"): \(message) (interrupt again to stop at once)")
            drain.request()
        }
        return (interrupt, drain)
    }

    /// What a trainer's drain does.
    static let trainingDrain = "finishing this step and saving a checkpoint; the same command with --resume continues"
}

