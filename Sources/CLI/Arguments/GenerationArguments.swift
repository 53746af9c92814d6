import ArgumentParser
import Models
import RoleData

extension AnswerForm: ExpressibleByArgument {}
extension TaskData.Format: ExpressibleByArgument {}

/// Sampling and length flags shared by `generate` and `chat`.
struct GenerationArguments: ParsableArguments {
    @Option(help: "Sampling temperature; 0 is greedy.", in: OptionRange.temperature)
    var temperature: Float = 0
    @Option(help: "Keep the k most likely tokens (0 = all).", in: 0...1_000_000)
    var topK: Int = 40
    @Option(help: "Nucleus sampling mass.", in: 0...1)
    var topP: Float = 0.95
    @Option(help: "Drop tokens below min-p × the top probability.", in: 0...1)
    var minP: Float = 0.05
    @Option(help: "Repetition penalty (1 = off).", in: 0.01...100)
    var repetitionPenalty: Float = 1
    @Option(help: "Random seed.", in: OptionRange.seed)
    var seed: UInt64 = 0
    @Option(help: "Maximum new tokens.", in: OptionRange.tokens)
    var maxTokens: Int = 256
    @Option(help: "Stop when the output contains this text (repeatable).")
    var stop: [String] = []
    @Option(help: "Worker threads.", in: OptionRange.threads)
    var threads: Int = 2
    @Option(help: ArgumentHelp(DecodePrecision.help))
    var precision: DecodePrecision = .int8
    @Option(help: ArgumentHelp(PrefillFormat.help))
    var prefill: PrefillFormat = .auto

    func parameters() throws -> GenerationParameters {
        GenerationParameters(
            maxTokens: maxTokens,
            sampling: SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                         repetitionPenalty: repetitionPenalty, seed: seed),
            stopStrings: stop, precision: try precision.precision(prefill: prefill), threads: threads)
    }
}
