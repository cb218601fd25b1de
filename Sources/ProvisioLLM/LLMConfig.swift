public import Foundation
public import ProvisioCore

/// Where the language model is and how to ask it: any server that speaks OpenAI's
/// `POST /v1/chat/completions` (llama.cpp's `llama-server`, Ollama, vLLM, hosted APIs).
public struct LLMConfig: Sendable, Hashable {
    /// Base URL as OpenAI clients take it: `http://127.0.0.1:8080/v1` (`/v1` is added to a bare host).
    public var url: String
    /// The model name sent with each request (servers with one model ignore it).
    public var model: String
    /// `Authorization: Bearer …`; never logged, never written.
    public var apiKey: String?
    /// Seconds one answer may take, after which that agent falls back to the embedded reasoner.
    public var timeout: Double = 60
    public var maxTokens = 768
    public var temperature = 0.0
    /// A plan that differs from the embedded reasoner's by more than this factor on any quantity needs review.
    public var deviationFactor = 2.0
    /// Tool-calling rounds agent 3 may take.
    public var maxToolRounds = 3

    public init(url: String, model: String) {
        self.url = url
        self.model = model
    }

    /// The address without credentials, for messages.
    public var displayURL: String { Redactor.scrub(url) }

    /// The chat-completions endpoint.
    var endpoint: URL? {
        guard var c = URLComponents(string: url), ["http", "https"].contains(c.scheme ?? ""), c.host != nil else { return nil }
        var path = c.path
        while path.hasSuffix("/") { path.removeLast() }
        if path.isEmpty { path = "/v1" }
        c.path = path + "/chat/completions"
        return c.url
    }

    /// The configuration keys (under `llm.`), with their meaning and default.
    public static let keys: [String: String] = [
        "llm.url": "OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1 (llama-server, Ollama, vLLM); unset: the embedded reasoner alone",
        "llm.model": "model name sent with each request (default 'default')",
        "llm.apiKeyFile": "file holding the API key (default: systemd credential llm-api-key, or $PROVISIO_LLM_API_KEY)",
        "llm.timeout": "seconds one answer may take before that agent falls back to the embedded reasoner (default 60)",
        "llm.maxTokens": "most tokens in one answer (default 768)",
        "llm.temperature": "sampling temperature (default 0)",
        "llm.deviationFactor": "a plan more than this factor away from the embedded reasoner's on any quantity needs review (default 2)",
        "llm.maxToolRounds": "tool-calling rounds agent 3 may take (default 3, at most 3)",
    ]

    /// Reads the `llm.*` keys and the environment (`PROVISIO_LLM_URL`, `PROVISIO_LLM_MODEL`,
    /// `PROVISIO_LLM_API_KEY`, or the systemd credential `llm-api-key`); nil when no URL is configured.
    public static func load(values: [String: String], environment: [String: String], file: String) throws -> LLMConfig? {
        func fail(_ key: String, _ message: String) -> ProvisioError { ProvisioError(.configuration, file: file, field: key, message) }
        guard let url = environment["PROVISIO_LLM_URL"] ?? values["llm.url"], !url.isEmpty else { return nil }
        var c = LLMConfig(url: url, model: environment["PROVISIO_LLM_MODEL"] ?? values["llm.model"] ?? "default")
        guard c.endpoint != nil else { throw fail("llm.url", "'\(Redactor.scrub(url))' is not an http(s) URL") }
        c.apiKey = try Secrets.read(
            key: "llm.apiKeyFile", credential: "llm-api-key", env: "PROVISIO_LLM_API_KEY", values: values, environment: environment, file: file)
        func number(_ key: String, _ range: ClosedRange<Double>) throws -> Double? {
            guard let v = values[key] else { return nil }
            guard let d = Double(v), range.contains(d) else {
                throw fail(key, "expected a number from \(Tree.format(range.lowerBound)) to \(Tree.format(range.upperBound)), got '\(v)'")
            }
            return d
        }
        if let d = try number("llm.timeout", 0.1...3600) { c.timeout = d }
        if let d = try number("llm.maxTokens", 16...32_768) { c.maxTokens = Int(d) }
        if let d = try number("llm.temperature", 0...2) { c.temperature = d }
        if let d = try number("llm.deviationFactor", 1.1...100) { c.deviationFactor = d }
        if let d = try number("llm.maxToolRounds", 0...3) { c.maxToolRounds = Int(d) }
        return c
    }
}
