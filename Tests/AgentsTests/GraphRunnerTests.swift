import Foundation
@testable import Agents
import Links
import Models
import RoleData
import TestSupport
import Testing

@Suite("Graph runner: the sequential graph on tiny models")
struct GraphRunnerTests {
    static let question = "What is 2 + 3?"

    static func untimed(_ stages: [StageRecord]) -> [StageRecord] { stages.map { var s = $0; s.seconds = 0; return s } }

    @Test("answers, texts and stage accounting equal those the pre-graph SequentialSystem recorded at 125dc52")
    func reproducesRecordedAnswers() throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        let golden = try SequentialGolden.load()
        #expect(golden.answers.count == 14)
        for question in SequentialGolden.questions {
            for method in [InferenceMethod.latent, .text, .single] {
                let results = try runner.run(question: question, method: method, roundCounts: [1, 2, 3], latentSteps: 3,
                                             generation: GenerationParameters(maxTokens: 6), answerRetry: true)
                for recorded in golden.answers where recorded.question == question && recorded.method == method.rawValue {
                    let result = try #require(results[recorded.rounds])
                    #expect(result.text == recorded.text, "\(method) r=\(recorded.rounds)")
                    let stages = result.stages.map {
                        RecordedStage(node: $0.node, round: $0.round, promptTokens: $0.promptTokens, latentInputs: $0.latentInputs,
                                      latentSteps: $0.latentSteps, generatedTokens: $0.generatedTokens, text: $0.text)
                    }
                    #expect(stages == recorded.stages, "\(method) r=\(recorded.rounds)")
                }
            }
        }
    }

    @Test("stages, latent accounting and determinism over 1–3 rounds", arguments: [1, 2, 3])
    func rounds(_ rounds: Int) throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        let m = 4
        let parameters = GenerationParameters(maxTokens: 5)
        let a = try runner.run(question: Self.question, method: .latent, rounds: rounds, latentSteps: m, generation: parameters)
        let b = try runner.run(question: Self.question, method: .latent, rounds: rounds, latentSteps: m, generation: parameters)
        #expect(a.text == b.text)
        #expect(a.stages.map(\.node) == Array(repeating: ["planner", "refiner", "solver"], count: rounds).flatMap { $0 })
        #expect(a.latentSteps == (3 * rounds - 1) * m)
        #expect(a.stages.first?.latentInputs == 0)
        #expect(a.stages.dropFirst().allSatisfy { $0.latentInputs == m }, "every later stage receives m latent rows")
        #expect(a.stages.last?.latentSteps == 0 && a.generatedTokens <= 5)
        #expect(a.stages.dropLast().allSatisfy { $0.text == nil } && a.stages.last?.text == a.text, "rollouts decode no text")
    }

    @Test("stage events arrive in order: started, text chunks, finished, matching the records")
    func events() throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        var log: [String] = [], chunks = ""
        let result = try runner.run(question: Self.question, method: .latent, rounds: 2, latentSteps: 2,
                                    generation: GenerationParameters(maxTokens: 4)) { event in
            switch event {
            case .stageStarted(let node, let round, let kind): log.append("start \(round)\(node) \(kind.rawValue)")
            case .stageFinished(let record): log.append("end \(record.round)\(record.node)")
            case .text(_, _, let chunk): chunks += chunk
            case .toolCall: log.append("tool")
            }
        }
        #expect(log == ["start 1planner latent", "end 1planner", "start 1refiner latent", "end 1refiner", "start 1solver latent",
                        "end 1solver", "start 2planner latent", "end 2planner", "start 2refiner latent", "end 2refiner",
                        "start 2solver decode", "end 2solver"])
        #expect(chunks == result.text, "the streamed chunks are the answer")
    }

    @Test("an outer link of the wrong width is refused with the edge named")
    func widthMismatch() throws {
        let g = try TinyGraph.sequential()
        var links = g.edges.map(\.link)
        links[0] = OuterLink(inputWidth: 64, outputWidth: 64, prefix: "planner_to_refiner.", seed: 1)
        #expect {
            try AgentGraph(definition: g.definition, nodes: g.nodes, links: links, file: "f.json")
        } throws: { error in
            (error as? GraphError) == .widthMismatch(file: "f.json", place: "edge 'planner' → 'refiner'",
                                                      detail: "its link maps 64 → 64, the models are 64 and 32 wide")
        }
    }

    @Test("outer links whose parameter names collide are refused (they would share optimizer state)")
    func nameCollision() throws {
        let g = try TinyGraph.sequential()
        let links = [OuterLink(inputWidth: 64, outputWidth: 32, prefix: "x.", seed: 1), OuterLink(inputWidth: 32, outputWidth: 64, prefix: "y.", seed: 2),
                     OuterLink(inputWidth: 64, outputWidth: 64, prefix: "x.", seed: 3)]
        #expect(throws: GraphError.self) { try AgentGraph(definition: g.definition, nodes: g.nodes, links: links) }
    }

    @Test("Recursive-TextMAS: every node decodes text into the next node's slot, no latents", arguments: [1, 2])
    func textMethod(_ rounds: Int) throws {
        let graph = try TinyGraph.sequential()
        let runner = GraphRunner(graph: graph)
        let parameters = GenerationParameters(maxTokens: 6)
        let a = try runner.run(question: Self.question, method: .text, rounds: rounds, latentSteps: 4, generation: parameters)
        #expect(a.stages.map(\.node) == Array(repeating: ["planner", "refiner", "solver"], count: rounds).flatMap { $0 })
        #expect(a.stages.allSatisfy { $0.latentSteps == 0 && $0.latentInputs == 0 && $0.generatedTokens > 0 })
        #expect(a.stages.allSatisfy { $0.text != nil } && a.stages.last?.text == a.text, "each node's message is kept")
        let empty = try SlottedPrompt(
            model: graph.nodes[1].model,
            messages: [.system(graph.systemPrompt), .init(role: .user, content: graph.userPrompt(1, question: Self.question, round: 1,
                                                                                                   slotTexts: ["planner": ""]))],
            latents: [:])
        #expect(a.stages[1].promptTokens > empty.count, "the refiner's prompt holds the planner's text")
    }

    @Test("single: one stage of the chosen node's model with the single-agent prompt")
    func singleMethod() throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        let r = try runner.run(question: Self.question, method: .single, rounds: 3, latentSteps: 4, generation: GenerationParameters(maxTokens: 6))
        #expect(r.stages.count == 1 && r.stages[0].node == "solver" && r.latentSteps == 0)
        let critic = try runner.run(question: Self.question, method: .single, rounds: 1, latentSteps: 4,
                                    generation: GenerationParameters(maxTokens: 6), singleNode: 1)
        #expect(critic.stages.map(\.node) == ["refiner"])
    }

    @Test("pass@k: latents once, k final decodes with seeds seed…seed+k−1, each its own stage")
    func passAtK() throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        var parameters = GenerationParameters(maxTokens: 6)
        parameters.sampling = SamplingParameters(temperature: 1.5, topK: 0, topP: 1, minP: 0, seed: 10)
        let r = try runner.run(question: Self.question, method: .latent, rounds: 2, latentSteps: 3, generation: parameters, samples: 4)
        #expect(r.alternatives.count == 3)
        #expect(r.stages.count == 5 + 4 && r.stages.suffix(4).allSatisfy { $0.node == "solver" && $0.round == 2 })
        var third = parameters
        third.sampling.seed = 12
        let single = try runner.run(question: Self.question, method: .latent, rounds: 2, latentSteps: 3, generation: third)
        #expect(single.text == r.alternatives[1])
    }

    @Test("one pass over rounds answers each round count exactly as a run of that many rounds", arguments: [InferenceMethod.latent, .text])
    func roundSweep(_ method: InferenceMethod) throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        let parameters = GenerationParameters(maxTokens: 5)
        let swept = try runner.run(question: "What is 7 − 4?", method: method, roundCounts: [1, 3], latentSteps: 3,
                                   generation: parameters, answerRetry: true)
        for rounds in [1, 3] {
            let alone = try runner.run(question: "What is 7 − 4?", method: method, rounds: rounds, latentSteps: 3,
                                       generation: parameters, answerRetry: true)
            let answer = try #require(swept[rounds])
            #expect(answer.text == alone.text)
            #expect(Self.untimed(answer.stages) == Self.untimed(alone.stages), "rounds \(rounds): the same stages in the same order")
        }
        #expect(throws: AgentError.self) {
            try runner.run(question: "x", method: method, roundCounts: [0, 2], latentSteps: 3, generation: parameters)
        }
    }

    @Test("bad run options are typed errors, not traps")
    func badOptions() throws {
        let runner = GraphRunner(graph: try TinyGraph.sequential())
        for (rounds, m, tokens) in [(0, 3, 4), (1, 0, 4), (1, 3, 0)] {
            #expect(throws: AgentError.self) {
                try runner.run(question: "x", method: .latent, rounds: rounds, latentSteps: m, generation: GenerationParameters(maxTokens: tokens))
            }
        }
        #expect(throws: AgentError.self) {
            try runner.run(question: "x", method: .single, rounds: 1, latentSteps: 1, generation: GenerationParameters(maxTokens: 2), singleNode: 7)
        }
    }
}
