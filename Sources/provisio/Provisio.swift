import ArgumentParser
import Foundation
import Logging
import ProvisioContext
import ProvisioCore
import ProvisioHistory
import ProvisioLLM
import ProvisioPipeline
import ProvisioRequest

/// The `provisio` command.
@main
struct Provisio: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provisio",
        abstract: "Sizes Kubernetes workloads and Proxmox VMs from a provision.yaml.",
        discussion: """
            Exit codes: 0 success; 1 a request is invalid, violates policy or was rejected; \
            3 provisio could not run (state, knowledge, policy, I/O); 64 wrong usage.
            """,
        subcommands: [
            Plan.self, Validate.self, Reconcile.self, Run.self, ConfigCommand.self, HistoryCommand.self, MCPCommand.self, Schema.self, Index.self, Eval.self,
            Benchmark.self,
        ])
}

/// Options every command that sizes shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "State directory (database, repository cache). Default: $PROVISIO_STATE_DIR or ~/.local/state/provisio.")
    var stateDir: String?
    @Option(help: "Knowledge folder. Default: ./knowledge.")
    var knowledge: String?
    @Option(help: "Policies folder. Default: ./policies.")
    var policies: String?
    @Option(name: .customLong("rewrite-repo"), help: "Rewrite repository URLs, FROM=TO (like git's insteadOf). Repeatable.")
    var rewriteRepo: [String] = []
    @Flag(help: "Do not clone application repositories.")
    var offline = false
    @Option(help: "Prometheus-compatible API for the metrics route (or $PROVISIO_PROMETHEUS_URL; token in $PROVISIO_PROMETHEUS_TOKEN).")
    var prometheus: String?
    @Option(
        name: .customLong("llm-url"),
        help: "OpenAI-compatible API for agents 2 and 3, e.g. http://127.0.0.1:8080/v1 (or $PROVISIO_LLM_URL; key in $PROVISIO_LLM_API_KEY).")
    var llmURL: String?
    @Option(name: .customLong("llm-model"), help: "Model name sent to the LLM server (or $PROVISIO_LLM_MODEL).")
    var llmModel: String?
    @Option(name: .customLong("llm-timeout"), help: "Seconds one model answer may take before the embedded reasoner is used (default 60).")
    var llmTimeout: Double?
    @Flag(name: .shortAndLong, help: "Log progress to stderr.")
    var verbose = false

    func config(remember: Bool = true) throws -> PipelineConfig {
        var c = PipelineConfig.defaults()
        if let stateDir { c.stateDirectory = stateDir }
        if let knowledge { c.knowledgeDirectory = knowledge }
        if let policies { c.policiesDirectory = policies }
        c.rewrites = try rewriteRepo.map { arg in
            guard let r = RepoRewrite(argument: arg) else { throw ValidationError("--rewrite-repo expects FROM=TO, got '\(arg)'") }
            return r
        }
        c.offline = offline
        c.remember = remember
        if let prometheus {
            c.prometheus = try PrometheusConfig.load(
                values: ["prometheus.url": prometheus], environment: ProcessInfo.processInfo.environment.filter { $0.key != "PROVISIO_PROMETHEUS_URL" },
                file: "--prometheus")
        }
        if llmURL != nil || llmModel != nil || llmTimeout != nil {
            var values: [String: String] = [:]
            values["llm.url"] = llmURL ?? ProcessInfo.processInfo.environment["PROVISIO_LLM_URL"]
            values["llm.model"] = llmModel
            values["llm.timeout"] = llmTimeout.map { Tree.format($0) }
            var env = ProcessInfo.processInfo.environment
            env["PROVISIO_LLM_URL"] = nil
            if llmModel != nil { env["PROVISIO_LLM_MODEL"] = nil }
            c.llm = try LLMConfig.load(values: values, environment: env, file: "--llm-url")
            if c.llm == nil { throw ValidationError("--llm-model and --llm-timeout need --llm-url (or $PROVISIO_LLM_URL)") }
        }
        return c
    }

    func logger() -> Logger {
        var l = Logger(label: "provisio") { _ in StreamLogHandler.standardError(label: "provisio") }
        l.logLevel = verbose ? .info : .error
        return l
    }
}

/// Prints to stderr.
func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Runs `body`, mapping provisio's errors to messages and exit codes.
func guarded(_ body: () async throws -> Int32) async -> Int32 {
    do { return try await body() } catch let e as ProvisioErrors {
        printError(e.description)
        return 1
    } catch let e as ProvisioError {
        printError("error: \(e.description)")
        return e.code == .invalidRequest ? 1 : 3
    } catch let e as ValidationError {
        printError("error: \(e.message)")
        return 64
    } catch {
        printError("error: \(Redactor.scrub(String(describing: error)))")
        return 3
    }
}

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Size requests (dry run): print the three agents' outputs and the files.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, yaml, json }

    @Argument(help: "provision.yaml files.") var files: [String]
    @Option(name: .shortAndLong, help: "Output: text, yaml or json.") var output: Format = .text
    @Flag(help: "Write the files under the request's GitOps repository.") var write = false
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let code = await guarded {
            let pipeline = try Pipeline(config: try common.config(), logger: common.logger())
            var failed = false
            var documents: [Tree] = []
            for file in files {
                do {
                    let result = try await pipeline.plan(path: file)
                    if output == .text { print(PlanPrinter.text(result), terminator: "") } else { documents.append(try PlanPrinter.tree(result)) }
                    if write {
                        for path in try Pipeline.write(result) { printError("wrote \(path)") }
                    }
                    if result.final.status == "rejected" { failed = true }
                } catch let e as ProvisioErrors {
                    printError(e.description)
                    failed = true
                } catch let e as ProvisioError where e.code == .invalidRequest {
                    printError(e.description)
                    failed = true
                }
            }
            switch output {
            case .text: break
            case .json: print(Tree.list(documents).json(), terminator: "")
            case .yaml: print(documents.map { $0.yaml() }.joined(separator: "---\n"), terminator: "")
            }
            return failed ? 1 : 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check requests against the schema and policy; prints file:line: field: message per problem.")

    @Argument(help: "provision.yaml files.") var files: [String]
    @Option(help: "Policies folder. Default: ./policies.") var policies: String?
    @Option(help: "State directory.") var stateDir: String?
    @Option(help: "Knowledge folder.") var knowledge: String?

    func run() async throws {
        let code = await guarded {
            var c = PipelineConfig.defaults()
            if let policies { c.policiesDirectory = policies }
            if let stateDir { c.stateDirectory = stateDir }
            if let knowledge { c.knowledgeDirectory = knowledge }
            let pipeline = try Pipeline(config: c, logger: Logger(label: "provisio") { _ in SwiftLogNoOpLogHandler() })
            var problems = 0
            for file in files {
                let errors = pipeline.validate(path: file)
                for e in errors { print(e.description) }
                problems += errors.count
            }
            if problems == 0 { printError("\(files.count) request\(files.count == 1 ? "" : "s") valid") }
            return problems == 0 ? 0 : 1
        }
        if code != 0 { throw ExitCode(code) }
    }
}

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the JSON Schema of provision.yaml.")
    func run() { print(RequestSchema.document().json(), terminator: "") }
}

struct Index: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rebuild the knowledge index.")
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let code = await guarded {
            let pipeline = try Pipeline(config: try common.config(), logger: common.logger())
            try pipeline.database.refreshKnowledge(from: pipeline.config.knowledgeDirectory, force: true)
            print("indexed \(try pipeline.database.allDocuments().count) documents from \(pipeline.config.knowledgeDirectory)")
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}
