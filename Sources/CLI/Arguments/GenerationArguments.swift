import ArgumentParser
import Models

extension ActivationPrecision: ExpressibleByArgument {}

/// Sampling and length flags shared by `generate` and `chat`.
struct GenerationArguments: ParsableArguments {
    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0
    @Option(help: "Keep the k most likely tokens (0 = all).")
    var topK: Int = 40
    @Option(help: "Nucleus sampling mass.")
    var topP: Float = 0.95
    @Option(help: "Drop tokens below min-p × the top probability.")
    var minP: Float = 0.05
    @Option(help: "Repetition penalty (1 = off).")
    var repetitionPenalty: Float = 1
    @Option(help: "Random seed.")
    var seed: UInt64 = 0
    @Option(help: "Maximum new tokens.")
    var maxTokens: Int = 256
    @Option(help: "Stop when the output contains this text (repeatable).")
    var stop: [String] = []
    @Option(help: "Worker threads.")
    var threads: Int = 2
    @Option(help: "Decode-step activations: int8 (fast, as llama.cpp) or float32 (exact, as fp32 PyTorch).")
    var precision: ActivationPrecision = .int8

    var parameters: GenerationParameters {
        GenerationParameters(
            maxTokens: maxTokens,
            sampling: SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                         repetitionPenalty: repetitionPenalty, seed: seed),
            stopStrings: stop, precision: precision, threads: threads)
    }
}
