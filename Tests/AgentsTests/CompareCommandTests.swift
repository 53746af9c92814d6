import Agents
import Foundation
import Kernels
import RoleData
import TestSupport
import Testing
import Training

/// `rmas train outer`, `rmas run --method` and `rmas compare` end to end: the built executable
/// (next to the test bundle) on a system of tiny random models written to disk.
@Suite("rmas train outer / run / compare (the built executable)", .serialized)
struct CompareCommandTests {
    static let edgeNames = ["planner_to_refiner", "refiner_to_solver", "solver_to_planner"]

    /// A temporary directory holding a three-agent system (planner and solver share a 64-wide
    /// qwen2 file, the refiner is a 32-wide llama), training rows and three evaluation questions.
    struct Fixture {
        let directory: URL
        let system: URL
        let train: URL
        let questions: URL

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-compare-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let (wide, narrow) = try TinyGraph.writeModels(in: directory)
            system = directory.appendingPathComponent("system.json")
            try Data("""
                {"agents": [{"role": "planner", "model": "\(wide.path)"}, {"role": "refiner", "model": "\(narrow.path)"},
                            {"role": "solver", "model": "\(wide.path)"}],
                 "links": [{"from": "planner", "to": "refiner"}, {"from": "refiner", "to": "solver"},
                           {"from": "solver", "to": "planner"}],
                 "defaults": {"rounds": 2, "latent_steps": 2, "max_tokens": 4, "max_latent_tokens": 4}}
                """.utf8).write(to: system)
            // Short rows: the teacher-forced conversations are dominated by the prompt templates, and
            // attention in a debug build costs O(T²).
            train = directory.appendingPathComponent("train.jsonl")
            try RoleJSONL.write((1...5).map { n in
                RoleExample(question: "\(n) + 2?", plan: "Step 1: add", refinedPlan: "Step 1: \(n) + 2",
                            answer: "\\boxed{\(n + 2)}", finalAnswer: "\(n + 2)")
            }, to: train)
            questions = directory.appendingPathComponent("questions.jsonl")
            try RoleJSONL.write(SyntheticArithmetic(seed: 12).generate(count: 3), to: questions)
        }

        func path(_ name: String) -> URL { directory.appendingPathComponent(name) }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `rmas arguments` to completion, capturing its output through files (pipes could fill);
    /// `whileRunning` gets the process once started and its stderr file (to signal it).
    static func rmas(_ arguments: [String], in fixture: Fixture, whileRunning: (Process, URL) throws -> Void = { _, _ in }) throws -> Output {
        let executable = try #require(KillResumeTests.executable, "the rmas executable is not built next to the tests")
        let out = fixture.path("stdout-\(UUID().uuidString)"), err = fixture.path("stderr-\(UUID().uuidString)")
        try Data().write(to: out)
        try Data().write(to: err)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        defer { try? outHandle.close(); try? errHandle.close() }  // the Process would keep them open
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        try whileRunning(process, err)
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                      stderr: try String(contentsOf: err, encoding: .utf8))
    }

    static func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    // MARK: - train outer

    @Test("train outer: checkpoint manifest, weights, log.jsonl, system.json; --resume continues both")
    func trainOuter() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let out = fixture.path("outer")
        func train(steps: Int, resume: Bool = false) throws -> Output {
            try Self.rmas(["train", "outer", "--system", fixture.system.path, "--data", fixture.train.path, "--held-out-count", "1",
                           "--out", out.path, "--steps", "\(steps)", "--batch-size", "1",
                           "--checkpoint-every", "2", "--eval-every", "2", "--keep-activations", "--threads", "1"] + (resume ? ["--resume"] : []),
                          in: fixture)
        }
        let first = try train(steps: 3)
        try #require(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("checkpoint: \(out.standardizedFileURL.path)"))
        #expect(first.stdout.contains("held-out loss"))

        let store = CheckpointStore(directory: out)
        let (manifest, weights, optimizer) = try store.load()
        #expect(manifest.kind == "outer" && manifest.step == 3)
        #expect(manifest.links.map(\.name) == Self.edgeNames)
        #expect(manifest.links.map(\.inputWidth) == [64, 32, 64] && manifest.links.map(\.outputWidth) == [32, 64, 64])
        #expect(manifest.models.map(\.role) == ["planner", "refiner", "solver"])
        #expect(manifest.models.allSatisfy { $0.sha256.count == 64 })
        #expect(manifest.models[0].sha256 == manifest.models[2].sha256, "planner and solver share one file")
        #expect(manifest.models[0].sha256 != manifest.models[1].sha256)
        #expect(manifest.arguments["rounds"] == "2", "rounds default to the system file's")
        #expect(manifest.arguments["max_latent_rows"] == "4", "so do the latent rows (max_latent_tokens)")
        #expect(optimizer != nil)
        for edge in Self.edgeNames {
            #expect(weights.tensors.keys.contains { $0.hasPrefix(edge + ".") }, "\(edge) is in the weights")
        }
        #expect(weights.tensors.keys.allSatisfy { name in Self.edgeNames.contains { name.hasPrefix($0 + ".") } })

        let log = try Self.lines(out.appendingPathComponent("log.jsonl")).map(Self.object)
        #expect(log.map { $0["step"] as? Int } == [1, 2, 3])
        for entry in log {
            #expect((entry["loss"] as? Double).map { $0.isFinite && $0 > 0 } == true)
            #expect(entry["lr"] is Double && entry["grad_norm"] is Double && entry["positions_per_second"] is Double)
            let norms = try #require(entry["round_grad_norms"] as? [String: [Double]])
            #expect(Set(norms.keys) == Set(Self.edgeNames))
            #expect(norms.values.allSatisfy { $0.count == 2 }, "one norm per round")
            #expect(norms["planner_to_refiner"]!.allSatisfy { $0 > 0 })
        }
        #expect(log.map { $0["held_out"] != nil } == [false, true, true], "held-out every 2 steps and at the end")

        // The written system file points every outer link at the checkpoint and loads.
        let written = try GraphDefinition.load(out.appendingPathComponent("system.json"))
        #expect(written.edges.allSatisfy { $0.checkpoint == out.standardizedFileURL.path })
        let answer = try Self.rmas(["run", "--system", out.appendingPathComponent("system.json").path, "--json", "--threads", "1",
                                    "What is 2 + 2?"], in: fixture)
        try #require(answer.status == 0, "\(answer.stderr)")
        #expect(try Self.object(answer.stdout)["method"] as? String == "latent")

        // Without --resume an existing checkpoint is not overwritten.
        let refused = try train(steps: 3)
        #expect(refused.status != 0 && refused.stderr.contains("--resume"))
        #expect(try store.load().manifest.step == 3)

        let resumed = try train(steps: 4, resume: true)
        try #require(resumed.status == 0, "\(resumed.stderr)")
        #expect(try store.load().manifest.step == 4)
        #expect(try Self.lines(out.appendingPathComponent("log.jsonl")).map { try Self.object($0)["step"] as? Int } == [1, 2, 3, 4])
    }

    // MARK: - run --method

    @Test("run --method text / single: the method's stages, the method in the JSON")
    func runMethods() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        for (method, stages) in [("text", 6), ("single", 1), ("latent", 6)] {
            let output = try Self.rmas(["run", "--system", fixture.system.path, "--method", method, "--no-answer-retry", "--json",
                                        "--threads", "1", "What is 2 + 2?"], in: fixture)
            try #require(output.status == 0, "\(output.stderr)")
            let object = try Self.object(output.stdout)
            #expect(object["method"] as? String == method)
            #expect((object["stages"] as? [Any])?.count == stages, "\(method)")
        }
        let bad = try Self.rmas(["run", "--system", fixture.system.path, "--method", "telepathy", "2 + 2?"], in: fixture)
        #expect(bad.status != 0)
    }

    // MARK: - compare

    @Test("compare: report rows for every method and rounds, SVG, and a rerun or a killed run resumes")
    func compare() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let out = fixture.path("comparison")
        let arguments = ["compare", "--system", fixture.system.path, "--data", fixture.questions.path, "--rounds", "1,2",
                         "--max-tokens", "4", "--latent", "2", "--out", out.path, "--threads", "1"]
        let first = try Self.rmas(arguments, in: fixture)
        try #require(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("| method | rounds |"), "the summary table is printed")

        let report = try ProjectJSON.decoder().decode(ComparisonReport.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        let expected: [(InferenceMethod, Int)] = [(.single, 1), (.latent, 1), (.text, 1), (.latent, 2), (.text, 2)]
        #expect(report.rows.map { "\($0.method)/\($0.rounds)" } == expected.map { "\($0.0)/\($0.1)" })
        #expect(report.rows.allSatisfy { $0.questions == 3 })
        #expect(report.metadata.questions == 3 && report.metadata.data == fixture.questions.path)
        #expect(!report.metadata.notes.joined().contains("so far"), "a finished run's report covers every question")
        #expect(report.metadata.command.hasPrefix("rmas compare --system"))
        #expect(!report.metadata.machine.isEmpty && !report.metadata.date.isEmpty)
        #expect(Set(report.outcomes.map(\.index)) == [0, 1, 2])
        let stageCounts = Dictionary(grouping: report.outcomes) { "\($0.method)/\($0.rounds)" }.mapValues { Set($0.map(\.stages.count)) }
        #expect(stageCounts == ["single/1": [1], "latent/1": [3], "text/1": [3], "latent/2": [6], "text/2": [6]])
        let questions = try RoleJSONL.read(from: fixture.questions)
        for outcome in report.outcomes { #expect(outcome.expected == questions[outcome.index].finalAnswer) }
        #expect(report.row(.text, rounds: 2)?.meanGeneratedTokens ?? 0 > 0)
        let svg = try String(contentsOf: out.appendingPathComponent("plot.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") && svg.contains("</svg>"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.md").path))

        // Rerunning does no new work.
        let outcomes = out.appendingPathComponent("outcomes.jsonl")
        let recorded = try Data(contentsOf: outcomes)
        #expect(try Self.lines(outcomes).count == 15)
        let again = try Self.rmas(arguments + ["--json"], in: fixture)
        try #require(again.status == 0, "\(again.stderr)")
        #expect(try Data(contentsOf: outcomes) == recorded)
        let printed = try ProjectJSON.decoder().decode(ComparisonReport.self, from: Data(again.stdout.utf8))
        #expect(printed.rows.map(\.correct) == report.rows.map(\.correct), "--json prints the report as JSON on stdout")
        #expect(try ProjectJSON.decoder().decode(ComparisonReport.self, from: Data(contentsOf: out.appendingPathComponent("report.json"))).outcomes
            == report.outcomes)

        // A run killed mid-line: the complete records are kept, the partial one is redone, nothing twice.
        let kept = try Self.lines(outcomes).prefix(12)
        try Data((kept.joined(separator: "\n") + "\n{\"index\":2,\"meth").utf8).write(to: outcomes)
        let resumed = try Self.rmas(arguments, in: fixture)
        try #require(resumed.status == 0, "\(resumed.stderr)")
        let final = try Self.lines(outcomes)
        #expect(final.count == 15 && Array(final.prefix(12)) == Array(kept))
        let triples = try final.map { line in
            let o = try ProjectJSON.decoder().decode(QuestionOutcome.self, from: Data(line.utf8))
            return "\(o.index) \(o.method) \(o.rounds)"
        }
        #expect(Set(triples).count == 15)

        // Other settings on the same directory are refused rather than mixed in.
        let mixed = try Self.rmas(arguments.map { $0 == "2" ? "3" : $0 }, in: fixture)
        #expect(mixed.status != 0 && mixed.stderr.contains("other settings"))

        // So is the same system file with reworded prompts.
        let original = try String(contentsOf: fixture.system, encoding: .utf8)
        let reworded = original.replacingOccurrences(
            of: #""defaults""#, with: #""prompts": {"solver_instruction": "Answer in \\boxed{}."}, "defaults""#)
        try #require(reworded != original)
        try Data(reworded.utf8).write(to: fixture.system)
        let rewordedRun = try Self.rmas(arguments, in: fixture)
        #expect(rewordedRun.status != 0 && rewordedRun.stderr.contains("prompts"), "\(rewordedRun.stderr)")
        #expect(try Data(contentsOf: outcomes) == Data((final.joined(separator: "\n") + "\n").utf8), "nothing was added")
    }

    @Test("compare: links retrained in place are refused; settings without link digests still resume")
    func compareLinkWeights() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let trained = fixture.path("outer")
        func train(steps: Int, resume: Bool) throws {
            let output = try Self.rmas(["train", "outer", "--system", fixture.system.path, "--data", fixture.train.path,
                                        "--held-out-count", "1", "--out", trained.path, "--steps", "\(steps)", "--batch-size", "1",
                                        "--threads", "1"] + (resume ? ["--resume"] : []), in: fixture)
            try #require(output.status == 0, "\(output.stderr)")
        }
        try train(steps: 1, resume: false)
        let out = fixture.path("comparison")
        let arguments = ["compare", "--system", trained.appendingPathComponent("system.json").path, "--data", fixture.questions.path,
                         "--limit", "1", "--rounds", "1", "--methods", "latent", "--max-tokens", "2", "--latent", "1",
                         "--out", out.path, "--threads", "1"]
        let first = try Self.rmas(arguments, in: fixture)
        try #require(first.status == 0, "\(first.stderr)")
        let settingsURL = out.appendingPathComponent("settings.json"), outcomes = out.appendingPathComponent("outcomes.jsonl")
        let settings = try Self.object(String(contentsOf: settingsURL, encoding: .utf8))
        let links = try #require(settings["links"] as? [String: String])
        #expect(Set(links.keys) == ["planner → refiner", "refiner → solver", "solver → planner"], "the fixture has no inner links")
        #expect(Set(links.values).count == 1 && links.values.allSatisfy { $0.count == 64 }, "one checkpoint file for all three")
        let recorded = try Data(contentsOf: outcomes)

        // A settings file from before link digests were recorded resumes, and gains them.
        var old = settings
        old["links"] = nil
        try JSONSerialization.data(withJSONObject: old).write(to: settingsURL)
        let resumed = try Self.rmas(arguments, in: fixture)
        try #require(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Data(contentsOf: outcomes) == recorded)
        #expect(try Self.object(String(contentsOf: settingsURL, encoding: .utf8))["links"] as? [String: String] == links)

        // One more step in the same checkpoint directory: same system file, other weights.
        try train(steps: 2, resume: true)
        let retrained = try Self.rmas(arguments, in: fixture)
        #expect(retrained.status != 0 && retrained.stderr.contains("link weights (planner → refiner"), "\(retrained.stderr)")
        #expect(try Data(contentsOf: outcomes) == recorded, "nothing was added")
    }

    @Test("compare: the same system and data files at other paths continue a run; other contents and a corrupt settings file are refused")
    func compareMovedFiles() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let out = fixture.path("comparison"), moved = fixture.path("elsewhere")
        try FileManager.default.createDirectory(at: moved, withIntermediateDirectories: true)
        let system = moved.appendingPathComponent("system.json"), data = moved.appendingPathComponent("questions.jsonl")
        try FileManager.default.copyItem(at: fixture.system, to: system)
        try FileManager.default.copyItem(at: fixture.questions, to: data)
        func compare(_ system: URL, _ data: URL) throws -> Output {
            try Self.rmas(["compare", "--system", system.path, "--data", data.path, "--limit", "1", "--rounds", "1",
                           "--methods", "single", "--max-tokens", "2", "--out", out.path, "--threads", "1"], in: fixture)
        }
        let first = try compare(fixture.system, fixture.questions)
        try #require(first.status == 0, "\(first.stderr)")
        let settingsURL = out.appendingPathComponent("settings.json"), outcomes = out.appendingPathComponent("outcomes.jsonl")
        let recorded = try Data(contentsOf: outcomes)
        let settings = try Self.object(String(contentsOf: settingsURL, encoding: .utf8))
        #expect((settings["system_digest"] as? String)?.count == 64 && (settings["data_digest"] as? String)?.count == 64)

        // Byte-identical copies elsewhere (another checkout, build folder or machine): no new work.
        let continued = try compare(system, data)
        try #require(continued.status == 0, "\(continued.stderr)")
        #expect(try Data(contentsOf: outcomes) == recorded)
        #expect(try Self.object(String(contentsOf: settingsURL, encoding: .utf8))["system"] as? String == system.path)

        // Other data contents at the recorded path are refused, naming what differs.
        try Data((try String(contentsOf: data, encoding: .utf8) + "\n").utf8).write(to: data)
        let changed = try compare(system, data)
        #expect(changed.status != 0 && changed.stderr.contains("data file contents"), "\(changed.stderr)")

        // A corrupt settings file is refused and left as it is; the answers stay.
        let good = try Data(contentsOf: settingsURL)
        try Data("{\"system\": ".utf8).write(to: settingsURL)
        let corrupt = try compare(system, data)
        #expect(corrupt.status != 0 && corrupt.stderr.contains("not a readable settings file"), "\(corrupt.stderr)")
        #expect(try Data(contentsOf: settingsURL) == Data("{\"system\": ".utf8))
        try good.write(to: settingsURL)

        // A settings file from before the digests compares paths, as it did.
        var old = try Self.object(String(contentsOf: settingsURL, encoding: .utf8))
        old["system_digest"] = nil
        old["data_digest"] = nil
        try JSONSerialization.data(withJSONObject: old).write(to: settingsURL)
        let byPath = try compare(fixture.system, fixture.questions)
        #expect(byPath.status != 0 && byPath.stderr.contains("system \(system.path) → \(fixture.system.path)"), "\(byPath.stderr)")
        #expect(try Data(contentsOf: outcomes) == recorded, "nothing was added")
    }

    @Test("compare: --decode defaults to int8-tiled with --batch above 1 (where the tiles are vectorised), to int8 at 1, and to the recorded one when continuing")
    func compareDecodeDefault() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        func compare(_ out: URL, _ extra: [String]) throws -> Output {
            try Self.rmas(["compare", "--system", fixture.system.path, "--data", fixture.questions.path, "--limit", "2", "--rounds", "1",
                           "--methods", "single", "--max-tokens", "2", "--out", out.path, "--threads", "1"] + extra, in: fixture)
        }
        func decode(_ out: URL) throws -> String? {
            try Self.object(String(contentsOf: out.appendingPathComponent("settings.json"), encoding: .utf8))["text_decode"] as? String
        }
        let batched = fixture.path("batched"), single = fixture.path("single")
        let first = try compare(batched, ["--batch", "2"])
        try #require(first.status == 0, "\(first.stderr)")
        let batchedDefault = TiledInt8Matrix.isAccelerated ? "int8-tiled" : nil
        #expect(try decode(batched) == batchedDefault)
        let recorded = try Data(contentsOf: batched.appendingPathComponent("outcomes.jsonl"))
        // Continued at --batch 1 without --decode: the recorded format, no new work.
        let continued = try compare(batched, ["--batch", "1"])
        #expect(continued.status == 0, "\(continued.stderr)")
        #expect(try Data(contentsOf: batched.appendingPathComponent("outcomes.jsonl")) == recorded)
        // An explicit other format is refused.
        let other = try compare(batched, ["--decode", batchedDefault == nil ? "int8-tiled" : "int8"])
        let change = batchedDefault == nil ? "int8 → int8-tiled" : "int8-tiled → int8"
        #expect(other.status != 0 && other.stderr.contains("text decode (--decode) \(change)"), "\(other.stderr)")
        let one = try compare(single, [])
        try #require(one.status == 0, "\(one.stderr)")
        #expect(try decode(single) == nil, "int8 is recorded as absent, as runs before the option")
    }
}
