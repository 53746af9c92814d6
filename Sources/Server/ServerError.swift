// Provenance: the OpenAI API's error object ({"error": {"message", "type", "param", "code"}}),
// as llama-server also returns it.
import Foundation

/// Every way a request can fail, each with its HTTP status and OpenAI-style error object.
public enum ServerError: Error, Sendable, Equatable {
    /// 400: the body is not JSON, a field has the wrong type or value, or a required one is missing.
    case invalidRequest(String, param: String? = nil)
    /// 401: no or a wrong Bearer key.
    case unauthorized
    /// 404: the `model` names nothing loaded, or the path is unknown.
    case notFound(String)
    /// 413: the body exceeds the limit.
    case bodyTooLarge(limit: Int)
    /// 429: the queue is full; retry after the given seconds.
    case busy(retryAfter: Int)
    /// 503: models are still loading.
    case loading
    /// 504: the request ran past its time limit.
    case timedOut(seconds: Double)
    /// 500: the run failed.
    case internalError(String)
    /// 499 (nginx's "client closed request"): stopped because the client left or time ran out.
    case cancelled

    public var status: Int {
        switch self {
        case .invalidRequest: 400
        case .unauthorized: 401
        case .notFound: 404
        case .bodyTooLarge: 413
        case .busy: 429
        case .loading: 503
        case .timedOut: 504
        case .internalError: 500
        case .cancelled: 499
        }
    }

    var type: String {
        switch self {
        case .invalidRequest, .bodyTooLarge: "invalid_request_error"
        case .unauthorized: "authentication_error"
        case .notFound: "not_found_error"
        case .busy: "rate_limit_error"
        case .loading: "unavailable_error"
        case .timedOut: "timeout_error"
        case .internalError: "server_error"
        case .cancelled: "cancelled"
        }
    }

    public var message: String {
        switch self {
        case .invalidRequest(let text, _): text
        case .unauthorized: "missing or wrong API key (send Authorization: Bearer KEY)"
        case .notFound(let text): text
        case .bodyTooLarge(let limit): "request body larger than \(limit) bytes"
        case .busy(let seconds): "the server is at capacity; retry in \(seconds) s"
        case .loading: "models are loading"
        case .timedOut(let seconds): String(format: "the request ran past its %.0f s limit", seconds)
        case .internalError(let text): text
        case .cancelled: "the request was cancelled"
        }
    }

    /// The JSON error object.
    public var body: Data {
        var error: [String: Any] = ["message": message, "type": type, "code": status]
        if case .invalidRequest(_, let param?) = self { error["param"] = param }
        return (try? JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys])) ?? Data()
    }
}
