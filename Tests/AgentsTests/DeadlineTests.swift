import Foundation
@testable import Agents
import Testing

/// `--stop-after`: the span a person types, and the drain request that starts by itself at its deadline.
@Suite("Stop-after deadlines")
struct DeadlineTests {
    @Test("spans as people type them", arguments: [
        ("45s", 45.0), ("90m", 5_400), ("2h30m", 9_000), ("1.5h", 5_400), ("1d", 86_400), ("1d2h3m4s", 93_784),
        ("120", 120), ("0.25", 0.25), ("2h0m", 7_200), ("365d", 31_536_000),
    ])
    func parses(text: String, seconds: Double) throws {
        let span = try #require(WallDuration(parsing: text), "\(text)")
        #expect(span.seconds == seconds)
    }

    @Test("everything else is refused", arguments: [
        "", "h", "2x", "30m2h", "2h2h", "-5m", "0", "0s", "1..5h", "1h 30m", "inf", "nan", "1e3", "366d", "99999999999999999999h",
        "١٢s", "2hm", "5s3",
    ])
    func refuses(text: String) {
        #expect(WallDuration(parsing: text) == nil, "\(text)")
    }

    @Test("printed back in h/m/s")
    func description() {
        #expect(WallDuration(parsing: "2h30m")!.description == "2h30m")
        #expect(WallDuration(parsing: "1d5s")!.description == "24h5s")
        #expect(WallDuration(parsing: "90")!.description == "1m30s")
        #expect(WallDuration(parsing: "0.25")!.description == "0.25s")
        #expect(WallDuration(parsing: "1.5h")!.duration == .seconds(5_400))
    }

    @Test("a deadline starts the drain by itself, once passed; a request before it keeps its cause")
    func deadline() {
        let past = DrainRequest(deadline: .now.advanced(by: .milliseconds(-1)))
        #expect(past.isRequested && past.cause == .deadline)
        past.request()
        #expect(past.cause == .deadline, "the first cause stays")

        let future = DrainRequest(after: .seconds(3_600))
        #expect(!future.isRequested && future.cause == nil)
        future.request()
        #expect(future.cause == .request)

        // Wide margins: a loaded machine may pause this thread between two statements.
        let soon = DrainRequest(after: .milliseconds(300))
        #expect(!soon.isRequested)
        usleep(400_000)
        #expect(soon.isRequested && soon.cause == .deadline)
        #expect(DrainRequest().cause == nil)
    }

    @Test("a comparison whose drain started before it began loads no model and answers nothing; the same call then runs it all")
    func drainedBeforeStart() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-deadline-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let first = try ComparisonHarnessTests.comparison(output, inFlight: 2)
        var made = 0
        _ = try first.run(recorded: [], makeRunner: {
            made += 1
            return GraphRunner(graph: try TinyGraph.sequential())
        }, drain: DrainRequest(deadline: .now))
        #expect(made == 0, "no runner (no model) was made")
        #expect(try first.recorded().isEmpty)
        let again = try ComparisonHarnessTests.comparison(output, inFlight: 2)
        _ = try again.run(recorded: try again.recorded(), makeRunner: { GraphRunner(graph: try TinyGraph.sequential()) })
        #expect(try again.recorded().count == 15)
    }
}
