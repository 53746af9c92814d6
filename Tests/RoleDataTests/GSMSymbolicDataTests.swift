// Fixtures/gsm_symbolic_sample.jsonl: the first row of each of reasoning-gym 0.1.25's 85 usable
// GSM-symbolic generators, written by Tools/data/build_gsm_roles.py (see its header for the
// exact command). A built split ({train,test}.jsonl) is git-ignored: the test on it reads
// $RMAS_GSM_SPLIT_DIR, else Tools/data/out; scripts/test.sh (and so CI) builds a small one, and
// with RMAS_REQUIRE_MODELS=1 a missing split fails instead of being skipped.
import Foundation
import Testing

@testable import RoleData

private let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
private let sampleURL = here.appendingPathComponent("Fixtures/gsm_symbolic_sample.jsonl")
private let packageRoot = here.deletingLastPathComponent().deletingLastPathComponent()
private let outURL = ProcessInfo.processInfo.environment["RMAS_GSM_SPLIT_DIR"].map { URL(fileURLWithPath: $0) }
    ?? packageRoot.appendingPathComponent("Tools/data/out")
private let splitRequired = ProcessInfo.processInfo.environment["RMAS_REQUIRE_MODELS"] == "1"

/// The generator id of a row ("gsm_symbolic/12" → 12).
private func generatorID(_ row: RoleExample) -> Int? {
    row.generator.flatMap { $0.split(separator: "/").last.flatMap { Int($0) } }
}

/// Checks what the builder promises of every row.
private func checkRow(_ row: RoleExample) {
    #expect(row.source == "reasoning-gym/gsm_symbolic")
    #expect(AnswerComparator.matches(AnswerExtractor.extract(from: row.answer), expected: row.finalAnswer ?? "∅"))
    #expect(row.answer.hasSuffix("The answer is \\boxed{\(row.finalAnswer ?? "")}."))
    let plan = row.plan.split(separator: "\n"), refined = row.refinedPlan.split(separator: "\n")
    #expect(plan.count == refined.count && !plan.isEmpty)
    for (k, (p, r)) in zip(plan, refined).enumerated() {
        #expect(p.hasPrefix("Step \(k + 1): ") && r.hasPrefix("Step \(k + 1): "))
    }
    // The plan hides computed values: it never states the final answer after an "=".
    let stated = "= \(row.finalAnswer ?? "∅")"
    #expect(!row.plan.contains(stated + "\n") && !row.plan.hasSuffix(stated))
}

@Suite("reasoning-gym GSM-symbolic role data")
struct GSMSymbolicDataTests {
    @Test("the committed sample parses, and every row keeps the builder's promises")
    func sample() throws {
        let rows = try RoleJSONL.read(from: sampleURL)
        #expect(rows.count == 85)
        #expect(Set(rows.compactMap(generatorID)).count == 85)
        rows.forEach(checkRow)
    }

    @Test("Swift re-encodes every line of the Python-written sample byte for byte")
    func byteIdenticalEncoding() throws {
        let text = try String(contentsOf: sampleURL, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        for line in lines {
            #expect(RoleJSONL.encodeRow(try RoleJSONL.decodeRow(line)) == line)
        }
    }

    @Test(
        "the built split keeps test templates (id % 5 == 4) out of training",
        .enabled(if: splitRequired || FileManager.default.fileExists(atPath: outURL.appendingPathComponent("test.jsonl").path)))
    func builtSplit() throws {
        let train = try RoleJSONL.read(from: outURL.appendingPathComponent("train.jsonl"))
        let test = try RoleJSONL.read(from: outURL.appendingPathComponent("test.jsonl"))
        let trainIDs = Set(train.compactMap(generatorID)), testIDs = Set(test.compactMap(generatorID))
        #expect(!train.isEmpty && !test.isEmpty)
        #expect(trainIDs.isDisjoint(with: testIDs))
        #expect(testIDs.allSatisfy { $0 % 5 == 4 } && trainIDs.allSatisfy { $0 % 5 != 4 })
        #expect(Set((train + test).map(\.question)).count == train.count + test.count)
        (train + test).forEach(checkRow)
    }
}
