// Provenance: hyperparameter keys `{arch}.*` per ggml docs/gguf.md and llama.cpp llama-arch.cpp
// (LLM_KV_NAMES); per-family values not stored in GGUF come from ``Architecture``.
import GGUF

/// Hyperparameters of a model, read from `{arch}.*` metadata and validated at load.
///
/// Glossary: D model width, L layers, H/Hkv query/KV heads, Dh head dim, F FFN width, V vocab.
public struct ModelConfiguration: Sendable, Equatable {
    public let architecture: Architecture
    public let name: String?
    public let contextLength: Int
    public let width: Int  // D
    public let layerCount: Int  // L
    public let ffnWidth: Int  // F
    public let headCount: Int  // H
    public let kvHeadCount: Int  // Hkv
    public let keyLength: Int  // Dh for queries/keys
    public let valueLength: Int  // Dh for values
    public let rmsNormEpsilon: Float
    public let ropeBase: Float
    /// RoPE base for sliding-window layers (Gemma-3), else equal to `ropeBase`.
    public let localRopeBase: Float
    public let ropeDimensions: Int
    /// Sliding-window length, if the architecture uses one.
    public let slidingWindow: Int?
    public let vocabularySize: Int

    public init(metadata m: GGUFMetadata) throws(ModelError) {
        guard let archName = m.string("general.architecture") else {
            throw .missingMetadata(key: "general.architecture")
        }
        guard let arch = Architecture(rawValue: archName) else {
            throw .unsupportedArchitecture(archName, supported: Architecture.registry.map(\.rawValue))
        }
        func int(_ suffix: String) throws(ModelError) -> Int {
            let key = "\(archName).\(suffix)"
            guard let v = m.integer(key) else { throw .missingMetadata(key: key) }
            guard v > 0 else { throw .invalidMetadata(key: key, detail: "must be positive, is \(v)") }
            return v
        }
        func optionalInt(_ suffix: String) -> Int? { m.integer("\(archName).\(suffix)") }
        func float(_ suffix: String, default value: Double? = nil) throws(ModelError) -> Float {
            let key = "\(archName).\(suffix)"
            guard let v = m.float(key) ?? value else { throw .missingMetadata(key: key) }
            return Float(v)
        }

        architecture = arch
        name = m.string("general.name")
        contextLength = try int("context_length")
        width = try int("embedding_length")
        layerCount = try int("block_count")
        ffnWidth = try int("feed_forward_length")
        headCount = try int("attention.head_count")
        kvHeadCount = optionalInt("attention.head_count_kv") ?? headCount
        guard kvHeadCount > 0, headCount % kvHeadCount == 0 else {
            throw .invalidMetadata(
                key: "\(archName).attention.head_count_kv",
                detail: "\(kvHeadCount) does not divide head_count \(headCount)")
        }
        keyLength = optionalInt("attention.key_length") ?? width / headCount
        valueLength = optionalInt("attention.value_length") ?? width / headCount
        rmsNormEpsilon = try float("attention.layer_norm_rms_epsilon")
        ropeBase = try float("rope.freq_base", default: 10_000)
        localRopeBase = arch.slidingWindowLayers?.ropeBase ?? ropeBase
        ropeDimensions = optionalInt("rope.dimension_count") ?? keyLength
        slidingWindow = arch.slidingWindowLayers == nil ? nil : optionalInt("attention.sliding_window")
        guard let tokens = m.array("tokenizer.ggml.tokens") else {
            throw .missingMetadata(key: "tokenizer.ggml.tokens")
        }
        vocabularySize = optionalInt("vocab_size") ?? tokens.count
        try checkRanges(tokenCount: tokens.count)
    }

    /// Refuses a prompt of `positions` (tokens and latent rows) longer than the trained context.
    public func checkFits(positions: Int) throws(ModelError) {
        guard positions <= contextLength else { throw .promptTooLong(positions: positions, context: contextLength) }
    }

    /// Refuses hyperparameters no real model has and the engine cannot run with (a corrupt or
    /// hostile file), before any buffer is sized from them.
    private func checkRanges(tokenCount: Int) throws(ModelError) {
        let arch = architecture.rawValue
        func require(_ ok: Bool, _ suffix: String, _ value: Any, _ allowed: String) throws(ModelError) {
            guard ok else { throw .invalidMetadata(key: "\(arch).\(suffix)", detail: "\(value) is outside \(allowed)") }
        }
        try require(contextLength <= 1 << 24, "context_length", contextLength, "1…16777216")
        try require(width <= 65_536, "embedding_length", width, "1…65536")
        try require(layerCount <= 1_024, "block_count", layerCount, "1…1024")
        try require(ffnWidth <= 1 << 20, "feed_forward_length", ffnWidth, "1…1048576")
        try require(headCount <= 1_024, "attention.head_count", headCount, "1…1024")
        try require(kvHeadCount <= headCount, "attention.head_count_kv", kvHeadCount, "1…head_count")
        try require((1...4_096).contains(keyLength), "attention.key_length", keyLength, "1…4096")
        try require((1...4_096).contains(valueLength), "attention.value_length", valueLength, "1…4096")
        try require(ropeDimensions > 0 && ropeDimensions <= keyLength && ropeDimensions % 2 == 0, "rope.dimension_count",
                    ropeDimensions, "even values in 2…key_length (\(keyLength))")
        try require(rmsNormEpsilon.isFinite && rmsNormEpsilon > 0 && rmsNormEpsilon < 1, "attention.layer_norm_rms_epsilon",
                    rmsNormEpsilon, "finite values in (0, 1)")
        try require(ropeBase.isFinite && ropeBase > 1, "rope.freq_base", ropeBase, "finite values above 1")
        try require(localRopeBase.isFinite && localRopeBase > 1, "rope.freq_base (sliding-window layers)", localRopeBase, "finite values above 1")
        try require((slidingWindow ?? 1) > 0, "attention.sliding_window", slidingWindow ?? 0, "1…context")
        // The tokenizer can emit any of its tokens, and every id indexes the embedding: the counts must agree.
        try require(vocabularySize == tokenCount && vocabularySize <= 1 << 22, "vocab_size", vocabularySize,
                    "the number of tokens in tokenizer.ggml.tokens (\(tokenCount)), at most 4194304")
    }
}
