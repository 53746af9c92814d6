import ArgumentParser
import Foundation
import Kernels
import Models
import Tokenization

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from PROMPT (chat-formatted unless --raw); statistics go to stderr.")

    @OptionGroup var modelArguments: ModelArguments
    @OptionGroup var generation: GenerationArguments

    @Flag(help: "Use PROMPT as is (BOS per the model's metadata) instead of a chat turn.")
    var raw = false

    @Option(help: "System prompt for the chat turn (default: the model's own).")
    var system: String?

    @Argument(help: "The prompt.")
    var prompt: String

    func run() throws {
        let model = try LanguageModel.load(path: try modelArguments.resolvedPath())
        var messages: [ChatMessage] = []
        if let system { messages.append(.system(system)) }
        messages.append(.init(role: .user, content: prompt))
        let tokens = raw ? model.tokenizer.encode(prompt, addBOS: model.tokenizer.addBOSByDefault)
                         : model.chatPrompt(messages)
        try model.configuration.checkFits(positions: tokens.count)
        var parameters = try generation.parameters()
        parameters.stopStrings += model.chatTemplate?.stopStrings ?? []
        let cache = KVCache(configuration: model.configuration, capacity: tokens.count + parameters.maxTokens)
        let result = Generator(model: model).generate(prompt: tokens, cache: cache, parameters: parameters) { piece in
            FileHandle.standardOutput.write(Data(piece.utf8))
            return true
        }
        print()
        Console.error(String(format: "prompt %d tokens, %.1f tok/s | generated %d tokens, %.1f tok/s | stop: %@ | backend %@",
                             result.promptTokens, result.prefillTokensPerSecond, result.tokens.count,
                             result.decodeTokensPerSecond, result.stopReason.rawValue, "\(BLAS.backend)"))
    }
}
