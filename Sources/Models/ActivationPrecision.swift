import Kernels

/// How activations enter the frozen weights' matrix products: single positions (decode, latent
/// steps) through the matvec kernels, several positions (prompt prefill, training) through GEMM.
/// The two are chosen separately: text inference decodes with 8-bit activations like llama.cpp
/// and may prefill in bfloat16; latent rollouts and training keep fp32 unless asked otherwise.
public struct ActivationPrecision: Hashable, Sendable {
    /// The format of single-position products.
    public enum Vectors: String, Sendable, CaseIterable {
        /// fp32 activations against the stored weights: agrees with fp32 PyTorch to ~1e-4 in the
        /// logits. Latent rollouts and training use this, so no rounding noise enters hidden
        /// states that are fed back or differentiated.
        case float32
        /// Each input vector is rounded to 8-bit blocks first (q8_0 / q8_1 / q8_K by weight type)
        /// and multiplied with integer kernels, as llama.cpp does for every quantized matmul:
        /// 2.6–4.8× faster per matvec, logits move by a few tenths (llama.cpp's own noise level).
        /// Weights without an integer kernel (f32/f16/bf16), or a CPU without AVX2, fall back to
        /// ``float32``.
        case int8
        /// The same 8-bit activations against weights repacked once into 16-row int8 tiles
        /// (``TiledInt8Matrix``: q4_0, q4_1, q5_0, q5_1, q8_0, q4_K, q5_K, q6_K; other formats take the
        /// ``int8`` kernels): several sequences' decode steps at once run ~4× the row-major
        /// kernels' rate on AVX-512 VNNI. Differs from ``int8`` by the order of float sums only
        /// (so greedy texts can differ where logits nearly tie), and is the same whatever the
        /// batch, threads or CPU. Costs a second, int8 copy of those weights.
        case int8Tiled
    }

    /// Single positions (`T ≤` ``Linear/matvecPositionLimit``).
    public var vectors: Vectors
    /// Several positions, as asked for; ``gemmFormat`` is what runs on this CPU.
    public var matrices: GEMMFormat

    public init(vectors: Vectors, matrices: GEMMFormat) {
        self.vectors = vectors
        self.matrices = matrices
    }

    /// fp32 everywhere (exact; latent rollouts, training by default).
    public static let float32 = Self(vectors: .float32, matrices: .float32)
    /// 8-bit decode activations, fp32 prefill: text inference's library default (its answers do
    /// not depend on the CPU's bf16 support).
    public static let int8 = Self(vectors: .int8, matrices: .float32)
    /// fp32 single positions, bfloat16 multi-position products with fp32 accumulation where the
    /// CPU has AVX512-BF16 (each operand rounded to 8 significant bits): the training option
    /// `--matmul bfloat16` for CPUs where it is faster (Zen 4).
    public static let bfloat16 = Self(vectors: .float32, matrices: .bfloat16)

    /// This precision with its multi-position products in `format` (e.g. `.int8.prefilling(.bfloat16)`).
    public func prefilling(_ format: GEMMFormat) -> Self { Self(vectors: vectors, matrices: format) }

    /// The precision of a text prompt's forward under this one: its products in ``matrices``, a
    /// tail of one or two positions (after a reused prefix) in fp32 like a longer prompt's rows.
    public var prompt: Self { Self(vectors: .float32, matrices: matrices) }

    /// The packed-GEMM format multi-position products run in: ``matrices`` where this CPU has it,
    /// else `float32`.
    public var gemmFormat: GEMMFormat { matrices.isSupported ? matrices : .float32 }

    /// Every combination of the two parts.
    public static let all: [Self] = Vectors.allCases.flatMap { v in GEMMFormat.allCases.map { Self(vectors: v, matrices: $0) } }

    /// `int8`, `float32`, `bfloat16` for the named precisions, else e.g. `int8+bfloat16`
    /// (vectors + matrices).
    public var name: String {
        switch (vectors, matrices) {
        case (.float32, .float32): "float32"
        case (.int8, .float32): "int8"
        case (.float32, .bfloat16): "bfloat16"
        case (.int8, .bfloat16): "int8+bfloat16"
        case (.int8Tiled, .float32): "int8-tiled"
        case (.int8Tiled, .bfloat16): "int8-tiled+bfloat16"
        }
    }
}

/// Coded as its ``ActivationPrecision/name`` (`"float32"`, `"int8"`, `"bfloat16"`, `"int8+bfloat16"`, `"int8-tiled"`, …),
/// the strings the named precisions were written as before they had two parts.
extension ActivationPrecision: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let precision = Self.all.first(where: { $0.name == name }) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown precision '\(name)' (\(Self.all.map(\.name).joined(separator: ", ")))")
        }
        self = precision
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
