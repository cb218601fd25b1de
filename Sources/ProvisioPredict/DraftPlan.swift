public import ProvisioCore

/// The sizing provisio proposes: pods, autoscaling, disruption budget and VMs.
public struct Recommendation: Codable, Sendable, Hashable {
    public var replicas: Int
    public var requests: ResourcePair
    public var limits: ResourcePair
    public var hpa: HPA?
    public var pdb: PDB?
    public var vms: [VMPlan]

    public init(replicas: Int, requests: ResourcePair, limits: ResourcePair, hpa: HPA?, pdb: PDB?, vms: [VMPlan]) {
        self.replicas = replicas
        self.requests = requests
        self.limits = limits
        self.hpa = hpa
        self.pdb = pdb
        self.vms = vms
    }

    /// A HorizontalPodAutoscaler on CPU utilization.
    public struct HPA: Codable, Sendable, Hashable {
        public var minReplicas: Int
        public var maxReplicas: Int
        public var targetCPUUtilization: Int
        public init(minReplicas: Int, maxReplicas: Int, targetCPUUtilization: Int) {
            self.minReplicas = minReplicas
            self.maxReplicas = maxReplicas
            self.targetCPUUtilization = targetCPUUtilization
        }
    }

    /// A PodDisruptionBudget.
    public struct PDB: Codable, Sendable, Hashable {
        public var maxUnavailable: Int
        public init(maxUnavailable: Int) { self.maxUnavailable = maxUnavailable }
    }

    /// One Proxmox VM.
    public struct VMPlan: Codable, Sendable, Hashable {
        public var name: String
        public var role: String
        public var count: Int
        public var cores: Int
        public var memoryMiB: Int
        public var diskGiB: Int
        /// Balloon minimum (Proxmox `memory.floating`), when sized from usage.
        public var floatingMiB: Int?
        /// The existing VM this plan resizes.
        public var vmid: Int?
        /// The Proxmox node, when provisio chose it (else the request's node).
        public var node: String?
        /// The VM names: the name itself, or name-1 … name-N when there are several.
        public var instances: [String] { count == 1 ? [name] : (1...max(1, count)).map { "\(name)-\($0)" } }
        public init(name: String, role: String, count: Int, cores: Int, memoryMiB: Int, diskGiB: Int) {
            self.name = name
            self.role = role
            self.count = count
            self.cores = cores
            self.memoryMiB = memoryMiB
            self.diskGiB = diskGiB
        }
    }

    /// "3 × 250m/384Mi (limits 500m/576Mi), HPA 3–8"
    public var summary: String {
        var s = "\(replicas) × \(requests.cpu?.description ?? "-")/\(requests.memory?.description ?? "-")"
        s += " (limits \(limits.cpu?.description ?? "none")/\(limits.memory?.description ?? "-"))"
        if let hpa { s += ", HPA \(hpa.minReplicas)–\(hpa.maxReplicas) at \(hpa.targetCPUUtilization)%" }
        for vm in vms { s += ", VM \(vm.name) \(vm.cores)c/\(vm.memoryMiB)MiB/\(vm.diskGiB)GiB" }
        return s
    }
}

/// Agent 2's output.
public struct DraftPlan: Codable, Sendable, Hashable {
    public var recommendation: Recommendation
    /// Numbered steps that show the arithmetic.
    public var reasoning: [String]
    public var assumptions: [String]
    /// Knowledge document ids the numbers came from.
    public var citations: [String]
    public var confidence: Double
    /// Which reasoner produced it.
    public var reasoner: String
    public var plan: [String]

    public init(
        recommendation: Recommendation, reasoning: [String], assumptions: [String], citations: [String], confidence: Double, reasoner: String,
        plan: [String]
    ) {
        self.recommendation = recommendation
        self.reasoning = reasoning
        self.assumptions = assumptions
        self.citations = citations
        self.confidence = confidence
        self.reasoner = reasoner
        self.plan = plan
    }
}
