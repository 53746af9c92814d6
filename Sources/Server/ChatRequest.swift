// Provenance: the OpenAI chat-completions request (model, messages, max_tokens /
// max_completion_tokens, temperature, top_p, seed, stop, stream, n), plus this server's extension
// fields method, rounds and latent_steps.
import Agents
import Foundation
import RoleData
import Tokenization

/// A validated `POST /v1/chat/completions` body.
public struct ChatRequest: Sendable, Equatable {
    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Float
    public var topP: Float
    public var seed: UInt64?
    public var stop: [String]
    public var stream: Bool
    /// Extension fields for systems: inference method, rounds and latent steps (nil: the system's).
    public var method: InferenceMethod
    public var rounds: Int?
    public var latentSteps: Int?

    /// Parses `data`, refusing what an OpenAI server would refuse (with the field named) and what
    /// this one cannot do; `maxTokensLimit` caps `max_tokens`. Unknown fields are ignored, as
    /// clients send many (`user`, `stream_options`, …).
    public static func parse(_ data: Data, maxTokensLimit: Int) throws(ServerError) -> ChatRequest {
        guard String(data: data, encoding: .utf8) != nil else { throw .invalidRequest("the body is not UTF-8") }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw .invalidRequest("the body is not valid JSON")
        }
        guard case .object(let body) = value else { throw .invalidRequest("the body must be a JSON object, not \(value.typeName)") }
        let fields = Fields(body: body)
        guard let model = try fields.string("model") else { throw .invalidRequest("missing field 'model'", param: "model") }
        guard case .array(let list)? = body["messages"], !list.isEmpty else {
            throw .invalidRequest("'messages' must be a non-empty array", param: "messages")
        }
        let messages = try list.enumerated().map { i, item throws(ServerError) in try message(item, index: i) }
        guard messages.contains(where: { $0.role == .user }) else { throw .invalidRequest("'messages' holds no user message", param: "messages") }
        if let n = try fields.integer("n"), n != 1 { throw .invalidRequest("only n = 1 is supported", param: "n") }
        var maxTokens = try fields.integer("max_tokens")
        if maxTokens == nil { maxTokens = try fields.integer("max_completion_tokens") }
        if let maxTokens, !(1...maxTokensLimit).contains(maxTokens) {
            throw .invalidRequest("'max_tokens' must be between 1 and \(maxTokensLimit)", param: "max_tokens")
        }
        let temperature = try fields.number("temperature") ?? 0
        guard (0...2).contains(temperature) else { throw .invalidRequest("'temperature' must be between 0 and 2", param: "temperature") }
        let topP = try fields.number("top_p") ?? 1
        guard topP > 0, topP <= 1 else { throw .invalidRequest("'top_p' must be in (0, 1]", param: "top_p") }
        let seed = try fields.integer("seed")
        if let seed, seed < 0 { throw .invalidRequest("'seed' must not be negative", param: "seed") }
        var stop: [String] = []
        switch body["stop"] {
        case nil, .null?: break
        case .string(let s)?: stop = [s]
        case .array(let items)?:
            stop = try items.map { item throws(ServerError) in
                guard case .string(let s) = item else { throw .invalidRequest("'stop' must be a string or an array of strings", param: "stop") }
                return s
            }
        default: throw .invalidRequest("'stop' must be a string or an array of strings", param: "stop")
        }
        guard stop.count <= 4, stop.allSatisfy({ !$0.isEmpty }) else {
            throw .invalidRequest("'stop' takes at most 4 non-empty strings", param: "stop")
        }
        let stream = try fields.bool("stream") ?? false
        var method = InferenceMethod.latent
        if let name = try fields.string("method") {
            guard let m = InferenceMethod(rawValue: name), [.latent, .text, .single].contains(m) else {
                throw .invalidRequest("'method' must be latent, text or single", param: "method")
            }
            method = m
        }
        let rounds = try fields.integer("rounds")
        if let rounds, !(1...16).contains(rounds) { throw .invalidRequest("'rounds' must be between 1 and 16", param: "rounds") }
        let latentSteps = try fields.integer("latent_steps")
        if let latentSteps, !(1...1024).contains(latentSteps) {
            throw .invalidRequest("'latent_steps' must be between 1 and 1024", param: "latent_steps")
        }
        return ChatRequest(model: model, messages: messages, maxTokens: maxTokens, temperature: Float(temperature), topP: Float(topP),
                           seed: seed.map(UInt64.init), stop: stop, stream: stream, method: method, rounds: rounds,
                           latentSteps: latentSteps)
    }

    /// One message: `role` system/developer/user/assistant, `content` a string or an array of text parts.
    static func message(_ item: JSONValue, index: Int) throws(ServerError) -> ChatMessage {
        let param = "messages[\(index)]"
        guard case .object(let object) = item else { throw .invalidRequest("\(param) must be an object", param: param) }
        guard case .string(let roleName)? = object["role"] else { throw .invalidRequest("\(param).role must be a string", param: param) }
        let role: ChatRole
        switch roleName {
        case "system", "developer": role = .system
        case "user": role = .user
        case "assistant": role = .assistant
        default: throw .invalidRequest("\(param).role '\(roleName)' is not system, user or assistant", param: param)
        }
        var content = ""
        switch object["content"] {
        case .string(let text)?: content = text
        case .array(let parts)?:
            for part in parts {
                guard case .object(let p) = part, p["type"] == .string("text"), case .string(let text)? = p["text"] else {
                    throw .invalidRequest("\(param).content parts must be {\"type\": \"text\", \"text\": …}", param: param)
                }
                content += text
            }
        default: throw .invalidRequest("\(param).content must be a string or an array of text parts", param: param)
        }
        return ChatMessage(role: role, content: content)
    }

    /// Typed reads of optional top-level fields (null counts as absent).
    struct Fields {
        let body: [String: JSONValue]

        func value(_ key: String) -> JSONValue? { body[key].flatMap { $0 == .null ? nil : $0 } }

        func string(_ key: String) throws(ServerError) -> String? {
            guard let v = value(key) else { return nil }
            guard case .string(let s) = v else { throw .invalidRequest("'\(key)' must be a string, not \(v.typeName)", param: key) }
            return s
        }

        func integer(_ key: String) throws(ServerError) -> Int? {
            guard let v = value(key) else { return nil }
            guard case .number(let d) = v, d == d.rounded(), abs(d) < 9e15 else {
                throw .invalidRequest("'\(key)' must be an integer", param: key)
            }
            return Int(d)
        }

        func number(_ key: String) throws(ServerError) -> Double? {
            guard let v = value(key) else { return nil }
            guard case .number(let d) = v, d.isFinite else { throw .invalidRequest("'\(key)' must be a number", param: key) }
            return d
        }

        func bool(_ key: String) throws(ServerError) -> Bool? {
            guard let v = value(key) else { return nil }
            guard case .bool(let b) = v else { throw .invalidRequest("'\(key)' must be true or false", param: key) }
            return b
        }
    }
}
