import ArgumentParser
import Kernels
import Models

/// `--matmul`: the format of the frozen models' multi-position matrix products in training.
enum MatmulFormat: String, CaseIterable, ExpressibleByArgument {
    case float32, bfloat16

    var precision: ActivationPrecision { self == .float32 ? .float32 : .bfloat16 }

    /// Refuses bfloat16 where the CPU lacks AVX512-BF16 (it would silently run fp32 otherwise).
    func check() throws {
        if self == .bfloat16 { _ = try GEMMFormat.bfloat16(askedBy: "--matmul bfloat16", else: "float32") }
    }
}

extension GEMMFormat {
    /// `.bfloat16`, or a validation error naming the `option` that asked for it and the
    /// `alternatives` where this CPU lacks AVX512-BF16.
    static func bfloat16(askedBy option: String, else alternatives: String) throws -> GEMMFormat {
        guard GEMMFormat.bfloat16.isSupported else {
            throw ValidationError("\(option) needs AVX512-BF16, which this CPU lacks (use \(alternatives))")
        }
        return .bfloat16
    }
}
