import ArgumentParser
import Foundation
import Logging
import ProvisioCore
import ProvisioPipeline
import ProvisioTools

/// `provisio mcp`: the agents' tools for any MCP client (an IDE assistant, another agent), over stdio.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve provisio's tools over the Model Context Protocol on stdin/stdout.",
        discussion: """
            Tools: validate_request, plan_request, search_knowledge, query_history, check_policy, backtest, \
            estimate_cost, recall_similar. Logs go to stderr; stdout carries only protocol messages.
            """)
    @OptionGroup var common: CommonOptions

    func run() async throws {
        var logger = Logger(label: "provisio") { _ in StreamLogHandler.standardError(label: "provisio") }
        logger.logLevel = common.verbose ? .info : .warning
        let code = await guarded {
            var config = try common.config(remember: false)
            config.offline = common.offline
            let pipeline = try Pipeline(config: config, logger: logger)
            try await MCPServer.run(registry: ToolRegistry(pipeline: pipeline), version: "0.1.0", logger: logger)
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}
