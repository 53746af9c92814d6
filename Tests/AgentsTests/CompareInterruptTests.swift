import Foundation
@testable import Agents
import RoleData
import TestSupport
import Training
import Testing

/// `rmas compare` interrupted once (SIGINT, as Ctrl-C, or SIGTERM): it finishes the answers in
/// flight, records them, writes the report and exits 0; the same command continues the run.
@Suite("rmas compare: an interrupt finishes the answers in flight (the built executable)", .serialized)
struct CompareInterruptTests {
    /// `rmas compare` arguments for `questions` synthetic questions with short answers (latent,
    /// text and single at rounds 1 and 2: five answers per question), and its --out directory.
    static func shortComparison(in fixture: CompareCommandTests.Fixture, seed: UInt64, questions count: Int) throws -> ([String], URL) {
        let questions = fixture.path("questions-\(seed).jsonl"), out = fixture.path("comparison")
        try RoleJSONL.write(SyntheticArithmetic(seed: seed).generate(count: count), to: questions)
        return (["compare", "--system", fixture.system.path, "--data", questions.path, "--rounds", "1,2",
                 "--max-tokens", "4", "--latent", "2", "--out", out.path, "--threads", "1", "--batch", "2"], out)
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func interruptDrains(signal: Int32) throws {
        let fixture = try CompareCommandTests.Fixture()
        defer { fixture.remove() }
        let (arguments, out) = try Self.shortComparison(in: fixture, seed: 4, questions: 40)
        let outcomes = out.appendingPathComponent("outcomes.jsonl")
        let interrupted = try CompareCommandTests.rmas(arguments, in: fixture) { process, _ in
            let deadline = Date().addingTimeInterval(120)
            while process.isRunning, Date() < deadline, ((try? CompareCommandTests.lines(outcomes))?.count ?? 0) < 1 { usleep(1_000) }
            try #require(process.isRunning, "the run ended before it could be interrupted")
            kill(process.processIdentifier, signal)
        }
        #expect(interrupted.status == 0, "\(interrupted.stderr)")
        #expect(interrupted.stderr.contains("no new answers start") && interrupted.stderr.contains("stopped early"), "\(interrupted.stderr)")
        let kept = try CompareCommandTests.lines(outcomes)
        #expect(!kept.isEmpty && kept.count < 200, "\(kept.count) answers kept")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.md").path))
        // Whole passes only: a (question, method) pass records every rounds value of its method.
        let decoded = try kept.map { try ProjectJSON.decoder().decode(QuestionOutcome.self, from: Data($0.utf8)) }
        let passes = Dictionary(grouping: decoded) { "\($0.index) \($0.method)" }
        #expect(passes.allSatisfy { $0.value.count == ($0.value[0].method == .single ? 1 : 2) })

        let continued = try CompareCommandTests.rmas(arguments, in: fixture)
        try #require(continued.status == 0, "\(continued.stderr)")
        let all = try CompareCommandTests.lines(outcomes)
        #expect(all.count == 200 && Array(all.prefix(kept.count)) == kept)
    }

    @Test("a second interrupt stops at once with status 130; the recorded lines stay whole")
    func secondInterruptStops() throws {
        let fixture = try CompareCommandTests.Fixture()
        defer { fixture.remove() }
        let questions = fixture.path("many.jsonl"), out = fixture.path("comparison")
        try RoleJSONL.write(SyntheticArithmetic(seed: 5).generate(count: 8), to: questions)
        let outcomes = out.appendingPathComponent("outcomes.jsonl")
        // Long text passes (random weights write to the cap), so the second interrupt comes while
        // the first one's drain is still finishing them.
        let stopped = try CompareCommandTests.rmas(
            ["compare", "--system", fixture.system.path, "--data", questions.path, "--methods", "text", "--rounds", "1,2",
             "--max-tokens", "500", "--out", out.path, "--threads", "1", "--batch", "2"], in: fixture
        ) { process, stderr in
            let deadline = Date().addingTimeInterval(300)
            while process.isRunning, Date() < deadline, ((try? CompareCommandTests.lines(outcomes))?.count ?? 0) < 1 { usleep(1_000) }
            try #require(process.isRunning, "the run ended before it could be interrupted")
            kill(process.processIdentifier, SIGINT)
            // A second SIGINT sent before the first is taken would merge with it (signals do not queue).
            while process.isRunning, Date() < deadline,
                  !((try? String(contentsOf: stderr, encoding: .utf8))?.contains("no new answers start") ?? false) { usleep(1_000) }
            try #require(process.isRunning, "the drain ended before the second interrupt; make the passes longer")
            kill(process.processIdentifier, SIGINT)
        }
        #expect(stopped.status == 128 + SIGINT, "\(stopped.stderr)")
        #expect(!stopped.stderr.contains("stopped early"))
        let kept = try String(contentsOf: outcomes, encoding: .utf8)
        // Every complete line is a whole record (a cut last line is what a continuation redoes).
        let lines = kept.split(separator: "\n")
        #expect(lines.count < 16)
        for line in kept.hasSuffix("\n") ? lines[...] : lines.dropLast() {
            _ = try ProjectJSON.decoder().decode(QuestionOutcome.self, from: Data(line.utf8))
        }
    }
}

extension CompareInterruptTests {
    @Test("--stop-after already passed at the start: no model is loaded, nothing answered, exit 0; the same command then runs it all")
    func stopAfterBeforeStart() throws {
        let fixture = try CompareCommandTests.Fixture()
        defer { fixture.remove() }
        let (arguments, out) = try Self.shortComparison(in: fixture, seed: 6, questions: 4)
        let stopped = try CompareCommandTests.rmas(arguments + ["--stop-after", "0.001"], in: fixture)
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("stopped early (--stop-after 0.001s passed): 0 of 20"), "\(stopped.stderr)")
        #expect(!stopped.stderr.contains("comparing "), "the models were loaded: \(stopped.stderr)")
        let continued = try CompareCommandTests.rmas(arguments + ["--stop-after", "1h"], in: fixture)
        #expect(continued.status == 0, "\(continued.stderr)")
        #expect(!continued.stderr.contains("stopped early"))
        #expect(try CompareCommandTests.lines(out.appendingPathComponent("outcomes.jsonl")).count == 20)
    }
}
