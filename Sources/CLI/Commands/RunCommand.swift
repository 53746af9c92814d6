import Agents
import ArgumentParser
import Foundation
import Kernels
import Models

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Answer QUESTION with a recursive latent multi-agent system (planner → critic → solver, r rounds).")

    @Option(help: "System definition (JSON).") var system: String
    @Option(help: "Rounds r (default: the system's).") var rounds: Int?
    @Option(help: "Latent steps m per agent (default: the system's).") var latent: Int?
    @Option(help: "Maximum tokens of the final answer (default: the system's).") var maxTokens: Int?
    @Option(help: "Sampling temperature of the final decode; 0 is greedy.") var temperature: Float = 0
    @Option(help: "Random seed of the final decode.") var seed: UInt64 = 0
    @Option(help: "Worker threads.") var threads = 2
    @Flag(help: "Print one JSON object (answer and per-stage accounting).") var json = false
    @Argument(help: "The question.") var question: String

    func run() throws {
        let url = URL(fileURLWithPath: system)
        let definition = try SystemDefinition.load(url)
        if definition.links.contains(where: { $0.checkpoint == nil }) || definition.agents.contains(where: { $0.innerLink == nil }) {
            Console.error("warning: some links have no checkpoint and are freshly initialised (untrained)")
        }
        BLAS.setThreadCount(threads)
        let built = try definition.instantiate(relativeTo: url.deletingLastPathComponent(), resolveModel: resolveModelPath)
        var parameters = GenerationParameters(maxTokens: maxTokens ?? definition.defaults.maxTokens, threads: threads)
        if temperature > 0 { parameters.sampling = SamplingParameters(temperature: temperature, seed: seed) }
        let clock = ContinuousClock(), start = clock.now
        let result = try built.run(question: question, rounds: rounds ?? definition.defaults.rounds,
                                   latentSteps: latent ?? definition.defaults.latentSteps, generation: parameters)
        let seconds = (clock.now - start).seconds
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let stages = String(decoding: try encoder.encode(result.stages), as: UTF8.self)
            let answer = String(decoding: try encoder.encode(result.text), as: UTF8.self)
            print("{\"answer\":\(answer),\"seconds\":\(seconds),\"stages\":\(stages)}")
        } else {
            print(result.text)
            Console.error(String(format: "%d prompt tokens, %d latent steps, %d generated tokens, %d stages, %.1f s",
                                 result.promptTokens, result.latentSteps, result.generatedTokens, result.stages.count, seconds))
        }
    }
}
