import Foundation
import Testing
import Training

@testable import Agents

@Suite("Paired comparisons")
struct PairedComparisonTests {
    static func close(_ a: Double, _ b: Double, relative: Double = 1e-10) -> Bool { abs(a - b) <= relative * abs(b) }

    @Test("exact sign test equals the binomial tail computed with exact fractions")
    func signTest() {
        // Expected values: 2·Σ_{i ≤ min(a,b)} C(n, i) / 2ⁿ in exact rational arithmetic (Python's
        // fractions.Fraction and math.comb), then rounded to a double; e.g. 7 : 13 gives
        // 2 · 137 980 / 1 048 576 and 10 : 2 gives 2 · 79 / 4 096.
        let cases: [(Int, Int, Double)] = [
            (7, 13, 0.26317596435546875), (10, 2, 0.03857421875), (0, 10, 0.001953125),
            (100, 140, 0.011664092317677663), (600, 700, 0.0060157938610449525),
        ]
        for (a, b, expected) in cases {
            #expect(Self.close(PairedComparison.exactSignTest(a, b), expected), "\(a) : \(b)")
            #expect(PairedComparison.exactSignTest(a, b) == PairedComparison.exactSignTest(b, a))
        }
        // Even and empty splits are no evidence at all.
        #expect(PairedComparison.exactSignTest(3, 3) == 1)
        #expect(PairedComparison.exactSignTest(0, 0) == 1)
        #expect(PairedComparison.exactSignTest(1, 0) == 1)
    }

    @Test("discordant questions are counted on the questions both configurations answered")
    func counts() {
        let outcomes = ComparisonReportTests.outcomes()
        // latent 1 is right on questions 0, 1, 3; text 1 on 0, 1; single on 0, 2.
        let latentText = PairedComparison((.latent, 1), (.text, 1), outcomes: outcomes)
        #expect(latentText.questions == 4 && latentText.onlyFirst == 1 && latentText.onlySecond == 0)
        let latentSingle = PairedComparison((.latent, 1), (.single, 1), outcomes: outcomes)
        #expect(latentSingle.questions == 4 && latentSingle.onlyFirst == 2 && latentSingle.onlySecond == 1)
        #expect(latentSingle.pValue == 1)
        // latent 3 answered questions 0 and 1 only (right on 0); single is right on 0, wrong on 1.
        let threeRounds = PairedComparison((.latent, 3), (.single, 1), outcomes: outcomes)
        #expect(threeRounds.questions == 2 && threeRounds.onlyFirst == 0 && threeRounds.onlySecond == 0)
    }

    @Test("the standard set: latent vs text at shared rounds, then each against the single agent")
    func standardSet() {
        let names = PairedComparison.standard(outcomes: ComparisonReportTests.outcomes()).map {
            "\($0.first.rawValue)\($0.firstRounds)-\($0.second.rawValue)\($0.secondRounds)"
        }
        #expect(names == [
            "latent1-text1", "latent2-text2",
            "latent1-single1", "latent2-single1", "latent3-single1",
            "text1-single1", "text2-single1",
        ])
        let noSingle = ComparisonReportTests.outcomes().filter { $0.method != .single }
        #expect(PairedComparison.standard(outcomes: noSingle).count == 2)
        #expect(PairedComparison.standard(outcomes: []).isEmpty)
    }

    @Test("the report shows the pairs and recomputes them for a report saved without them")
    func inReport() throws {
        let report = ComparisonReportTests.report()
        #expect(report.pairs == PairedComparison.standard(outcomes: report.outcomes))
        let md = report.markdown()
        #expect(md.contains("\n## Paired comparisons (same questions)\n"))
        #expect(md.contains("\n| latent 1 | text 1 | 4 | 1 | 0 | 1.000 |\n"))
        #expect(md.contains("\n| latent 1 | single 1 | 4 | 2 | 1 | 1.000 |\n"))
        #expect(!ComparisonReport(outcomes: [], metadata: ComparisonReportTests.metadata).markdown().contains("Paired"))

        // A report written before `pairs` existed has only these three keys.
        struct OldReport: Encodable {
            var metadata: ComparisonReport.Metadata
            var rows: [ComparisonReport.Row]
            var outcomes: [QuestionOutcome]
        }
        let old = try JSONEncoder().encode(OldReport(metadata: report.metadata, rows: report.rows, outcomes: report.outcomes))
        #expect(!String(decoding: old, as: UTF8.self).contains("pairs"))
        #expect(try ProjectJSON.decoder().decode(ComparisonReport.self, from: old) == report)
    }
}
