// Provenance: LiveCodeBench-style grading (stdin programs compared line by line on their output
// with trailing whitespace ignored; functional tests call the named function, a `Solution` method
// where the code defines that class, with one JSON argument per input line and compare the
// return value with the JSON output), written here as one Python program per answer.
import Foundation
import RoleData

/// The Python program that runs `code` against input/output tests: the code is held as a string
/// and executed once per test with that test's stdin (so a program reading stdin at import runs
/// per test); the first wrong test raises AssertionError naming it.
enum IOTestHarness {
    static func program(code: String, tests: [IOTest], function: String) -> String {
        """
        import io, json, sys
        SOURCE = \(literal(code))
        TESTS = json.loads(\(literal(IOTest.jsonText(tests))))
        FUNCTION = \(literal(function))

        def lines(text):
            return [line.rstrip() for line in text.strip().splitlines()]

        def run_stdin(data):
            sys.stdin, out = io.StringIO(data), io.StringIO()
            sys.stdout = out
            try:
                exec(compile(SOURCE, "<answer>", "exec"), {"__name__": "__main__"})
            except SystemExit:
                pass
            finally:
                sys.stdout, sys.stdin = sys.__stdout__, sys.__stdin__
            return out.getvalue()

        def call(data):
            scope = {"__name__": "answer"}
            exec(compile("from typing import *\\n" + SOURCE, "<answer>", "exec"), scope)
            target = getattr(scope["Solution"](), FUNCTION) if "Solution" in scope else scope[FUNCTION]
            return target(*[json.loads(arg) for arg in data.split("\\n") if arg.strip()])

        for number, test in enumerate(TESTS):
            if test["testtype"] == "functional":
                got, want = call(test["input"]), json.loads(test["output"])
                assert got == want, "test %d: expected %r, got %r" % (number, want, got)
            else:
                got = run_stdin(test["input"])
                assert lines(got) == lines(test["output"]), "test %d: expected %r, got %r" % (number, test["output"][:200], got[:200])

        """
    }

    /// A Python string literal of `text` (JSON's string syntax is Python's for these escapes).
    static func literal(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return String(decoding: (try? encoder.encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}
