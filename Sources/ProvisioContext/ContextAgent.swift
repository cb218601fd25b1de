import Foundation
public import Logging
public import ProvisioCore
public import ProvisioGit
public import ProvisioRequest
public import ProvisioStore

/// Maps repository URL prefixes to others, like git's `url.<base>.insteadOf` (for mirrors and tests).
public struct RepoRewrite: Sendable, Hashable {
    public var from: String
    public var to: String
    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    /// Parses `FROM=TO`.
    public init?(argument: String) {
        guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex else { return nil }
        self.init(from: String(argument[..<eq]), to: String(argument[argument.index(after: eq)...]))
    }

    /// Applies the longest matching rewrite.
    public static func apply(_ rules: [RepoRewrite], to url: String) -> String {
        guard let rule = rules.filter({ url.hasPrefix($0.from) }).max(by: { $0.from.count < $1.from.count }) else { return url }
        return rule.to + url.dropFirst(rule.from.count)
    }
}

/// Agent 1: parses and normalizes the request, inspects the app repository, chooses the route,
/// and retrieves sizing knowledge and similar past deployments.
public struct ContextAgent: Stage {
    public let database: ProvisioDatabase
    /// nil: do not inspect repositories (`--offline`).
    public let repositories: RepositoryCache?
    public let rewrites: [RepoRewrite]
    public let logger: Logger
    /// False: retrieve only the generic baseline document (the `--no-retrieval` ablation).
    public var retrieval: Bool = true

    public init(database: ProvisioDatabase, repositories: RepositoryCache?, rewrites: [RepoRewrite], logger: Logger) {
        self.database = database
        self.repositories = repositories
        self.rewrites = rewrites
        self.logger = logger
    }

    public func run(_ input: LoadedRequest) async throws -> ContextBundle {
        var plan: [PlanStep] = []
        var warnings: [String] = []
        let request = input.request
        let spec = request.spec
        plan.append(PlanStep("parse", "\(input.form.rawValue) form, name \(request.metadata.name)"))

        // 1. The application repository.
        let url = RepoRewrite.apply(rewrites, to: spec.gitRepo)
        var inspection = RepoInspection(url: spec.gitRepo, status: "skipped", commit: nil, filesRead: 0, facts: nil)
        if let repositories {
            do {
                let snapshot = try repositories.snapshot(of: url, wanted: RepoInspector.wanted)
                let facts = RepoInspector.inspect(files: snapshot.files)
                inspection = RepoInspection(url: spec.gitRepo, status: "read", commit: snapshot.commit, filesRead: snapshot.files.count, facts: facts)
                plan.append(PlanStep("inspect-repo", "read \(snapshot.files.count) files at \(snapshot.commit.prefix(12))"))
            } catch {
                inspection.status = "unreachable"
                let message = (error as? ProvisioError)?.message ?? String(describing: error)
                warnings.append("app repository unreachable, continuing on the description: \(Redactor.scrub(message))")
                plan.append(PlanStep("inspect-repo", "unreachable"))
                logger.warning("app repository unreachable", metadata: ["request.path": "\(input.path)", "repo": "\(Redactor.scrub(spec.gitRepo))"])
            }
        } else {
            plan.append(PlanStep("inspect-repo", "skipped (offline)"))
        }

        // 2. The description, then the merged profile.
        let facts = DescriptionInference.infer(spec.description)
        plan.append(PlanStep("infer", "read the description"))
        let profile = ProfileBuilder.build(request: request, form: input.form, repo: inspection.facts, description: facts, warnings: &warnings)

        // 3. Route.
        let history = spec.history?.inline.map(Self.summarize)
        let route: Route
        if history != nil {
            route = Route(name: "metrics", reason: "the request carries inline historical metrics")
        } else if spec.history?.prometheus != nil {
            route = Route(name: "knowledge", reason: "Prometheus history is declared but not read in this version; sizing from knowledge")
            warnings.append("spec.history.prometheus is declared but provisio does not query Prometheus yet; sized from knowledge")
        } else {
            route = Route(name: "knowledge", reason: "new service: no history in the request")
        }
        let existing = history != nil || spec.history?.prometheus != nil || spec.context?.current != nil
        plan.append(PlanStep("route", "\(route.name): \(route.reason)"))

        // 4. Retrieval.
        let retrieved = try Retriever(database: database, enabled: retrieval).retrieve(
            profile: profile, name: request.metadata.name, description: spec.description, framework: spec.app?.framework, warnings: &warnings)
        plan.append(PlanStep("retrieve", retrieved.map { "\($0.role)=\($0.id)" }.joined(separator: ", ")))
        let similar = try database.similarRuns(
            language: profile.language?.value, framework: profile.framework?.value, tier: profile.tier.value, peakQps: profile.peakQps.value,
            dependencies: profile.dependencies.map(\.value), excludingName: request.metadata.name)
        plan.append(PlanStep("recall", "\(similar.count) similar past deployments"))

        let namespace = spec.target?.kubernetes?.namespace ?? "default"
        if spec.target?.kubernetes?.namespace == nil { warnings.append("no target namespace given; using 'default'") }
        return ContextBundle(
            requestPath: input.path, requestForm: input.form, requestDigest: Digest.fnv(input.bytes), request: request,
            appProfile: profile, requestKind: existing ? "existing" : "new", route: route, retrieved: retrieved, similar: similar,
            history: history, cluster: ClusterContext(namespace: namespace, quota: spec.context?.namespaceQuota, nodeFree: nil),
            repo: inspection, plan: plan, warnings: warnings)
    }

    static func summarize(_ m: ProvisionRequest.InlineMetrics) -> HistorySummary {
        let mem = m.memoryUsage.map { $0 / 1_048_576 }
        // Least-squares slope of memory over time, per day.
        let n = Double(mem.count)
        let xs = (0..<mem.count).map { Double($0) * Double(m.stepSeconds) / 86_400 }
        let mx = xs.reduce(0, +) / n, my = mem.reduce(0, +) / n
        let sxx = zip(xs, xs).map { ($0 - mx) * ($1 - mx) }.reduce(0, +)
        let sxy = zip(xs, mem).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
        let slope = sxx > 0 ? sxy / sxx : 0
        return HistorySummary(
            source: "inline", cpuCores: Percentiles(m.cpuUsage), memoryMiB: Percentiles(mem),
            requestRate: m.requestRate.flatMap { $0.isEmpty ? nil : Percentiles($0) },
            replicas: m.replicaCounts.flatMap { $0.isEmpty ? nil : Percentiles($0) }, restarts: 0, oomKills: 0, throttlingRatio: nil,
            windowSeconds: m.stepSeconds * m.cpuUsage.count, samples: m.cpuUsage.count, memoryTrendMiBPerDay: (slope * 100).rounded() / 100)
    }
}

/// Digests for determinism checks and commit trailers.
public enum Digest {
    /// 64-bit FNV-1a as 16 hex digits.
    public static func fnv(_ bytes: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            hash ^= UInt64(b)
            hash = hash &* 0x100_0000_01b3
        }
        let s = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
