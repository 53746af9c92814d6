import Agents
import ArgumentParser
import Foundation
import Kernels
import Links
import Models
import RoleData
import Tokenization

struct ThinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "think",
        abstract: "One agent: m latent steps through its trained inner link, then text (for inspecting inner links).")

    @OptionGroup var modelArguments: ModelArguments
    @Option(help: "Inner-link checkpoint directory (from `rmas train inner`).") var link: String
    @Option(name: [.customLong("node"), .customLong("role")], help: "The node whose round-1 prompt frames the question (default system: planner, refiner or solver).")
    var node = "planner"
    @Option(help: "Latent steps m (0: plain text generation for comparison).", in: OptionRange.latentSteps) var latent = 16
    @Option(help: "Maximum new tokens after the latent steps.", in: 1...1_048_576) var maxTokens = 120
    @Option(help: "Worker threads.", in: OptionRange.threads) var threads = 2
    @Option(help: ArgumentHelp("A system file whose node prompts word the prompt (default: the built-in sequential wording).", valueName: "system-file"))
    var promptsFrom: String?
    @Argument(help: "The question.") var question: String

    func run() throws {
        let model = try LanguageModel.load(path: try modelArguments.resolvedPath())
        BLAS.setThreadCount(threads)
        let graph = try promptsFrom.map { try GraphDefinition.load(URL(fileURLWithPath: $0)) } ?? .sequential()
        guard let i = graph.nodes.firstIndex(where: { $0.id == node }) else {
            throw ValidationError("unknown node '\(node)' (\(graph.nodes.map(\.id).joined(separator: ", ")))")
        }
        let inner = try InnerLink.load(checkpoint: URL(fileURLWithPath: link), width: model.configuration.width)
        let empty = Dictionary(uniqueKeysWithValues: graph.edges.filter { $0.to == node }.map { ($0.slot, "") })
        let user = graph.userPrompt(i, question: question, round: 1, slotTexts: empty)
        let prompt = model.chatPrompt([.system(graph.systemPrompt), .init(role: .user, content: user)])
        try model.configuration.checkFits(positions: prompt.count + latent)
        let cache = KVCache(configuration: model.configuration, capacity: prompt.count + latent + maxTokens + 1)
        let clock = ContinuousClock(), start = clock.now
        var parameters = GenerationParameters(maxTokens: maxTokens, threads: threads)
        parameters.stopStrings = model.chatTemplate?.stopStrings ?? []
        let generator = Generator(model: model)
        let result: GenerationResult
        if latent > 0 {
            // Prompt (all but its last token) → latent steps from the last prompt position → text.
            _ = model.transformer.forward(tokens: Array(prompt.dropLast()), cache: cache, outputs: .none, logits: false, threads: threads)
            let lastEmbedding = model.transformer.embeddings([prompt.last!])
            let rollout = lastEmbedding.withUnsafeBufferPointer {
                model.transformer.latentRollout(prompt: $0.baseAddress!, count: 1, steps: latent, cache: cache,
                                                link: inner.hiddenToEmbedding, threads: threads)
            }
            let d = model.configuration.width
            let final = Array(rollout.embeddings[((latent - 1) * d)...])
            let logits = final.withUnsafeBufferPointer {
                model.transformer.forward(embeddings: $0.baseAddress!, count: 1, cache: cache, threads: threads).logits
            }
            result = generator.generate(afterLogits: logits, history: prompt, cache: cache, parameters: parameters)
        } else {
            result = generator.generate(prompt: prompt, cache: cache, parameters: parameters)
        }
        print(result.text)
        Console.error(String(format: "%d prompt tokens, %d latent steps, %d generated tokens, %.1f s", prompt.count, latent,
                             result.tokens.count, (clock.now - start).seconds))
    }
}
