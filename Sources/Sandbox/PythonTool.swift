// The agent's Python tool for the deliberation tool loop (spec §4.4): code from a
// <python>…</python> block runs in the sandbox, and the text that goes back inside
// <result>…</result> follows the reference: stdout, then "[stderr]\n…", then "[exit_code] N",
// "</result>" escaped, cut to 6000 characters with a note on what was omitted.
import Foundation

/// Executes a tool call's Python code and renders the result text for the model.
public struct PythonTool: Sendable {
    /// Imported before every call: the reference's prelude (sympy only where it can be imported).
    public static let prelude = """
        import math, itertools, functools, fractions, statistics
        try:
            import sympy as sp
        except ImportError:
            pass

        """

    /// The reference's limits: 10 s wall clock; the rest are the sandbox defaults, with output
    /// capped at 64 KiB per stream (far above what survives ``maxCharacters``).
    public static let defaultLimits = SandboxLimits(wallSeconds: 10, cpuSeconds: 10, outputBytes: 64 << 10)

    public let python: PythonSandbox
    public var limits: SandboxLimits
    /// Characters of result text kept (the reference's 6000); an omission note follows the cut.
    public var maxCharacters: Int

    public init(python: PythonSandbox, limits: SandboxLimits = defaultLimits, maxCharacters: Int = 6000) {
        self.python = python
        self.limits = limits
        self.maxCharacters = maxCharacters
    }

    /// Runs `code` and returns the result text. Throws only when the sandbox itself fails; a
    /// program that fails, times out or hits a limit is described in the text.
    public func callAsFunction(_ code: String) throws(SandboxError) -> String {
        let result = try python.run(code, prelude: Self.prelude, limits: limits)
        return Self.render(result, wallSeconds: limits.wallSeconds, maxCharacters: maxCharacters)
    }

    /// The same as the blocking ``callAsFunction(_:)``, off Swift's cooperative pool.
    public func callAsFunction(_ code: String) async throws(SandboxError) -> String {
        let result = try await python.run(code, prelude: Self.prelude, limits: limits)
        return Self.render(result, wallSeconds: limits.wallSeconds, maxCharacters: maxCharacters)
    }

    /// The result text: stdout; "[stderr]" and stderr if there is any; a note for a limit that
    /// ended the run; "[exit_code] N" (as Python's subprocess reports it: −signal when killed).
    /// Parts are joined by newlines, each without trailing whitespace.
    public static func render(_ result: SandboxResult, wallSeconds: Double, maxCharacters: Int) -> String {
        var parts: [String] = []
        let stdout = trimmingTrailingWhitespace(result.stdoutText)
        if !stdout.isEmpty { parts.append(stdout) }
        let stderr = trimmingTrailingWhitespace(result.stderrText)
        if !stderr.isEmpty { parts.append("[stderr]\n" + stderr) }
        switch result.outcome {
        case .timedOut: parts.append("[timeout] killed after \(seconds(wallSeconds)) s")
        case .cpuLimit, .memoryLimit, .fileSizeLimit, .outputLimit: parts.append("[limit] \(result.outcome)")
        case .exited, .killedBySignal: break
        }
        let code: Int32 =
            switch result.status {
            case .exited(let code): code
            case .signaled(let signal): -signal
            }
        parts.append("[exit_code] \(code)")
        return truncate(escape(parts.joined(separator: "\n")), to: maxCharacters)
    }

    /// "</result>" would end the tool result early in the model's context: written as "<\/result>".
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "</result>", with: "<\\/result>", options: .caseInsensitive)
    }

    /// The first `limit` characters and a note saying how many were left out.
    public static func truncate(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        let omitted = text.count - limit
        return String(text.prefix(limit)) + "\n... [output truncated: \(omitted) characters omitted]"
    }

    /// "10" for 10.0, "2.5" for 2.5.
    private static func seconds(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private static func trimmingTrailingWhitespace(_ text: String) -> String {
        var text = Substring(text)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
