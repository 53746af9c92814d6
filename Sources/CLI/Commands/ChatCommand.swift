import ArgumentParser
import Foundation
import Models
import Tokenization

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Interactive multi-turn chat; replies stream as they are generated. /reset clears, /quit or EOF ends.")

    @OptionGroup var modelArguments: ModelArguments
    @OptionGroup var generation: GenerationArguments

    @Option(help: "System prompt (default: the model's own).")
    var system: String?

    func run() throws {
        let model = try LanguageModel.load(path: try modelArguments.resolvedPath())
        if model.chatTemplate == nil { Console.error("note: this model has no chat format; using plain ChatML") }
        var parameters = try generation.parameters()
        parameters.stopStrings += model.chatTemplate?.stopStrings ?? []
        var messages: [ChatMessage] = system.map { [.system($0)] } ?? []
        let cache = KVCache(configuration: model.configuration, capacity: 2048)
        var cached: [Int32] = []  // tokens whose keys/values are in `cache`
        let interactive = isatty(STDIN_FILENO) != 0

        while true {
            if interactive { FileHandle.standardError.write(Data("> ".utf8)) }
            guard let line = readLine() else { break }
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            if input == "/quit" { break }
            if input == "/reset" {
                messages = system.map { [.system($0)] } ?? []
                cache.trim(to: 0)
                cached = []
                continue
            }
            messages.append(.init(role: .user, content: input))
            let prompt = model.chatPrompt(messages)
            do {
                try model.configuration.checkFits(positions: prompt.count)
            } catch {
                Console.error("error: \(error); /reset starts a new conversation")
                messages.removeLast()
                continue
            }
            // Reuse the cached prefix of the conversation; prefill only what is new.
            let shared = zip(cached, prompt).prefix { $0 == $1 }.count
            let reused = min(shared, prompt.count - 1)
            cache.trim(to: reused)
            let result = Generator(model: model).generate(
                prompt: Array(prompt[reused...]), cache: cache, parameters: parameters
            ) { piece in
                FileHandle.standardOutput.write(Data(piece.utf8))
                return true
            }
            print()
            // The cache holds the prompt and every reply token that was fed back to the model.
            cached = Array((prompt + result.tokens).prefix(cache.count))
            messages.append(.init(role: .assistant, content: result.text))
            Console.error(String(format: "[%d new prompt tokens, %.1f tok/s decode]", prompt.count - reused,
                                 result.decodeTokensPerSecond))
        }
    }
}
