// Ordinary runs: output, exit codes, stderr, scratch files, the minimal environment, the isolation
// in force, and the typed errors for runs that cannot start.
import Foundation
import Sandbox
import Testing

@Suite("Sandbox: ordinary runs")
struct SandboxBasicsTests {
    @Test("a program's prints come back and it exits 0; its scratch directory is gone")
    func printsAndExitsZero() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let result = try await base.python().run("print('hello')\nprint(sum(range(10)))")
        #expect(result.outcome == .exited(0))
        #expect(result.outcome.isSuccess)
        #expect(result.stdoutText == "hello\n45\n")
        #expect(result.stderr.isEmpty)
        #expect(!result.stdoutTruncated && !result.stderrTruncated)
        #expect(result.wallSeconds > 0 && result.wallSeconds < 10)
        #expect(!exists(result.scratchPath))
    }

    @Test("a non-zero exit status is reported as such")
    func nonZeroExit() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let result = try await base.python().run("import sys\nprint('partial')\nsys.exit(3)")
        #expect(result.outcome == .exited(3))
        #expect(result.exitCode == 3)
        #expect(result.stdoutText == "partial\n")
    }

    @Test("stderr is captured apart from stdout; tracebacks name main.py and its own line numbers")
    func stderrCapture() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let program = "import sys\nprint('out')\nsys.stderr.write('warn\\n')\nraise ValueError('bad')"
        let result = try await base.python().run(program)
        #expect(result.outcome == .exited(1))
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText.hasPrefix("warn\n"))
        #expect(result.stderrText.contains("File \"main.py\", line 4"))
        #expect(result.stderrText.hasSuffix("ValueError: bad\n"))
    }

    @Test("HumanEval style: the program imports a module and reads data written beside it")
    func filesBesideTheProgram() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let files = [
            "solution.py": Data("def add(a, b):\n    return a + b\n".utf8),
            "data/input.txt": Data("41".utf8),
        ]
        let program = """
            from solution import add
            assert add(int(open('data/input.txt').read()), 1) == 42
            print('passed')
            """
        let result = try await base.python().run(program, files: files)
        #expect(result.outcome == .exited(0), "\(result.stderrText)")
        #expect(result.stdoutText == "passed\n")
    }

    @Test(
        "the environment is PATH, HOME (the scratch directory, also the cwd) and LANG, plus explicit entries")
    func minimalEnvironment() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let program = "import json, os\nprint(json.dumps({'env': dict(os.environ), 'cwd': os.getcwd()}))"
        let result = try await base.sandbox().run(
            executable: pythonInterpreter ?? "python3", arguments: ["-c", program],
            environment: ["EXTRA": "1"])
        struct Seen: Decodable {
            var env: [String: String]
            var cwd: String
        }
        let seen = try JSONDecoder().decode(Seen.self, from: result.stdout)
        #expect(Set(seen.env.keys) == ["PATH", "HOME", "LANG", "EXTRA"])
        #expect(seen.env["HOME"] == result.scratchPath)
        #expect(seen.cwd == result.scratchPath)
        #expect(seen.env["PATH"] == "/usr/local/bin:/usr/bin:/bin")
    }

    @Test("as root, every isolation measure is in force and the program runs as a pool uid")
    func fullIsolationAsRoot() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let result = try await base.python().run(
            "import os\nprint(os.getuid(), os.getgid(), os.getpid(), os.getgroups())")
        #expect(result.outcome == .exited(0))
        guard isRoot else { return }
        let uid = try #require(result.isolation.userID)
        #expect(result.stdoutText == "\(uid) \(uid) 1 []\n")
        #expect(uid >= SandboxUser.defaultPoolFirst)
        #expect(result.isolation.network == .namespace)
        #expect(result.isolation.filesystem == .readOnly)
        #expect(result.isolation.pidNamespace && result.isolation.ipcNamespace)
        #expect(result.isolation.privateProc && result.isolation.socketFilter)
    }

    @Test("any executable runs; a name is looked up in the sandbox PATH")
    func genericExecutable() throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let result = try base.sandbox().run(
            executable: "sh", arguments: ["-c", "echo hi; echo oops >&2; exit 7"])
        #expect(result.outcome == .exited(7))
        #expect(result.stdoutText == "hi\n")
        #expect(result.stderrText == "oops\n")
    }

    @Test("concurrent runs each get a uid of their own and all succeed")
    func concurrentRuns() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let python = try base.python()
        let results = try await withThrowingTaskGroup(of: SandboxResult.self) { group in
            for index in 0..<8 {
                group.addTask { try await python.run("import time\ntime.sleep(0.2)\nprint(\(index))") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.outcome == .exited(0) })
        #expect(Set(results.map(\.stdoutText)).count == 8)
        if isRoot { #expect(Set(results.compactMap(\.isolation.userID)).count == 8) }
    }

    @Test("runs that cannot start throw typed errors and leave nothing behind")
    func typedErrors() throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let sandbox = base.sandbox()
        #expect(throws: SandboxError.executableNotFound("no-such-program-xyz")) {
            try sandbox.run(executable: "no-such-program-xyz")
        }
        #expect(throws: SandboxError.executableNotFound("/nonexistent/python3")) {
            try sandbox.run(executable: "/nonexistent/python3")
        }
        for name in ["../escape.py", "/etc/passwd", "a//b", "./x", ""] {
            #expect(throws: SandboxError.invalidFileName(name)) {
                try sandbox.run(executable: "sh", files: [name: Data()])
            }
        }
        #expect(throws: SandboxError.self) {
            try sandbox.run(executable: "sh", limits: SandboxLimits(wallSeconds: 0))
        }
        #expect(throws: SandboxError.self) {
            try sandbox.run(executable: "sh", environment: ["A=B": "c"])
        }
        let python = try base.python()
        #expect(throws: SandboxError.invalidFileName("main.py")) {
            try python.run("pass", files: ["main.py": Data()])
        }
        #expect(throws: SandboxError.self) {
            try PythonSandbox(sandbox: sandbox, interpreter: "/bin/false")
        }
    }
}
