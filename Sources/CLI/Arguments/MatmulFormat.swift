import ArgumentParser
import Kernels
import Models

/// `--matmul`: the format of the frozen models' multi-position matrix products in training.
enum MatmulFormat: String, CaseIterable, ExpressibleByArgument {
    case float32, bfloat16

    var precision: ActivationPrecision { self == .float32 ? .float32 : .bfloat16 }

    /// Refuses bfloat16 where the CPU lacks AVX512-BF16 (it would silently run fp32 otherwise).
    func check() throws {
        if self == .bfloat16, !GEMMFormat.bfloat16.isSupported {
            throw ValidationError("--matmul bfloat16 needs AVX512-BF16, which this CPU lacks (use float32)")
        }
    }
}
