import Foundation
import GGUF
import Models
import TestSupport
import Testing
import Tokenization

/// One `Fixtures/tokens-*.json` file, written by Tools/golden/make_tokenizer_golden.py from
/// llama.cpp (llama-cpp-python 0.3.36).
struct TokenizerGolden: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int32]
        let idsPlain: [Int32]
        let idsSpecial: [Int32]
        let detokenized: String?
        let detokenizedHex: String?
        let detokenizedPlain: String?
        let detokenizedPlainHex: String?

        enum CodingKeys: String, CodingKey {
            case text, ids
            case idsPlain = "ids_plain"
            case idsSpecial = "ids_special"
            case detokenized
            case detokenizedHex = "detokenized_hex"
            case detokenizedPlain = "detokenized_plain"
            case detokenizedPlainHex = "detokenized_plain_hex"
        }

        /// llama.cpp's detokenized bytes (stored as text, or as hex when not valid UTF-8).
        var detokenizedBytes: [UInt8] { Self.bytes(detokenized, detokenizedHex) }
        var detokenizedPlainBytes: [UInt8] { Self.bytes(detokenizedPlain, detokenizedPlainHex) }

        private static func bytes(_ text: String?, _ hex: String?) -> [UInt8] {
            if let text { return Array(text.utf8) }
            guard let hex else { return [] }
            var out: [UInt8] = []
            var index = hex.startIndex
            while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), index < hex.endIndex {
                out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
                index = next
            }
            return out
        }
    }

    let model: String
    let tokenizerPreOverride: String?
    let modelSha256: String
    let llamaCppPython: String
    let nVocab: Int
    let bos: Int32?
    let eos: Int32?
    let eot: Int32?
    let addBos: Bool
    let eogIds: [Int32]
    let cases: [Case]

    enum CodingKeys: String, CodingKey {
        case model
        case tokenizerPreOverride = "tokenizer_pre_override"
        case modelSha256 = "model_sha256"
        case llamaCppPython = "llama_cpp_python"
        case nVocab = "n_vocab"
        case bos, eos, eot
        case addBos = "add_bos"
        case eogIds = "eog_ids"
        case cases
    }

    static func load(_ fileName: String) throws -> TokenizerGolden {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(fileName)
        // JSONDecoder, not JSONSerialization: the latter drops a leading U+FEFF inside strings.
        return try JSONDecoder().decode(TokenizerGolden.self, from: Data(contentsOf: url))
    }
}

/// Builds the tokenizer of a real model, optionally with another `tokenizer.ggml.pre`.
func realModelTokenizer(_ name: String, preTokenizer: String? = nil) throws -> Tokenizer {
    let file = try GGUFFile(path: try RealModels.require(name))
    guard let preTokenizer else { return try Tokenizer(gguf: file) }
    var metadata = GGUFMetadata()
    for (key, value) in file.metadata.entries where key != "tokenizer.ggml.pre" {
        metadata.append(key, value)
    }
    metadata.append("tokenizer.ggml.pre", .string(preTokenizer))
    return try Tokenizer(metadata: metadata)
}

/// `[id:"piece"]` listing, for failure messages.
func describe(_ ids: [Int32], _ tokenizer: Tokenizer) -> String {
    ids.map { id in
        let text = tokenizer.vocabulary.contains(id) ? tokenizer.vocabulary.tokens[Int(id)] : "?"
        return "\(id):\(String(reflecting: text))"
    }.joined(separator: " ")
}

/// Compares every corpus string of a golden file against `tokenizer`: ids (with and without
/// special-token parsing, with the model's BOS), decoding of llama.cpp's ids (with and without
/// special tokens), the round trip, streaming decoding, and the special-token ids.
///
/// - Parameter knownRoundTripExceptions: corpus strings that llama.cpp itself does not
///   reproduce when decoding (e.g. SentencePiece renders a literal "▁" as a space); for these
///   the decoded text must equal llama.cpp's, and no other string may fail to round-trip.
func checkAgainstGolden(
    _ tokenizer: Tokenizer, _ golden: TokenizerGolden, knownRoundTripExceptions: Set<String>
) {
    #expect(tokenizer.vocabularySize == golden.nVocab)
    #expect(tokenizer.bosID == golden.bos)
    #expect(tokenizer.eosID == golden.eos)
    #expect(tokenizer.addBOSByDefault == golden.addBos)
    #expect(tokenizer.endOfGenerationIDs == Set(golden.eogIds), "end-of-generation ids")
    if let eot = golden.eot { #expect(tokenizer.endOfTurnIDs.contains(eot)) }

    var matched = 0
    var roundTripFailures: Set<String> = []
    for item in golden.cases {
        let text = item.text
        let ids = tokenizer.encode(text)
        if ids == item.ids {
            matched += 1
        } else {
            Issue.record(
                """
                ids differ for \(String(reflecting: text))
                  expected (llama.cpp): \(describe(item.ids, tokenizer))
                  actual:               \(describe(ids, tokenizer))
                """)
        }
        let plain = tokenizer.encode(text, parseSpecial: false)
        #expect(
            plain == item.idsPlain,
            "parseSpecial: false, \(String(reflecting: text)): expected \(describe(item.idsPlain, tokenizer)), got \(describe(plain, tokenizer))")
        let withBOS = tokenizer.encode(text, addBOS: tokenizer.addBOSByDefault)
        #expect(withBOS == item.idsSpecial, "add_special, \(String(reflecting: text))")

        let decoded = tokenizer.decodeBytes(item.ids)
        #expect(decoded == item.detokenizedBytes, "decode of llama.cpp ids for \(String(reflecting: text)): got \(String(reflecting: String(decoding: decoded, as: UTF8.self)))")
        #expect(tokenizer.decodeBytes(item.ids, renderSpecial: false) == item.detokenizedPlainBytes, "decode without special tokens, \(String(reflecting: text))")
        let roundTrip = tokenizer.decodeBytes(ids)
        if roundTrip != Array(text.utf8) { roundTripFailures.insert(text) }

        // Token-by-token streaming gives the same text (whole-text passes aside).
        if !tokenizer.cleansSpacesWhenDecoding {
            var stream = StreamingDecoder(tokenizer: tokenizer)
            let streamed = item.ids.map { stream.append($0) }.joined() + stream.flush()
            #expect(Array(streamed.utf8) == decoded, "streaming decode of \(String(reflecting: text))")
        }
    }
    #expect(matched == golden.cases.count, "exact id match: \(matched)/\(golden.cases.count)")
    #expect(
        roundTripFailures == knownRoundTripExceptions,
        "decode(encode(s)) != s for \(roundTripFailures.subtracting(knownRoundTripExceptions).map { String(reflecting: $0) })")
}
