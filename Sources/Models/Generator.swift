import Synchronization
import Foundation
import Kernels
import Tokenization

/// What ends a generation.
public enum StopReason: String, Sendable, Codable { case endOfGeneration, stopString, maxTokens, cancelled }

/// Settings for one generation.
public struct GenerationParameters: Sendable {
    public var maxTokens: Int = 256
    public var sampling = SamplingParameters.greedy
    /// Generation stops when the decoded text contains one of these (it is cut before it).
    public var stopStrings: [String] = []
    public var threads = Parallel.defaultThreadCount
    /// Prefill chunk size (positions per forward call).
    public var prefillChunk = 256
    /// How activations enter the matrix products: decode steps per ``ActivationPrecision/vectors``
    /// (`.int8` by default, as llama.cpp decodes; `.float32` reproduces fp32 PyTorch), prompt
    /// prefill per ``ActivationPrecision/matrices`` (fp32 by default; `.int8.prefilling(.bfloat16)`
    /// where the CPU runs bf16 faster).
    public var precision = ActivationPrecision.int8
    /// Checked before every decode step: once set, generation stops (stop reason `cancelled`).
    public var cancellation: CancellationFlag?

    public init(maxTokens: Int = 256, sampling: SamplingParameters = .greedy, stopStrings: [String] = [],
                precision: ActivationPrecision = .int8, threads: Int = Parallel.defaultThreadCount) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopStrings = stopStrings
        self.precision = precision
        self.threads = threads
    }
}

/// The outcome of a generation, with timings.
public struct GenerationResult: Sendable {
    public var tokens: [Int32]
    public var text: String
    public var stopReason: StopReason
    /// The stop string that ended generation (with ``StopReason/stopString``).
    public var stopString: String?
    public var promptTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(max(tokens.count - 1, 0)) / decodeSeconds : 0 }
    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
}

/// The token loop: prefill (chunked), then sample → stream → decode one position at a time.
public struct Generator: Sendable {
    public let model: LanguageModel
    /// Where the forward calls run (``DirectExecutor``, or a ``BatchingExecutor`` shared by
    /// sequences in flight).
    public let executor: any ForwardExecutor

    public init(model: LanguageModel, executor: any ForwardExecutor = .direct) {
        self.model = model
        self.executor = executor
    }

    /// Generates after `prompt`, continuing `cache` (pass an empty cache for a fresh sequence).
    ///
    /// - Parameter onText: receives each newly completed piece of text (never broken UTF-8);
    ///   return false to stop.
    public func generate(
        prompt: [Int32], cache: KVCache, parameters: GenerationParameters,
        onText: (String) -> Bool = { _ in true }
    ) -> GenerationResult {
        let transformer = model.transformer
        let clock = ContinuousClock()
        let prefillStart = clock.now
        var logits: [Float] = []
        var offset = 0
        while offset < prompt.count {
            let chunk = Array(prompt[offset..<min(offset + parameters.prefillChunk, prompt.count)])
            offset += chunk.count
            let isLast = offset == prompt.count
            logits = executor.forward(transformer, tokens: chunk, cache: cache, outputs: isLast ? .last : .none,
                                      precision: parameters.precision, threads: parameters.threads).logits
        }
        let prefillSeconds = (clock.now - prefillStart).seconds
        var result = generate(afterLogits: logits, history: prompt, cache: cache, parameters: parameters, onText: onText)
        result.prefillSeconds = prefillSeconds
        return result
    }

    /// Continues a sequence whose next-token `logits` are known (e.g. after latent steps fed as
    /// embeddings): samples, streams and decodes one position at a time into `cache`.
    /// `history` is the token context for the repetition penalty; `promptTokens` counts it.
    public func generate(
        afterLogits logits: [Float], history: [Int32], cache: KVCache, parameters: GenerationParameters,
        onText: (String) -> Bool = { _ in true }
    ) -> GenerationResult {
        let transformer = model.transformer, prompt = history, clock = ContinuousClock()
        var logits = logits
        var sampler = Sampler(parameters.sampling)
        var decoder = StreamingDecoder(tokenizer: model.tokenizer, renderSpecial: false)
        var history = prompt, generated: [Int32] = [], text = ""
        var reason = StopReason.maxTokens, matched: String?
        let decodeStart = clock.now
        while generated.count < parameters.maxTokens, !logits.isEmpty {
            if parameters.cancellation?.isCancelled == true { reason = .cancelled; break }
            let next = logits.withUnsafeBufferPointer { sampler.sample($0, history: history) }
            if model.tokenizer.isEndOfGeneration(next) { reason = .endOfGeneration; break }
            generated.append(next)
            history.append(next)
            var piece = decoder.append(next)
            text += piece
            if let stop = parameters.stopStrings.first(where: { text.contains($0) }), let range = text.range(of: stop) {
                let cut = text.distance(from: text.startIndex, to: range.lowerBound)
                piece = String(piece.dropLast(max(0, text.count - cut)))
                text = String(text[..<range.lowerBound])
                if !piece.isEmpty { _ = onText(piece) }
                reason = .stopString
                matched = stop
                break
            }
            if !piece.isEmpty, !onText(piece) { reason = .cancelled; break }
            if generated.count == parameters.maxTokens { break }
            logits = executor.forward(transformer, tokens: [next], cache: cache, outputs: .last, precision: parameters.precision,
                                      threads: parameters.threads).logits
        }
        let tail = decoder.flush()
        if reason != .stopString, !tail.isEmpty { text += tail; _ = onText(tail) }
        return GenerationResult(tokens: generated, text: text, stopReason: reason, stopString: matched, promptTokens: prompt.count,
                                prefillSeconds: 0, decodeSeconds: (clock.now - decodeStart).seconds)
    }
}

/// A flag one thread sets and others poll (a client gone, a deadline passed).
public final class CancellationFlag: Sendable {
    private let flag = Mutex(false)
    public init() {}
    public func cancel() { flag.withLock { $0 = true } }
    public var isCancelled: Bool { flag.withLock { $0 } }
}

extension Duration {
    /// The duration in seconds as a Double.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
