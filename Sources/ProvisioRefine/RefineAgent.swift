import Foundation
public import ProvisioContext
public import ProvisioCore
import ProvisioHistory
public import ProvisioPredict
public import ProvisioStore

/// Agent 3's output.
public struct FinalPlan: Codable, Sendable, Hashable {
    public var recommendation: Recommendation
    public var rounds: [Round]
    public var checks: [Check]
    public var changes: [Change]
    public var estimatedMonthlyCost: Cost
    /// approved, needs-review or rejected.
    public var status: String
    /// Why the status is not approved.
    public var reasons: [String]
    public var confidence: Double
    /// Which reasoner refined it: embedded, the model's name, or `embedded (fallback: …)`; nil for the embedded one alone.
    public var reasoner: String?
    /// With a language model: the embedded reasoner's final plan, shown when the model's differs from it.
    public var embedded: Recommendation?

    /// One tool call in the ReAct loop.
    public struct Round: Codable, Sendable, Hashable {
        public var round: Int
        public var thought: String
        public var tool: String
        public var input: String
        public var observation: String

        public init(round: Int, thought: String, tool: String, input: String, observation: String) {
            self.round = round
            self.thought = thought
            self.tool = tool
            self.input = input
            self.observation = observation
        }
    }

    /// A check's outcome.
    public struct Check: Codable, Sendable, Hashable {
        public var name: String
        public var passed: Bool
        public var detail: String
    }

    /// A change from the draft.
    public struct Change: Codable, Sendable, Hashable {
        public var field: String
        public var from: String
        public var to: String
        public var reason: String
    }

    /// The monthly estimate at the baseline replica count and at the HPA maximum.
    public struct Cost: Codable, Sendable, Hashable {
        public var currency: String
        public var pods: Double
        public var podsAtMax: Double
        public var vms: Double
        public var total: Double
    }
}

/// What agent 3 reads.
public struct RefineInput: Sendable {
    public var context: ContextBundle
    public var draft: DraftPlan
    public var team: TeamDeployment?
    public init(context: ContextBundle, draft: DraftPlan, team: TeamDeployment?) {
        self.context = context
        self.draft = draft
        self.team = team
    }
}

/// The tool registry, as agent 3 sees it: a tool by name, JSON arguments in, a JSON answer out. The
/// pipeline hands agent 3 the same registry the MCP server serves and a model's tool calls go through.
public protocol ToolCalling: Sendable {
    func call(_ name: String, arguments: Tree) async throws -> Tree
}

/// Agent 3: checks the draft with tools (policy, validation, quota, targeted retrieval, cost),
/// fixes what it may in at most three rounds, and decides approved, needs-review or rejected.
public struct RefineAgent: Stage {
    public let policy: Policy
    public let database: ProvisioDatabase
    /// The registry: targeted retrieval and the cost estimate are called through it (the checks, which
    /// also fix, call the functions the registry's `check_plan` and `check_policy` wrap). Nil: direct calls.
    public var tools: (any ToolCalling)?
    public static let maxRounds = 3

    public init(policy: Policy, database: ProvisioDatabase) {
        self.policy = policy
        self.database = database
    }

    struct Finding {
        let check: String
        let detail: String
        /// Applies the fix and describes it; nil when nothing can be fixed automatically.
        let fix: ((inout Recommendation) -> FinalPlan.Change)?
        /// Whether applying the fix still needs a person to look (a clamp, never a silent change).
        let needsReview: Bool
        let rejects: Bool
    }

    public func run(_ input: RefineInput) async throws -> FinalPlan {
        let ctx = input.context
        var rec = input.draft.recommendation
        var rounds: [FinalPlan.Round] = []
        var changes: [FinalPlan.Change] = []
        var reasons: [String] = []
        var rejected = false
        let tierName = ctx.appProfile.tier.value
        let bounds = policy.tiers[tierName] ?? policy.tiers["production"]!

        // Targeted retrieval: dependencies the first pass found no document for.
        for dep in ctx.appProfile.dependencies where !ctx.retrieved.contains(where: { $0.role == "dependency:\(dep.value)" }) {
            let query = "\(dep.value) database cache queue sizing"
            let hits: [(id: String, score: Double)]
            if let tools {
                let answer = try await tools.call("search_knowledge", arguments: .object([("query", .string(query)), ("limit", .int(3))]))
                hits = try JSONDecoder().decode(SearchAnswer.self, from: Data(answer.json().utf8)).hits.map { ($0.id, $0.score) }
            } else {
                hits = try database.search(query, limit: 3).map { ($0.id, $0.score) }
            }
            rounds.append(
                .init(
                    round: 0, thought: "No profile for dependency \(dep.value); search the knowledge base more broadly.", tool: "search_knowledge",
                    input: dep.value,
                    observation: hits.isEmpty
                        ? "nothing found" : hits.map { "\($0.id) (\(Tree.format(($0.score * 100).rounded() / 100)))" }.joined(separator: ", ")))
        }

        var finalFindings: [Finding] = []
        for round in 1...Self.maxRounds {
            var findings: [Finding] = []
            let policyFindings = policyCheck(rec, ctx: ctx, bounds: bounds)
            rounds.append(
                .init(
                    round: round, thought: "Is the plan inside the \(tierName) policy?", tool: "check_policy", input: rec.summary,
                    observation: policyFindings.isEmpty ? "within bounds" : policyFindings.map(\.detail).joined(separator: "; ")))
            findings += policyFindings
            let validation = validate(rec, ctx: ctx, team: input.team)
            rounds.append(
                .init(
                    round: round, thought: "Would the objects be accepted and work as intended?", tool: "validate_manifests", input: rec.summary,
                    observation: validation.isEmpty ? "valid" : validation.map(\.detail).joined(separator: "; ")))
            findings += validation
            let quota = quotaCheck(rec, ctx: ctx)
            rounds.append(
                .init(
                    round: round, thought: "Does the plan fit the namespace quota?", tool: "check_quota",
                    input: ctx.cluster.quota.map { "cpu \($0.cpu?.description ?? "-"), memory \($0.memory?.description ?? "-")" } ?? "no quota given",
                    observation: quota.isEmpty ? "fits" : quota.map(\.detail).joined(separator: "; ")))
            findings += quota
            if ctx.cluster.kubernetes != nil || ctx.cluster.proxmoxNodes != nil {
                let capacity = capacityCheck(rec, ctx: ctx)
                rounds.append(
                    .init(
                        round: round, thought: "Is there room for it: pods in the cluster, VMs on the Proxmox nodes?", tool: "check_capacity",
                        input: rec.summary, observation: capacity.isEmpty ? "fits" : capacity.map(\.detail).joined(separator: "; ")))
                findings += capacity
            }
            finalFindings = findings
            let fixable = findings.filter { $0.fix != nil }
            if fixable.isEmpty { break }
            for f in fixable {
                let change = f.fix!(&rec)
                changes.append(change)
                if f.needsReview { reasons.append("\(f.check): \(f.detail) → \(change.field) \(change.from) → \(change.to)") }
            }
            finalFindings = []
        }
        // Re-check after the last fixes.
        if finalFindings.isEmpty {
            finalFindings =
                policyCheck(rec, ctx: ctx, bounds: bounds) + validate(rec, ctx: ctx, team: input.team) + quotaCheck(rec, ctx: ctx)
                + capacityCheck(rec, ctx: ctx).filter { $0.fix == nil }
        }
        for f in finalFindings {
            reasons.append("\(f.check): \(f.detail)")
            if f.rejects { rejected = true }
        }

        // Backtest: would the plan have held against the history it came from?
        var backtestChecks: [FinalPlan.Check] = []
        if let usage = ctx.usage {
            let b = Backtest(history: usage, requests: rec.requests, limits: rec.limits)
            let pct = { (d: Double) in "\(Tree.format((d * 1000).rounded() / 10))%" }
            let detail =
                "\(b.samples) pod samples: memory over the limit \(pct(b.memoryOverLimit)), over the request \(pct(b.memoryOverRequest)); CPU over the request \(pct(b.cpuOverRequest))\(b.cpuOverLimit.map { ", over the limit \(pct($0))" } ?? ""); slack CPU \(pct(b.cpuSlack)), memory \(pct(b.memorySlack))"
            rounds.append(
                .init(
                    round: rounds.map(\.round).max() ?? 1, thought: "Would this plan have held against the history it was sized from?", tool: "backtest",
                    input: rec.summary, observation: detail))
            let passed = b.memoryOverLimit <= 0.001 && b.cpuOverRequest <= 0.10
            if !passed { reasons.append("backtest: \(detail)") }
            backtestChecks.append(.init(name: "backtest", passed: passed, detail: detail))
        }

        for vm in rec.vms {
            guard let usage = ctx.vmUsage[vm.name] else { continue }
            let j = VMJudgement(method: "plan", sizes: [usage.name: (Double(vm.cores), Double(vm.memoryMiB))], usage: [usage])
            let pct = { (d: Double) in "\(Tree.format((d * 1000).rounded() / 10))%" }
            let detail =
                "VM \(vm.name), \(usage.cpuCores.count) samples: CPU over \(vm.cores) cores \(pct(j.cpuSamplesOver)), memory over \(vm.memoryMiB) MiB \(pct(j.memorySamplesOver)); slack CPU \(pct(j.cpuSlack)), memory \(pct(j.memorySlack))"
            rounds.append(
                .init(
                    round: rounds.map(\.round).max() ?? 1, thought: "Would this VM size have held against the VM's own usage?", tool: "backtest",
                    input: "\(vm.name) \(vm.cores)c/\(vm.memoryMiB)MiB", observation: detail))
            let passed = j.memorySamplesOver == 0 && j.cpuSamplesOver <= 0.005
            if !passed { reasons.append("backtest: \(detail)") }
            backtestChecks.append(.init(name: "backtest", passed: passed, detail: detail))
        }

        var cost = estimate(rec)
        if let tools {
            let answer = try await tools.call("estimate_cost", arguments: .object([("recommendation", try TreeEncoder.encode(rec))]))
            cost = try JSONDecoder().decode(FinalPlan.Cost.self, from: Data(answer.json().utf8))
        }
        rounds.append(
            .init(
                round: rounds.map(\.round).max() ?? 1, thought: "What will this cost a month?", tool: "estimate_cost", input: rec.summary,
                observation: "\(Tree.format(cost.total)) \(cost.currency) at baseline, pods \(Tree.format(cost.podsAtMax)) at the HPA maximum"))

        var checkNames = ["policy", "validation", "quota"]
        if ctx.cluster.kubernetes != nil || ctx.cluster.proxmoxNodes != nil { checkNames.append("capacity") }
        var checks = checkNames.map { name in
            let failing = finalFindings.filter { $0.check == name }
            let clamped = changes.contains { c in reasons.contains { $0.hasPrefix("\(name):") && $0.contains(c.field) } }
            return FinalPlan.Check(
                name: name, passed: failing.isEmpty,
                detail: failing.isEmpty ? (clamped ? "passes after changes" : "passes") : failing.map(\.detail).joined(separator: "; "))
        }
        let hasRuntime = ctx.retrieved.contains { $0.role == "runtime" }
        checks.append(
            .init(
                name: "knowledge", passed: hasRuntime || ctx.history != nil,
                detail: hasRuntime
                    ? "runtime profile found" : ctx.history != nil ? "sized from history; knowledge only fills gaps" : "only the generic profile was available")
        )
        checks += backtestChecks
        let status = rejected ? "rejected" : reasons.isEmpty ? "approved" : "needs-review"
        var confidence = input.draft.confidence
        if !reasons.isEmpty { confidence -= 0.1 }
        return FinalPlan(
            recommendation: rec, rounds: rounds, checks: checks, changes: changes, estimatedMonthlyCost: cost, status: status, reasons: reasons,
            confidence: (max(0.05, confidence) * 100).rounded() / 100)
    }

    struct SearchAnswer: Decodable {
        var hits: [Hit]
        struct Hit: Decodable {
            var id: String
            var score: Double
        }
    }

    /// The draft taken as final without any checks (the `--no-refine` ablation).
    public static func unrefined(_ draft: DraftPlan) -> FinalPlan {
        FinalPlan(
            recommendation: draft.recommendation, rounds: [], checks: [], changes: [],
            estimatedMonthlyCost: .init(currency: "USD", pods: 0, podsAtMax: 0, vms: 0, total: 0), status: "needs-review",
            reasons: ["refinement was skipped"], confidence: draft.confidence)
    }

    func policyCheck(_ r: Recommendation, ctx: ContextBundle, bounds: Policy.TierBounds) -> [Finding] {
        policyCheck(r, path: ctx.requestPath, namespace: ctx.cluster.namespace, node: ctx.request.spec.target?.proxmox?.node, bounds: bounds)
    }

    /// One policy finding, as the `check_policy` tool reports it.
    public struct PolicyFinding: Codable, Sendable, Hashable {
        /// policy, validation, quota or capacity.
        public var check: String
        public var detail: String
        /// Whether agent 3 can fix it by itself (a clamp), and whether that still needs a person.
        public var fixable: Bool
        public var needsReview: Bool
        public var rejects: Bool
    }

    /// The policy check alone, for a plan of a request at `path` (the `check_policy` tool).
    public func checkPolicy(_ r: Recommendation, path: String, namespace: String, tier: String, node: String?) -> [PolicyFinding] {
        let bounds = policy.tiers[tier] ?? policy.tiers["production"]!
        return policyCheck(r, path: path, namespace: namespace, node: node, bounds: bounds).map {
            PolicyFinding(check: $0.check, detail: $0.detail, fixable: $0.fix != nil, needsReview: $0.needsReview, rejects: $0.rejects)
        }
    }

    /// Every check agent 3 runs on a plan (policy, validation, quota, capacity when known), fixing
    /// nothing: what a language model's plan must pass before it is used (the `check_plan` tool).
    public func findings(of r: Recommendation, context ctx: ContextBundle, team: TeamDeployment?) -> [PolicyFinding] {
        let bounds = policy.tiers[ctx.appProfile.tier.value] ?? policy.tiers["production"]!
        var all = policyCheck(r, ctx: ctx, bounds: bounds) + validate(r, ctx: ctx, team: team) + quotaCheck(r, ctx: ctx)
        if ctx.cluster.kubernetes != nil || ctx.cluster.proxmoxNodes != nil { all += capacityCheck(r, ctx: ctx) }
        return all.map { PolicyFinding(check: $0.check, detail: $0.detail, fixable: $0.fix != nil, needsReview: $0.needsReview, rejects: $0.rejects) }
    }

    /// The bounds of the request's tier.
    public func bounds(for ctx: ContextBundle) -> Policy.TierBounds { policy.tiers[ctx.appProfile.tier.value] ?? policy.tiers["production"]! }

    /// The monthly estimate of a plan (the `estimate_cost` tool).
    public func cost(of r: Recommendation) -> FinalPlan.Cost { estimate(r) }

    func policyCheck(_ r: Recommendation, path: String, namespace: String, node: String?, bounds: Policy.TierBounds) -> [Finding] {
        var out: [Finding] = []
        let ns = namespace
        if policy.forbiddenNamespaces.contains(ns) {
            out.append(Finding(check: "policy", detail: "namespace '\(ns)' is forbidden by policy", fix: nil, needsReview: true, rejects: true))
        }
        if let rule = policy.rule(for: path) {
            if !rule.namespaces.contains(where: { Glob.matches($0, ns) }) {
                out.append(
                    Finding(
                        check: "policy", detail: "requests under '\(rule.path)' may not target namespace '\(ns)'", fix: nil, needsReview: true, rejects: true))
            }
            if let node, !rule.proxmoxNodes.contains(where: { Glob.matches($0, node) }) {
                out.append(
                    Finding(
                        check: "policy", detail: "requests under '\(rule.path)' may not place VMs on node '\(node)'", fix: nil, needsReview: true, rejects: true
                    ))
            }
        } else {
            out.append(Finding(check: "policy", detail: "no path rule covers '\(path)'", fix: nil, needsReview: true, rejects: true))
        }
        if r.replicas < bounds.minReplicas {
            out.append(
                Finding(
                    check: "policy", detail: "\(r.replicas) replicas is below the tier minimum \(bounds.minReplicas)",
                    fix: { rec in
                        let from = rec.replicas
                        rec.replicas = bounds.minReplicas
                        if rec.hpa != nil {
                            rec.hpa!.minReplicas = bounds.minReplicas
                            rec.hpa!.maxReplicas = max(rec.hpa!.maxReplicas, bounds.minReplicas + 1)
                        }
                        if rec.replicas >= 2 && rec.pdb == nil { rec.pdb = .init(maxUnavailable: 1) }
                        return .init(field: "replicas", from: "\(from)", to: "\(bounds.minReplicas)", reason: "tier minimum")
                    }, needsReview: false, rejects: false))
        }
        if let hpa = r.hpa, hpa.maxReplicas > bounds.maxReplicas {
            out.append(
                Finding(
                    check: "policy", detail: "HPA maximum \(hpa.maxReplicas) is above the tier maximum \(bounds.maxReplicas)",
                    fix: { rec in
                        rec.hpa!.maxReplicas = bounds.maxReplicas
                        rec.hpa!.minReplicas = min(rec.hpa!.minReplicas, bounds.maxReplicas)
                        rec.replicas = min(rec.replicas, bounds.maxReplicas)
                        return .init(
                            field: "hpa.maxReplicas", from: "\(hpa.maxReplicas)", to: "\(bounds.maxReplicas)",
                            reason: "tier maximum; peak load may not be served")
                    }, needsReview: true, rejects: false))
        }
        if r.hpa == nil && r.replicas > bounds.maxReplicas {
            out.append(
                Finding(
                    check: "policy", detail: "\(r.replicas) replicas is above the tier maximum \(bounds.maxReplicas)",
                    fix: { rec in
                        let from = rec.replicas
                        rec.replicas = bounds.maxReplicas
                        return .init(field: "replicas", from: "\(from)", to: "\(bounds.maxReplicas)", reason: "tier maximum")
                    }, needsReview: true, rejects: false))
        }
        for (label, q) in [("requests.cpu", r.requests.cpu), ("limits.cpu", r.limits.cpu)] {
            if let q, q > bounds.maxCpu {
                out.append(
                    Finding(
                        check: "policy", detail: "\(label) \(q) is above the tier maximum \(bounds.maxCpu)",
                        fix: { rec in
                            if label == "requests.cpu" { rec.requests.cpu = bounds.maxCpu } else { rec.limits.cpu = bounds.maxCpu }
                            return .init(field: label, from: q.description, to: bounds.maxCpu.description, reason: "per-container CPU bound")
                        }, needsReview: true, rejects: false))
            }
        }
        for (label, q) in [("requests.memory", r.requests.memory), ("limits.memory", r.limits.memory)] {
            if let q, q > bounds.maxMemory {
                out.append(
                    Finding(
                        check: "policy", detail: "\(label) \(q) is above the tier maximum \(bounds.maxMemory)",
                        fix: { rec in
                            if label == "requests.memory" { rec.requests.memory = bounds.maxMemory } else { rec.limits.memory = bounds.maxMemory }
                            return .init(field: label, from: q.description, to: bounds.maxMemory.description, reason: "per-container memory bound")
                        }, needsReview: true, rejects: false))
            }
        }
        if !bounds.cpuLimits, let l = r.limits.cpu {
            out.append(
                Finding(
                    check: "policy", detail: "the tier sets no CPU limits",
                    fix: { rec in
                        rec.limits.cpu = nil
                        return .init(field: "limits.cpu", from: l.description, to: "none", reason: "policy: no CPU limits (no throttling)")
                    }, needsReview: false, rejects: false))
        }
        if let c = r.requests.cpu, let l = r.limits.cpu, c.millicores > 0, l.cores / c.cores > bounds.maxLimitRequestRatio.cpu + 1e-9 {
            let to = CPUQuantity(millicores: Int(Double(c.millicores) * bounds.maxLimitRequestRatio.cpu))
            out.append(
                Finding(
                    check: "policy",
                    detail:
                        "CPU limit/request ratio \(Tree.format((l.cores / c.cores * 100).rounded() / 100)) is above \(Tree.format(bounds.maxLimitRequestRatio.cpu))",
                    fix: { rec in
                        rec.limits.cpu = to
                        return .init(field: "limits.cpu", from: l.description, to: to.description, reason: "limit/request ratio bound")
                    }, needsReview: false, rejects: false))
        }
        if let c = r.requests.memory, let l = r.limits.memory, c.bytes > 0, Double(l.bytes) / Double(c.bytes) > bounds.maxLimitRequestRatio.memory + 1e-9 {
            let to = MemoryQuantity(bytes: Int64(Double(c.bytes) * bounds.maxLimitRequestRatio.memory)).roundedUp(toMebibytes: 1)
            out.append(
                Finding(
                    check: "policy", detail: "memory limit/request ratio is above \(Tree.format(bounds.maxLimitRequestRatio.memory))",
                    fix: { rec in
                        rec.limits.memory = to
                        return .init(field: "limits.memory", from: l.description, to: to.description, reason: "limit/request ratio bound")
                    }, needsReview: false, rejects: false))
        }
        for (i, vm) in r.vms.enumerated() where vm.cores > policy.vm.maxCores || vm.memoryMiB > policy.vm.maxMemoryMiB || vm.diskGiB > policy.vm.maxDiskGiB {
            out.append(
                Finding(
                    check: "policy",
                    detail: "VM \(vm.name) exceeds the VM bounds (\(policy.vm.maxCores) cores, \(policy.vm.maxMemoryMiB) MiB, \(policy.vm.maxDiskGiB) GiB)",
                    fix: { rec in
                        let before = "\(rec.vms[i].cores)c/\(rec.vms[i].memoryMiB)MiB/\(rec.vms[i].diskGiB)GiB"
                        rec.vms[i].cores = min(rec.vms[i].cores, policy.vm.maxCores)
                        rec.vms[i].memoryMiB = min(rec.vms[i].memoryMiB, policy.vm.maxMemoryMiB)
                        rec.vms[i].diskGiB = min(rec.vms[i].diskGiB, policy.vm.maxDiskGiB)
                        return .init(
                            field: "vms[\(i)]", from: before, to: "\(rec.vms[i].cores)c/\(rec.vms[i].memoryMiB)MiB/\(rec.vms[i].diskGiB)GiB",
                            reason: "VM bounds")
                    }, needsReview: true, rejects: false))
        }
        return out
    }

    func validate(_ r: Recommendation, ctx: ContextBundle, team: TeamDeployment?) -> [Finding] {
        var out: [Finding] = []
        if let c = r.requests.cpu, let l = r.limits.cpu, l < c {
            out.append(
                Finding(
                    check: "validation", detail: "CPU limit \(l) is below the request \(c)",
                    fix: { rec in
                        rec.limits.cpu = c
                        return .init(field: "limits.cpu", from: l.description, to: c.description, reason: "limits must be at least the requests")
                    }, needsReview: false, rejects: false))
        }
        if let c = r.requests.memory, let l = r.limits.memory, l < c {
            out.append(
                Finding(
                    check: "validation", detail: "memory limit \(l) is below the request \(c)",
                    fix: { rec in
                        rec.limits.memory = c
                        return .init(field: "limits.memory", from: l.description, to: c.description, reason: "limits must be at least the requests")
                    }, needsReview: true, rejects: false))
        }
        if let h = r.hpa, h.minReplicas != r.replicas {
            out.append(
                Finding(
                    check: "validation", detail: "HPA minimum \(h.minReplicas) differs from replicas \(r.replicas)",
                    fix: { rec in
                        rec.hpa!.minReplicas = rec.replicas
                        rec.hpa!.maxReplicas = max(rec.hpa!.maxReplicas, rec.replicas)
                        return .init(field: "hpa.minReplicas", from: "\(h.minReplicas)", to: "\(rec.replicas)", reason: "the HPA owns the replica count")
                    }, needsReview: false, rejects: false))
        }
        let structural = ManifestBuilder.problems(ManifestBuilder.build(context: ctx, recommendation: r, team: team), recommendation: r, team: team)
        out += structural.filter { !$0.contains("limit") }.map { Finding(check: "validation", detail: $0, fix: nil, needsReview: true, rejects: false) }
        return out
    }

    func quotaCheck(_ r: Recommendation, ctx: ContextBundle) -> [Finding] {
        guard let quota = ctx.cluster.quota else { return [] }
        var out: [Finding] = []
        let maxPods = r.hpa?.maxReplicas ?? r.replicas
        func fit(_ have: Double, _ per: Double) -> Int { per > 0 ? Int((have / per).rounded(.down)) : Int.max }
        let cpuFit = quota.cpu.map { q in fit(q.cores, r.requests.cpu?.cores ?? 0) } ?? Int.max
        let memFit = quota.memory.map { q in fit(Double(q.bytes), Double(r.requests.memory?.bytes ?? 0)) } ?? Int.max
        let fits = min(cpuFit, memFit)
        if fits < r.replicas {
            out.append(
                Finding(
                    check: "quota", detail: "the namespace quota fits only \(fits) pods of this size, fewer than the \(r.replicas) replicas needed", fix: nil,
                    needsReview: true, rejects: false))
        } else if maxPods > fits {
            out.append(
                Finding(
                    check: "quota", detail: "at the HPA maximum \(maxPods) pods need more than the namespace quota (fits \(fits))",
                    fix: { rec in
                        let from = rec.hpa!.maxReplicas
                        rec.hpa!.maxReplicas = max(rec.hpa!.minReplicas, fits)
                        return .init(
                            field: "hpa.maxReplicas", from: "\(from)", to: "\(rec.hpa!.maxReplicas)",
                            reason: "namespace quota; raise the quota to serve the full peak")
                    }, needsReview: true, rejects: false))
        }
        return out
    }

    func estimate(_ r: Recommendation) -> FinalPlan.Cost {
        let p = policy.cost
        let hours = 730.0
        let perPod = (r.requests.cpu?.cores ?? 0) * p.corePerHour + (r.requests.memory?.gibibytes ?? 0) * p.gibPerHour
        let pods = perPod * Double(r.replicas) * hours
        let podsAtMax = perPod * Double(r.hpa?.maxReplicas ?? r.replicas) * hours
        let vms = r.vms.reduce(0.0) { sum, vm in
            sum + Double(vm.count)
                * ((Double(vm.cores) * p.vmCorePerHour + Double(vm.memoryMiB) / 1024 * p.vmGibPerHour) * hours + Double(vm.diskGiB) * p.diskGibPerMonth)
        }
        func round2(_ d: Double) -> Double { (d * 100).rounded() / 100 }
        return .init(currency: p.currency, pods: round2(pods), podsAtMax: round2(podsAtMax), vms: round2(vms), total: round2(pods + vms))
    }
}
