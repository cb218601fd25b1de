public import Foundation
public import Logging
public import ProvisioContext
public import ProvisioCore
import ProvisioGit
public import ProvisioHistory
public import ProvisioLLM
public import ProvisioPredict
public import ProvisioRefine
public import ProvisioRender
public import ProvisioRequest
public import ProvisioStore

/// Where provisio finds its inputs and keeps its state.
public struct PipelineConfig: Sendable {
    public var stateDirectory: String
    public var knowledgeDirectory: String
    public var policiesDirectory: String
    public var rewrites: [RepoRewrite]
    /// Skip cloning application repositories.
    public var offline: Bool
    /// Record runs in long-term memory.
    public var remember: Bool
    /// Retrieve knowledge beyond the generic baseline (off for the `--no-retrieval` ablation).
    public var retrieval = true
    /// Run agent 3 (off for the `--no-refine` ablation: the draft is final).
    public var refine = true
    /// Where the metrics route reads the history of running services; nil: knowledge route only.
    public var prometheus: PrometheusConfig?
    /// The Proxmox VE API, for the usage of VMs that already exist.
    public var proxmox: ProxmoxConfig?
    /// An OpenAI-compatible model for agents 2 and 3; nil: the embedded reasoner alone.
    public var llm: LLMConfig?

    public init(
        stateDirectory: String, knowledgeDirectory: String, policiesDirectory: String, rewrites: [RepoRewrite] = [], offline: Bool = false,
        remember: Bool = true
    ) {
        self.stateDirectory = stateDirectory
        self.knowledgeDirectory = knowledgeDirectory
        self.policiesDirectory = policiesDirectory
        self.rewrites = rewrites
        self.offline = offline
        self.remember = remember
    }

    /// Defaults: `$PROVISIO_STATE_DIR`, systemd's `$STATE_DIRECTORY`, else `~/.local/state/provisio`;
    /// knowledge and policies from `$PROVISIO_KNOWLEDGE`/`$PROVISIO_POLICIES`, `./knowledge` and
    /// `./policies`, else `/usr/share/provisio/…`.
    public static func defaults(environment: [String: String] = ProcessInfo.processInfo.environment) -> PipelineConfig {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let state = environment["PROVISIO_STATE_DIR"] ?? environment["STATE_DIRECTORY"] ?? "\(home)/.local/state/provisio"
        func dir(_ env: String, _ name: String) -> String {
            if let v = environment[env] { return v }
            if FileManager.default.fileExists(atPath: name) { return name }
            return "/usr/share/provisio/\(name)"
        }
        var c = PipelineConfig(
            stateDirectory: state, knowledgeDirectory: dir("PROVISIO_KNOWLEDGE", "knowledge"), policiesDirectory: dir("PROVISIO_POLICIES", "policies"))
        c.prometheus = try? PrometheusConfig.load(values: [:], environment: environment, file: "environment")
        c.proxmox = try? ProxmoxConfig.load(values: [:], environment: environment, file: "environment")
        c.llm = try? LLMConfig.load(values: [:], environment: environment, file: "environment")
        return c
    }
}

/// The three agents' outputs and the files for one request.
public struct PlanResult: Sendable {
    public var request: LoadedRequest
    public var root: String
    public var context: ContextBundle
    public var draft: DraftPlan
    public var final: FinalPlan
    public var files: [RenderedFile]
    /// Seconds each stage took, in order: context, predict, refine, render.
    public var timings: [(String, Double)]
}

/// Runs request → context → predict → refine → render, and remembers the run.
public struct Pipeline: Sendable {
    public let config: PipelineConfig
    public let database: ProvisioDatabase
    public let policy: Policy
    public let logger: Logger
    let prometheus: PrometheusHistory?
    let reasoner: LLMReasoner?

    /// Opens the state database, refreshes the knowledge index if its files changed, loads policy.
    public init(config: PipelineConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        database = try ProvisioDatabase(path: (config.stateDirectory as NSString).appendingPathComponent("provisio.sqlite"))
        if try database.refreshKnowledge(from: config.knowledgeDirectory) {
            logger.info("knowledge index rebuilt", metadata: ["knowledge.dir": "\(config.knowledgeDirectory)"])
        }
        policy = try Policy.load(from: config.policiesDirectory)
        prometheus = config.prometheus.map(PrometheusHistory.init)
        reasoner = config.llm.map(LLMReasoner.init)
    }

    /// The GitOps repository root of a request: the nearest folder with `.provisio.yaml` or `.git`,
    /// else the folder two levels up (`apps/<name>/provision.yaml`).
    public static func root(of requestPath: String) -> String {
        let absolute = URL(fileURLWithPath: requestPath).standardizedFileURL.deletingLastPathComponent()
        var dir = absolute
        while dir.path != "/" {
            for marker in [".provisio.yaml", ".git"] where FileManager.default.fileExists(atPath: dir.appendingPathComponent(marker).path) { return dir.path }
            dir = dir.deletingLastPathComponent()
        }
        return absolute.deletingLastPathComponent().deletingLastPathComponent().path
    }

    static func relative(_ path: String, to root: String) -> String {
        let p = URL(fileURLWithPath: path).standardizedFileURL.path
        let r = root.hasSuffix("/") ? root : root + "/"
        return p.hasPrefix(r) ? String(p.dropFirst(r.count)) : (p as NSString).lastPathComponent
    }

    /// Plans one request file.
    public func plan(path: String, loaded: LoadedRequest? = nil) async throws -> PlanResult {
        let loaded = try loaded ?? RequestLoader().load(path: path)
        let root = Self.root(of: path)
        let team = try TeamDeployment.load(folder: (path as NSString).deletingLastPathComponent)
        return try await plan(loaded: loaded, relativePath: Self.relative(path, to: root), root: root, team: team, capacity: try Self.capacity(root: root))
    }

    static func capacity(root: String) throws -> KubernetesCapacity? {
        let capacityFile = (root as NSString).appendingPathComponent(Self.capacityPath)
        return try FileManager.default.contents(atPath: capacityFile).map {
            try KubernetesCapacity.parse(String(decoding: $0, as: UTF8.self), path: Self.capacityPath)
        }
    }

    /// Agent 1 alone on a request file: its ContextBundle and the team's own deployment, if any.
    public func context(path: String) async throws -> (bundle: ContextBundle, team: TeamDeployment?) {
        var loaded = try RequestLoader().load(path: path)
        let root = Self.root(of: path)
        let team = try TeamDeployment.load(folder: (path as NSString).deletingLastPathComponent)
        loaded.path = Self.relative(path, to: root)
        return (try await contextAgent(capacity: try Self.capacity(root: root)).run(loaded), team)
    }

    func contextAgent(capacity: KubernetesCapacity?) -> ContextAgent {
        let repositories = config.offline ? nil : RepositoryCache(directory: (config.stateDirectory as NSString).appendingPathComponent("repos"))
        var contextAgent = ContextAgent(database: database, repositories: repositories, rewrites: config.rewrites, logger: logger)
        contextAgent.retrieval = config.retrieval
        contextAgent.prometheus = prometheus
        contextAgent.proxmox = config.proxmox.map(ProxmoxClient.init)
        contextAgent.clusterCapacity = capacity
        return contextAgent
    }

    /// Where a GitOps repository says how much room its Kubernetes cluster has.
    public static let capacityPath = "cluster/capacity.yaml"

    /// Plans a request already read (from a file or a git blob) at `relativePath` in the repository at `root`.
    public func plan(
        loaded: LoadedRequest, relativePath: String, root: String, team: TeamDeployment?, capacity: KubernetesCapacity? = nil
    ) async throws -> PlanResult {
        let folder = (relativePath as NSString).deletingLastPathComponent
        var forContext = loaded
        forContext.path = relativePath

        let clock = ContinuousClock()
        var timings: [(String, Double)] = []
        func timed<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
            let start = clock.now
            let value = try await body()
            let d = clock.now - start
            timings.append((name, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18))
            return value
        }
        let context = try await timed("context") { try await contextAgent(capacity: capacity).run(forContext) }
        let embedded = try await timed("predict") { try await PredictAgent().run(context) }
        var refiner = RefineAgent(policy: policy, database: database)
        let registry = ToolRegistry(pipeline: self)
        refiner.tools = registry
        var draft = embedded
        if let reasoner {
            draft = await timed("predict (model)") { await reasoner.predict(context, embedded: embedded, team: team, checker: refiner) }
        }
        let final = try await timed("refine") {
            guard config.refine else { return RefineAgent.unrefined(draft) }
            guard let reasoner else { return try await refiner.run(RefineInput(context: context, draft: draft, team: team)) }
            return try await refineWithModel(
                reasoner, context: context, embedded: embedded, draft: draft, team: team, refiner: refiner, registry: registry)
        }
        let files = try await timed("render") {
            try await Renderer().run(RenderInput(context: context, draft: draft, final: final, team: team, requestFolder: folder))
        }
        logger.info("request sized", metadata: ["request.path": "\(relativePath)", "status": "\(final.status)", "summary": "\(final.recommendation.summary)"])
        if config.remember { try remember(context: context, draft: draft, final: final) }
        return PlanResult(request: loaded, root: root, context: context, draft: draft, final: final, files: files, timings: timings)
    }

    /// Agent 3 with a model: its tool-calling review, then the embedded checks on what it ended with (nothing
    /// it says is trusted), then the embedded reasoner's own plan next to it: more than `deviationFactor`
    /// apart on any quantity means needs-review, with both shown.
    func refineWithModel(
        _ reasoner: LLMReasoner, context: ContextBundle, embedded: DraftPlan, draft: DraftPlan, team: TeamDeployment?, refiner: RefineAgent,
        registry: ToolRegistry
    ) async throws -> FinalPlan {
        let tools = registry.session(for: context, team: team)
        let review = await reasoner.review(context, draft: draft, team: team, tools: tools, checker: refiner)
        var reviewed = draft
        reviewed.recommendation = review.recommendation
        var final = try await refiner.run(RefineInput(context: context, draft: reviewed, team: team))
        final.rounds = review.rounds + final.rounds
        final.reasoner = review.reasoner
        guard draft.reasoner == reasoner.label || review.usedModel else { return final }
        let baseline = try await refiner.run(RefineInput(context: context, draft: embedded, team: team))
        let apart = Deviation.compare(final.recommendation, baseline.recommendation, factor: reasoner.config.deviationFactor)
        if !apart.isEmpty {
            final.embedded = baseline.recommendation
            final.reasons.append(
                "the model's plan is more than \(Tree.format(reasoner.config.deviationFactor))× from the embedded reasoner's: \(apart.joined(separator: ", ")) — model: \(final.recommendation.summary); embedded: \(baseline.recommendation.summary)"
            )
            if final.status == "approved" { final.status = "needs-review" }
        }
        return final
    }

    func remember(context: ContextBundle, draft: DraftPlan, final: FinalPlan) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json(_ v: some Encodable) throws -> String { String(decoding: try encoder.encode(v), as: UTF8.self) }
        let p = context.appProfile
        try database.record(
            .init(
                requestName: context.request.metadata.name, requestPath: context.requestPath, requestDigest: context.requestDigest,
                language: p.language?.value, framework: p.framework?.value, tier: p.tier.value, peakQps: p.peakQps.value,
                dependencies: p.dependencies.map(\.value), status: final.status, summary: final.recommendation.summary,
                contextJSON: try json(context), draftJSON: try json(draft), finalJSON: try json(final)))
    }

    /// Writes the files of a plan under its root, each atomically; nothing is written if any path is unsafe.
    public static func write(_ result: PlanResult) throws -> [String] {
        var written: [String] = []
        for f in result.files {
            let full = (result.root as NSString).appendingPathComponent(f.path)
            do {
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(f.contents.utf8).write(to: URL(fileURLWithPath: full), options: .atomic)
            } catch {
                throw ProvisioError(.io, file: full, "cannot write: \(error.localizedDescription)")
            }
            written.append(full)
        }
        return written
    }

    /// Schema and policy problems of a request, without sizing it.
    public func validate(path: String) -> [ProvisioError] {
        let loaded: LoadedRequest
        do { loaded = try RequestLoader().load(path: path) } catch let e as ProvisioErrors { return e.errors } catch let e as ProvisioError { return [e] } catch
        {
            return [ProvisioError(.invalidRequest, file: path, "\(error)")]
        }
        var out: [ProvisioError] = []
        let rel = Self.relative(path, to: Self.root(of: path))
        let ns = loaded.request.spec.target?.kubernetes?.namespace ?? "default"
        let nsField = loaded.form == .compact ? "deployment_context.namespace" : "spec.target.kubernetes.namespace"
        if policy.forbiddenNamespaces.contains(ns) {
            out.append(ProvisioError(.invalidRequest, file: path, line: 1, field: nsField, "namespace '\(ns)' is forbidden by policy"))
        }
        if let rule = policy.rule(for: rel) {
            if !rule.namespaces.contains(where: { Glob.matches($0, ns) }) {
                out.append(
                    ProvisioError(.invalidRequest, file: path, line: 1, field: nsField, "requests under '\(rule.path)' may not target namespace '\(ns)'"))
            }
            if let node = loaded.request.spec.target?.proxmox?.node, !rule.proxmoxNodes.contains(where: { Glob.matches($0, node) }) {
                out.append(
                    ProvisioError(
                        .invalidRequest, file: path, line: 1, field: "spec.target.proxmox.node", "requests under '\(rule.path)' may not use node '\(node)'"))
            }
        } else {
            out.append(ProvisioError(.invalidRequest, file: path, line: 1, field: nil, "no policy path rule covers '\(rel)'"))
        }
        return out
    }
}
