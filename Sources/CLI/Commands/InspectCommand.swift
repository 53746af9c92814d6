import ArgumentParser
import Foundation
import GGUF
import Kernels
import ModelFetch
import Models

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a GGUF model's architecture, hyperparameters, tokenizer and tensor table.")

    @Argument(help: "A GGUF file path or a registry name.")
    var model: String

    @Flag(name: .long, help: "Also list every metadata entry (long arrays abbreviated).")
    var metadata = false

    @Flag(name: .long, help: "Omit the per-tensor table (totals by type are still shown).")
    var noTensors = false

    func run() throws {
        let path = try resolveModelPath(model)
        let file = try GGUFFile(path: path)
        let m = file.metadata
        print("file: \(path)")
        print("GGUF v\(file.version), \(file.fileSize) bytes, \(m.count) metadata entries, \(file.tensors.count) tensors, alignment \(file.alignment)")
        print("name: \(m.string("general.name") ?? "-")  licence: \(m.string("general.license") ?? "-")  file type: \(m.integer("general.file_type").map(String.init) ?? "-")")

        print("\n[architecture]")
        do {
            let c = try ModelConfiguration(metadata: m)
            print("architecture     \(c.architecture.rawValue)")
            print("width D          \(c.width)")
            print("layers L         \(c.layerCount)")
            print("heads H / Hkv    \(c.headCount) / \(c.kvHeadCount)   head dim (k/v) \(c.keyLength)/\(c.valueLength)")
            print("ffn F            \(c.ffnWidth)")
            print("vocab V          \(c.vocabularySize)")
            print("context          \(c.contextLength)")
            print("rms eps          \(c.rmsNormEpsilon)")
            print("rope             base \(c.ropeBase), local base \(c.localRopeBase), dims \(c.ropeDimensions), pairing \(c.architecture.ropePairing)")
            print("sliding window   \(c.slidingWindow.map(String.init) ?? "none")")
        } catch {
            print("not loadable as a model: \(error)")
        }

        print("\n[tokenizer]")
        print(TokenizerSummary(m).lines.joined(separator: "\n"))

        if metadata {
            print("\n[metadata]")
            for (key, value) in m.entries { print("\(key) = \(Self.describe(value))") }
        }

        print("\n[tensors by type]")
        var byType: [GGMLType: (count: Int, bytes: Int, elements: Int)] = [:]
        for t in file.tensors {
            byType[t.type, default: (0, 0, 0)].count += 1
            byType[t.type, default: (0, 0, 0)].bytes += t.byteCount
            byType[t.type, default: (0, 0, 0)].elements += t.elementCount
        }
        for (type, s) in byType.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            print("\(type.description.padding(toLength: 6, withPad: " ", startingAt: 0)) \(String(format: "%4d", s.count)) tensors  \(Self.megabytes(s.bytes))  \(s.elements) params")
        }
        let totalElements = file.tensors.reduce(0) { $0 + $1.elementCount }
        print("total  \(String(format: "%4d", file.tensors.count)) tensors  \(Self.megabytes(file.tensors.reduce(0) { $0 + $1.byteCount }))  \(totalElements) params")

        if !noTensors {
            print("\n[tensors]")
            for t in file.tensors {
                let dims = t.dimensions.map(String.init).joined(separator: " × ")
                print("\(t.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(t.type.description.padding(toLength: 6, withPad: " ", startingAt: 0)) \(dims.padding(toLength: 18, withPad: " ", startingAt: 0)) \(Self.megabytes(t.byteCount))")
            }
        }
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%9.2f MB", Double(bytes) / 1e6) }

    static func describe(_ value: GGUFValue) -> String {
        switch value {
        case .string(let s):
            let flat = s.replacingOccurrences(of: "\n", with: "\\n")
            return flat.count > 120 ? "\"\(flat.prefix(117))…\" (\(s.count) chars)" : "\"\(flat)\""
        case .array(let a):
            return "[\(a.elementType); \(a.count) entries]"
        case .float32(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        default: return value.integer.map(String.init) ?? "\(value)"
        }
    }
}

/// The tokenizer facts `inspect` shows, read straight from metadata.
struct TokenizerSummary {
    let lines: [String]

    init(_ m: GGUFMetadata) {
        let tokens = m.stringArray("tokenizer.ggml.tokens") ?? []
        let types = m.integerArray("tokenizer.ggml.token_type") ?? []
        func token(_ key: String) -> String {
            guard let id = m.integer(key) else { return "-" }
            return id < tokens.count ? "\(id) \(tokens[id].debugDescription)" : "\(id) (out of range)"
        }
        lines = [
            "model            \(m.string("tokenizer.ggml.model") ?? "-")  pre-tokenizer \(m.string("tokenizer.ggml.pre") ?? "-")",
            "vocabulary       \(tokens.count) tokens, \(m.array("tokenizer.ggml.merges")?.count ?? 0) merges, scores \(m.array("tokenizer.ggml.scores") != nil ? "yes" : "no")",
            "control tokens   \(types.filter { $0 == 3 }.count), user-defined \(types.filter { $0 == 4 }.count), byte \(types.filter { $0 == 6 }.count)",
            "bos              \(token("tokenizer.ggml.bos_token_id"))  add_bos \(m.bool("tokenizer.ggml.add_bos_token").map(String.init) ?? "-")",
            "eos              \(token("tokenizer.ggml.eos_token_id"))",
            "unk / pad        \(token("tokenizer.ggml.unknown_token_id")) / \(token("tokenizer.ggml.padding_token_id"))",
            "chat template    \(m.string("tokenizer.chat_template").map { "\($0.count) chars" } ?? "none")",
        ]
    }
}
