// `rmas system latents`: how much of what each slot receives depends on the question (issue 18's
// diagnostic of links that act as a prompt every question shares).
import Agents
import ArgumentParser
import Foundation
import Kernels
import RoleData

extension SystemCommand {
    struct Latents: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure how question-specific each slot's delivered latents are, over several questions (loads the models).",
            discussion: """
                Runs the latent loop on the first --examples questions of --data (forward only, no answer decoded) and, \
                for every delivery (round, edge, slot), prints the rows' rms, the share of their size that differs \
                between questions (0: every question receives the same rows, a prompt all share), the same share row by \
                row, and the mean cosine of two questions' rows at the same position, then the same of the sender's rows \
                before the link. The last line is the yardstick: \
                the answering node's own token embeddings of each question's first m tokens.
                """)

        @OptionGroup var systemArguments: SystemArguments
        @Option(help: "Questions (JSONL rows with a question field).")
        var data: String
        @Option(help: "Questions to run (the first rows of --data).", in: 2...10_000)
        var examples = 16
        @Option(help: "Rounds R of the loop (default: the system's).", in: OptionRange.rounds) var rounds: Int?
        @Option(help: "Latent steps m (default: the system's).", in: 1...4096) var latentSteps: Int?
        @Option(help: "Worker threads.", in: OptionRange.threads) var threads = 2

        func run() throws {
            let definition = try systemArguments.definition()
            let rows = Array(try DataRow.read(from: URL(fileURLWithPath: data)).prefix(examples))
            guard rows.count == examples else { throw ValidationError("--data \(data) holds \(rows.count) rows; --examples asks for \(examples)") }
            BLAS.setThreadCount(threads)
            let graph = try systemArguments.load(definition).graph
            let m = latentSteps ?? definition.defaults.latentSteps, r = rounds ?? definition.schedule.rounds
            var runs: [[LatentDelivery]] = []
            for (k, row) in rows.enumerated() {
                var deliveries = try graph.latentDeliveries(question: row.question, rounds: r, latentSteps: m, threads: threads)
                deliveries.append(try graph.questionTokenRows(question: row.question, to: graph.answer, rows: m))
                runs.append(deliveries)
                Console.error("question \(k + 1)/\(rows.count)")
            }
            let spread = try LatentSpread(deliveries: runs)
            print("\(spread.questions) questions, \(r) rounds, m = \(m)")
            for s in spread.slots {
                print("round \(s.round) \(s.from) → \(s.to) [\(s.slot)]: " + Self.describe(s.delivered))
                if let sent = s.sent { print("  as \(s.from) sent it, before the link: " + Self.describe(sent)) }
            }
        }

        static func describe(_ m: LatentSpread.Measures) -> String {
            String(format: "rms %.4g, question part %.4f, cross-question cosine %.4f; by row: %@", m.rms, m.questionPart, m.crossCosine,
                   m.questionPartByRow.map { String(format: "%.3f", $0) }.joined(separator: " "))
        }
    }
}
