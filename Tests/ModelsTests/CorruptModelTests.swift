import Foundation
import GGUF
import Kernels
import Models
import TestSupport
import Testing

/// Hyperparameters out of range and non-finite weights are refused when a model loads, with
/// typed errors naming the key or tensor (they used to crash in RoPE setup, or load and then
/// silently generate nothing).
@Suite("Corrupt model files are refused at load")
struct CorruptModelTests {
    static func load(_ spec: TinyModel) throws(ModelError) -> Transformer {
        let file: GGUFFile
        do { file = try GGUFFile(bytes: spec.serialized()) } catch { fatalError("the tiny writer produced an unreadable file: \(error)") }
        return try Transformer(file: file)
    }

    static func expectInvalid(_ key: String, _ value: GGUFValue, arch: Architecture = .qwen2) {
        var spec = TinyModel(arch)
        spec.metadataOverrides["\(arch.rawValue).\(key)"] = value
        do {
            _ = try load(spec)
            Issue.record("\(key) = \(value) loaded")
        } catch {
            guard case .invalidMetadata(let named, _) = error else { Issue.record("\(key): \(error)"); return }
            #expect(named == "\(arch.rawValue).\(key)")
        }
    }

    @Test func theUntouchedTinyModelLoads() throws {
        for arch in [Architecture.llama, .qwen2, .gemma3] { _ = try Self.load(TinyModel(arch)) }
    }

    @Test("out-of-range hyperparameters are invalid metadata naming the key")
    func hyperparameterRanges() {
        Self.expectInvalid("rope.dimension_count", .uint32(999))
        Self.expectInvalid("rope.dimension_count", .uint32(15))  // odd
        Self.expectInvalid("attention.layer_norm_rms_epsilon", .float32(.nan))
        Self.expectInvalid("attention.layer_norm_rms_epsilon", .float32(-1))
        Self.expectInvalid("rope.freq_base", .float32(.infinity))
        Self.expectInvalid("attention.key_length", .uint32(100_000))
        Self.expectInvalid("context_length", .uint64(1 << 40))
        Self.expectInvalid("block_count", .uint32(100_000))
        Self.expectInvalid("attention.head_count_kv", .uint32(8))  // more KV heads than heads (4)
        Self.expectInvalid("vocab_size", .uint32(1_000_000))  // more than the tokenizer has
        Self.expectInvalid("vocab_size", .uint32(100))  // fewer: a token id could index past the embedding
    }

    @Test("a NaN in a norm, a bias or a matrix is refused, naming the tensor", arguments: [GGMLType.f32, .f16, .q8_0])
    func nonFiniteWeights(type: GGMLType) {
        for name in ["blk.1.attn_norm.weight", "blk.0.attn_q.bias", "blk.1.ffn_down.weight", "token_embd.weight"] {
            var spec = TinyModel(.qwen2)
            spec.weightType = type
            spec.nonFiniteTensor = name
            do {
                _ = try Self.load(spec)
                Issue.record("\(name) with a NaN loaded (\(type))")
            } catch {
                guard case .nonFiniteWeights(let named, _) = error else { Issue.record("\(name): \(error)"); continue }
                #expect(named == name)
            }
        }
    }

    @Test func aPromptLongerThanTheContextIsRefusedWithTheCounts() throws {
        let c = try Self.load(TinyModel(.llama)).configuration
        try c.checkFits(positions: c.contextLength)
        #expect(throws: ModelError.promptTooLong(positions: c.contextLength + 1, context: c.contextLength)) {
            try c.checkFits(positions: c.contextLength + 1)
        }
    }

    @Test("the block-scale check finds a NaN or infinite f16 scale in every block format")
    func blockScaleCheck() throws {
        for type in [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K] {
            let format = try #require(type.quantFormat)
            let columns = format.blockSize * 2
            for poison: UInt16 in [0x7E00, 0x7C00, 0xFC00] {  // NaN, +inf, −inf
                // Two rows of zero blocks (finite), then one scale field of row 1, block 1 poisoned.
                var bytes = [UInt8](repeating: 0, count: 2 * 2 * format.bytesPerBlock)
                let offset = type == .q6_K ? 208 : (type == .q4_1 || type == .q5_1 || type == .q4_K || type == .q5_K ? 2 : 0)
                let at = 2 * format.bytesPerBlock + format.bytesPerBlock + offset
                bytes[at] = UInt8(poison & 0xFF)
                bytes[at + 1] = UInt8(poison >> 8)
                let clean = [UInt8](repeating: 0, count: bytes.count)
                func firstBadRow(_ data: [UInt8]) throws -> Int? {
                    try data.withUnsafeBytes { raw throws -> Int? in
                        try QuantizedMatrix(bytes: raw, type: type, rows: 2, columns: columns).firstNonFiniteRow()
                    }
                }
                #expect(try firstBadRow(clean) == nil)
                #expect(try firstBadRow(bytes) == 1, "\(type)")
            }
        }
    }
}
