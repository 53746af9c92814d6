import ArgumentParser
import Kernels
import Models

/// `--prefill`: the format of text inference's multi-position products (prompt prefill).
enum PrefillFormat: String, CaseIterable, ExpressibleByArgument {
    /// ``GEMMFormat/preferredForInference``: bfloat16 on AMD CPUs with AVX512-BF16, else float32.
    case auto
    case float32
    /// Refused where the CPU lacks AVX512-BF16.
    case bfloat16

    static let help = (
        "Prompt-prefill products: auto (bfloat16 on AMD CPUs with AVX512-BF16, where it is 1.5–1.8× faster; else float32), "
            + "float32 (exact fp32, the same answers on every CPU) or bfloat16 (needs AVX512-BF16). Latent steps stay fp32.")

    /// The format to run, or a validation error for bfloat16 on a CPU without it.
    func resolved() throws -> GEMMFormat {
        switch self {
        case .auto: return GEMMFormat.preferredForInference
        case .float32: return .float32
        case .bfloat16: return try GEMMFormat.bfloat16(askedBy: "--prefill bfloat16", else: "float32 or auto")
        }
    }
}

/// `--precision` of text inference's decode steps (single positions).
enum DecodePrecision: String, CaseIterable, ExpressibleByArgument {
    case int8, int8Tiled = "int8-tiled", float32
    static let help = ("Decode-step activations: int8 (fast, as llama.cpp), int8-tiled (the same activations on 16-row int8 "
        + "weight tiles: several sequences at once run faster; sums in another order) or float32 (exact, as fp32 PyTorch).")

    /// The single-position format.
    var vectors: ActivationPrecision.Vectors {
        switch self {
        case .int8: .int8
        case .int8Tiled: .int8Tiled
        case .float32: .float32
        }
    }

    /// Text inference's precision with this decode and `prefill`'s products.
    func precision(prefill: PrefillFormat) throws -> ActivationPrecision {
        ActivationPrecision(vectors: vectors, matrices: try prefill.resolved())
    }
}
