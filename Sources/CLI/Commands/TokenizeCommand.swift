import ArgumentParser
import GGUF
import Models
import Tokenization

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of TEXT as a JSON array (special tokens in TEXT are recognised).")

    @OptionGroup var modelArguments: ModelArguments

    @Flag(name: .long, help: "Prepend the BOS token (off by default).")
    var addBos = false

    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        let file = try GGUFFile(path: try modelArguments.resolvedPath())
        let tokenizer = try Tokenizer(gguf: file)
        let ids = tokenizer.encode(text, addBOS: addBos, parseSpecial: true)
        print("[" + ids.map(String.init).joined(separator: ",") + "]")
    }
}
