import Agents
import ArgumentParser

/// A `--stop-after` value: the span typed, and the instant it ends — counted from when the
/// command line was parsed, so loading models counts against it too.
struct StopAfterDeadline: ExpressibleByArgument {
    let span: WallDuration
    let instant: ContinuousClock.Instant

    init?(argument: String) {
        guard let span = WallDuration(parsing: argument) else { return nil }
        self.span = span
        instant = .now.advanced(by: span.duration)
    }
}

/// `--stop-after`: the long runs' (compare, the trainers) own deadline, so a run fits a slot of
/// time and ends as one Ctrl-C ends it — nothing in flight is lost.
struct StopAfterArgument: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Once this wall time has passed, stop as one Ctrl-C stops the run: what is in flight finishes and is kept, and the same command continues it (e.g. 2h30m, 90m, 45s, 1.5h; a bare number is seconds).",
        valueName: "duration"))
    var stopAfter: StopAfterDeadline?

    /// The run's drain request and the signal handlers that feed it; `message` says what a drain does.
    func draining(_ message: String) -> (interrupt: GracefulInterrupt, drain: DrainRequest, notice: StopAfterNotice) {
        let (interrupt, drain) = GracefulInterrupt.draining(message, deadline: stopAfter?.instant)
        return (interrupt, drain, StopAfterNotice(stopAfter: stopAfter?.span, message: message))
    }

    /// For the trainers: the step in progress is finished and checkpointed.
    func training() -> (interrupt: GracefulInterrupt, drain: DrainRequest, notice: StopAfterNotice) {
        draining(GracefulInterrupt.trainingDrain)
    }
}

/// Says once, from a progress callback, that `--stop-after` has started the drain (a signal's
/// drain is announced by its handler).
final class StopAfterNotice {
    private let stopAfter: WallDuration?
    private let message: String
    private var announced = false

    init(stopAfter: WallDuration?, message: String) {
        self.stopAfter = stopAfter
        self.message = message
    }

    func check(_ drain: DrainRequest) {
        guard !announced, let stopAfter, drain.cause == .deadline else { return }
        announced = true
        Console.error("\n--stop-after \(stopAfter) passed: \(message)")
    }

    /// The end of a run's last line when it stopped early: why.
    func reason(_ drain: DrainRequest) -> String {
        switch drain.cause {
        case .deadline: " (--stop-after \(stopAfter.map(\.description) ?? "?") passed)"
        case .request: " (interrupted)"
        case nil: ""
        }
    }
}

extension StopAfterNotice {
    /// A trainer's last word when it stopped before `steps`.
    func stopped(_ drain: DrainRequest, step: Int, of steps: Int) {
        guard drain.isRequested, step < steps else { return }
        Console.error("stopped at step \(step) of \(steps)\(reason(drain)); --resume continues from its checkpoint")
    }
}
