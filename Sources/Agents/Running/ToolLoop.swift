// Provenance: the deliberation style's tool loop (spec §4.4): generate until a `</python>` or
// `</search>` closes a call, run the tool, append ` <result> … </result>`, continue; more than
// `max_calls` calls end the loop with a "tool limit reached" result; the token budget counts
// generated tokens over all turns. The model side is a closure, so the loop is testable alone.

/// The text side of a tool loop: which call a turn ended on, its input, the result appended.
struct ToolLoop {
    let options: ToolLoopOptions
    let tools: any ToolExecutor
    /// Generated tokens allowed over all turns.
    let budget: Int

    /// One generation turn: given the assistant text so far, the tokens left and the closing tags
    /// to stop at, returns the new text, its token count, and the stop string it ended on (nil
    /// for end of turn or budget).
    typealias Turn = (_ text: String, _ budget: Int, _ stops: [String]) -> (text: String, tokens: Int, stop: String?)

    /// Runs turns until the model ends without a call, the budget is spent, or the call limit is
    /// passed; `emit` receives text the loop appends (closing tags, results), `called` each call.
    /// Returns the whole assistant text, the tokens generated and the calls.
    func run(turn: Turn, emit: (String) -> Void, called: (ToolCallRecord) -> Void) -> (String, Int, [ToolCallRecord]) {
        var tags = options.tools.map { (tool: $0, open: "<\($0.rawValue)>", close: "</\($0.rawValue)>") }
        if options.markdownFences, options.tools.contains(.python) { tags.append((.python, "```python\n", "\n```\n")) }
        var text = "", generated = 0, calls: [ToolCallRecord] = []
        while generated < budget {
            let result = turn(text, budget - generated, tags.map(\.close))
            text += result.text
            generated += result.tokens
            guard let stop = result.stop, let tag = tags.first(where: { $0.close == stop }),
                  let start = text.range(of: tag.open, options: .backwards)
            else { break }  // end of turn, budget spent, or a closing tag with no opening one
            let input = String(text[start.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
            let overLimit = calls.count >= options.maxCalls
            var call = overLimit
                ? ToolCallRecord(tool: tag.tool, input: input, result: "tool limit reached (\(options.maxCalls) calls)", limit: "call limit")
                : tools.call(tag.tool, input: input)
            call.input = input
            calls.append(call)
            called(call)
            let appended = tag.close + " <result> \(call.result) </result>"
            text += appended
            emit(appended)
            if overLimit { break }
        }
        return (text, generated, calls)
    }
}
