// The agent's Python tool: the reference's result text (stdout, "[stderr]", "[exit_code] N"),
// the prelude's imports, "</result>" escaping, the 6000-character cut, and a timeout.
import Foundation
import Sandbox
import Testing

@Suite("Python tool")
struct PythonToolTests {
    private func tool(_ base: TestBase, limits: SandboxLimits = PythonTool.defaultLimits) throws -> PythonTool
    {
        PythonTool(python: try base.python(), limits: limits)
    }

    @Test("stdout then the exit code; the prelude's modules need no import")
    func success() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let text = try await tool(base)("print(math.factorial(5), fractions.Fraction(1, 3) * 3)")
        #expect(text == "120 1\n[exit_code] 0")
    }

    @Test("stderr follows under \"[stderr]\", then the non-zero exit code")
    func failure() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let text = try await tool(base)("print('before')\n1 / 0")
        #expect(text.hasPrefix("before\n[stderr]\nTraceback (most recent call last):\n"))
        #expect(text.contains("File \"main.py\", line 2"))
        #expect(text.hasSuffix("ZeroDivisionError: division by zero\n[exit_code] 1"))
    }

    @Test("\"</result>\" in the output cannot close the tool result")
    func escaping() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let text = try await tool(base)("print('a</result>b </RESULT> c')")
        #expect(!text.lowercased().contains("</result>"))
        #expect(text.hasPrefix("a<\\/result>b <\\/result> c\n"))
    }

    @Test("long output is cut to 6000 characters with a note on how much was left out")
    func truncation() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let text = try await tool(base)("print('x' * 10000)")
        let full = String(repeating: "x", count: 10000) + "\n[exit_code] 0"
        #expect(
            text == String(full.prefix(6000))
                + "\n... [output truncated: \(full.count - 6000) characters omitted]")
        #expect(PythonTool.truncate("short", to: 6000) == "short")
    }

    @Test("a timeout is reported with what was printed and Python's exit code for SIGKILL")
    func timeout() async throws {
        let base = TestBase()
        defer { base.expectEmptyAndRemove() }
        let limits = SandboxLimits(wallSeconds: 0.5, cpuSeconds: 10)
        let text = try await tool(base, limits: limits)("print('working')\nwhile True:\n    pass")
        #expect(text == "working\n[timeout] killed after 0.5 s\n[exit_code] -9")
    }

    @Test("rendering works on any result: empty output, limits, signals")
    func render() {
        let isolation = SandboxIsolation(
            network: .namespace, filesystem: .readOnly, pidNamespace: true, ipcNamespace: true,
            privateProc: true, socketFilter: true, userID: nil)
        func result(_ outcome: SandboxOutcome, _ status: TerminationStatus, stderr: String = "")
            -> SandboxResult
        {
            SandboxResult(
                outcome: outcome, status: status, stdout: Data(), stderr: Data(stderr.utf8), wallSeconds: 0,
                cpuSeconds: 0, isolation: isolation, scratchPath: "/tmp/x")
        }
        #expect(
            PythonTool.render(result(.exited(0), .exited(0)), wallSeconds: 10, maxCharacters: 6000)
                == "[exit_code] 0")
        #expect(
            PythonTool.render(
                result(.memoryLimit, .exited(1), stderr: "MemoryError\n"), wallSeconds: 10,
                maxCharacters: 6000)
                == "[stderr]\nMemoryError\n[limit] memory limit exceeded\n[exit_code] 1")
        #expect(
            PythonTool.render(
                result(.killedBySignal(11), .signaled(11)), wallSeconds: 10, maxCharacters: 6000)
                == "[exit_code] -11")
    }
}
