import Foundation
@testable import Agents
import Links
import Models
import Testing

/// `rmas system latents`: how question-specific each slot's delivered rows are (issue 18).
@Suite("Latent spread: the question-specific share of delivered rows")
struct LatentSpreadTests {
    static func delivery(_ rows: [Float], width: Int, sent: [Float]? = nil) -> LatentDelivery {
        LatentDelivery(round: 1, from: "a", to: "b", slot: "s", rows: rows, width: width, sent: sent, sentWidth: sent == nil ? 0 : width)
    }

    @Test("identical rows for every question: no question part, cosine 1; opposite rows: all question part, cosine −1")
    func extremes() throws {
        let same = try LatentSpread(deliveries: [[Self.delivery([1, 2, 3, 4], width: 2)], [Self.delivery([1, 2, 3, 4], width: 2)]])
        #expect(same.questions == 2 && same.slots.count == 1)
        let s = same.slots[0].delivered
        #expect(same.slots[0].rows == 2 && s.questionPart == 0 && s.questionPartByRow == [0, 0] && abs(s.crossCosine - 1) < 1e-12)
        #expect(abs(s.rms - (30.0 / 4).squareRoot()) < 1e-12)
        #expect(same.slots[0].sent == nil)

        let opposite = try LatentSpread(deliveries: [[Self.delivery([1, 0], width: 2)], [Self.delivery([-1, 0], width: 2)]]).slots[0].delivered
        #expect(abs(opposite.questionPart - 1) < 1e-12 && abs(opposite.crossCosine + 1) < 1e-12)
    }

    @Test("a shared part plus a small question part: the share and per-row values are what the formula gives")
    func sharedPlusSpecific() throws {
        // Row 0 is the same for both questions; row 1 is (10, ±1): mean (10, 0), deviation (0, ±1).
        let a = Self.delivery([3, 4, 10, 1], width: 2, sent: [1, 1, 1, 1]), b = Self.delivery([3, 4, 10, -1], width: 2, sent: [1, 1, 2, 2])
        let spread = try LatentSpread(deliveries: [[a], [b]]).slots[0], slot = spread.delivered
        // total Σ‖L_q‖² = 2·(25 + 101), spread Σ‖L_q − μ‖² = 2·1.
        #expect(abs(slot.questionPart - (2.0 / 252).squareRoot()) < 1e-12)
        #expect(slot.questionPartByRow[0] == 0 && abs(slot.questionPartByRow[1] - (2.0 / 202).squareRoot()) < 1e-12)
        #expect(abs(slot.crossCosine - (1 + 99.0 / 101) / 2) < 1e-12)
        // The sender's rows: row 0 the same, row 1 (1,1) vs (2,2): cosine 1 in both rows, a question part in row 1 only.
        let sent = try #require(spread.sent)
        #expect(abs(sent.crossCosine - 1) < 1e-12 && sent.questionPartByRow[0] == 0 && sent.questionPartByRow[1] > 0.3)
    }

    @Test("runs that delivered different slots or sizes, or a single question, are refused")
    func refusals() {
        #expect(throws: AgentError.self) { try LatentSpread(deliveries: [[Self.delivery([1, 2], width: 2)]]) }
        #expect(throws: AgentError.self) {
            try LatentSpread(deliveries: [[Self.delivery([1, 2], width: 2)], [Self.delivery([1, 2, 3, 4], width: 2)]])
        }
        #expect(throws: AgentError.self) { try LatentSpread(deliveries: [[Self.delivery([1, 2], width: 2)], []]) }
    }

    @Test("on a tiny graph: the deliveries are what the runner splices in, per round and edge, with the senders' rollouts")
    func deliveriesOfATinyGraph() throws {
        let graph = try TinyGraph.sequential(rounds: 2)
        let d = try graph.latentDeliveries(question: "What is 2 + 3?", rounds: 2, latentSteps: 3, threads: 1)
        // Round 1: planner → refiner, refiner → solver (the solver acts, its rollout feeds round 2's planner);
        // round 2: solver → planner (feedback), planner → refiner, refiner → solver.
        #expect(d.map { "\($0.round) \($0.from)→\($0.to)" } == ["1 planner→refiner", "1 refiner→solver", "2 solver→planner",
                                                                "2 planner→refiner", "2 refiner→solver"])
        for x in d {
            let sent = try #require(x.sent)
            #expect(x.rows.count == 3 * x.width && sent.count == 3 * x.sentWidth)
        }
        // The delivered rows are the link applied to the sent rows.
        let first = d[0], link = graph.edges[0].link
        #expect(link(first.sent!, rows: 3) == first.rows)
        #expect(try graph.latentDeliveries(question: "What is 2 + 3?", rounds: 2, latentSteps: 3, threads: 1) == d, "deterministic")

        // Different questions give different rows; the same question twice gives no question part.
        let other = try graph.latentDeliveries(question: "Name a colour.", rounds: 2, latentSteps: 3, threads: 1)
        let spread = try LatentSpread(deliveries: [d, other])
        #expect(spread.slots.count == 5 && spread.slots.allSatisfy { $0.delivered.questionPart > 0 && $0.sent!.questionPart > 0 })
        #expect(try LatentSpread(deliveries: [d, d]).slots.allSatisfy { $0.delivered.questionPart == 0 })

        // The yardstick: the answering node's token embeddings of the question's first m tokens.
        let tokens = try graph.questionTokenRows(question: "What is 2 + 3?", to: graph.answer, rows: 4)
        #expect(tokens.rows.count == 4 * 64 && tokens.sent == nil)
        #expect(throws: AgentError.self) { try graph.latentDeliveries(question: "x", rounds: 0, latentSteps: 3, threads: 1) }
        #expect(throws: AgentError.self) { try graph.questionTokenRows(question: "x", to: 9, rows: 4) }
    }
}
