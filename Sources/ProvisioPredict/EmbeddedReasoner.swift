import Foundation
public import ProvisioContext
public import ProvisioCore
import ProvisioHistory
import ProvisioStore

/// Agent 2 without a model: Little's law, CPU cost per request, the tier's availability rules,
/// and the numbers retrieval returned — every step written down.
public struct PredictAgent: Stage {
    public init() {}

    public func run(_ context: ContextBundle) async throws -> DraftPlan {
        var reasoner = EmbeddedReasoner(context: context)
        return try reasoner.draft()
    }
}

struct EmbeddedReasoner {
    let context: ContextBundle
    var steps: [String] = []
    var assumptions: [String] = []
    var citations: [String] = []

    init(context: ContextBundle) { self.context = context }

    static func f(_ d: Double) -> String { Tree.format((d * 1000).rounded() / 1000) }

    mutating func say(_ s: String) { steps.append("\(steps.count + 1). \(s)") }

    /// The container model: baseline ← runtime ← framework, each field from the most specific document.
    mutating func profile() throws -> KnowledgeDocument.RuntimeProfile {
        var p = KnowledgeDocument.RuntimeProfile()
        for role in ["baseline", "runtime", "framework"] {
            for doc in context.retrieved where doc.role == role {
                if let prof = doc.profile {
                    p = p.overridden(by: prof)
                    citations.append(doc.id)
                }
            }
        }
        let missing = [
            p.baseMemory == nil ? "baseMemory" : nil, p.memoryPerInflight == nil ? "memoryPerInflight" : nil,
            p.cpuMsPerRequest == nil ? "cpuMsPerRequest" : nil,
        ].compactMap { $0 }
        if !missing.isEmpty {
            throw ProvisioError(
                .invalidKnowledge, field: "profile",
                "the retrieved documents give no \(missing.joined(separator: ", ")); add a generic-service document to knowledge/")
        }
        return p
    }

    mutating func draft() throws -> DraftPlan {
        let a = context.appProfile
        let prof = try profile()
        let tier = a.tier.value
        let availability = Double(a.availability.value) ?? 99.9
        let latencyMs = a.latencyP99Ms.value

        // Replicas floor from the tier's availability rules.
        let minReplicas: Int
        if tier == "production" {
            minReplicas = (availability >= 99.95 || a.zeroDowntime.value) ? 3 : 2
        } else {
            minReplicas = 1
        }
        say(
            "Tier \(tier), availability \(a.availability.value)%\(a.zeroDowntime.value ? ", zero downtime" : ""): at least \(minReplicas) replica\(minReplicas == 1 ? "" : "s") so \(minReplicas > 1 ? "one pod can be lost without an outage" : "a restart is an acceptable blip")."
        )
        let utilization = (latencyMs <= 100 || a.pattern.value == "spiky") ? 0.6 : 0.7
        say(
            "Target CPU utilization \(Int(utilization * 100))% (\(utilization < 0.7 ? "tight latency or spiky load needs headroom" : "the usual balance of cost and headroom"))."
        )

        var rec: Recommendation
        var confidence: Double
        if let h = context.history {
            (rec, confidence) = fromHistory(h, prof: prof, minReplicas: minReplicas, utilization: utilization)
        } else if let app = context.retrieved.first(where: { $0.role == "application" }), let container = app.container,
            container.requests?.cpu != nil || container.requests?.memory != nil
        {
            (rec, confidence) = fromApplication(app, container: container, prof: prof, minReplicas: minReplicas, utilization: utilization)
        } else {
            (rec, confidence) = fromKnowledge(prof: prof, minReplicas: minReplicas, utilization: utilization)
        }
        rec.vms = vmPlans()
        if rec.replicas >= 2 {
            rec.pdb = .init(maxUnavailable: 1)
            say("PodDisruptionBudget maxUnavailable 1: drains and upgrades take one pod at a time of \(rec.replicas).")
        }
        return DraftPlan(
            recommendation: rec, reasoning: steps, assumptions: assumptions, citations: Array(Set(citations)).sorted(),
            confidence: (min(0.95, max(0.1, confidence)) * 100).rounded() / 100, reasoner: "embedded",
            plan: [
                "load profile from retrieved documents", "size CPU from load × cost per request", "size memory with Little's law",
                "replicas and HPA from tier and pattern", "size VMs from dependency tiers",
            ])
    }

    mutating func fromKnowledge(prof: KnowledgeDocument.RuntimeProfile, minReplicas: Int, utilization u: Double) -> (Recommendation, Double) {
        let a = context.appProfile
        let E = a.expectedQps.value, P = a.peakQps.value
        let cpuMs = prof.cpuMsPerRequest!
        let maxCores = prof.maxCoresPerPod ?? 4
        let minCpu = prof.minCpu ?? CPUQuantity(millicores: 50)
        let minMem = prof.minMemory ?? MemoryQuantity(bytes: 64 * MemoryQuantity.mebi)
        say("Load: \(Self.f(E)) QPS expected (\(a.expectedQps.source.rawValue)), \(Self.f(P)) QPS at peak (\(a.peakQps.source.rawValue)).")
        let cExp = E * cpuMs / 1000, cPeak = P * cpuMs / 1000
        say(
            "CPU: \(Self.f(cpuMs)) ms per request → \(Self.f(E)) × \(Self.f(cpuMs)) / 1000 = \(Self.f(cExp)) cores expected, \(Self.f(P)) × \(Self.f(cpuMs)) / 1000 = \(Self.f(cPeak)) cores at peak."
        )
        let byCpu = Int((cExp / (maxCores * u)).rounded(.up))
        let replicas = max(minReplicas, byCpu)
        say(
            "Replicas at expected load: max(\(minReplicas) for the tier, ⌈\(Self.f(cExp)) / (\(Self.f(maxCores)) cores per pod × \(Self.f(u)))⌉ = \(byCpu)) = \(replicas)."
        )
        var cpuReq = CPUQuantity(cores: cExp / (Double(replicas) * u))
        cpuReq = max(minCpu, cpuReq).roundedUp(to: cpuReq.millicores > 500 ? 50 : 10)
        say("CPU request per pod: \(Self.f(cExp)) / (\(replicas) × \(Self.f(u))) → \(cpuReq) (floor \(minCpu), rounded up).")

        // The CPU limit caps what one pod can serve; it also bounds in-flight requests per pod.
        let startup = prof.startupCpu ?? CPUQuantity(millicores: 0)
        // A runtime that cannot use more than `maxCores` gains nothing from a higher limit.
        let usable = CPUQuantity(cores: maxCores)
        let cpuLimit = max(min(CPUQuantity(millicores: cpuReq.millicores * 2), max(usable, cpuReq)), startup).roundedUp(to: 50)
        say("CPU limit: max(min(2 × request, \(usable) usable cores), start-up need \(startup)) = \(cpuLimit).")
        let podQpsMax = cpuLimit.cores * 1000 / cpuMs
        let meanLatency = a.latencyP99Ms.value / 2 / 1000
        assumptions.append("mean latency ≈ half of the P99 target (\(Self.f(a.latencyP99Ms.value)) ms)")
        let inflight = podQpsMax * meanLatency
        let inflightMem = Double(prof.memoryPerInflight!.bytes) * inflight
        let base = prof.baseMemory!
        var memReq = MemoryQuantity(bytes: base.bytes + Int64(inflightMem.rounded(.up)))
        memReq = max(minMem, memReq).roundedUp(toMebibytes: memReq.bytes > MemoryQuantity.gibi ? 64 : 16)
        say(
            "Memory (Little's law): a pod at its CPU limit serves \(Self.f(cpuLimit.cores)) × 1000 / \(Self.f(cpuMs)) = \(Self.f(podQpsMax)) QPS; × \(Self.f(meanLatency)) s mean latency = \(Self.f(inflight)) requests in flight × \(prof.memoryPerInflight!) = \(Self.f(inflightMem / 1_048_576)) MiB; + \(base) baseline → request \(memReq)."
        )
        var factor = prof.memoryLimitFactor ?? 1.5
        if a.oomTolerance.value == "low" { factor *= 1.25 }
        let memLimit = MemoryQuantity(bytes: Int64(Double(memReq.bytes) * factor)).roundedUp(toMebibytes: 32)
        say(
            "Memory limit: \(memReq) × \(Self.f(factor)) (\(a.oomTolerance.value == "low" ? "GC headroom, +25% because an OOM kill is costly here" : "GC headroom")) = \(memLimit)."
        )

        var hpa: Recommendation.HPA?
        if a.pattern.value != "batch" {
            let needed = Int((cPeak / (cpuReq.cores * u)).rounded(.up))
            let burst = a.pattern.value == "spiky" ? 1.5 : 1.0
            let maxReplicas = max(replicas + 1, Int((Double(needed) * burst).rounded(.up)))
            hpa = .init(minReplicas: replicas, maxReplicas: maxReplicas, targetCPUUtilization: Int(u * 100))
            say(
                "HPA: peak needs ⌈\(Self.f(cPeak)) / (\(cpuReq) × \(Self.f(u)))⌉ = \(needed) pods\(burst > 1 ? " × 1.5 for bursts" : ""); range \(replicas)–\(maxReplicas) at \(Int(u * 100))% CPU."
            )
        } else {
            say("Batch pattern: no HPA; the job's own parallelism sets the pod count.")
        }
        var confidence = 0.45
        if context.retrieved.contains(where: { $0.role == "runtime" && $0.kind == "runtime" }) { confidence += 0.15 }
        if context.retrieved.contains(where: { $0.role == "framework" }) { confidence += 0.1 }
        if a.peakQps.source != .default || a.expectedQps.source != .default { confidence += 0.1 }
        if a.latencyP99Ms.source != .default { confidence += 0.05 }
        return (
            Recommendation(
                replicas: replicas, requests: .init(cpu: cpuReq, memory: memReq), limits: .init(cpu: cpuLimit, memory: memLimit), hpa: hpa, pdb: nil, vms: []),
            confidence
        )
    }

    /// A well-known application: start from what its maintainers recommend, fill gaps from the runtime model.
    mutating func fromApplication(
        _ app: RetrievedDocument, container: KnowledgeDocument.ContainerProfile, prof: KnowledgeDocument.RuntimeProfile, minReplicas: Int,
        utilization u: Double
    ) -> (Recommendation, Double) {
        let a = context.appProfile
        citations.append(app.id)
        let what = app.component.map { "\(app.title), component \($0)" } ?? app.title
        let source = app.preset.map { "the published size \($0)" } ?? "its maintainers' recommendation (\(app.load))"
        say("The service is \(what) (matched on \(app.matchedOn ?? app.id)); sizing starts from \(source).")
        let estimate = fromKnowledgeQuiet(prof: prof, minReplicas: minReplicas, utilization: u)
        let cpuReq = container.requests?.cpu ?? estimate.requests.cpu!
        let memReq = container.requests?.memory ?? estimate.requests.memory!
        if container.requests?.cpu == nil { say("No CPU request given for it; the runtime model gives \(cpuReq).") }
        if container.requests?.memory == nil { say("No memory request given for it; the runtime model gives \(memReq).") }
        let factor = prof.memoryLimitFactor ?? 1.5
        let memLimit = container.limits?.memory ?? MemoryQuantity(bytes: Int64(Double(memReq.bytes) * factor)).roundedUp(toMebibytes: 32)
        let cpuLimit =
            container.limits?.cpu ?? max(CPUQuantity(millicores: cpuReq.millicores * 2), prof.startupCpu ?? CPUQuantity(millicores: 0)).roundedUp(to: 50)
        say(
            "Requests \(cpuReq)/\(memReq); limits \(cpuLimit)/\(memLimit)\(container.limits == nil ? " (derived: memory × \(Self.f(factor)), CPU × 2)" : " as recommended")."
        )
        var replicas = max(minReplicas, container.replicas ?? 1)
        var hpa: Recommendation.HPA?
        let loadGiven = a.peakQps.source != .default
        if loadGiven, !a.stateful.value, let cpuMs = prof.cpuMsPerRequest, ["app", "archetype"].contains(app.kind) {
            let cPeak = a.peakQps.value * cpuMs / 1000
            let needed = Int((cPeak / (cpuReq.cores * u)).rounded(.up))
            if needed > replicas {
                hpa = .init(minReplicas: replicas, maxReplicas: needed, targetCPUUtilization: Int(u * 100))
                say(
                    "Load: \(Self.f(a.peakQps.value)) QPS × \(Self.f(cpuMs)) ms = \(Self.f(cPeak)) cores at peak → HPA \(replicas)–\(needed) at \(Int(u * 100))%."
                )
            }
        } else if !loadGiven {
            assumptions.append("no load given: the recommendation is for the load the source states")
        }
        replicas = max(1, replicas)
        say("Replicas: max(tier minimum \(minReplicas), recommended \(container.replicas ?? 1)) = \(replicas).")
        return (
            Recommendation(
                replicas: replicas, requests: .init(cpu: cpuReq, memory: memReq), limits: .init(cpu: cpuLimit, memory: memLimit), hpa: hpa, pdb: nil, vms: []),
            0.8
        )
    }

    /// The knowledge-route estimate without writing its steps (used to fill gaps).
    func fromKnowledgeQuiet(prof: KnowledgeDocument.RuntimeProfile, minReplicas: Int, utilization u: Double) -> Recommendation {
        var copy = self
        return copy.fromKnowledge(prof: prof, minReplicas: minReplicas, utilization: u).0
    }

    mutating func fromHistory(_ h: HistorySummary, prof: KnowledgeDocument.RuntimeProfile, minReplicas: Int, utilization u: Double) -> (Recommendation, Double)
    {
        let days = Double(h.windowSeconds) / 86_400
        // Margins shrink as the history grows: a day of data earns less trust than two weeks.
        let margin = min(0.35, 0.10 + 0.15 / max(1, days).squareRoot())
        say(
            "History from \(h.source): \(h.samples) pod samples over \(Self.f(days)) days; safety margin 10% + 15%/√days = \(Int((margin * 100).rounded()))% (it shrinks as the history grows)."
        )
        let current = h.currentLimits ?? context.request.spec.context?.current?.limits

        // CPU: the 95th percentile per pod, corrected for throttling, which hides demand.
        var cpuP95 = h.cpuCores.p95, cpuMax = h.cpuCores.max
        var throttled = false
        if let theta = h.throttlingRatio, theta > 0.05 {
            throttled = true
            let factor = 1 + min(theta, 1)
            say(
                "Throttling: at p95 \(Int((theta * 100).rounded()))% of CFS periods were throttled, so usage understates demand by an unknown amount; assume up to that share more: × (1 + \(Self.f(theta))) = × \(Self.f(factor)): p95 \(Self.f(cpuP95)) → \(Self.f(cpuP95 * factor)) cores, max \(Self.f(cpuMax)) → \(Self.f(cpuMax * factor)) cores."
            )
            cpuP95 *= factor
            cpuMax *= factor
        }
        let cpuReq = max(prof.minCpu ?? CPUQuantity(millicores: 10), CPUQuantity(cores: cpuP95 * (1 + margin))).roundedUp(to: 10)
        say("CPU request: p95 \(Self.f(cpuP95)) cores per pod × \(Self.f(1 + margin)) = \(cpuReq).")
        var cpuLimit = max(
            CPUQuantity(millicores: cpuReq.millicores * 2), CPUQuantity(cores: cpuMax * 1.2), prof.startupCpu ?? CPUQuantity(millicores: 0)
        ).roundedUp(to: 50)
        say("CPU limit: max(2 × request, 1.2 × max \(Self.f(cpuMax))\(prof.startupCpu.map { ", start-up \($0)" } ?? "")) = \(cpuLimit).")
        if throttled, let allowed = current?.cpu, cpuLimit <= allowed {
            let raised = CPUQuantity(cores: allowed.cores * (1 + (h.throttlingRatio ?? 0))).roundedUp(to: 50)
            say("It was throttled at its \(allowed) limit: the limit must rise above it → \(allowed) × \(Self.f(1 + (h.throttlingRatio ?? 0))) = \(raised).")
            cpuLimit = raised
        }

        // Memory: from the peak, never below what an OOM kill proved the container needs.
        let horizonDays = 7.0
        let growth = max(0, h.memoryTrendMiBPerDay) * horizonDays
        var memMiB = h.memoryMiB.max * (1 + margin) + growth
        say(
            "Memory: max \(Self.f(h.memoryMiB.max)) MiB × \(Self.f(1 + margin)) + trend \(Self.f(max(0, h.memoryTrendMiBPerDay))) MiB/day × 7 days = \(Self.f(memMiB)) MiB."
        )
        if h.oomKills > 0 {
            let killedAt = h.oomKilledAtMiB ?? h.memoryMiB.max
            let floor = killedAt * (1 + margin)
            say(
                "OOM kills: \(h.oomKills) in the window, at \(Self.f(killedAt)) MiB\(h.oomKilledAtMiB == nil ? " (the largest sample; no limit series)" : " (the limit in force)"); the demand reached at least that, so memory ≥ \(Self.f(killedAt)) × \(Self.f(1 + margin)) = \(Self.f(floor)) MiB."
            )
            memMiB = max(memMiB, floor)
            if h.oomKills >= 3 {
                assumptions.append("\(h.oomKills) OOM kills at the same limit can mean a leak: then more memory only delays the next kill")
            }
        }
        let memReq = MemoryQuantity(mebibytes: memMiB).roundedUp(toMebibytes: 16)
        let factor = prof.memoryLimitFactor ?? 1.5
        let memLimit = MemoryQuantity(bytes: Int64(Double(memReq.bytes) * factor)).roundedUp(toMebibytes: 32)
        say("Memory request \(memReq); limit × \(Self.f(factor)) for GC and bursts = \(memLimit).")

        // Replicas from what ran, per-pod usage × pods for the HPA range.
        let observedMin = Int((h.replicas?.p50 ?? Double(minReplicas)).rounded(.down))
        let replicas = max(minReplicas, min(observedMin, Int(h.replicas?.max ?? 1)))
        let peakPods = h.replicas?.max ?? 1
        let totalPeakCpu = cpuMax * peakPods
        let needed = Int((totalPeakCpu / (cpuReq.cores * u)).rounded(.up))
        var maxReplicas = max(replicas + 1, needed)
        say(
            "Replicas: max(tier \(minReplicas), observed median \(observedMin)) = \(replicas); peak \(Self.f(cpuMax)) cores × \(Self.f(peakPods)) pods = \(Self.f(totalPeakCpu)) cores → HPA \(replicas)–\(maxReplicas) at \(Int(u * 100))%."
        )
        // A declared peak above anything seen: the observed cost per request says how many pods it needs.
        let peak = context.appProfile.peakQps
        if let ms = h.cpuMsPerRequest, peak.source != .default, let seen = h.requestRate?.max, peak.value > seen {
            let forPeak = Int((peak.value * ms / 1000 / (cpuReq.cores * u)).rounded(.up))
            if forPeak > maxReplicas {
                say(
                    "Declared peak \(Self.f(peak.value)) QPS is above the \(Self.f(seen)) QPS seen; at the observed \(Self.f(ms)) ms of CPU per request it needs ⌈\(Self.f(peak.value)) × \(Self.f(ms)) / 1000 / (\(cpuReq) × \(Self.f(u)))⌉ = \(forPeak) pods → HPA maximum \(forPeak)."
                )
                maxReplicas = forPeak
            }
        }
        if let r = h.currentRequests ?? context.request.spec.context?.current?.requests {
            say(
                "Current: requests \(r.cpu?.description ?? "-")/\(r.memory?.description ?? "-"), limits \(current?.cpu?.description ?? "-")/\(current?.memory?.description ?? "-"); proposed \(cpuReq)/\(memReq), limits \(cpuLimit)/\(memLimit)."
            )
        }
        citations.append(contentsOf: context.retrieved.filter { $0.role == "runtime" || $0.role == "framework" }.map(\.id))
        return (
            Recommendation(
                replicas: replicas, requests: .init(cpu: cpuReq, memory: memReq), limits: .init(cpu: cpuLimit, memory: memLimit),
                hpa: .init(minReplicas: replicas, maxReplicas: maxReplicas, targetCPUUtilization: Int(u * 100)), pdb: nil, vms: []),
            0.6 + min(0.3, days / 30)
        )
    }

    mutating func vmPlans() -> [Recommendation.VMPlan] {
        let name = context.request.metadata.name
        let P = context.appProfile.peakQps.value
        var out: [Recommendation.VMPlan] = []
        for vm in context.request.spec.target?.proxmox?.vms ?? [] {
            let vmName = vm.name ?? "\(name)-\(vm.role)"
            let doc = context.retrieved.first { $0.role == "dependency:\(vm.role)" || ($0.role == "application" && $0.id == vm.role) }
            let dbQps = P
            var cores = 2, mem = 4096, disk = 32
            var floating: Int?
            if let usage = context.vmUsage[vmName] {
                let size = VMSizer.size(usage)
                let from = context.vmHistory.first { $0.name == vmName }
                say(
                    "VM \(vmName) (\(vm.role)) already runs: \(usage.cpuCores.count) samples over \(Self.f(usage.days)) days from \(from?.source ?? "history")\(usage.allocatedCores.map { ", allocated \($0) cores/\(usage.allocatedMemoryMiB ?? 0) MiB" } ?? "")."
                )
                for step in size.reasoning { say("VM \(vmName): \(step)") }
                (cores, mem, floating) = (size.cores, size.memoryMiB, size.floatingMiB)
                if let tier = doc?.vm?.first(where: { $0.upToQps >= P }) ?? doc?.vm?.last { disk = tier.diskGiB }
            } else if let tiers = doc?.vm, !tiers.isEmpty {
                let tier = tiers.first { $0.upToQps >= dbQps } ?? tiers.last!
                (cores, mem, disk) = (tier.cores, tier.memoryMiB, tier.diskGiB)
                citations.append(doc!.id)
                say(
                    "VM \(vmName) (\(vm.role)): \(Self.f(P)) app QPS × 1 query per request = \(Self.f(dbQps)) QPS → tier up to \(Self.f(tier.upToQps)) QPS: \(cores) cores, \(mem) MiB, \(disk) GiB (\(doc!.id))."
                )
                assumptions.append("about one datastore query per request at peak (caches absorb repeated reads)")
            } else {
                say("VM \(vmName) (\(vm.role)): no sizing document for '\(vm.role)'; a minimal 2 cores, 4096 MiB, 32 GiB until one is added.")
                assumptions.append("no knowledge of \(vm.role): minimal VM size")
            }
            if let c = vm.cores { cores = c }
            if let m = vm.memoryMiB { mem = m }
            if let d = vm.diskGiB { disk = d }
            var plan = Recommendation.VMPlan(name: vmName, role: vm.role, count: vm.count ?? 1, cores: cores, memoryMiB: mem, diskGiB: disk)
            plan.floatingMiB = floating.map { min($0, mem) }
            plan.vmid = vm.vmid
            out.append(plan)
        }
        return out
    }
}
