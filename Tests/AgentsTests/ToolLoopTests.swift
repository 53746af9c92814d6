import Foundation
@testable import Agents
import Testing

/// A tool that answers from a table and records what it was asked.
final class ScriptedTools: ToolExecutor, @unchecked Sendable {
    var asked: [(ToolKind, String)] = []
    func call(_ tool: ToolKind, input: String) -> ToolCallRecord {
        asked.append((tool, input))
        return ToolCallRecord(tool: tool, input: input, result: tool == .python ? "6" : "[1] Paris")
    }
}

@Suite("Tool loop (spec §4.4) with a scripted model")
struct ToolLoopTests {
    /// A model that speaks the given turns in order, stopping where a turn ends with a closing tag.
    static func script(_ turns: [String]) -> (ToolLoop.Turn, () -> [String]) {
        var index = 0, seen: [String] = []
        let turn: ToolLoop.Turn = { text, _, stops in
            seen.append(text)
            guard index < turns.count else { return ("", 0, nil) }
            var out = turns[index]
            index += 1
            if let stop = stops.first(where: { out.hasSuffix($0) }) {
                out.removeLast(stop.count)  // the generator cuts the text before its stop string
                return (out, out.count, stop)
            }
            return (out, out.count, nil)
        }
        return (turn, { seen })
    }

    @Test("a python call is run, its result appended, and generation continues from the whole text")
    func pythonCall() {
        let tools = ScriptedTools()
        let (turn, seen) = Self.script(["Let me compute. <python>print(2*3)</python>", " So the answer is \\boxed{6}."])
        var emitted = ""
        let (text, tokens, calls) = ToolLoop(options: .init(tools: [.python, .search], maxCalls: 5), tools: tools, budget: 1000)
            .run(turn: turn, emit: { emitted += $0 }, called: { _ in })
        #expect(text == "Let me compute. <python>print(2*3)</python> <result> 6 </result> So the answer is \\boxed{6}.")
        #expect(calls.map(\.input) == ["print(2*3)"] && tools.asked.map(\.0) == [.python])
        #expect(emitted == "</python> <result> 6 </result>")
        #expect(seen() == ["", "Let me compute. <python>print(2*3)</python> <result> 6 </result>"], "the second turn continues after the result")
        #expect(tokens == "Let me compute. <python>print(2*3)".count + " So the answer is \\boxed{6}.".count)
    }

    @Test("search calls go to the search tool; more than max_calls calls end with a limit result")
    func callLimit() {
        let tools = ScriptedTools()
        let (turn, _) = Self.script(Array(repeating: "<search>capital of France</search>", count: 10))
        let (text, _, calls) = ToolLoop(options: .init(tools: [.search], maxCalls: 2), tools: tools, budget: 1000)
            .run(turn: turn, emit: { _ in }, called: { _ in })
        #expect(calls.count == 3 && tools.asked.count == 2)
        #expect(calls.last?.limit == "call limit" && text.hasSuffix("<result> tool limit reached (2 calls) </result>"))
    }

    @Test("the budget counts generated tokens over all turns; a tool not offered is never called")
    func budgetAndTools() {
        let tools = ScriptedTools()
        let (turn, _) = Self.script(["<python>1</python>", "<python>2</python>", "<python>3</python>"])
        // Each scripted turn generates 9 "tokens" ("<python>1" before the stop string).
        let (_, tokens, calls) = ToolLoop(options: .init(tools: [.python], maxCalls: 9), tools: tools, budget: 18)
            .run(turn: turn, emit: { _ in }, called: { _ in })
        #expect(calls.count == 2 && tokens == 18, "the third turn is not started once the budget is spent")
        let (plainTurn, _) = Self.script(["<search>x</search> done"])
        let (_, _, none) = ToolLoop(options: .init(tools: [.python], maxCalls: 9), tools: tools, budget: 100)
            .run(turn: plainTurn, emit: { _ in }, called: { _ in })
        #expect(none.isEmpty)
    }
}

extension ToolLoopTests {
    @Test("a markdown ```python block runs as a Python call when its closing fence is written (unless fences are off)")
    func markdownFence() {
        let tools = ScriptedTools()
        let turns = ["Compute:\n```python\nprint(2*3)\n```\n", " The answer is \\boxed{6}."]
        let (turn, _) = Self.script(turns)
        let (text, _, calls) = ToolLoop(options: .init(tools: [.python]), tools: tools, budget: 1000)
            .run(turn: turn, emit: { _ in }, called: { _ in })
        #expect(calls.map(\.input) == ["print(2*3)"])
        #expect(text == "Compute:\n```python\nprint(2*3)\n```\n <result> 6 </result> The answer is \\boxed{6}.")
        let (plain, _) = Self.script(turns)
        let (_, _, none) = ToolLoop(options: .init(tools: [.python], markdownFences: false), tools: tools, budget: 1000)
            .run(turn: plain, emit: { _ in }, called: { _ in })
        #expect(none.isEmpty)
    }
}
