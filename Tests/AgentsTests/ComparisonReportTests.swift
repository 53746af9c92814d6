import Foundation
import RoleData
import Testing
import Training

@testable import Agents

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Comparison report")
struct ComparisonReportTests {
    // MARK: - Hand-built outcomes

    static func stage(_ round: Int, _ role: String, generated: Int = 0, latent: Int = 0, prompt: Int = 0,
                      seconds: Double) -> StageRecord {
        StageRecord(round: round, node: role, promptTokens: prompt, latentInputs: latent > 0 ? 1 : 0, latentSteps: latent,
                    generatedTokens: generated, seconds: seconds)
    }

    /// latent: planner and refiner think 8 latent steps (0.5 s each) every round; the solver thinks 8 steps
    /// (0.5 s) in non-final rounds and writes 50 tokens on average (1 s on average) in the last one.
    /// Per question on average: 50 tokens, 24·rounds − 8 latent steps, 1.5·(rounds − 1) + 2 seconds.
    static func latent(_ index: Int, rounds: Int, correct: Bool) -> QuestionOutcome {
        var stages: [StageRecord] = []
        let jitter = [-10, 10, 0, 0][index % 4]  // per-question variation with mean 0 over 4 questions
        for r in 1...rounds {
            stages.append(stage(r, "planner", latent: 8, prompt: 30, seconds: 0.5))
            stages.append(stage(r, "refiner", latent: 8, prompt: 30, seconds: 0.5))
            stages.append(r == rounds
                ? stage(r, "solver", generated: 50 + jitter, prompt: 30, seconds: 1.0 + Double(jitter) / 100)
                : stage(r, "solver", latent: 8, prompt: 30, seconds: 0.5))
        }
        return QuestionOutcome(index: index, method: .latent, rounds: rounds, predicted: "1", expected: correct ? "1" : "2",
                               correct: correct, stages: stages)
    }

    /// text: every agent writes 100 tokens every round; planner and refiner take 1.5 s, the solver 1 s.
    /// Per question: 300·rounds tokens, 4·rounds seconds.
    static func text(_ index: Int, rounds: Int, correct: Bool) -> QuestionOutcome {
        let stages = (1...rounds).flatMap { r in
            [stage(r, "planner", generated: 100, prompt: 60, seconds: 1.5), stage(r, "refiner", generated: 100, prompt: 60, seconds: 1.5),
             stage(r, "solver", generated: 100, prompt: 60, seconds: 1.0)]
        }
        return QuestionOutcome(index: index, method: .text, rounds: rounds, predicted: correct ? "7" : nil, expected: "7",
                               correct: correct, stages: stages)
    }

    /// single: the solver alone writes 90, 110, 100, 100 tokens in 0.8, 1.2, 1.0, 1.0 s (means 100 and 1 s).
    static func single(_ index: Int, correct: Bool) -> QuestionOutcome {
        let jitter = [-10, 10, 0, 0][index % 4]
        return QuestionOutcome(index: index, method: .single, rounds: 1, predicted: "3", expected: "3", correct: correct,
                               stages: [stage(1, "solver", generated: 100 + jitter, prompt: 40, seconds: 1.0 + Double(jitter) / 50)])
    }

    static let metadata = ComparisonReport.Metadata(
        system: "systems/tiny.json", data: "data/math.jsonl", questions: 4, date: "2025-01-02T03:04:05Z",
        machine: "test machine", command: "rmas compare --rounds 1,2,3", notes: ["hand-built outcomes"])

    /// Rows, in the expected order: single 1 (2/4), latent 1 (3/4), text 1 (2/4), latent 2 (4/4), text 2 (3/4),
    /// latent 3 (1/2, no text row at 3 rounds). Given shuffled, so the order is the report's doing.
    static func outcomes() -> [QuestionOutcome] {
        var all: [QuestionOutcome] = []
        all += (0..<4).map { text($0, rounds: 2, correct: $0 != 3) }
        all += (0..<2).map { latent($0, rounds: 3, correct: $0 == 0) }
        all += (0..<4).map { latent($0, rounds: 1, correct: $0 != 2) }
        all += (0..<4).map { single($0, correct: $0 % 2 == 0) }
        all += (0..<4).map { latent($0, rounds: 2, correct: true) }
        all += (0..<4).map { text($0, rounds: 1, correct: $0 < 2) }
        return all
    }

    static func report() -> ComparisonReport { ComparisonReport(outcomes: outcomes(), metadata: metadata) }

    static func close(_ a: Double?, _ b: Double, tolerance: Double = 1e-9) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= tolerance
    }

    // MARK: - Aggregation

    @Test("rows: single first, then by rounds, latent before text")
    func rowOrder() {
        let keys = Self.report().rows.map { "\($0.method.rawValue)\($0.rounds)" }
        #expect(keys == ["single1", "latent1", "text1", "latent2", "text2", "latent3"])
    }

    @Test("accuracy, counts and means per row")
    func means() throws {
        let report = Self.report()
        let l1 = try #require(report.row(.latent, rounds: 1))
        #expect(l1.questions == 4 && l1.correct == 3)
        #expect(Self.close(l1.accuracy, 0.75))
        #expect(Self.close(l1.meanGeneratedTokens, 50))
        #expect(Self.close(l1.meanLatentSteps, 16))
        #expect(Self.close(l1.meanPromptTokens, 90))
        #expect(Self.close(l1.meanSeconds, 2.0))
        #expect(Self.close(l1.totalSeconds, 8.0))

        let l2 = try #require(report.row(.latent, rounds: 2))
        #expect(l2.correct == 4 && Self.close(l2.accuracy, 1))
        #expect(Self.close(l2.meanLatentSteps, 40))  // 3 × 8 in round 1, 2 × 8 in round 2
        #expect(Self.close(l2.meanSeconds, 3.5))

        let t2 = try #require(report.row(.text, rounds: 2))
        #expect(Self.close(t2.meanGeneratedTokens, 600) && Self.close(t2.meanSeconds, 8) && Self.close(t2.meanPromptTokens, 360))
        let s1 = try #require(report.row(.single, rounds: 1))
        #expect(s1.correct == 2 && Self.close(s1.meanGeneratedTokens, 100) && Self.close(s1.meanSeconds, 1))
        #expect(report.row(.text, rounds: 3) == nil)
    }

    @Test("95% Wilson interval of 3 correct out of 4")
    func wilson() throws {
        // By hand, n = 4, p = 0.75, z = 1.959964, z² = 3.841459:
        //   1 + z²/n = 1.960365
        //   centre = (0.75 + 3.841459/8) / 1.960365 = 1.230182 / 1.960365 = 0.627527
        //   half   = 1.959964 / 1.960365 · √(0.75·0.25/4 + 3.841459/64) = 0.999795 · √0.106898 = 0.326886
        //   → [0.300641, 0.954413]
        let l1 = try #require(Self.report().row(.latent, rounds: 1))
        #expect(Self.close(l1.accuracyInterval.lower, 0.300641, tolerance: 1e-5))
        #expect(Self.close(l1.accuracyInterval.upper, 0.954413, tolerance: 1e-5))
        // All correct: the upper end is clamped to 1 and the lower end stays well below it.
        let all = ComparisonReport.wilsonInterval(correct: 4, total: 4)
        #expect(all.upper == 1 && Self.close(all.lower, 0.510109, tolerance: 1e-5))
        let none = ComparisonReport.wilsonInterval(correct: 0, total: 4)
        #expect(none.lower == 0 && Self.close(none.upper, 0.489891, tolerance: 1e-5))
        #expect(ComparisonReport.wilsonInterval(correct: 0, total: 0) == .init(lower: 0, upper: 1))
    }

    @Test("speedup and token reduction versus text at the same rounds")
    func versusText() throws {
        let report = Self.report()
        let l1 = try #require(report.row(.latent, rounds: 1)), l2 = try #require(report.row(.latent, rounds: 2))
        #expect(Self.close(l1.speedupVersusText, 2.0))  // 4 s / 2 s
        #expect(Self.close(l1.tokenReductionVersusText, 1 - 50.0 / 300))
        #expect(Self.close(l2.speedupVersusText, 8 / 3.5))
        #expect(Self.close(l2.tokenReductionVersusText, 1 - 50.0 / 600))
        let s1 = try #require(report.row(.single, rounds: 1))
        #expect(Self.close(s1.speedupVersusText, 4) && Self.close(s1.tokenReductionVersusText, 1 - 100.0 / 300))
        let t1 = try #require(report.row(.text, rounds: 1))
        #expect(Self.close(t1.speedupVersusText, 1) && Self.close(t1.tokenReductionVersusText, 0))
        let l3 = try #require(report.row(.latent, rounds: 3))
        #expect(l3.speedupVersusText == nil && l3.tokenReductionVersusText == nil)
    }

    @Test("zero denominators give nil, not infinity")
    func zeroDenominators() throws {
        let free = [Self.stage(1, "solver", seconds: 0)]
        let report = ComparisonReport(outcomes: [
            QuestionOutcome(index: 0, method: .latent, rounds: 1, predicted: nil, expected: "1", correct: false, stages: free),
            QuestionOutcome(index: 0, method: .text, rounds: 1, predicted: nil, expected: "1", correct: false,
                            stages: [Self.stage(1, "solver", seconds: 2)]),
        ], metadata: Self.metadata)
        let latent = try #require(report.row(.latent, rounds: 1)), text = try #require(report.row(.text, rounds: 1))
        #expect(latent.speedupVersusText == nil && latent.tokenReductionVersusText == nil)
        #expect(Self.close(text.speedupVersusText, 1) && text.tokenReductionVersusText == nil)
        _ = try report.json()  // no non-finite number to refuse
    }

    @Test("per-stage means by round and role, in pipeline order")
    func stages() throws {
        let report = Self.report()
        let l2 = try #require(report.row(.latent, rounds: 2))
        #expect(l2.stages.map { "\($0.round)\($0.node)" } == ["1planner", "1refiner", "1solver", "2planner", "2refiner", "2solver"])
        let solver = l2.stages[5]
        #expect(solver.questions == 4 && Self.close(solver.meanGeneratedTokens, 50) && Self.close(solver.meanSeconds, 1))
        #expect(Self.close(l2.stages[2].meanSeconds, 0.5) && l2.stages[2].meanGeneratedTokens == 0)
    }

    // MARK: - Markdown and JSON

    @Test("markdown holds the metadata and the expected table lines")
    func markdown() {
        let md = Self.report().markdown()
        func hasLine(_ line: String) -> Bool { md.contains("\n" + line + "\n") }
        #expect(md.hasPrefix("# RecursiveMAS comparison\n"))
        #expect(hasLine("- command: `rmas compare --rounds 1,2,3`"))
        #expect(hasLine("- note: hand-built outcomes"))
        let expected = [
            "| method | rounds | correct | accuracy (95% CI) | tokens/question | latent steps | s/question | speedup vs text | token reduction vs text |",
            "| single | 1 | 2/4 | 50.0% (15.0%–85.0%) | 100.0 | 0.0 | 1.000 | 4.00× | 66.7% |",
            "| latent | 1 | 3/4 | 75.0% (30.1%–95.4%) | 50.0 | 16.0 | 2.000 | 2.00× | 83.3% |",
            "| text | 1 | 2/4 | 50.0% (15.0%–85.0%) | 300.0 | 0.0 | 4.000 | 1.00× | 0.0% |",
            "| latent | 2 | 4/4 | 100.0% (51.0%–100.0%) | 50.0 | 40.0 | 3.500 | 2.29× | 91.7% |",
            "| latent | 3 | 1/2 | 50.0% (9.5%–90.5%) | 50.0 | 64.0 | 5.000 | — | — |",
            "| method | rounds | round | node | s | generated tokens | at token cap |",
            "| latent | 2 | 1 | solver | 0.500 | 0.0 | — |",
            "| text | 2 | 2 | solver | 1.000 | 100.0 | — |",
        ]
        for line in expected { #expect(hasLine(line), "missing: \(line)\n\(md)") }
        // Main rows appear in row order.
        let order = ["| single | 1 |", "| latent | 1 |", "| text | 1 |", "| latent | 2 |", "| text | 2 |", "| latent | 3 |"]
        let positions = order.compactMap { md.range(of: $0)?.lowerBound }
        #expect(positions.count == order.count && positions == positions.sorted())
    }

    @Test("with a token cap, the per-stage table counts the stages that reached it")
    func tokenCap() throws {
        var metadata = Self.metadata
        metadata.tokenCap = 100
        let report = ComparisonReport(outcomes: Self.outcomes(), metadata: metadata)
        let md = report.markdown()
        func hasLine(_ line: String) -> Bool { md.contains("\n" + line + "\n") }
        // text stages write exactly 100 tokens; single writes 90, 110, 100, 100; the latent solver 40–60.
        for line in [
            "| method | rounds | round | node | s | generated tokens | at token cap (100) |",
            "| text | 2 | 2 | solver | 1.000 | 100.0 | 4/4 |",
            "| single | 1 | 1 | solver | 1.000 | 100.0 | 3/4 |",
            "| latent | 1 | 1 | solver | 1.000 | 50.0 | 0/4 |",
            "| latent | 2 | 1 | planner | 0.500 | 0.0 | 0/4 |",
        ] { #expect(hasLine(line), "missing: \(line)\n\(md)") }
        let decoded = try ProjectJSON.decoder().decode(ComparisonReport.self, from: try report.json())
        #expect(decoded == report && decoded.metadata.tokenCap == 100)
        #expect(try #require(decoded.row(.single, rounds: 1)).stages.first?.atTokenCap == 3)
    }

    @Test("an empty comparison says so")
    func empty() throws {
        let report = ComparisonReport(outcomes: [], metadata: Self.metadata)
        #expect(report.rows.isEmpty)
        #expect(report.markdown().contains("No outcomes were recorded"))
        #expect(!report.markdown().contains("| method |"))
        let decoded = try ProjectJSON.decoder().decode(ComparisonReport.self, from: try report.json())
        #expect(decoded == report)
        Self.expectValidSVG(report.svg())
    }

    @Test("json round-trips and holds what is needed to recompute the rows")
    func jsonRoundTrip() throws {
        let report = Self.report()
        let data = try report.json()
        let decoded = try ProjectJSON.decoder().decode(ComparisonReport.self, from: data)
        #expect(decoded == report)
        #expect(decoded.outcomes.count == 22)
        #expect(ComparisonReport(outcomes: decoded.outcomes, metadata: decoded.metadata) == report)
        let text = try #require(String(data: data, encoding: .utf8))
        // Pretty and sorted: "metadata" < "outcomes" < "rows" at the top level.
        let top = ["\n  \"metadata\"", "\n  \"outcomes\"", "\n  \"rows\""].compactMap { text.range(of: $0)?.lowerBound }
        #expect(top.count == 3 && top == top.sorted())
    }

    // MARK: - SVG

    #if canImport(FoundationXML)
    typealias Parser = FoundationXML.XMLParser
    #else
    typealias Parser = Foundation.XMLParser
    #endif

    final class ElementCounter: NSObject, XMLParserDelegate {
        var counts: [String: Int] = [:]
        var characters = ""

        func parser(_ parser: Parser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
                    attributes attributeDict: [String: String] = [:]) {
            counts[elementName, default: 0] += 1
        }

        func parser(_ parser: Parser, foundCharacters string: String) { characters += string }
    }

    /// Parses `svg` as XML and returns how many of each element it holds; fails on bad XML or non-finite numbers.
    @discardableResult
    static func expectValidSVG(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) -> ElementCounter {
        let parser = Parser(data: Data(svg.utf8))
        let counter = ElementCounter()
        parser.delegate = counter
        #expect(parser.parse(), "not XML: \(String(describing: parser.parserError))", sourceLocation: sourceLocation)
        #expect(counter.counts["svg"] == 1, sourceLocation: sourceLocation)
        for bad in ["NaN", "nan", "inf"] { #expect(!svg.contains(bad), "\(bad) in the SVG", sourceLocation: sourceLocation) }
        return counter
    }

    @Test("only questions every planned method and rounds answered enter a comparison")
    func answeredByAll() {
        func outcome(_ index: Int, _ method: InferenceMethod, _ rounds: Int) -> QuestionOutcome {
            QuestionOutcome(index: index, method: method, rounds: rounds, predicted: "1", expected: "1", correct: true,
                            stages: [Self.stage(rounds, "solver", seconds: 1)])
        }
        let recorded = [outcome(0, .single, 1), outcome(0, .latent, 1), outcome(0, .latent, 2), outcome(1, .single, 1),
                        outcome(1, .latent, 2), outcome(2, .latent, 1), outcome(2, .single, 1), outcome(2, .latent, 2),
                        outcome(2, .text, 1)]
        let plan: [(method: InferenceMethod, rounds: Int)] = [(.single, 1), (.latent, 1), (.latent, 2)]
        let kept = recorded.answeredByAll(of: plan)
        #expect(kept.map(\.index) == [0, 0, 0, 2, 2, 2], "question 1 lacks latent/1; text/1 is not in the plan")
        #expect(kept.allSatisfy { $0.method != .text })
        #expect(recorded.answeredByAll(of: [(.text, 1)]).map(\.index) == [2])
    }

    @Test("the plot is XML with one polyline per multi-round method in each panel")
    func svg() throws {
        let svg = Self.report().svg()
        let counter = Self.expectValidSVG(svg)
        #expect(counter.counts["polyline"] == 4)  // latent (1, 2, 3) and text (1, 2), in two panels
        #expect(svg.components(separatedBy: "stroke-dasharray").count - 1 == 3)  // single: two panels + legend
        #expect(counter.characters.contains("generated tokens per question"))
        #expect(counter.characters.contains("seconds per question"))
        #expect(counter.characters.contains("Recursive-TextMAS (text)"))
        #expect(counter.characters.contains("tiny.json on math.jsonl (4 questions)"), "the title names files, not their paths")
        var bundled = Self.report()
        bundled.metadata.system = "/deep/build/folder/RecursiveMAS_rmas.resources/DefaultSystem/system.json"
        #expect(Self.expectValidSVG(bundled.svg()).characters.contains("DefaultSystem on math.jsonl"))
    }

    @Test("one rounds value, all-zero costs and markup in the metadata still give a clean plot")
    func svgEdgeCases() throws {
        var metadata = Self.metadata
        metadata.system = "a & b <\"c\">"
        let zero = [Self.stage(1, "solver", seconds: 0)]
        let report = ComparisonReport(outcomes: [
            QuestionOutcome(index: 0, method: .latent, rounds: 2, predicted: nil, expected: "1", correct: false, stages: zero),
            QuestionOutcome(index: 0, method: .text, rounds: 2, predicted: nil, expected: "1", correct: true, stages: zero),
            QuestionOutcome(index: 0, method: .single, rounds: 1, predicted: nil, expected: "1", correct: true, stages: zero),
        ], metadata: metadata)
        let svg = report.svg()
        let counter = Self.expectValidSVG(svg)
        #expect(counter.counts["polyline"] == nil)  // one point per method: markers only
        #expect(counter.counts["circle"] == 3 && counter.counts["rect", default: 0] >= 3)  // 2 panels + legend
        #expect(counter.characters.contains("a & b <\"c\">"))
        #expect(svg.contains("a &amp; b &lt;&quot;c&quot;&gt;"))
    }
}
