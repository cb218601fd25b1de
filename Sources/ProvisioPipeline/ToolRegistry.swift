public import Foundation
public import ProvisioContext
public import ProvisioCore
import ProvisioHistory
public import ProvisioLLM
import ProvisioPredict
public import ProvisioRefine
import ProvisioRequest
import ProvisioStore

/// One tool: a name, what it does, a JSON Schema for its input, and the function.
public struct ToolSpec: Sendable {
    public let name: String
    public let description: String
    /// JSON Schema of the arguments.
    public let inputSchema: Tree
    let run: @Sendable ([String: Any], Bound?) async throws -> Tree

    init(name: String, description: String, inputSchema: Tree, run: @escaping @Sendable ([String: Any], Bound?) async throws -> Tree) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
        self.run = run
    }

    init(name: String, description: String, inputSchema: Tree, run: @escaping @Sendable ([String: Any]) async throws -> Tree) {
        self.init(name: name, description: description, inputSchema: inputSchema) { a, _ in try await run(a) }
    }
}

/// The request agent 3 is refining, for tools a model calls in the middle of a run.
struct Bound: Sendable {
    var context: ContextBundle
    var team: TeamDeployment?
}

/// A tool was called wrongly: names the argument.
public struct ToolError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

/// The tools provisio's agents use, in one place: what the MCP server offers, what a model may call, and
/// what embedded agent 3 calls.
public struct ToolRegistry: Sendable, ToolCalling {
    public let pipeline: Pipeline
    public let tools: [ToolSpec]

    public init(pipeline: Pipeline) {
        self.pipeline = pipeline
        tools = Self.make(pipeline)
    }

    /// Calls `name` with JSON `arguments`; the answer is structured (a Tree, written as JSON).
    public func call(_ name: String, arguments: Data) async throws -> Tree {
        try await call(name, arguments: arguments, bound: nil)
    }

    public func call(_ name: String, arguments: Tree) async throws -> Tree {
        try await call(name, arguments: Data(arguments.json().utf8), bound: nil)
    }

    func call(_ name: String, arguments: Data, bound: Bound?) async throws -> Tree {
        guard let tool = tools.first(where: { $0.name == name }) else {
            throw ToolError("unknown tool '\(name)'; the tools are \(tools.map(\.name).joined(separator: ", "))")
        }
        let object = arguments.isEmpty ? [:] : (try? JSONSerialization.jsonObject(with: arguments)) as? [String: Any]
        guard let object else { throw ToolError("\(name): the arguments must be a JSON object") }
        return try await tool.run(object, bound)
    }

    /// The tools a model may call while agent 3 refines `context`: the same tools, with the arguments
    /// that name the request (its text, path, namespace, tier, workload) filled in from it and hidden
    /// from the model, so that a model can neither see nor change which request it is checking.
    public func session(for context: ContextBundle, team: TeamDeployment?) -> [SessionTool] {
        let target = context.request.spec.target
        let tier = context.appProfile.tier.value
        var bound: [(String, [String: Any])] = [
            ("check_plan", [:]),
            (
                "check_policy",
                ["path": context.requestPath, "namespace": context.cluster.namespace, "tier": tier].merging(
                    target?.proxmox?.node.map { ["node": $0] } ?? [:]
                ) { a, _ in a }
            ),
            ("estimate_cost", [:]), ("search_knowledge", [:]),
        ]
        if pipeline.config.prometheus != nil, context.route.name == "metrics", let p = context.request.spec.history?.prometheus {
            var args: [String: Any] = ["namespace": p.namespace ?? context.cluster.namespace]
            if let w = p.workload { args["workload"] = w }
            if let s = p.selector { args["selector"] = s }
            bound.append(("backtest", args))
        }
        let scope = Bound(context: context, team: team)
        return bound.compactMap { name, fixed in
            guard let spec = tools.first(where: { $0.name == name }) else { return nil }
            let hidden = Set(fixed.keys).union(
                name == "check_plan"
                    ? ["request", "path"] : name == "check_policy" ? ["node"] : name == "backtest" ? ["namespace", "workload", "selector"] : [])
            let fixedArgs = SendableArgs(fixed)
            return SessionTool(tool: ChatTool(name: name, description: spec.description, parameters: Self.hiding(hidden, in: spec.inputSchema))) {
                json in
                let given = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
                let merged = given.filter { !hidden.contains($0.key) }.merging(fixedArgs.value) { _, b in b }
                let data = try JSONSerialization.data(withJSONObject: merged)
                return try await call(name, arguments: data, bound: scope).json()
            }
        }
    }

    /// The schema without the properties in `hidden`.
    static func hiding(_ hidden: Set<String>, in schema: Tree) -> Tree {
        guard case .map(let entries) = schema else { return schema }
        return .map(
            entries.map { e in
                switch (e.key, e.value) {
                case ("properties", .map(let props)): return Tree.Entry(e.key, .map(props.filter { !hidden.contains($0.key) }))
                case ("required", .list(let names)):
                    return Tree.Entry(
                        e.key,
                        .list(
                            names.filter {
                                if case .string(let n) = $0 { return !hidden.contains(n) }
                                return true
                            }))
                default: return e
                }
            })
    }

    // MARK: - The tools

    static func schema(_ properties: [(String, Tree)], required: [String]) -> Tree {
        .object([
            ("type", .string("object")), ("properties", .object(properties.map { ($0.0, $0.1) })), ("required", .list(required.map(Tree.string))),
            ("additionalProperties", .bool(false)),
        ])
    }
    static func string(_ d: String) -> Tree { .object([("type", .string("string")), ("description", .string(d))]) }
    static func number(_ d: String) -> Tree { .object([("type", .string("number")), ("description", .string(d))]) }
    static let resources = Tree.object([
        ("type", .string("object")),
        ("properties", .object([("cpu", .object([("type", .string("string"))])), ("memory", .object([("type", .string("string"))]))])),
    ])
    static let recommendation = Tree.object([
        ("type", .string("object")),
        (
            "properties",
            .object([
                ("replicas", .object([("type", .string("integer")), ("minimum", .int(0))])), ("requests", resources), ("limits", resources),
                (
                    "hpa",
                    .object([
                        ("type", .string("object")),
                        (
                            "properties",
                            .object([
                                ("minReplicas", .object([("type", .string("integer"))])), ("maxReplicas", .object([("type", .string("integer"))])),
                                ("targetCPUUtilization", .object([("type", .string("integer"))])),
                            ])
                        ),
                    ])
                ),
                ("pdb", .object([("type", .string("object")), ("properties", .object([("maxUnavailable", .object([("type", .string("integer"))]))]))])),
                (
                    "vms",
                    .object([
                        ("type", .string("array")),
                        (
                            "items",
                            .object([
                                ("type", .string("object")),
                                (
                                    "properties",
                                    .object(
                                        [
                                            ("name", "string"), ("role", "string"), ("count", "integer"), ("cores", "integer"), ("memoryMiB", "integer"),
                                            ("diskGiB", "integer"),
                                        ]
                                        .map { ($0.0, .object([("type", .string($0.1))])) })
                                ),
                                ("required", .list(["name", "role", "count", "cores", "memoryMiB", "diskGiB"].map(Tree.string))),
                            ])
                        ),
                    ])
                ),
            ])
        ),
        ("required", .list([.string("replicas"), .string("requests")])),
    ])

    static func arg(_ a: [String: Any], _ key: String, tool: String) throws -> String {
        guard let v = a[key] as? String, !v.isEmpty else { throw ToolError("\(tool): '\(key)' is required (a string)") }
        return v
    }

    /// Decodes a JSON-shaped argument into a Codable type, naming the argument on failure.
    static func decode<T: Decodable>(_ type: T.Type, _ value: Any?, key: String, tool: String) throws -> T {
        guard let value, JSONSerialization.isValidJSONObject(value) || value is String || value is NSNumber else {
            throw ToolError("\(tool): '\(key)' is required")
        }
        do {
            let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw ToolError("\(tool): '\(key)' is not valid: \(ProvisioError.decoding(error, code: .invalidRequest, file: key, what: key).message)")
        }
    }

    /// A request's YAML in a scratch GitOps repository, at `path` (for the policy's path rules): (root, file).
    static func scratch(_ yaml: String, path: String?) throws -> (root: String, file: String) {
        let rel = path ?? "apps/request/provision.yaml"
        let parts = rel.split(separator: "/", omittingEmptySubsequences: false)
        guard !rel.hasPrefix("/"), !parts.contains(".."), !parts.contains(""), rel.hasSuffix(".yaml") || rel.hasSuffix(".yml") || rel.hasSuffix(".json")
        else { throw ToolError("'path' must be a relative path in the GitOps repository ending in .yaml, like apps/orders/provision.yaml") }
        guard yaml.utf8.count <= 1 << 20 else { throw ToolError("'request' is larger than 1 MiB") }
        let root = NSTemporaryDirectory() + "provisio-tool-\(UUID().uuidString.prefix(8))"
        let full = root + "/" + rel
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/.provisio.yaml", contents: Data())
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: full))
        return (root, full)
    }

    static func make(_ pipeline: Pipeline) -> [ToolSpec] {
        let requestArgs: [(String, Tree)] = [
            ("request", string("The provision.yaml (full, short or compact form) as text.")),
            ("path", string("Where it would live in the GitOps repository (default apps/request/provision.yaml); policy path rules apply to it.")),
        ]
        return [
            ToolSpec(
                name: "validate_request",
                description: "Check a provision.yaml against the request standard and the policy; every problem with its field and line.",
                inputSchema: schema(requestArgs, required: ["request"])
            ) { a in
                let (root, file) = try scratch(try arg(a, "request", tool: "validate_request"), path: a["path"] as? String)
                defer { try? FileManager.default.removeItem(atPath: root) }
                let errors = pipeline.validate(path: file)
                return .object([
                    ("valid", .bool(errors.isEmpty)),
                    (
                        "problems",
                        .list(
                            errors.map { e in
                                .object([("field", e.field.map(Tree.string)), ("line", e.line.map(Tree.int)), ("message", .string(e.message))])
                            })
                    ),
                ])
            },
            ToolSpec(
                name: "plan_request",
                description:
                    "Size a provision.yaml with all three agents: the ContextBundle, the DraftPlan with its arithmetic, the FinalPlan with checks and status.",
                inputSchema: schema(requestArgs, required: ["request"])
            ) { a in
                let (root, file) = try scratch(try arg(a, "request", tool: "plan_request"), path: a["path"] as? String)
                defer { try? FileManager.default.removeItem(atPath: root) }
                let r = try await pipeline.plan(path: file)
                return .object([
                    ("context", try TreeEncoder.encode(r.context)), ("draft", try TreeEncoder.encode(r.draft)), ("final", try TreeEncoder.encode(r.final)),
                    ("files", .list(r.files.map { .string($0.path) })),
                ])
            },
            ToolSpec(
                name: "search_knowledge", description: "Search the sizing knowledge base (BM25): runtimes, frameworks, named applications.",
                inputSchema: schema(
                    [
                        ("query", string("Words to look for, e.g. 'postgresql' or 'spring boot heap'.")),
                        ("limit", number("At most this many hits (default 8).")),
                    ],
                    required: ["query"])
            ) { a in
                let limit = min(50, max(1, (a["limit"] as? Int) ?? 8))
                let hits = try pipeline.database.search(try arg(a, "query", tool: "search_knowledge"), limit: limit)
                return .object([
                    (
                        "hits",
                        .list(
                            hits.map { h in
                                .object([
                                    ("id", .string(h.id)), ("title", .string(h.title)), ("kind", .string(h.kind)),
                                    ("score", .number((h.score * 1000).rounded() / 1000)),
                                ])
                            })
                    )
                ])
            },
            ToolSpec(
                name: "query_history",
                description: "What the metrics route reads for a running workload: percentiles, throttling, restarts, OOM kills, events (needs Prometheus).",
                inputSchema: schema(
                    [
                        ("namespace", string("Kubernetes namespace.")), ("workload", string("Deployment, StatefulSet or DaemonSet name.")),
                        ("selector", string("PromQL label matchers instead of the workload's pod names.")),
                        ("window", string("History to read, e.g. 14d (default the configured window).")),
                    ], required: ["namespace"])
            ) { a in
                guard var config = pipeline.config.prometheus else { throw ToolError("query_history: no Prometheus is configured (prometheus.url)") }
                if let w = a["window"] as? String {
                    guard let d = PrometheusConfig.duration(w), d >= 3600 else { throw ToolError("query_history: 'window' must be a duration such as 14d") }
                    config.window = d
                }
                let ref = WorkloadRef(
                    namespace: try arg(a, "namespace", tool: "query_history"), workload: a["workload"] as? String, selector: a["selector"] as? String)
                guard let usage = try await PrometheusHistory(config: config).fetch(ref) else {
                    return .object([("found", .bool(false))])
                }
                return .object([("found", .bool(true)), ("history", try TreeEncoder.encode(HistorySummary(usage)))])
            },
            ToolSpec(
                name: "check_plan",
                description:
                    "Every check agent 3 runs on a plan for a request, fixing nothing: policy bounds, limits at least requests, HPA, namespace quota, cluster room.",
                inputSchema: schema(requestArgs + [("recommendation", recommendation)], required: ["request", "recommendation"])
            ) { a, bound in
                let rec = try decode(ToolRecommendation.self, a["recommendation"], key: "recommendation", tool: "check_plan").plan
                let agent = RefineAgent(policy: pipeline.policy, database: pipeline.database)
                let findings: [RefineAgent.PolicyFinding]
                if let bound {
                    findings = agent.findings(of: rec, context: bound.context, team: bound.team)
                } else {
                    let (root, file) = try scratch(try arg(a, "request", tool: "check_plan"), path: a["path"] as? String)
                    defer { try? FileManager.default.removeItem(atPath: root) }
                    let context = try await pipeline.context(path: file)
                    findings = agent.findings(of: rec, context: context.bundle, team: context.team)
                }
                return .object([("passes", .bool(findings.isEmpty)), ("findings", try TreeEncoder.encode(findings))])
            },
            ToolSpec(
                name: "check_policy", description: "Check a plan against the sizing policy for a request path, namespace and tier.",
                inputSchema: schema(
                    [
                        ("path", string("The request's path in the GitOps repository.")), ("namespace", string("Target namespace.")),
                        ("tier", string("production, staging or dev.")), ("node", string("Proxmox node, if any.")), ("recommendation", recommendation),
                    ], required: ["path", "namespace", "tier", "recommendation"])
            ) { a in
                let rec = try decode(ToolRecommendation.self, a["recommendation"], key: "recommendation", tool: "check_policy").plan
                let tier = try arg(a, "tier", tool: "check_policy")
                guard ["production", "staging", "dev"].contains(tier) else { throw ToolError("check_policy: 'tier' must be production, staging or dev") }
                let findings = RefineAgent(policy: pipeline.policy, database: pipeline.database).checkPolicy(
                    rec, path: try arg(a, "path", tool: "check_policy"), namespace: try arg(a, "namespace", tool: "check_policy"), tier: tier,
                    node: a["node"] as? String)
                return .object([("passes", .bool(findings.isEmpty)), ("findings", try TreeEncoder.encode(findings))])
            },
            ToolSpec(
                name: "backtest", description: "How a plan would have fared against a running workload's history: samples over the limits and requests, slack.",
                inputSchema: schema(
                    [
                        ("namespace", string("Kubernetes namespace.")), ("workload", string("Workload name.")),
                        ("selector", string("PromQL label matchers instead.")), ("requests", resources), ("limits", resources),
                    ], required: ["namespace", "requests"])
            ) { a in
                guard let config = pipeline.config.prometheus else { throw ToolError("backtest: no Prometheus is configured (prometheus.url)") }
                let requests = try decode(ResourcePair.self, a["requests"], key: "requests", tool: "backtest")
                let limits = try a["limits"].map { try decode(ResourcePair.self, $0, key: "limits", tool: "backtest") } ?? ResourcePair(cpu: nil, memory: nil)
                let ref = WorkloadRef(
                    namespace: try arg(a, "namespace", tool: "backtest"), workload: a["workload"] as? String, selector: a["selector"] as? String)
                guard let usage = try await PrometheusHistory(config: config).fetch(ref) else { return .object([("found", .bool(false))]) }
                return .object([("found", .bool(true)), ("backtest", try TreeEncoder.encode(Backtest(history: usage, requests: requests, limits: limits)))])
            },
            ToolSpec(
                name: "estimate_cost", description: "Monthly cost of a plan at the policy's prices: pods at the baseline and at the HPA maximum.",
                inputSchema: schema([("recommendation", recommendation)], required: ["recommendation"])
            ) { a in
                let rec = try decode(ToolRecommendation.self, a["recommendation"], key: "recommendation", tool: "estimate_cost").plan
                return try TreeEncoder.encode(RefineAgent(policy: pipeline.policy, database: pipeline.database).cost(of: rec))
            },
            ToolSpec(
                name: "recall_similar", description: "Past deployments provisio sized that look like this one (memory), with their outcome.",
                inputSchema: schema(
                    [
                        ("language", string("e.g. go, java, python.")), ("framework", string("e.g. gin, spring-boot.")),
                        ("tier", string("production, staging or dev.")),
                        ("peakQps", number("Peak requests per second.")),
                        ("dependencies", .object([("type", .string("array")), ("items", .object([("type", .string("string"))]))])),
                    ], required: [])
            ) { a in
                let runs = try pipeline.database.similarRuns(
                    language: a["language"] as? String, framework: a["framework"] as? String, tier: a["tier"] as? String,
                    peakQps: (a["peakQps"] as? NSNumber)?.doubleValue, dependencies: a["dependencies"] as? [String] ?? [], excludingName: nil)
                return .object([("similar", try TreeEncoder.encode(runs))])
            },
        ]
    }
}

/// JSON-shaped arguments captured by a `@Sendable` closure (they are never mutated).
struct SendableArgs: @unchecked Sendable {
    let value: [String: Any]
    init(_ v: [String: Any]) { value = v }
}

/// The plan shape the tools accept.
struct ToolRecommendation: Decodable {
    var replicas: Int
    var requests: ResourcePair
    var limits: ResourcePair?
    var hpa: Recommendation.HPA?
    var pdb: Recommendation.PDB?
    var vms: [Recommendation.VMPlan]?

    var plan: Recommendation {
        Recommendation(replicas: replicas, requests: requests, limits: limits ?? ResourcePair(cpu: nil, memory: nil), hpa: hpa, pdb: pdb, vms: vms ?? [])
    }
}
