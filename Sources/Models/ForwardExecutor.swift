import Kernels

/// Where forward calls run: directly on the calling thread, or gathered with other threads'
/// calls into batched forwards (``BatchingExecutor``). Generation, latent rollouts and the agent
/// graph take one, so the same code serves one question at a time and many in flight.
public protocol ForwardExecutor: Sendable {
    /// Runs `input` through `transformer` (appending to its cache) and returns what
    /// ``Transformer/forward(embeddings:count:cache:outputs:logits:precision:threads:)`` returns.
    /// Blocks until done; `input.embeddings` need only stay valid until it returns.
    func forward(_ transformer: Transformer, _ input: Transformer.SequenceInput, threads: Int) -> Transformer.Result

    /// Runs `body`, a wait for another thread's work, with the calling thread not expected to
    /// submit meanwhile (a batching executor then does not hold its forwards for it).
    func standAside(_ body: () -> Void)
}

/// Runs every call on the calling thread, alone.
public struct DirectExecutor: ForwardExecutor {
    public init() {}

    public func forward(_ transformer: Transformer, _ input: Transformer.SequenceInput, threads: Int) -> Transformer.Result {
        transformer.forward(batch: [input], threads: threads)[0]
    }
}

extension ForwardExecutor where Self == DirectExecutor {
    /// Each call alone on the calling thread.
    public static var direct: DirectExecutor { DirectExecutor() }
}

extension ForwardExecutor {
    /// Executors that never wait for their callers just run `body`.
    public func standAside(_ body: () -> Void) { body() }

    /// Runs `tokens` through `transformer` (their embeddings, then ``forward(_:_:threads:)``).
    public func forward(
        _ transformer: Transformer, tokens: [Int32], cache: KVCache, outputs: Transformer.Outputs = .last, logits: Bool = true,
        precision: ActivationPrecision = .float32, threads: Int
    ) -> Transformer.Result {
        transformer.embeddings(tokens).withUnsafeBufferPointer {
            forward(transformer, .init(embeddings: $0.baseAddress ?? UnsafePointer(bitPattern: 4)!, count: tokens.count, cache: cache,
                                       outputs: outputs, logits: logits, precision: precision), threads: threads)
        }
    }

    /// Runs `count` embeddings `[T × D]` through `transformer`.
    public func forward(
        _ transformer: Transformer, embeddings: UnsafePointer<Float>, count: Int, cache: KVCache, outputs: Transformer.Outputs = .last,
        logits: Bool = true, precision: ActivationPrecision = .float32, threads: Int
    ) -> Transformer.Result {
        forward(transformer, .init(embeddings: embeddings, count: count, cache: cache, outputs: outputs, logits: logits,
                                   precision: precision), threads: threads)
    }
}
