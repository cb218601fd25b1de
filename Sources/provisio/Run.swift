import ArgumentParser
import Foundation
import Logging
import ProvisioCore
import ProvisioDaemon
import ProvisioLLM
import ProvisioPipeline

/// Flags that override the configuration file.
struct DaemonOptions: ParsableArguments {
    @Option(help: "Configuration file.") var config = "/etc/provisio/config.yaml"
    @Option(help: "GitOps repository (overrides repo.url).") var repo: String?
    @Option(help: "Branch (overrides repo.branch).") var branch: String?
    @Option(help: "State directory (overrides stateDir).") var stateDir: String?
    @Option(help: "HTTP port on the loopback address (overrides http.port).") var port: Int?

    func load() throws -> DaemonConfig {
        var env = ProcessInfo.processInfo.environment
        if let repo { env["PROVISIO_REPO"] = repo }
        if let branch { env["PROVISIO_BRANCH"] = branch }
        if let stateDir { env["PROVISIO_STATE_DIR"] = stateDir }
        if let port { env["PROVISIO_HTTP_PORT"] = String(port) }
        // A newcomer without /etc/provisio uses the project's folders.
        if env["PROVISIO_KNOWLEDGE"] == nil, FileManager.default.fileExists(atPath: "knowledge") { env["PROVISIO_KNOWLEDGE"] = "knowledge" }
        if env["PROVISIO_POLICIES"] == nil, FileManager.default.fileExists(atPath: "policies") { env["PROVISIO_POLICIES"] = "policies" }
        if env["PROVISIO_STATE_DIR"] == nil, env["STATE_DIRECTORY"] == nil, !FileManager.default.isWritableFile(atPath: "/var/lib") {
            env["PROVISIO_STATE_DIR"] = PipelineConfig.defaults().stateDirectory
        }
        return try DaemonConfig.load(path: config, environment: env)
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: reconcile the GitOps repository every interval and on push webhooks; serve /healthz, /readyz, /metrics.")
    @OptionGroup var options: DaemonOptions

    func run() async throws {
        let code = await guarded {
            let config = try options.load()
            var logger = Logger(label: "provisio")
            logger.logLevel = .info
            var pipelineConfig = PipelineConfig(
                stateDirectory: config.stateDirectory, knowledgeDirectory: config.knowledgeDirectory, policiesDirectory: config.policiesDirectory)
            pipelineConfig.remember = true
            pipelineConfig.prometheus = config.prometheus
            pipelineConfig.proxmox = config.proxmox
            pipelineConfig.llm = config.llm
            let pipeline = try Pipeline(config: pipelineConfig, logger: logger)
            logger.info(
                "provisio started",
                metadata: ["repo": "\(Redactor.scrub(config.repoURL))", "branch": "\(config.branch)", "http": "\(config.httpAddress):\(config.httpPort)"])
            try await DaemonHTTP.serviceGroup(config: config, pipeline: pipeline, logger: logger).run()
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the daemon's configuration.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load the configuration as `provisio run` would and print it (secrets hidden).")
        @OptionGroup var options: DaemonOptions

        func run() async throws {
            let code = await guarded {
                let c = try options.load()
                print("repo.url: \(Redactor.scrub(c.repoURL))\nrepo.branch: \(c.branch)\nrepo.requests: \(c.requestGlob)\nrepo.prune: \(c.prune)")
                print("interval: \(Tree.format(c.interval))\nhttp.address: \(c.httpAddress)\nhttp.port: \(c.httpPort)\nstateDir: \(c.stateDirectory)")
                print("knowledge: \(c.knowledgeDirectory)\npolicies: \(c.policiesDirectory)\nbot: \(c.botName) <\(c.botEmail)>")
                print("webhook: \(c.webhookSecret == nil ? "disabled (no secret)" : "enabled (secret set)")")
                if let p = c.prometheus {
                    let auth = p.bearerToken != nil ? "bearer token set" : p.username.map { "basic auth as \($0)" } ?? "no auth"
                    print("prometheus: \(p.displayURL) (\(auth)), window \(Tree.format(p.window / 86_400))d, timeout \(Tree.format(p.timeout)) s")
                } else {
                    print("prometheus: not configured (knowledge route only)")
                }
                if let x = c.proxmox {
                    print("proxmox: \(x.displayURL) as \(x.tokenId) (secret set), timeout \(Tree.format(x.timeout)) s")
                } else {
                    print("proxmox: not configured")
                }
                if let l = c.llm {
                    print(
                        "llm: \(l.displayURL) model \(l.model) (\(l.apiKey == nil ? "no API key" : "API key set")), timeout \(Tree.format(l.timeout)) s, deviation factor \(Tree.format(l.deviationFactor))"
                    )
                } else {
                    print("llm: not configured (embedded reasoner)")
                }
                return 0
            }
            if code != 0 { throw ExitCode(code) }
        }
    }
}
