import ProvisioCore
public import ProvisioHistory
public import ProvisioRequest
public import ProvisioStore

/// Where a value in the app profile came from.
public enum ValueSource: String, Codable, Sendable, Hashable {
    /// Written in the request.
    case declared
    /// Read from the application repository.
    case repo
    /// Read from the request's description.
    case description
    /// Neither: provisio's default or a value derived from others.
    case `default`
}

/// A value with its source and the words or file that gave it.
public struct Sourced<Value: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    public var value: Value
    public var source: ValueSource
    public var detail: String
    public init(_ value: Value, _ source: ValueSource, _ detail: String) {
        self.value = value
        self.source = source
        self.detail = detail
    }
}

/// Everything agent 1 learned about the application, each field with its source.
public struct AppProfile: Codable, Sendable, Hashable {
    public var language: Sourced<String>?
    public var framework: Sourced<String>?
    public var baseImage: Sourced<String>?
    public var image: Sourced<String>
    public var port: Sourced<Int>
    public var endpoints: Sourced<[String]>?
    public var expectedQps: Sourced<Double>
    public var peakQps: Sourced<Double>
    public var concurrentUsers: Sourced<Int>?
    public var latencyP99Ms: Sourced<Double>
    public var availability: Sourced<String>
    public var zeroDowntime: Sourced<Bool>
    public var oomTolerance: Sourced<String>
    public var tier: Sourced<String>
    public var stateful: Sourced<Bool>
    public var pattern: Sourced<String>
    public var dependencies: [Sourced<String>]
    public var workers: Sourced<Int>?
}

/// One document retrieval returned, with the numbers agent 2 may use.
public struct RetrievedDocument: Codable, Sendable, Hashable {
    public var id: String
    public var title: String
    /// Why it was retrieved: runtime, framework, dependency:<name>, application, related.
    public var role: String
    /// BM25 relevance.
    public var score: Double
    public var kind: String
    public var profile: KnowledgeDocument.RuntimeProfile?
    public var container: KnowledgeDocument.ContainerProfile?
    public var vm: [KnowledgeDocument.VMTier]?
    /// For a named application: the component of it the request describes.
    public var component: String?
    /// For a named application: the packaging preset whose numbers `container` carries.
    public var preset: String?
    /// Why this document was chosen (the words that matched).
    public var matchedOn: String?
    public var load: String
    public var sources: [String]
}

/// Limits of where the service will run.
public struct ClusterContext: Codable, Sendable, Hashable {
    public var namespace: String
    public var quota: ProvisionRequest.Quota?
    /// The Kubernetes cluster's allocatable and requested resources, when known.
    public var kubernetes: KubernetesCapacity?
    /// The Proxmox nodes' room, when the Proxmox API is configured.
    public var proxmoxNodes: [NodeCapacity]?
}

/// The repository inspection's outcome.
public struct RepoInspection: Codable, Sendable, Hashable {
    public var url: String
    /// read, unreachable or skipped.
    public var status: String
    public var commit: String?
    public var filesRead: Int
    public var facts: RepoFacts?
}

/// One recorded step of an agent's plan.
public struct PlanStep: Codable, Sendable, Hashable {
    public var step: String
    public var detail: String
    public init(_ step: String, _ detail: String) {
        self.step = step
        self.detail = detail
    }
}

/// The route agent 1 chose and why.
public struct Route: Codable, Sendable, Hashable {
    /// knowledge or metrics.
    public var name: String
    public var reason: String
}

/// Agent 1's output.
public struct ContextBundle: Codable, Sendable, Hashable {
    public var requestPath: String
    public var requestForm: RequestForm
    /// Content digest of the request file.
    public var requestDigest: String
    public var request: ProvisionRequest
    public var appProfile: AppProfile
    /// new or existing.
    public var requestKind: String
    public var route: Route
    public var retrieved: [RetrievedDocument]
    public var similar: [ProvisioDatabase.SimilarRun]
    public var history: HistorySummary?
    /// The samples behind `history`, for the backtest (not written out: they can be large).
    public var usage: UsageHistory?
    /// VMs of `target.proxmox` that already run, with what their usage says.
    public var vmHistory: [VMHistorySummary] = []
    /// Their samples, by VM name (not written out).
    public var vmUsage: [String: VMUsage] = [:]
    public var cluster: ClusterContext
    public var repo: RepoInspection
    public var plan: [PlanStep]
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case requestPath, requestForm, requestDigest, request, appProfile, requestKind, route, retrieved, similar, history, vmHistory, cluster, repo, plan,
            warnings
    }
}
