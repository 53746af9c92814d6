import Agents
import ArgumentParser
import Foundation
import Kernels
import Models

extension InferenceMethod: ExpressibleByArgument {}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Answer QUESTION with a recursive latent multi-agent system (planner → critic → solver, r rounds).",
        discussion: """
            --method text runs Recursive-TextMAS (the same agents passing generated text) and --method single the \
            solver's model alone, for comparison (see `rmas compare`).
            """)

    @OptionGroup var systemArguments: SystemArguments
    @Option(help: "latent (RecursiveMAS), text (Recursive-TextMAS) or single (the solver alone).")
    var method: InferenceMethod = .latent
    @Option(help: "Rounds r (default: the system's; ignored by single).") var rounds: Int?
    @Option(help: "Latent steps m per agent (default: the system's; latent only).") var latent: Int?
    @Option(help: "Maximum tokens of each generated text (default: the system's).") var maxTokens: Int?
    @Option(help: "Sampling temperature of every decode; 0 is greedy.") var temperature: Float = 0
    @Option(help: "Random seed of sampling.") var seed: UInt64 = 0
    @Flag(inversion: .prefixedNo, help: "Continue an answer without a parsable final answer with \"Final Answer: \\boxed{\" (spec §3.3).")
    var answerRetry = true
    @Option(help: "pass@k: decode the final answer k times from the same latents (seeds seed … seed+k−1; needs --temperature > 0; latent only).")
    var samples = 1
    @Option(help: "Worker threads.") var threads = 2
    @Flag(help: "Print one JSON object (method, answer and per-stage accounting).") var json = false
    @Argument(help: "The question.") var question: String

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        if samples > 1, temperature <= 0 { throw ValidationError("--samples > 1 needs --temperature > 0 (greedy decodes are identical)") }
        if samples > 1, method != .latent { throw ValidationError("--samples is supported by --method latent only") }
    }

    func run() throws {
        let definition = try systemArguments.definition()
        BLAS.setThreadCount(threads)
        let built = try systemArguments.load(definition, latent: method == .latent).system
        var parameters = GenerationParameters(maxTokens: maxTokens ?? definition.defaults.maxTokens, threads: threads)
        if temperature > 0 { parameters.sampling = SamplingParameters(temperature: temperature, seed: seed) }
        let clock = ContinuousClock(), start = clock.now
        let result = try built.run(question: question, method: method, rounds: rounds ?? definition.defaults.rounds,
                                   latentSteps: latent ?? definition.defaults.latentSteps, generation: parameters,
                                   answerRetry: answerRetry, samples: samples)
        let seconds = (clock.now - start).seconds
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
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
}
