import Foundation
@testable import Agents
import Kernels
import Links
import Models
import RoleData
import TestSupport
import Testing
import Tokenization
import Training

// The outer objective's variants (pinned losses, skipped positions, truncated back-propagation,
// the zero-latent, shuffled, single-agent and inference-latent controls), on the tiny models of
// OuterTrainingTests.

extension OuterTrainingTests {
    @Test("the graph objective's losses and gradients equal those the pre-graph sequential objective recorded at 125dc52")
    func reproducesRecordedObjective() throws {
        let golden = try SequentialGolden.load()
        #expect(golden.objectives.count == 3)
        let graph = try TinyGraph.sequential()
        for recorded in golden.objectives {
            let parameters = graph.outerParameters
            parameters.zeroGradients()
            // Every position run, as the recording did (skipping is checked against this path below).
            var options = Self.options(rounds: recorded.rounds, finalOnly: recorded.finalRoundOnly)
            options.skipUnreachable = false
            let result = try graph.outerObjective(Self.example, options: options)
            #expect(SequentialGolden.matches([result.loss], [recorded.loss]), "rounds \(recorded.rounds): \(result.loss) vs \(recorded.loss)")
            #expect(SequentialGolden.matches(result.roundLosses, recorded.roundLosses))
            for p in parameters {
                let g = p.gradient
                let summary = [g.reduce(0) { $0 + Double($1) * Double($1) }, g.reduce(0) { $0 + Double($1) }]
                #expect(SequentialGolden.matchesGradient(summary, recorded.gradients[p.name] ?? [], count: g.count),
                        "rounds \(recorded.rounds) \(p.name)")
            }
        }
    }
}

extension OuterTrainingTests {
    /// Skipping the prefix before the first slot (plain forward, no backward) and the positions
    /// after the last row a stage passes on must not change the objective: the same loss and
    /// per-parameter gradients as running every position, for every round count and both
    /// activation modes.
    @Test("skipping unreachable positions leaves the loss and every gradient unchanged", arguments: [1, 2, 3])
    func skippingIsExact(rounds: Int) throws {
        let graph = try TinyGraph.sequential()
        for keep in [false, true] {
            var results: [(loss: Double, gradients: [[Float]])] = []
            for skip in [false, true] {
                var options = Self.options(rounds: rounds, finalOnly: rounds != 2)
                options.skipUnreachable = skip
                options.keepActivations = keep
                let parameters = graph.outerParameters
                parameters.zeroGradients()
                let result = try graph.outerObjective(Self.example, options: options)
                results.append((result.loss, parameters.map(\.gradient)))
            }
            let (full, skipped) = (results[0], results[1])
            #expect(abs(full.loss - skipped.loss) <= 1e-5 * abs(full.loss), "rounds \(rounds) keep \(keep): \(full.loss) vs \(skipped.loss)")
            for (a, b) in zip(full.gradients, skipped.gradients) {
                let norm = a.reduce(0) { $0 + Double($1 * $1) }.squareRoot()
                let difference = zip(a, b).reduce(0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
                #expect(norm > 0 || rounds == 1, "rounds \(rounds): a link without gradient")
                #expect(difference <= 1e-4 * max(norm, 1e-12), "rounds \(rounds) keep \(keep): gradient differs by \(difference) of \(norm)")
            }
        }
    }
}

extension OuterTrainingTests {
    /// Back-propagating only the last rounds keeps the loss and drops exactly the gradient paths
    /// that cross a round boundary backwards: each link's gradient equals (in norm) the uses whose
    /// target stage lies in the window, as the full objective reports them per use, and a link
    /// used only across the window's edge (the feedback link at R = 2) gets the full gradient.
    @Test("truncated back-propagation through rounds keeps the in-window gradients", arguments: [(2, 1), (3, 1), (3, 2)])
    func truncatedBackpropagation(rounds: Int, window: Int) throws {
        let graph = try TinyGraph.sequential()
        var options = Self.options(rounds: rounds)
        options.keepActivations = true
        let parameters = graph.outerParameters
        parameters.zeroGradients()
        let full = try graph.outerObjective(Self.example, options: options)
        let fullGradients = parameters.map(\.gradient)
        options.backpropagatedRounds = window
        try options.validate()
        parameters.zeroGradients()
        let truncated = try graph.outerObjective(Self.example, options: options)
        #expect(abs(full.loss - truncated.loss) <= 1e-5 * abs(full.loss))
        let first = rounds - window + 1
        for k in graph.edges.indices {
            let name = graph.edgeName(k), feedback = graph.edges[k].direction == .feedback
            // A use indexed by its source round s lands in round s (forward) or s + 1 (feedback).
            let inWindow = { (s: Int) in (feedback ? s + 1 : s) >= first }
            let expected = (1...rounds).filter(inWindow).map { full.gradientNorms[name]![$0 - 1] }
            for s in 1...rounds where !inWindow(s) { #expect(truncated.gradientNorms[name]![s - 1] == 0, "\(name) round \(s)") }
            for (s, norm) in zip((1...rounds).filter(inWindow), expected) {
                let got = truncated.gradientNorms[name]![s - 1]
                #expect(abs(got - norm) <= 1e-4 * max(norm, 1e-12), "\(name) use from round \(s): \(got) vs \(norm)")
            }
            let squared = graph.edges[k].link.parameters.reduce(0.0) { $0 + $1.gradient.reduce(0) { $0 + Double($1) * Double($1) } }
            if expected.count == 1 {
                #expect(abs(squared.squareRoot() - expected[0]) <= 1e-4 * max(expected[0], 1e-12), "\(name): \(squared.squareRoot()) vs \(expected[0])")
            }
        }
        // Dropped paths really are dropped: the gradient is not the full one when a forward edge
        // is used before the window (its earlier use reaches the loss only across a boundary).
        let differs = zip(fullGradients, parameters.map(\.gradient)).contains { a, b in zip(a, b).contains { abs($0 - $1) > 1e-6 * max(abs($0), 1e-6) } }
        #expect(differs)
    }

    @Test("a back-propagation window wider than the rounds, or one that drops supervised rounds, is refused")
    func truncationRefused() {
        var options = Self.options(rounds: 2)
        options.backpropagatedRounds = 3
        #expect(throws: AgentError.self) { try options.validate() }
        options.backpropagatedRounds = 0
        #expect(throws: AgentError.self) { try options.validate() }
        options.backpropagatedRounds = 1
        options.finalRoundOnly = false
        #expect(throws: AgentError.self) { try options.validate() }
        options.backpropagatedRounds = 2
        #expect(throws: Never.self) { try options.validate() }
    }
}

extension OuterTrainingTests {
    @Test("the zero-latent objective does not depend on the outer links and computes no gradient; the real one does")
    func zeroLatentControl() throws {
        let graph = try TinyGraph.sequential()
        var options = Self.options(rounds: 2)
        let parameters = graph.outerParameters
        func losses() throws -> (real: Double, zero: Double) {
            var zero = options
            zero.zeroLatents = true
            parameters.zeroGradients()
            let z = try graph.outerObjective(Self.example, options: zero)
            #expect(parameters.allSatisfy { $0.gradient.allSatisfy { $0 == 0 } }, "no gradient with zero latents")
            #expect(z.gradientNorms.values.allSatisfy { $0.allSatisfy { $0 == 0 } })
            return (try graph.outerObjective(Self.example, options: options, gradient: false).loss, z.loss)
        }
        let before = try losses()
        for p in parameters {
            var w = p.values
            for i in w.indices { w[i] += 0.05 * Float((i % 7) - 3) }
            p.values = w
        }
        let after = try losses()
        #expect(after.zero == before.zero, "zeros in every slot: the links do not matter")
        #expect(after.real != before.real, "the real objective reads the links")
        options.keepActivations = true
        #expect(try graph.outerObjective(Self.example, options: { var o = options; o.zeroLatents = true; return o }()).loss == before.zero)
    }
}

extension OuterTrainingTests {
    static let otherExample = DataRow(RoleExample(
        question: "A box holds 6 pens; Ann takes 2. How many pens are left?", plan: "Step 1: subtract the pens taken",
        refinedPlan: "Step 1: compute 6 - 2", answer: "6 - 2 = 4. The answer is \\boxed{4}."))

    @Test("the latent-shuffled objective reads the donor's deliveries only: the row's own upstream targets stop mattering, the donor's start to")
    func shuffledLatentControl() throws {
        let graph = try TinyGraph.sequential()
        let options = Self.options(rounds: 2)
        let parameters = graph.outerParameters
        func withPlan(_ row: DataRow, _ plan: String) -> DataRow {
            var fields = row.fields
            fields["plan"] = plan
            fields["refined_plan"] = plan + " carefully"
            return DataRow(question: row.question, fields: fields)
        }
        let plain = try graph.outerObjective(Self.example, options: options, gradient: false).loss
        // The row as its own donor: the same rows land in every slot, so the same loss.
        parameters.zeroGradients()
        let own = try graph.outerObjective(Self.example, options: options, latentDonor: Self.example)
        #expect(own.loss == plain)
        #expect(parameters.allSatisfy { $0.gradient.allSatisfy { $0 == 0 } }, "a control computes no gradient")

        let shuffled = try graph.outerObjective(Self.example, options: options, latentDonor: Self.otherExample).loss
        #expect(shuffled != plain)
        // The upstream nodes' targets decide the latents (their first rows: the new plan differs
        // from its first token). Under shuffling the row's own no longer
        // reach its answer (bit-identical loss); the donor's do.
        let changed = withPlan(Self.example, "Twice: count everything")
        #expect(try graph.outerObjective(changed, options: options, gradient: false).loss != plain)
        #expect(try graph.outerObjective(changed, options: options, latentDonor: Self.otherExample).loss == shuffled)
        #expect(try graph.outerObjective(Self.example, options: options,
                                         latentDonor: withPlan(Self.otherExample, "Twice: count everything")).loss != shuffled)

        var zero = options
        zero.zeroLatents = true
        #expect(throws: AgentError.self) { try graph.outerObjective(Self.example, options: zero, latentDonor: Self.otherExample) }
    }
}

extension OuterTrainingTests {
    @Test("the single-agent loss is the answering model's CE of the answer tokens under the single prompt, read off a plain token forward")
    func singleAgentLoss() throws {
        let graph = try TinyGraph.sequential()
        let options = Self.options(rounds: 2)
        let loss = try graph.singleAgentLoss(Self.example, options: options)

        // Independently: render the conversation with the model's template, run the tokens with
        // logits, and average −log p(next token) over the assistant turn.
        let model = graph.nodes[graph.answer].model
        let template = model.chatTemplate ?? .chatML(defaultSystem: nil)
        let messages: [ChatMessage] = [.system(graph.systemPrompt), .init(role: .user, content: graph.singleUserPrompt(question: Self.example.question))]
        let prompt = model.chatPrompt(messages)
        let full = model.tokenizer.encode(
            template.renderPrompt(messages + [.init(role: .assistant, content: Self.example["answer"]!)], addGenerationPrompt: false),
            addBOS: model.tokenizer.addBOSByDefault)
        #expect(Array(full.prefix(prompt.count)) == prompt)
        let v = model.configuration.vocabularySize
        let result = model.transformer.forward(tokens: full, cache: KVCache(configuration: model.configuration, capacity: full.count),
                                               outputs: .all, logits: true)
        var total = 0.0
        for t in (prompt.count - 1)..<(full.count - 1) {
            let row: [Double] = result.logits[(t * v)..<((t + 1) * v)].map { Double($0) }
            let top = row.max()!
            var sum = 0.0
            for x in row { sum += exp(x - top) }
            total += top + log(sum) - row[Int(full[t + 1])]
        }
        let expected = total / Double(full.count - prompt.count)
        #expect(abs(loss - expected) <= 1e-4 * max(1, expected), "\(loss) vs \(expected)")

        // The links do not enter it.
        for p in graph.outerParameters { p.values = p.values.map { $0 + 0.1 } }
        #expect(try graph.singleAgentLoss(Self.example, options: options) == loss)
    }
}

extension OuterTrainingTests {
    @Test("the inference-latent loss reads the links but not the row's upstream texts: its latents are rolled out, not teacher-forced")
    func inferenceLatentLoss() throws {
        let graph = try TinyGraph.sequential()
        let options = Self.options(rounds: 2)
        let loss = try graph.inferenceLatentLoss(Self.example, latentSteps: 3, options: options)
        #expect(loss.isFinite && loss > 0)
        #expect(try graph.inferenceLatentLoss(Self.example, latentSteps: 3, options: options) == loss, "deterministic")
        // The dataset's plan and refined plan feed the objective's latents, not inference's.
        var fields = Self.example.fields
        fields["plan"] = "Twice: count everything"
        fields["refined_plan"] = "Twice: count everything carefully"
        let changed = DataRow(question: Self.example.question, fields: fields)
        #expect(try graph.inferenceLatentLoss(changed, latentSteps: 3, options: options) == loss)
        #expect(try graph.outerObjective(changed, options: options, gradient: false).loss
                != graph.outerObjective(Self.example, options: options, gradient: false).loss)
        // More latent steps deliver more rows; the links carry them.
        #expect(try graph.inferenceLatentLoss(Self.example, latentSteps: 4, options: options) != loss)
        for p in graph.outerParameters { p.values = p.values.map { $0 * 1.5 } }
        #expect(try graph.inferenceLatentLoss(Self.example, latentSteps: 3, options: options) != loss)
        #expect(throws: AgentError.self) { try graph.inferenceLatentLoss(Self.example, latentSteps: 0, options: options) }
    }
}
