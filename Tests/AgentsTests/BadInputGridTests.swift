import Foundation
import RoleData
import TestSupport
import Testing

/// Drives the built `rmas` over a grid generated from its own `--experimental-dump-help`: every
/// numeric option of every command (its allowed range is read from its help line) with values
/// just outside the range, NaN, ±infinity, huge, empty, wrong type and non-UTF-8, and the smallest
/// allowed value (which may run or be refused, but never crash); every file
/// option with missing, empty, directory, binary, wrong-shape and truncated files. Each must end
/// with a normal non-zero exit (no crash signal), a message on stderr naming the option for the
/// numeric ones, and no file changed outside the run's own output.
@Suite("Executable bad-input grid", .serialized)
struct BadInputGridTests {
    struct Outcome {
        var status: Int32
        var signaled: Bool
        var stderr: String
    }

    /// One command's arguments that make it succeed on the fixture (`OUT` is replaced by a fresh
    /// output path, excluded from the unchanged-files check).
    static func baseArguments(_ command: [String], _ f: CompareCommandTests.Fixture, link: URL, problems: URL, samples: URL) -> [String]? {
        let wide = f.path("wide.gguf").path
        switch command {
        case ["generate"]: return ["--model", wide, "--max-tokens", "2", "hi"]
        case ["chat"]: return ["--model", wide, "--max-tokens", "2"]
        case ["bench"]: return ["--model", wide, "--prompt-tokens", "8", "--gen-tokens", "2", "--repetitions", "1"]
        case ["gradcheck"]: return ["--model", wide, "--positions", "8", "--directions", "1", "--tolerance", "1"]
        case ["train", "inner"]:
            return ["--model", wide, "--node", "planner", "--data", f.train.path, "--out", "OUT", "--steps", "1", "--batch-size", "1",
                    "--held-out-count", "1"]
        case ["train", "outer"], ["train", "prompt"]:
            return ["--system", f.system.path, "--data", f.train.path, "--out", "OUT", "--steps", "1", "--batch-size", "1",
                    "--held-out-count", "1"]
        case ["train", "bench"]: return ["--system", f.system.path, "--data", f.train.path, "--examples", "1", "--pairs", "1"]
        case ["data", "synthetic"]: return ["--count", "2", "--out", "OUT"]
        case ["think"]: return ["--model", wide, "--link", link.path, "--latent", "2", "--max-tokens", "2", "hi"]
        case ["run"]: return ["--system", f.system.path, "--max-tokens", "2", "--latent", "1", "1 + 2?"]
        case ["compare"]:
            return ["--system", f.system.path, "--data", f.questions.path, "--limit", "1", "--rounds", "1", "--methods", "single",
                    "--max-tokens", "2", "--out", "OUT"]
        case ["eval-code"]: return ["--problems", problems.path, "--samples", samples.path, "--k", "1", "--out", "OUT"]
        case ["tokenize"]: return ["--model", wide, "hi"]
        case ["links", "export"]: return ["--from", link.path, "--to", "OUT"]
        case ["system", "check"], ["system", "show"]: return ["--system", f.system.path]
        default: return nil
        }
    }

    /// Options naming input files (`--system` of generate and chat is a system prompt), and the enumerations.
    static let fileOptions: Set<String> = ["model", "data", "held-out", "system", "problems", "samples", "link", "prompts-from", "from"]
    static let enumOptions: Set<String> = ["method", "methods", "precision", "dtype", "node", "answer-form", "data-format", "group"]

    @Test("every numeric, file and enumeration option refuses bad values cleanly")
    func grid() throws {
        let executable = try #require(KillResumeTests.executable, "the rmas executable is not built next to the tests")
        let fixture = try CompareCommandTests.Fixture()
        defer { fixture.remove() }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rmas-grid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        // Inputs the base invocations need, made before the snapshot.
        let link = fixture.path("inner-link"), problems = fixture.path("problems.jsonl"), samples = fixture.path("samples.jsonl")
        try Data(#"{"task_id": "t/0", "prompt": "def f():\n", "entry_point": "f", "test": "def check(c):\n    assert c() == 1\n"}"#.utf8
            + Data("\n".utf8)).write(to: problems)
        try Data(#"{"task_id": "t/0", "completion": "    return 1\n"}"#.utf8 + Data("\n".utf8)).write(to: samples)
        let setup = Self.launch(executable, ["train", "inner", "--model", fixture.path("wide.gguf").path, "--node", "planner", "--data",
                                             fixture.train.path, "--out", link.path, "--steps", "1", "--batch-size", "1",
                                             "--held-out-count", "1"], scratch: scratch)
        try #require(setup.status == 0, "setup: \(setup.stderr)")
        let badFiles = try Self.writeBadFiles(in: fixture.path("bad"))
        let before = try Self.snapshot(fixture.directory)

        var invocations = 0, failures: [String] = []
        /// Runs one invocation and records what is wrong with its outcome; returns whether it exited 0.
        @discardableResult
        func check(_ command: [String], _ arguments: [String], nonUTF8: Bool = false, mustFail: Bool, mention: String?,
                   mayFail: Bool = false) -> Bool {
            let out = fixture.path("out-\(invocations)")
            let filled = arguments.map { $0 == "OUT" ? out.path : $0 }
            let outcome = Self.launch(executable, command + filled, nonUTF8Last: nonUTF8, scratch: scratch)
            invocations += 1
            defer { try? FileManager.default.removeItem(at: out) }
            let shown = (command + filled + (nonUTF8 ? ["<0xFF 0xFE>"] : [])).joined(separator: " ")
            if outcome.signaled { failures.append("CRASH (signal \(outcome.status)): \(shown)\n\(outcome.stderr.suffix(600))") }
            if outcome.status != 0, outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                failures.append("no message on stderr: \(shown)")
            }
            if mustFail, outcome.status == 0 { failures.append("accepted: \(shown)") }
            if !mustFail, !mayFail, outcome.status != 0 { failures.append("the base invocation failed: \(shown)\n\(outcome.stderr.suffix(600))") }
            if mustFail, let mention, outcome.status != 0, !outcome.stderr.contains("--\(mention)") {
                failures.append("the message does not name --\(mention): \(shown)\n\(outcome.stderr.prefix(300))")
            }
            return outcome.status == 0
        }

        var covered: [String] = []
        for (command, options) in try Self.commands(executable, scratch: scratch) {
            guard let base = Self.baseArguments(command, fixture, link: link, problems: problems, samples: samples) else { continue }
            covered.append(command.joined(separator: " "))
            // Without a working base invocation the grid would prove nothing.
            guard check(command, base, mustFail: false, mention: nil) else { continue }
            for option in options {
                // The option under test goes last (`--name=value`, so "-1" is a value, not a flag).
                var arguments = base
                if let i = arguments.firstIndex(of: "--\(option.name)") { arguments.removeSubrange(i...(i + 1)) }
                if let range = option.range {
                    for value in Self.badNumbers(range) { check(command, arguments + ["--\(option.name)=\(value)"], mustFail: true, mention: option.name) }
                    check(command, arguments + ["--\(option.name)"], nonUTF8: true, mustFail: true, mention: option.name)
                    // The smallest allowed value (zero for most counts) runs, or is refused with a message.
                    check(command, arguments + ["--\(option.name)=\(range.lower)"], mustFail: false, mention: nil, mayFail: true)
                } else if Self.fileOptions.contains(option.name), !(option.name == "system" && ["generate", "chat"].contains(command[0])) {
                    for file in badFiles { check(command, arguments + ["--\(option.name)=\(file.path)"], mustFail: true, mention: nil) }
                } else if Self.enumOptions.contains(option.name) {
                    for value in ["", "abc", "-1", "nan"] { check(command, arguments + ["--\(option.name)=\(value)"], mustFail: true, mention: nil) }
                    check(command, arguments + ["--\(option.name)"], nonUTF8: true, mustFail: true, mention: nil)
                }
            }
        }
        #expect(covered.count >= 14, "commands covered: \(covered)")
        #expect(invocations > 400, "\(invocations) invocations")
        #expect(failures.isEmpty, "\(failures.count) of \(invocations) invocations misbehaved:\n\(failures.prefix(20).joined(separator: "\n"))")
        let after = try Self.snapshot(fixture.directory).filter { !$0.key.hasPrefix("out-") }
        let changed = Set(after.keys).symmetricDifference(before.keys).sorted()
            + after.filter { before[$0.key] != nil && before[$0.key] != $0.value }.keys.sorted()
        #expect(after == before, "changed outside the runs' outputs: \(changed)")
    }
}

extension BadInputGridTests {
    struct OptionInfo {
        var name: String
        var range: (lower: String, upper: String, integer: Bool)?
    }

    /// Every leaf command's value-taking options, from `rmas --experimental-dump-help`.
    static func commands(_ executable: URL, scratch: URL) throws -> [([String], [OptionInfo])] {
        let output = scratch.appendingPathComponent("help.json")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--experimental-dump-help"]
        let handle = try FileHandle(forWritingTo: output)
        // Closed explicitly: the Process keeps the handle alive past this call, and a leaked
        // descriptor per launch (hundreds in this suite) made Foundation's Process.run crash.
        defer { try? handle.close() }
        process.standardOutput = handle
        try process.run()
        process.waitUntilExit()
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any])
        var found: [([String], [OptionInfo])] = []
        func walk(_ command: [String: Any], path: [String]) {
            let subcommands = command["subcommands"] as? [[String: Any]] ?? []
            if subcommands.isEmpty {
                let options = (command["arguments"] as? [[String: Any]] ?? []).compactMap { argument -> OptionInfo? in
                    guard argument["kind"] as? String == "option",
                          let name = (argument["preferredName"] as? [String: Any])?["name"] as? String else { return nil }
                    return OptionInfo(name: name, range: Self.range(in: argument["abstract"] as? String ?? ""))
                }
                found.append((path, options))
            }
            for sub in subcommands { walk(sub, path: path + [sub["commandName"] as? String ?? "?"]) }
        }
        walk(try #require(root["command"] as? [String: Any]), path: [])
        return found
    }

    /// "(range: 1…100)" at the end of a help line.
    static func range(in help: String) -> (lower: String, upper: String, integer: Bool)? {
        guard let open = help.range(of: "(range: ", options: .backwards), help.hasSuffix(")") else { return nil }
        let body = help[open.upperBound..<help.index(before: help.endIndex)]
        let parts = body.components(separatedBy: "…")
        guard parts.count == 2 else { return nil }
        return (parts[0], parts[1], !body.contains(".") && !body.contains("e"))
    }

    /// Values outside `range` or not numbers at all.
    static func badNumbers(_ range: (lower: String, upper: String, integer: Bool)) -> [String] {
        var values = ["nan", "inf", "-inf", "", "abc", "1e400", "99999999999999999999999", "0x", "--"]
        if range.integer {
            if let lower = Int(range.lower) { values.append(String(lower - 1)) } else { values.append("-1") }
            if let upper = Int(range.upper), upper < Int.max { values.append(String(upper + 1)) }
            else if let upper = UInt64(range.upper) { values.append(String(upper) + "0") }
            values.append("1.5")
        } else if let lower = Double(range.lower), let upper = Double(range.upper) {
            values += [String(lower - max(1, abs(lower))), String(upper * 2 + 1)]
        }
        return values
    }

    /// Files no command should accept as its input.
    static func writeBadFiles(in directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let contents: [(String, Data)] = [
            ("empty.jsonl", Data()),
            ("binary.gguf", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })),
            ("non-utf8.jsonl", Data([0xFF, 0xFE, 0x7B, 0x22, 0x0A])),
            ("array.json", Data("[1, 2, 3]\n".utf8)),
            ("nan.jsonl", Data("{\"question\": NaN, \"answer\": Infinity}\n".utf8)),
            ("truncated.gguf", Data("GGUF\u{03}\0\0\0".utf8)),
            ("long-line.jsonl", Data(repeating: UInt8(ascii: "x"), count: 1 << 20)),
        ]
        var urls = contents.map { directory.appendingPathComponent($0.0) }
        for (url, (_, data)) in zip(urls, contents) { try data.write(to: url) }
        let folder = directory.appendingPathComponent("a-directory")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        urls += [folder, directory.appendingPathComponent("does-not-exist")]
        return urls
    }

    /// Size and modification time of every file under `directory`, by relative path.
    static func snapshot(_ directory: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        let base = directory.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [:] }
        while let relative = walker.nextObject() as? String {
            let attributes = try FileManager.default.attributesOfItem(atPath: base + "/" + relative)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            out[relative] = "\(attributes[.size] ?? 0) \((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        }
        return out
    }

    /// Runs `rmas arguments` (the last argument the bytes FF FE when `nonUTF8Last`) with stdin at
    /// EOF, killing it after 120 s; stdout discarded, stderr kept.
    static func launch(_ executable: URL, _ arguments: [String], nonUTF8Last: Bool = false, scratch: URL) -> Outcome {
        let err = scratch.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: err) }
        let process = Process()
        if nonUTF8Last {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "exec \"$@\" \"$(printf '\\377\\376')\"", "sh", executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.currentDirectoryURL = scratch
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        guard let handle = try? FileHandle(forWritingTo: err) else { return Outcome(status: -1, signaled: false, stderr: "no stderr file") }
        // Closed explicitly (see `commands`): one leaked descriptor per launch otherwise.
        defer { try? handle.close() }
        process.standardError = handle
        do { try process.run() } catch { return Outcome(status: -1, signaled: false, stderr: "\(error)") }
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return Outcome(status: -1, signaled: false, stderr: "hung for 120 s and was killed")
        }
        let text = (try? String(contentsOf: err, encoding: .utf8)) ?? String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self)
        return Outcome(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal, stderr: text)
    }
}
