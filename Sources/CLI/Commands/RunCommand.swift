import Agents
import ArgumentParser
import Foundation
import Kernels
import Models
import RoleData
import Training

extension InferenceMethod: ExpressibleByArgument {}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Answer QUESTION with a recursive latent multi-agent system (any agent graph, r rounds).",
        discussion: """
            --method text runs Recursive-TextMAS (the same graph passing generated text) and --method single one \
            node's model alone (--node, default the answering node), for comparison (see `rmas compare`).
            """)

    @OptionGroup var systemArguments: SystemArguments
    @Option(help: "latent (RecursiveMAS), text (Recursive-TextMAS), single (one node's model alone), or a control: latent-zero, latent-shuffled, solver-inner.")
    var method: InferenceMethod = .latent
    @Option(help: "With --method single or solver-inner: the node whose model answers (default: the answering node).")
    var node: String?
    @Option(help: "With --method latent-shuffled: the other question whose latents fill the slots.")
    var donor: String?
    @Option(help: "Rounds r (default: the system's; ignored by single).", in: OptionRange.rounds) var rounds: Int?
    @Option(help: "Latent steps m per agent (default: the system's; latent only).", in: 1...65_536) var latent: Int?
    @Option(help: "Maximum tokens of each generated text (default: the system's).", in: 1...1_048_576) var maxTokens: Int?
    @Option(help: "Sampling temperature of every decode; 0 is greedy.", in: OptionRange.temperature) var temperature: Float = 0
    @Option(help: "Random seed of sampling.", in: OptionRange.seed) var seed: UInt64 = 0
    @Flag(inversion: .prefixedNo, help: "Continue an answer without a parsable final answer with \"Final Answer: \\boxed{\" (spec §3.3).")
    var answerRetry = true
    @Option(help: "pass@k: decode the final answer k times from the same latents (seeds seed … seed+k−1; needs --temperature > 0; latent only).", in: OptionRange.samples)
    var samples = 1
    @Option(help: "How the answer is found and retried: math, latex or letter (default: letter for a question with A–D option lines, else math).")
    var answerForm: AnswerForm?
    @Option(help: ArgumentHelp(PrefillFormat.help)) var prefill: PrefillFormat = .auto
    @Option(help: ArgumentHelp(DecodePrecision.help)) var decode: DecodePrecision = .int8
    @Option(help: "Worker threads.", in: OptionRange.threads) var threads = 2
    @Flag(help: "Print one JSON object (method, answer and per-stage accounting).") var json = false
    @Flag(help: "Show each stage on stderr as it starts and ends.") var progress = false
    @Argument(help: "The question.") var question: String

    func validate() throws {
        if node != nil, method.usesRounds { throw ValidationError("--node is for --method single, self-consistency or solver-inner") }
        if (donor != nil) != (method == .latentShuffled) { throw ValidationError("--donor goes with --method latent-shuffled, and it needs one") }
        if samples > 1, temperature <= 0 { throw ValidationError("--samples > 1 needs --temperature > 0 (greedy decodes are identical)") }
        if samples > 1, method != .latent, method != .selfConsistency {
            throw ValidationError("--samples is supported by --method latent and self-consistency only")
        }
        if method == .selfConsistency, samples < 2 || temperature <= 0 {
            throw ValidationError("--method self-consistency needs --samples ≥ 2 and --temperature > 0")
        }
    }

    func run() throws {
        let definition = try systemArguments.definition()
        BLAS.setThreadCount(threads)
        let loaded = try systemArguments.load(definition, latent: method == .latent), graph = loaded.graph
        let single = try node.map { id in
            guard let i = graph.node(id) else { throw ValidationError("--node \(id): the system has \(graph.nodes.map(\.id).joined(separator: ", "))") }
            return i
        }
        var parameters = GenerationParameters(maxTokens: maxTokens ?? definition.defaults.maxTokens, threads: threads)
        parameters.precision = try decode.precision(prefill: prefill)
        if temperature > 0 { parameters.sampling = SamplingParameters(temperature: temperature, seed: seed) }
        let clock = ContinuousClock(), start = clock.now
        let result = try GraphRunner(graph: graph, tools: try SandboxToolExecutor.forGraph(loaded)).run(
            question: question, method: method, rounds: rounds ?? definition.schedule.rounds,
            latentSteps: latent ?? definition.defaults.latentSteps, generation: parameters, answerRetry: answerRetry,
            answerForm: answerForm ?? (PromptFill.isChoiceQuestion(question) ? .letter : .math), samples: samples,
            singleNode: single, donor: donor, events: progress ? Self.report : { _ in })
        let seconds = (clock.now - start).seconds
        if json {
            let encoder = ProjectJSON.encoder()
            let stages = String(decoding: try encoder.encode(result.stages), as: UTF8.self)
            let answer = String(decoding: try encoder.encode(result.text), as: UTF8.self)
            let alternatives = String(decoding: try encoder.encode(result.alternatives), as: UTF8.self)
            print("{\"alternatives\":\(alternatives),\"answer\":\(answer),\"method\":\"\(method.rawValue)\",\"seconds\":\(seconds),\"stages\":\(stages)}")
        } else {
            print(result.text)
            for (k, text) in result.alternatives.enumerated() { print("--- sample \(k + 2)\n\(text)") }
            Console.error(String(format: "%@: %d prompt tokens, %d latent steps, %d generated tokens, %d stages, %.1f s",
                                 method.rawValue, result.promptTokens, result.latentSteps, result.generatedTokens,
                                 result.stages.count, seconds))
        }
    }

    /// `--progress`: one stderr line per stage start and end.
    static func report(_ event: RunEvent) {
        switch event {
        case .stageStarted(let node, let round, let kind): Console.error("[round \(round)] \(node): \(kind == .latent ? "thinking" : "writing")…")
        case .stageFinished(let s):
            Console.error(String(format: "[round %d] %@: %d prompt tokens, %d latent in, %d latent steps, %d generated, %.1f s",
                                 s.round, s.node, s.promptTokens, s.latentInputs, s.latentSteps, s.generatedTokens, s.seconds))
        case .toolCall(let node, _, let call): Console.error("  \(node) → \(call.tool.rawValue): \(call.input.prefix(60))\(call.limit.map { " [\($0)]" } ?? "")")
        case .text: break
        }
    }
}
