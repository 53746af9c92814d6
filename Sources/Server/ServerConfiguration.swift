// The settings of `rmas serve`, with the safety rules checked before anything binds.
import Models

/// Where and how a server listens, and the limits it enforces.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0: any free port (tests read the bound one).
    public var port = 8080
    /// When set, every endpoint but `/health` needs `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Request bodies above this are refused (413).
    public var maxBodyBytes = 1 << 20
    /// The largest `max_tokens` a request may ask for (400 above).
    public var maxTokensLimit = 4096
    /// Requests run at once (their forwards batched together), and admitted in all (429 above).
    public var workers = 8
    public var queueCapacity = 32
    /// Wall seconds a chat request may take; then it stops and answers 504 (or ends its stream).
    public var requestTimeout = 600.0
    /// A connection idle this long is closed (slow or vanished clients).
    public var idleTimeout = 30.0
    /// Threads of each forward call's matrix products.
    public var threads = 2
    /// Text inference's precision: 8-bit decode activations, and the prompt prefill's products
    /// in fp32 unless set otherwise (`rmas serve --prefill`).
    public var precision = ActivationPrecision.int8

    public init() {}

    /// Whether `host` is a loopback address (the only kind allowed without an API key).
    public var isLoopback: Bool { ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.") }

    /// Refuses a non-loopback bind without an API key, an empty key, and impossible limits.
    public func validate() throws(ServerError) {
        if let apiKey, apiKey.isEmpty { throw .invalidRequest("--api-key must not be empty") }
        if !isLoopback, apiKey == nil {
            throw .invalidRequest("binding \(host) (not loopback) needs --api-key: anyone who can reach it could use the models")
        }
        guard (0...65535).contains(port) else { throw .invalidRequest("port \(port) is outside 0…65535") }
        guard maxBodyBytes > 0, maxTokensLimit > 0, workers > 0, queueCapacity >= workers, requestTimeout > 0, idleTimeout > 0 else {
            throw .invalidRequest("limits must be positive, and the queue at least as large as the workers")
        }
    }
}
