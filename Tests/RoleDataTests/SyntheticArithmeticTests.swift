import Foundation
import Kernels
import Testing

@testable import RoleData

@Suite("SyntheticArithmetic")
struct SyntheticArithmeticTests {
    @Test("the same seed gives the same rows; another seed gives others")
    func determinism() {
        let a = SyntheticArithmetic(seed: 42).generate(count: 300)
        #expect(a == SyntheticArithmetic(seed: 42).generate(count: 300))
        #expect(Array(a.prefix(10)) == SyntheticArithmetic(seed: 42).generate(count: 10))
        #expect(a != SyntheticArithmetic(seed: 43).generate(count: 300))
        #expect(a == SyntheticArithmetic(seed: 42).problems(count: 300).map(\.roleExample))
    }

    @Test("pinned output for seed 1, so any change to the generator is deliberate")
    func pinnedFirstRow() throws {
        let row = try #require(SyntheticArithmetic(seed: 1).generate(count: 1).first)
        #expect(RoleJSONL.encodeRow(row) == Self.pinnedSeed1)
    }

    /// Parses "<name> is <a> <op> <b> = <result> <unit>." and checks the arithmetic independently.
    func checkWorkedLine(_ line: Substring) -> Int? {
        let words = line.split(separator: " ")
        guard let eq = words.firstIndex(of: "="), eq >= 3, eq + 1 < words.count,
            let a = Int(words[eq - 3]), let b = Int(words[eq - 1]),
            let c = Int(words[eq + 1].trimmingCharacters(in: CharacterSet(charactersIn: ".")))
        else { return nil }
        let expected: Int? =
            switch words[eq - 2] {
            case "+": a + b
            case "-": a - b
            case "*": a * b
            case "/": b != 0 && a % b == 0 ? a / b : nil
            default: nil
            }
        return expected == c ? c : nil
    }

    @Test("every worked line is correct arithmetic and the boxed value is the last result")
    func answersAreRight() throws {
        let problems = SyntheticArithmetic(seed: 2024).problems(count: 2000)
        for problem in problems {
            let row = problem.roleExample
            var lines = row.answer.split(separator: "\n")
            let last = lines.removeLast()
            #expect(last == "The answer is \\boxed{\(problem.result)}.")
            let results = lines.map { checkWorkedLine($0) }
            #expect(!results.contains(nil), "bad arithmetic in: \(row.answer)")
            #expect(results.last == problem.result)
            #expect(results.allSatisfy { ($0 ?? 0) > 0 }, "a non-positive intermediate in: \(row.answer)")
            #expect(row.finalAnswer == String(problem.result))
            #expect(AnswerComparator.matches(AnswerExtractor.extract(from: row.answer), expected: row.finalAnswer!))
            #expect(lines.count == problem.steps.count && (3...4).contains(lines.count))
        }
    }

    @Test("plan: numbered steps in words; refined plan: same steps, givens with their values from the question")
    func planTexts() throws {
        let oneWithPlural = try Regex(#"(^|\s)1 [a-z]+s[ ,.?]"#)
        for problem in SyntheticArithmetic(seed: 9).problems(count: 500) {
            let row = problem.roleExample
            let plan = row.plan.split(separator: "\n"), refined = row.refinedPlan.split(separator: "\n")
            #expect(plan.count == problem.steps.count && refined.count == plan.count)
            for (k, (p, r)) in zip(plan, refined).enumerated() {
                #expect(p.hasPrefix("Step \(k + 1): ") && r.hasPrefix("Step \(k + 1): "))
                #expect(!p.dropFirst("Step \(k + 1): ".count).contains { $0.isNumber }, "digits in plan: \(p)")
            }
            // Every value the refined plan quotes, other than step references, is stated in the question.
            for step in problem.steps {
                for case .given(let g) in [step.lhs, step.rhs] {
                    #expect(row.refinedPlan.contains("\(g.name) (\(g.value)"))
                    #expect(row.question.contains(String(g.value)))
                }
            }
            #expect(!row.question.contains(oneWithPlural), "a plural after 1 in: \(row.question)")
        }
    }

    @Test("every template appears, restricting templates works, and rows record their generator")
    func templates() {
        let rows = SyntheticArithmetic(seed: 3).generate(count: 700)
        let seen = Set(rows.compactMap(\.generator))
        #expect(seen == Set(SyntheticArithmetic.Template.allCases.map { "synthetic-arithmetic/\($0.rawValue)" }))
        #expect(rows.allSatisfy { $0.source == "synthetic-arithmetic" })
        let travel = SyntheticArithmetic(seed: 3, templates: [.travel]).generate(count: 50)
        #expect(travel.allSatisfy { $0.generator == "synthetic-arithmetic/travel" })
        #expect(Set(rows.map(\.question)).count > 650, "too many duplicate questions")
    }

    @Test("uniform draws stay in range and reach both ends")
    func uniform() {
        var rng = SplitMix64(seed: 7)
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let x = rng.uniform(-3...5)
            #expect((-3...5).contains(x))
            seen.insert(x)
        }
        #expect(seen == Set(-3...5))
        #expect(rng.uniform(4...4) == 4)
        _ = rng.uniform(Int.min...Int.max)
    }

    /// `RoleJSONL.encodeRow` of the first row for seed 1.
    static let pinnedSeed1 =
        #"{"question":"A machine makes 15 jars per minute. It runs for 3 minutes in the morning and 37 minutes in the afternoon. The jars are packed in boxes of 12. How many boxes are filled?","#
            + #""plan":"Step 1: Add the morning running time and the afternoon running time to get the total running time.\nStep 2: Multiply the total running time by the number of jars made per minute to get the number of jars made.\nStep 3: Divide the number of jars made by the number of jars in a box to get the number of boxes filled.","#
            + #""refined_plan":"Step 1: The total running time = the morning running time (3 minutes) + the afternoon running time (37 minutes).\nStep 2: The number of jars made = the total running time (step 1) * the number of jars made per minute (15).\nStep 3: The number of boxes filled = the number of jars made (step 2) / the number of jars in a box (12).","#
            + #""answer":"The total running time is 3 + 37 = 40 minutes.\nThe number of jars made is 40 * 15 = 600 jars.\nThe number of boxes filled is 600 / 12 = 50 boxes.\nThe answer is \\boxed{50}.","#
            + #""final_answer":"50","#
            + #""source":"synthetic-arithmetic","#
            + #""generator":"synthetic-arithmetic/production"}"#
}
