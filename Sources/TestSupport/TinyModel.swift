import GGUF
import Kernels
import Models

/// Builds tiny random-weight GGUF models of each supported architecture, in memory, for tests
/// that need a real forward pass but no golden (invariants, agents, CLI).
public struct TinyModel: Sendable {
    public var architecture: Architecture
    public var width = 64  // D
    public var layers = 2  // L
    public var heads = 4  // H
    public var kvHeads = 2  // Hkv
    public var headDim = 16  // Dh
    public var ffn = 128  // F
    public var slidingWindow = 5  // gemma3 only
    /// Type of the large matrices (norms and biases stay F32).
    public var weightType: GGMLType = .f32
    public var seed: UInt64 = 1
    /// Trained context (prompts longer than this are refused); the byte-level tiny tokenizer
    /// spends one token per byte, so the agents' prompts need a few thousand.
    public var contextLength = 4096
    /// Metadata written in place of the defaults (a corrupt or hostile file's values).
    public var metadataOverrides: [String: GGUFValue] = [:]
    /// A tensor whose first value is written as NaN (a corrupt file).
    public var nonFiniteTensor: String?

    public init(_ architecture: Architecture) {
        self.architecture = architecture
        if architecture == .gemma3 { layers = 6 }  // layers 0–4 sliding, layer 5 global
    }

    /// Gemma's real tokenizer is SentencePiece; the others use byte-level BPE.
    var usesSentencePiece: Bool { architecture == .gemma3 }

    /// Byte-level tokens (GPT-2 mapping for BPE, `<0xXX>` for SentencePiece) plus specials.
    public var vocabulary: [String] {
        if usesSentencePiece {
            return ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
                + (0..<256).map { String(format: "<0x%02X>", $0) } + ["▁", "▁the", "a", "b"]
        }
        return ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + ByteLevel.unicodeForByte
    }

    public func serialized() -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var w = GGUFWriter()
        for (key, value) in metadataOverrides.sorted(by: { $0.key < $1.key }) { w.set(key, value) }  // the first value set wins
        let arch = architecture.rawValue, v = vocabulary.count
        w.set("general.architecture", .string(arch))
        w.set("general.name", .string("tiny-\(arch)"))
        w.set("\(arch).context_length", .uint32(UInt32(contextLength)))
        w.set("\(arch).embedding_length", .uint32(UInt32(width)))
        w.set("\(arch).block_count", .uint32(UInt32(layers)))
        w.set("\(arch).feed_forward_length", .uint32(UInt32(ffn)))
        w.set("\(arch).attention.head_count", .uint32(UInt32(heads)))
        w.set("\(arch).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.set("\(arch).attention.key_length", .uint32(UInt32(headDim)))
        w.set("\(arch).attention.value_length", .uint32(UInt32(headDim)))
        w.set("\(arch).attention.layer_norm_rms_epsilon", .float32(1e-6))
        w.set("\(arch).rope.freq_base", .float32(architecture == .llama ? 10_000 : 1_000_000))
        if architecture.slidingWindowLayers != nil { w.set("\(arch).attention.sliding_window", .uint32(UInt32(slidingWindow))) }

        let types: [Int32] = vocabulary.map { token in
            if token.hasPrefix("<0x") { return 6 }
            return token.hasPrefix("<") && token.count > 1 ? 3 : 1
        }
        w.set("tokenizer.ggml.tokens", .array(.string(vocabulary)))
        w.set("tokenizer.ggml.token_type", .array(.int32(types)))
        if !usesSentencePiece {
            w.set("tokenizer.ggml.model", .string("gpt2"))
            w.set("tokenizer.ggml.pre", .string(architecture == .llama ? "smollm" : "qwen2"))
            w.set("tokenizer.ggml.merges", .array(.string([])))
            w.set("tokenizer.ggml.bos_token_id", .uint32(1))
            w.set("tokenizer.ggml.eos_token_id", .uint32(2))
            w.set("tokenizer.ggml.add_bos_token", .bool(false))
        } else {
            w.set("tokenizer.ggml.model", .string("llama"))
            w.set("tokenizer.ggml.pre", .string("default"))
            w.set("tokenizer.ggml.scores", .array(.float32(vocabulary.indices.map { -Float($0) })))
            w.set("tokenizer.ggml.bos_token_id", .uint32(2))
            w.set("tokenizer.ggml.eos_token_id", .uint32(1))
            w.set("tokenizer.ggml.unknown_token_id", .uint32(3))
            w.set("tokenizer.ggml.padding_token_id", .uint32(0))
            w.set("tokenizer.ggml.add_bos_token", .bool(true))
            w.set("tokenizer.ggml.add_space_prefix", .bool(false))
        }

        func matrix(_ name: String, rows: Int, columns: Int, scale: Float) {
            var values = (0..<(rows * columns)).map { _ in rng.nextGaussian() * scale }
            if name == nonFiniteTensor { values[0] = .nan }
            w.addTensor(name: name, dimensions: [columns, rows], type: weightType,
                        bytes: Self.encode(values, as: weightType))
        }
        func vector(_ name: String, count: Int, around center: Float, spread: Float) {
            var values = (0..<count).map { _ in center + spread * rng.nextGaussian() }
            if name == nonFiniteTensor { values[0] = .nan }
            w.addTensor(name: name, dimensions: [count], values: values)
        }
        let d = width, q = heads * headDim, kv = kvHeads * headDim
        matrix("token_embd.weight", rows: v, columns: d, scale: 0.5)
        vector("output_norm.weight", count: d, around: 1, spread: 0.1)
        if architecture == .qwen2 { matrix("output.weight", rows: v, columns: d, scale: 0.2) }
        for l in 0..<layers {
            let p = "blk.\(l)."
            vector(p + "attn_norm.weight", count: d, around: 1, spread: 0.1)
            matrix(p + "attn_q.weight", rows: q, columns: d, scale: 0.25)
            matrix(p + "attn_k.weight", rows: kv, columns: d, scale: 0.25)
            matrix(p + "attn_v.weight", rows: kv, columns: d, scale: 0.25)
            matrix(p + "attn_output.weight", rows: d, columns: q, scale: 0.15)
            vector(p + "ffn_norm.weight", count: d, around: 1, spread: 0.1)
            matrix(p + "ffn_gate.weight", rows: ffn, columns: d, scale: 0.2)
            matrix(p + "ffn_up.weight", rows: ffn, columns: d, scale: 0.2)
            matrix(p + "ffn_down.weight", rows: d, columns: ffn, scale: 0.1)
            if architecture.hasAttentionBiases {
                vector(p + "attn_q.bias", count: q, around: 0, spread: 0.1)
                vector(p + "attn_k.bias", count: kv, around: 0, spread: 0.1)
                vector(p + "attn_v.bias", count: kv, around: 0, spread: 0.1)
            }
            if architecture.hasQueryKeyNorms {
                vector(p + "attn_q_norm.weight", count: headDim, around: 1, spread: 0.1)
                vector(p + "attn_k_norm.weight", count: headDim, around: 1, spread: 0.1)
            }
            if architecture.hasPostNorms {
                vector(p + "post_attention_norm.weight", count: d, around: 1, spread: 0.1)
                vector(p + "post_ffw_norm.weight", count: d, around: 1, spread: 0.1)
            }
        }
        return w.serialized()
    }

    public func transformer() throws -> Transformer { try Transformer(file: try GGUFFile(bytes: serialized())) }

    /// Encodes fp32 values as F32, F16 or Q8_0 (round-to-nearest, d = amax/127 as in ggml).
    static func encode(_ values: [Float], as type: GGMLType) -> [UInt8] {
        var out: [UInt8] = []
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        switch type {
        case .f32: values.forEach { append($0.bitPattern) }
        case .f16: values.forEach { append(Half.f16Bits(from: $0)) }
        case .q8_0:
            for start in stride(from: 0, to: values.count, by: 32) {
                let block = values[start..<(start + 32)]
                // A NaN value (a deliberately corrupt tensor) poisons its block's scale, as it would in ggml.
                let d = block.contains { $0.isNaN } ? Float.nan : (block.map(abs).max() ?? 0) / 127
                append(Half.f16Bits(from: d))
                for x in block { out.append(UInt8(bitPattern: Int8(d == 0 || !d.isFinite || !x.isFinite ? 0 : (x / d).rounded()))) }
            }
        default: preconditionFailure("TinyModel cannot encode \(type)")
        }
        return out
    }
}

/// GPT-2's byte → printable-unicode table, for building byte-level vocabularies in tests.
enum ByteLevel {
    static let unicodeForByte: [String] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        var extra = 256
        return (0..<256).map { b in
            if printable.contains(b) { return String(UnicodeScalar(UInt8(b))) }
            defer { extra += 1 }
            return String(UnicodeScalar(UInt32(extra))!)
        }
    }()
}

import Foundation
