import Foundation
public import ProvisioCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One message of a chat-completions conversation.
public struct ChatMessage: Sendable, Hashable {
    public var role: String
    public var content: String?
    /// An assistant's tool calls.
    public var toolCalls: [ToolCall] = []
    /// For a `tool` message: the call it answers.
    public var toolCallID: String?

    public init(role: String, content: String?) {
        self.role = role
        self.content = content
    }

    public static func system(_ s: String) -> ChatMessage { ChatMessage(role: "system", content: s) }
    public static func user(_ s: String) -> ChatMessage { ChatMessage(role: "user", content: s) }

    /// A function the model asked to call, with its arguments as JSON text.
    public struct ToolCall: Sendable, Hashable {
        public var id: String
        public var name: String
        public var arguments: String
    }

    var tree: Tree {
        .object([
            ("role", .string(role)), ("content", content.map(Tree.string) ?? (toolCalls.isEmpty ? .string("") : .null)),
            (
                "tool_calls",
                toolCalls.isEmpty
                    ? nil
                    : .list(
                        toolCalls.map { c in
                            .object([
                                ("id", .string(c.id)), ("type", .string("function")),
                                ("function", .object([("name", .string(c.name)), ("arguments", .string(c.arguments))])),
                            ])
                        })
            ),
            ("tool_call_id", toolCallID.map(Tree.string)),
        ])
    }
}

/// A tool offered to the model: the function's name, what it does, a JSON Schema of its arguments.
public struct ChatTool: Sendable {
    public var name: String
    public var description: String
    public var parameters: Tree
    public init(name: String, description: String, parameters: Tree) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// How the answer is constrained.
public enum ResponseFormat: Sendable {
    /// `{"type":"json_schema","json_schema":{"name":…,"strict":true,"schema":…}}` (OpenAI, llama-server, vLLM, Ollama).
    case jsonSchema(name: String, schema: Tree)
    /// `{"type":"json_object","schema":…}`: what servers that refuse `json_schema` accept.
    case jsonObject(schema: Tree)

    var tree: Tree {
        switch self {
        case .jsonSchema(let name, let schema):
            return .object([
                ("type", .string("json_schema")),
                ("json_schema", .object([("name", .string(name)), ("strict", .bool(true)), ("schema", schema)])),
            ])
        case .jsonObject(let schema):
            return .object([("type", .string("json_object")), ("schema", schema)])
        }
    }
}

/// The assistant's reply.
public struct ChatReply: Sendable {
    public var content: String?
    public var toolCalls: [ChatMessage.ToolCall]
    public var finishReason: String?
    /// Tokens the server reported, when it did.
    public var completionTokens: Int?
}

/// A chat-completions request failed; `status` is the HTTP status when the server answered.
public struct ChatError: Error, Sendable, CustomStringConvertible {
    public var status: Int?
    public var description: String
}

/// A small client for `POST /v1/chat/completions`, non-streaming.
public struct ChatClient: Sendable {
    public let config: LLMConfig
    let session: URLSession

    public init(config: LLMConfig) {
        self.config = config
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = config.timeout
        c.timeoutIntervalForResource = config.timeout
        session = URLSession(configuration: c)
    }

    /// Sends the conversation; with `format`, the answer is constrained; with `tools`, the model may call them.
    public func complete(_ messages: [ChatMessage], format: ResponseFormat? = nil, tools: [ChatTool] = [], maxTokens: Int? = nil) async throws -> ChatReply {
        guard let url = config.endpoint else { throw ChatError(status: nil, description: "'\(config.displayURL)' is not an http(s) URL") }
        let body = Tree.object([
            ("model", .string(config.model)), ("messages", .list(messages.map(\.tree))), ("temperature", .number(config.temperature)),
            ("max_tokens", .int(maxTokens ?? config.maxTokens)), ("stream", .bool(false)), ("response_format", format?.tree),
            (
                "tools",
                tools.isEmpty
                    ? nil
                    : .list(
                        tools.map { t in
                            .object([
                                ("type", .string("function")),
                                ("function", .object([("name", .string(t.name)), ("description", .string(t.description)), ("parameters", t.parameters)])),
                            ])
                        })
            ),
            ("tool_choice", tools.isEmpty ? nil : .string("auto")),
        ])
        var request = URLRequest(url: url, timeoutInterval: config.timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let key = config.apiKey { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        request.httpBody = Data(body.json().utf8)
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            let timedOut = (error as? URLError)?.code == .timedOut
            throw ChatError(
                status: nil,
                description: timedOut
                    ? "no answer within \(Tree.format(config.timeout)) s" : "\(config.displayURL) unreachable: \(Redactor.message(of: error))")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let text = String(decoding: data.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            throw ChatError(status: status, description: "HTTP \(status) from \(config.displayURL): \(Redactor.scrub(text))")
        }
        do {
            let r = try JSONDecoder().decode(Envelope.self, from: data)
            guard let choice = r.choices.first else { throw ChatError(status: status, description: "the answer has no choices") }
            return ChatReply(
                content: choice.message.content,
                toolCalls: (choice.message.tool_calls ?? []).enumerated().map { i, c in
                    .init(id: c.id ?? "call_\(i)", name: c.function.name, arguments: c.function.arguments ?? "{}")
                }, finishReason: choice.finish_reason, completionTokens: r.usage?.completion_tokens)
        } catch let e as ChatError {
            throw e
        } catch {
            throw ChatError(status: status, description: "the answer is not a chat completion (\(data.count) bytes)")
        }
    }

    struct Envelope: Decodable {
        var choices: [Choice]
        var usage: Usage?
        struct Choice: Decodable {
            var message: Message
            var finish_reason: String?
        }
        struct Message: Decodable {
            var content: String?
            var tool_calls: [Call]?
        }
        struct Call: Decodable {
            var id: String?
            var function: Function
        }
        struct Function: Decodable {
            var name: String
            var arguments: String?
        }
        struct Usage: Decodable {
            var completion_tokens: Int?
        }
    }
}
