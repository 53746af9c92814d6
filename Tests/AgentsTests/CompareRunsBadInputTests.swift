import Foundation
import Testing

/// `rmas compare-runs` against bad input, as the built executable sees it: its `--run LABEL=DIR`
/// and `--pair A,B` values are composite, so the generated grid of ``BadInputGridTests`` (numbers,
/// files, enumerations) does not reach them. Each case must end with a normal non-zero exit and a
/// message on stderr, and leave the runs it read untouched.
@Suite("compare-runs bad input", .serialized)
struct CompareRunsBadInputTests {
    @Test("bad run directories, run specs and pair specs are refused with a message; the runs read are unchanged")
    func refusals() throws {
        let executable = try #require(KillResumeTests.executable, "the rmas executable is not built next to the tests")
        let fixture = try CompareCommandTests.Fixture()
        defer { fixture.remove() }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-compare-runs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        // Two real runs of the fixture system on the same question.
        let a = fixture.path("run-a"), b = fixture.path("run-b")
        for (dir, max) in [(a, "2"), (b, "3")] {
            let made = BadInputGridTests.launch(executable, [
                "compare", "--system", fixture.system.path, "--data", fixture.questions.path, "--limit", "1", "--rounds", "1",
                "--methods", "single", "--max-tokens", max, "--out", dir.path], scratch: scratch)
            try #require(made.status == 0, "setup: \(made.stderr)")
        }
        let good = ["--run", "a=\(a.path)", "--run", "b=\(b.path)"]
        let base = BadInputGridTests.launch(executable, ["compare-runs"] + good, scratch: scratch)
        try #require(base.status == 0, "the base invocation failed: \(base.stderr)")

        // Broken copies of a run directory.
        let bad = fixture.path("bad-runs")
        func brokenRun(_ name: String, outcomes: Data?, settings: Bool = true) throws -> URL {
            let dir = bad.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            if settings { try FileManager.default.copyItem(at: a.appendingPathComponent("settings.json"), to: dir.appendingPathComponent("settings.json")) }
            if let outcomes { try outcomes.write(to: dir.appendingPathComponent("outcomes.jsonl")) }
            return dir
        }
        let outcomes = try Data(contentsOf: a.appendingPathComponent("outcomes.jsonl"))
        let runs: [URL] = [
            try brokenRun("empty-dir", outcomes: nil, settings: false),
            try brokenRun("no-outcomes", outcomes: nil),
            try brokenRun("empty-outcomes", outcomes: Data()),
            try brokenRun("binary-outcomes", outcomes: Data((0..<2048).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 9) })),
            try brokenRun("non-utf8", outcomes: Data([0xFF, 0xFE, 0x7B, 0x0A])),
            try brokenRun("nan", outcomes: Data("{\"question\": NaN}\n".utf8)),
            try brokenRun("wrong-shape", outcomes: Data("[1, 2]\n{\"a\": 1}\n".utf8)),
            try brokenRun("no-settings", outcomes: outcomes, settings: false),
            bad.appendingPathComponent("does-not-exist"),
        ]
        let file = bad.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let before = try BadInputGridTests.snapshot(fixture.directory)

        var cases: [[String]] = runs.map { ["--run", "a=\(a.path)", "--run", "x=\($0.path)"] } + [
            ["--run", "a=\(a.path)", "--run", "x=\(file.path)"],
            ["--run", "a=\(a.path)"],  // one run
            [],
            ["--run", "a=\(a.path)", "--run", "a=\(b.path)"],  // duplicate label
            ["--run", "a=\(a.path)", "--run", b.path],  // no label
            ["--run", "a=\(a.path)", "--run", "=\(b.path)"],
            ["--run", "a=\(a.path)", "--run", "b="],
        ]
        for pair in ["", "a", "a:single@1", "a:single@1,z:single@1", "a:bogus@1,b:single@1", "a:single@0,b:single@1",
                     "a:single@nan,b:single@1", "a:single@99999999999999999999,b:single@1", "a:single@-1,b:single@1",
                     "a:single@1,b:single@1,a:single@1", "a:latent@1,b:single@1"] {
            cases.append(good + ["--pair", pair])
        }
        cases.append(good + ["--out", file.appendingPathComponent("sub").path])  // a file where a directory must go

        var failures: [String] = []
        for arguments in cases {
            let outcome = BadInputGridTests.launch(executable, ["compare-runs"] + arguments, scratch: scratch)
            let shown = (["compare-runs"] + arguments).joined(separator: " ")
            if outcome.signaled { failures.append("CRASH (signal \(outcome.status)): \(shown)\n\(outcome.stderr.suffix(400))") }
            if outcome.status == 0 { failures.append("accepted: \(shown)") }
            if outcome.status != 0, outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                failures.append("no message on stderr: \(shown)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(cases.count) cases misbehaved:\n\(failures.prefix(12).joined(separator: "\n"))")
        #expect(try BadInputGridTests.snapshot(fixture.directory) == before, "a refused invocation changed the runs it read")
    }
}
