import Foundation
import RoleData
import TestSupport
import Testing

/// `rmas train inner` killed with SIGKILL and resumed ends with the same weights as an
/// uninterrupted run: runs the built `rmas` executable (next to the test bundle).
@Suite("Kill and resume", .serialized)
struct KillResumeTests {
    static var executable: URL? {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent()].map { $0.appendingPathComponent("rmas") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static func launch(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// How long to wait for a second run to reach a step: twice what the whole reference run
    /// (started at `since`) took, at least two minutes — a loaded machine or a debug build slows
    /// both alike, and the wait ends anyway when the run ends.
    static func patience(since: Date) -> Date {
        Date().addingTimeInterval(max(120, 2 * Date().timeIntervalSince(since)))
    }

    static func manifestStep(_ directory: URL) -> Int? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["step"] as? Int
    }

    static func finalWeights(_ directory: URL) throws -> Data {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("weights-") }
        try #require(names.count == 1)
        return try Data(contentsOf: directory.appendingPathComponent(names[0]))
    }

    /// Runs `arguments(whole)` to the end, then `arguments(killed)` until its checkpoint reaches
    /// `killAt`, SIGKILLs it, resumes it with --resume, and expects the final weights of both to
    /// be identical.
    static func expectKillResumeIdentical(in directory: URL, steps: Int, killAt: Int, _ arguments: (URL) -> [String]) throws {
        let whole = directory.appendingPathComponent("whole"), killed = directory.appendingPathComponent("killed")
        let started = Date()
        let reference = try launch(arguments(whole))
        reference.waitUntilExit()
        try #require(reference.terminationStatus == 0)

        let victim = try launch(arguments(killed))
        let deadline = Self.patience(since: started)
        while (manifestStep(killed) ?? 0) < killAt, victim.isRunning, Date() < deadline { usleep(2_000) }
        try #require(victim.isRunning, "the run finished before it could be killed; make it longer")
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let stepAtKill = manifestStep(killed) ?? 0
        #expect(stepAtKill >= killAt && stepAtKill < steps)

        let resumed = try launch(arguments(killed) + ["--resume"])
        resumed.waitUntilExit()
        #expect(resumed.terminationStatus == 0)
        #expect(manifestStep(killed) == steps)
        #expect(try finalWeights(killed) == finalWeights(whole), "killed at step \(stepAtKill)")
    }

    @Test("SIGKILL mid-run, then --resume, equals an uninterrupted run")
    func killAndResume() throws {
        let rmas = try #require(Self.executable, "the rmas executable is not built next to the tests")
        _ = rmas
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = directory.appendingPathComponent("tiny.gguf")
        var spec = TinyModel(.qwen2)
        spec.width = 128
        spec.ffn = 384
        spec.layers = 4
        try Data(spec.serialized()).write(to: model)
        let data = directory.appendingPathComponent("rows.jsonl")
        try RoleJSONL.write(SyntheticArithmetic(seed: 9).generate(count: 60), to: data)
        func arguments(_ out: URL) -> [String] {
            ["train", "inner", "--model", model.path, "--role", "solver", "--data", data.path, "--out", out.path,
             "--steps", "200", "--batch-size", "8", "--checkpoint-every", "2", "--eval-every", "1000", "--held-out-count", "4",
             "--lr", "2e-3", "--threads", "1"]
        }
        try Self.expectKillResumeIdentical(in: directory, steps: 200, killAt: 40, arguments)
    }
}

extension KillResumeTests {
    /// A three-node graph with a feedback edge over two tiny models of different widths.
    static func graphFile(in directory: URL) throws -> URL {
        try TinyGraph.writeModels(in: directory)
        let url = directory.appendingPathComponent("graph.json")
        try Data("""
            {"style": "custom",
             "nodes": [
               {"id": "a", "model": "wide.gguf", "target": "plan", "prompts": {"first_round": "Plan {question}", "later_rounds": "Plan {question} with {slot:back}"}},
               {"id": "b", "model": "narrow.gguf", "target": "refined_plan", "prompts": {"first_round": "Check {slot:plan}"}},
               {"id": "c", "model": "wide.gguf", "target": "answer", "prompts": {"first_round": "{slot:checked} {question} {instruction}"}}],
             "edges": [{"from": "a", "to": "b", "slot": "plan"}, {"from": "b", "to": "c", "slot": "checked"},
                       {"from": "c", "to": "a", "slot": "back", "direction": "feedback"}],
             "schedule": {"order": ["a", "b", "c"], "answer": "c", "rounds": 2},
             "defaults": {"max_latent_tokens": 4}}
            """.utf8).write(to: url)
        return url
    }

    /// A temporary directory with the graph file and 12 training rows, and the `train outer`
    /// arguments (30 steps) writing into a given output directory; removed after `body`.
    static func withGraphTraining(checkpointEvery: Int, _ body: (URL, (URL) -> [String]) throws -> Void) throws {
        _ = try #require(Self.executable, "the rmas executable is not built next to the tests")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-graph-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let system = try Self.graphFile(in: directory)
        let data = directory.appendingPathComponent("rows.jsonl")
        try RoleJSONL.write(SyntheticArithmetic(seed: 4).generate(count: 12), to: data)
        try body(directory) { out in
            ["train", "outer", "--system", system.path, "--data", data.path, "--out", out.path, "--steps", "30", "--batch-size", "1",
             "--checkpoint-every", "\(checkpointEvery)", "--eval-every", "1000", "--held-out-count", "2", "--lr", "3e-3", "--warmup", "2",
             "--threads", "1"]
        }
    }

    @Test("graph training (train outer on a user-written graph): SIGKILL mid-run, then --resume, equals an uninterrupted run")
    func killAndResumeGraph() throws {
        try Self.withGraphTraining(checkpointEvery: 1) { directory, arguments in
            try Self.expectKillResumeIdentical(in: directory, steps: 30, killAt: 8, arguments)
        }
    }
}

extension KillResumeTests {
    /// A graceful stop of `train outer` (30 steps, no periodic checkpoint before the end, so the
    /// only checkpoint a stopped run has is the stop's): runs `arguments(whole)` to the end, then
    /// `arguments(stopped) + extra(seconds the whole run took)` with `whileRunning` on it (given
    /// the count of steps its log holds so far, and how long to wait); the stopped run must exit 0 with a checkpoint at a step in `1..<30` that `check` accepts
    /// (given the steps its log holds), and `--resume` must end with the whole run's weights.
    static func expectGracefulStopResumes(
        extra: (TimeInterval) -> [String] = { _ in [] }, whileRunning: (Process, () -> Int, Date) throws -> Void = { _, _, _ in },
        check: (_ step: Int, _ logged: Int) -> Bool
    ) throws {
        try withGraphTraining(checkpointEvery: 1000) { directory, arguments in
            let whole = directory.appendingPathComponent("whole"), stopped = directory.appendingPathComponent("stopped")
            let started = Date()
            let reference = try launch(arguments(whole))
            reference.waitUntilExit()
            try #require(reference.terminationStatus == 0)

            let victim = try launch(arguments(stopped) + extra(Date().timeIntervalSince(started)))
            let log = stopped.appendingPathComponent("log.jsonl")
            func logged() -> Int { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").count }
            try whileRunning(victim, logged, patience(since: started))
            victim.waitUntilExit()
            #expect(victim.terminationReason == .exit && victim.terminationStatus == 0)
            let step = try #require(manifestStep(stopped), "the stop left a checkpoint")
            #expect(step >= 1 && step < 30 && check(step, logged()), "checkpoint at \(step) of 30, \(logged()) steps logged")

            let resumed = try launch(arguments(stopped) + ["--resume"])
            resumed.waitUntilExit()
            #expect(resumed.terminationStatus == 0)
            #expect(manifestStep(stopped) == 30)
            #expect(try finalWeights(stopped) == finalWeights(whole), "stopped at step \(step)")
        }
    }

    @Test("train outer: one SIGINT checkpoints the step in progress and exits 0; --resume then equals an uninterrupted run")
    func interruptCheckpointsAndResumes() throws {
        try Self.expectGracefulStopResumes(whileRunning: { victim, logged, deadline in
            while logged() < 3, victim.isRunning, Date() < deadline { usleep(2_000) }
            try #require(victim.isRunning, "the run finished before it could be interrupted; make it longer")
            kill(victim.processIdentifier, SIGINT)
        }, check: { step, logged in
            step >= 3 && step == logged
        })
    }

    @Test("train outer --stop-after: the step in progress when it passes is checkpointed, exit 0; --resume then equals an uninterrupted run")
    func stopAfterCheckpointsAndResumes() throws {
        // Half the whole run's time (loading included): the deadline passes mid-run.
        try Self.expectGracefulStopResumes(extra: { ["--stop-after", String(format: "%.3f", max(0.05, $0 / 2))] }) { step, logged in
            step == logged
        }
    }
}
