import Foundation
public import Logging
import MCP
import ProvisioCore
public import ProvisioPipeline

/// `provisio mcp`: the tool registry over the Model Context Protocol on stdin/stdout. Only protocol
/// messages go to stdout; logs go to stderr.
public enum MCPServer {
    static func value(_ tree: Tree) throws -> Value { try JSONDecoder().decode(Value.self, from: Data(tree.json().utf8)) }

    public static func run(registry: ToolRegistry, version: String, logger: Logger) async throws {
        let server = Server(name: "provisio", version: version, capabilities: .init(tools: .init(listChanged: false)))
        let tools = try registry.tools.map { try Tool(name: $0.name, description: $0.description, inputSchema: value($0.inputSchema)) }
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: tools) }
        await server.withMethodHandler(CallTool.self) { params in
            guard registry.tools.contains(where: { $0.name == params.name }) else {
                throw MCPError.invalidParams("unknown tool '\(params.name)'; the tools are \(registry.tools.map(\.name).joined(separator: ", "))")
            }
            let arguments = try JSONEncoder().encode(params.arguments ?? [:])
            do {
                let answer = try await registry.call(params.name, arguments: arguments)
                let structured = try value(answer)
                return .init(content: [.text(text: answer.json(), annotations: nil, _meta: nil)], structuredContent: Optional.some(structured), isError: false)
            } catch {
                // A tool's failure is the caller's to read, not a protocol error; never with a secret.
                let message = Redactor.scrub((error as? ProvisioError)?.description ?? (error as? ProvisioErrors)?.description ?? String(describing: error))
                logger.info("tool failed", metadata: ["tool": "\(params.name)", "error": "\(message)"])
                return .init(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
            }
        }
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
    }
}
