import Foundation
public import Logging
public import ProvisioCore
public import ProvisioGit
public import ProvisioHistory
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
    /// Where the history of running services is read; nil: no Prometheus configured.
    public var prometheus: PrometheusHistory?
    /// The Proxmox VE API, for the usage of VMs that already exist and the nodes' room; nil: not configured.
    public var proxmox: ProxmoxClient?
    /// The Kubernetes cluster's room from the GitOps repository's `cluster/capacity.yaml` (else Prometheus is asked).
    public var clusterCapacity: KubernetesCapacity?

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

        // 3. Route: the history is the truth when there is one.
        let (usage, route) = await history(for: request, path: input.path, warnings: &warnings, plan: &plan)
        // The history is the load: the knowledge route's load defaults do not apply.
        if usage != nil { warnings.removeAll { $0.hasPrefix("no load given") } }
        let existing = usage != nil || spec.history?.prometheus != nil || spec.context?.current != nil
        plan.append(PlanStep("route", "\(route.name): \(route.reason)"))

        // 4. Retrieval.
        let retrieved = try Retriever(database: database, enabled: retrieval).retrieve(
            profile: profile, name: request.metadata.name, description: spec.description, framework: spec.app?.framework, warnings: &warnings)
        plan.append(PlanStep("retrieve", retrieved.map { "\($0.role)=\($0.id)" }.joined(separator: ", ")))
        let similar = try database.similarRuns(
            language: profile.language?.value, framework: profile.framework?.value, tier: profile.tier.value, peakQps: profile.peakQps.value,
            dependencies: profile.dependencies.map(\.value), excludingName: request.metadata.name)
        plan.append(PlanStep("recall", "\(similar.count) similar past deployments"))

        // 5. VMs that already run: their own usage history.
        let (vmHistory, vmUsage) = await vmHistories(for: request, warnings: &warnings, plan: &plan)

        // 6. Room: the Kubernetes cluster and the Proxmox nodes.
        var kubernetes = clusterCapacity
        if kubernetes == nil, let prometheus {
            do { kubernetes = try await prometheus.kubernetesCapacity() } catch {
                warnings.append("cluster capacity unavailable: \(Redactor.message(of: error))")
            }
        }
        var nodes: [NodeCapacity]?
        if let proxmox, kubernetes != nil || !(spec.target?.proxmox?.vms ?? []).isEmpty {
            do { nodes = try await proxmox.capacity() } catch {
                warnings.append("Proxmox capacity unavailable: \(Redactor.message(of: error))")
            }
        }
        if kubernetes != nil || nodes != nil {
            plan.append(
                PlanStep(
                    "capacity",
                    [
                        kubernetes.map {
                            "kubernetes from \($0.source): \(Tree.format(($0.freeCores * 100).rounded() / 100)) cores, \(Int($0.freeMiB)) MiB free"
                        },
                        nodes.map { "\($0.count) Proxmox nodes" },
                    ].compactMap { $0 }.joined(separator: "; ")))
        }

        let namespace = spec.target?.kubernetes?.namespace ?? "default"
        if spec.target?.kubernetes?.namespace == nil { warnings.append("no target namespace given; using 'default'") }
        return ContextBundle(
            requestPath: input.path, requestForm: input.form, requestDigest: Digest.fnv(input.bytes), request: request,
            appProfile: profile, requestKind: existing ? "existing" : "new", route: route, retrieved: retrieved, similar: similar,
            history: usage.map(HistorySummary.init), usage: usage, vmHistory: vmHistory, vmUsage: vmUsage,
            cluster: ClusterContext(namespace: namespace, quota: spec.context?.namespaceQuota, kubernetes: kubernetes, proxmoxNodes: nodes),
            repo: inspection, plan: plan, warnings: warnings)
    }

    /// Usage of the request's VMs that already exist: inline samples, else the Proxmox API's RRD data,
    /// else prometheus-pve-exporter series. A VM with no readable history is sized from knowledge, with a warning.
    func vmHistories(for request: ProvisionRequest, warnings: inout [String], plan: inout [PlanStep]) async -> ([VMHistorySummary], [String: VMUsage]) {
        var summaries: [VMHistorySummary] = [], usage: [String: VMUsage] = [:]
        let px = request.spec.target?.proxmox
        for vm in px?.vms ?? [] where vm.vmid != nil || vm.usage != nil {
            let name = vm.name ?? "\(request.metadata.name)-\(vm.role)"
            var found: (VMUsage, String)?
            var problems: [String] = []
            if let u = vm.usage {
                let times = u.cpuCores.indices.map { Double($0 * u.stepSeconds) }
                found = (VMUsage(name: name, times: times, cpuCores: u.cpuCores, memoryMiB: u.memoryMiB), "inline")
            }
            if found == nil, let vmid = vm.vmid, let proxmox {
                if let node = px?.node {
                    do { found = (try await proxmox.usage(node: node, vmid: vmid), "proxmox-rrd") } catch {
                        problems.append(Redactor.message(of: error))
                    }
                } else {
                    problems.append("no spec.target.proxmox.node to read VM \(vmid)'s RRD data from")
                }
            }
            if found == nil, let vmid = vm.vmid, let prometheus {
                do {
                    if let u = try await prometheus.vmUsage(vmid: vmid) {
                        found = (u, "pve-exporter")
                    } else {
                        problems.append("no pve-exporter series for qemu/\(vmid)")
                    }
                } catch { problems.append(Redactor.message(of: error)) }
            }
            guard let (history, source) = found, history.cpuCores.count >= 2 else {
                let why = problems.isEmpty ? "neither the Proxmox API nor Prometheus is configured" : problems.joined(separator: "; ")
                warnings.append("VM \(name) (vmid \(vm.vmid.map(String.init) ?? "-")): no usage history (\(why)); sized from knowledge")
                plan.append(PlanStep("vm-history", "\(name): none"))
                continue
            }
            var u = history
            u.name = name
            summaries.append(VMHistorySummary(name: name, vmid: vm.vmid, source: source, usage: u))
            usage[name] = u
            plan.append(PlanStep("vm-history", "\(name): \(u.cpuCores.count) samples from \(source) over \(Tree.format((u.days * 10).rounded() / 10)) days"))
        }
        return (summaries, usage)
    }

    /// Reads the history (inline or from Prometheus) and chooses the route; a Prometheus that is down,
    /// slow or empty is a warning, and the knowledge route is taken.
    func history(for request: ProvisionRequest, path: String, warnings: inout [String], plan: inout [PlanStep]) async -> (UsageHistory?, Route) {
        let spec = request.spec
        if let m = spec.history?.inline {
            let usage = UsageHistory(inline: m.stepSeconds, cpu: m.cpuUsage, memory: m.memoryUsage, replicas: m.replicaCounts, requestRate: m.requestRate)
            return (usage, Route(name: "metrics", reason: "the request carries inline historical metrics (\(m.cpuUsage.count) samples)"))
        }
        guard let ref = spec.history?.prometheus else { return (nil, Route(name: "knowledge", reason: "new service: no history in the request")) }
        let workload = WorkloadRef(
            namespace: ref.namespace ?? spec.target?.kubernetes?.namespace ?? "default", workload: ref.workload ?? request.metadata.name,
            selector: ref.selector, container: ref.container)
        let what = "\(workload.namespace)/\(ref.selector ?? workload.workload ?? "")"
        guard let prometheus else {
            warnings.append("spec.history.prometheus names \(what) but no Prometheus is configured (--prometheus or prometheus.url); sized from knowledge")
            return (nil, Route(name: "knowledge", reason: "history declared, but no Prometheus is configured"))
        }
        let clock = ContinuousClock(), start = clock.now
        do {
            guard let usage = try await prometheus.fetch(workload) else {
                warnings.append("Prometheus at \(prometheus.client.config.displayURL) has no CPU or memory series for \(what); sized from knowledge")
                plan.append(PlanStep("history", "no series for \(what)"))
                return (nil, Route(name: "knowledge", reason: "Prometheus has no series for \(what)"))
            }
            let days = Double(usage.stepSeconds * usage.times.count) / 86_400
            let ms = Int(((clock.now - start) / .milliseconds(1)).rounded())
            plan.append(
                PlanStep(
                    "history",
                    "read \(usage.cpuSamples.count) pod samples of \(usage.pods.count) pods, step \(usage.stepSeconds) s, \(usage.events.count) events in \(ms) ms"
                ))
            return (
                usage,
                Route(
                    name: "metrics",
                    reason: "Prometheus has \(Tree.format((days * 10).rounded() / 10)) days of history for \(what) (\(usage.pods.count) pods)")
            )
        } catch {
            let message = Redactor.message(of: error)
            warnings.append("history unavailable, sized from knowledge: \(message)")
            logger.warning("Prometheus unavailable", metadata: ["request.path": "\(path)", "error": "\(message)"])
            plan.append(PlanStep("history", "failed: \(message)"))
            return (nil, Route(name: "knowledge", reason: "Prometheus could not be read"))
        }
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
