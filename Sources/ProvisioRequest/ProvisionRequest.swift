public import ProvisioCore

/// A `provisio/v1alpha1` `ProvisionRequest`: what a team asks provisio to size.
///
/// The short form and the compact JSON payload are converted into this shape on load, so the
/// agents see one type whatever the team wrote.
public struct ProvisionRequest: Codable, Hashable, Sendable {
    /// Always `provisio/v1alpha1`.
    public var apiVersion: String = "provisio/v1alpha1"
    /// Always `ProvisionRequest`.
    public var kind: String = "ProvisionRequest"
    /// The request's name.
    public var metadata: Metadata
    /// What to size.
    public var spec: Spec

    /// Creates a request.
    public init(metadata: Metadata, spec: Spec) {
        self.metadata = metadata
        self.spec = spec
    }

    /// The name; it names the Deployment and the generated files.
    public struct Metadata: Codable, Hashable, Sendable {
        /// A DNS-1123 label.
        public var name: String
        public init(name: String) { self.name = name }
    }

    /// The request body; only `gitRepo` and `description` are required.
    public struct Spec: Codable, Hashable, Sendable {
        public var gitRepo: String
        public var description: String
        public var app: App?
        public var workload: Workload?
        public var slo: SLO?
        public var tier: Tier?
        public var stateful: Bool?
        public var dependencies: [String]?
        public var target: Target?
        public var history: History?
        public var context: Context?
        public var apply: ApplyMode?

        public init(gitRepo: String, description: String) {
            self.gitRepo = gitRepo
            self.description = description
        }
    }

    /// What the application is made of.
    public struct App: Codable, Hashable, Sendable {
        public var language: String?
        public var framework: String?
        public var image: String?
        public var port: Int?
        public var endpoints: [String]?
        public init() {}
    }

    /// The load the service sees.
    public struct Workload: Codable, Hashable, Sendable {
        public var expectedQps: Double?
        public var peakQps: Double?
        public var concurrentUsers: Int?
        public var pattern: Pattern?
        public init() {}
    }

    /// How the load changes over time.
    public enum Pattern: String, Codable, Hashable, Sendable, CaseIterable {
        case steady, diurnal, spiky, batch
    }

    /// What the service promises.
    public struct SLO: Codable, Hashable, Sendable {
        public var latencyP99Ms: Double?
        public var availability: String?
        public var oomTolerance: OOMTolerance?
        public init() {}
    }

    /// How much an OOM kill hurts.
    public enum OOMTolerance: String, Codable, Hashable, Sendable, CaseIterable {
        case low, medium, high
    }

    /// Where the service runs.
    public enum Tier: String, Codable, Hashable, Sendable, CaseIterable {
        case production, staging, dev
    }

    /// Where the output goes.
    public struct Target: Codable, Hashable, Sendable {
        public var kubernetes: Kubernetes?
        public var proxmox: Proxmox?
        public init() {}
    }

    /// The Kubernetes side of the target.
    public struct Kubernetes: Codable, Hashable, Sendable {
        public var namespace: String?
        public init(namespace: String?) { self.namespace = namespace }
    }

    /// The Proxmox side of the target: VMs the request needs.
    public struct Proxmox: Codable, Hashable, Sendable {
        public var node: String?
        public var vms: [VM]?
        public init() {}
    }

    /// One VM on Proxmox, sized by provisio unless the team fixed a size.
    public struct VM: Codable, Hashable, Sendable {
        public var role: String
        public var name: String?
        public var count: Int?
        public var cores: Int?
        public var memoryMiB: Int?
        public var diskGiB: Int?
        /// The VM already exists with this id: size it from its usage history.
        public var vmid: Int?
        /// Usage carried in the request, for a VM that already runs.
        public var usage: VMUsageSamples?
        public init(role: String) { self.role = role }
    }

    /// A running VM's usage samples.
    public struct VMUsageSamples: Codable, Hashable, Sendable {
        /// Seconds between samples.
        public var stepSeconds: Int
        /// Cores in use at each sample.
        public var cpuCores: [Double]
        /// Memory in use at each sample, MiB.
        public var memoryMiB: [Double]
        public init(stepSeconds: Int, cpuCores: [Double], memoryMiB: [Double]) {
            self.stepSeconds = stepSeconds
            self.cpuCores = cpuCores
            self.memoryMiB = memoryMiB
        }
    }

    /// Where the history of a running service lives.
    public struct History: Codable, Hashable, Sendable {
        public var prometheus: PrometheusRef?
        public var inline: InlineMetrics?
        public init() {}
    }

    /// A workload in Prometheus.
    public struct PrometheusRef: Codable, Hashable, Sendable {
        /// Defaults to the target namespace.
        public var namespace: String?
        /// Defaults to the request's name.
        public var workload: String?
        /// PromQL label matchers instead of the pod-name match.
        public var selector: String?
        /// The container to size when the pod has several.
        public var container: String?
        public init() {}
    }

    /// Usage samples carried in the request itself (the compact payload's `historical_metrics`).
    public struct InlineMetrics: Codable, Hashable, Sendable {
        /// Seconds between samples.
        public var stepSeconds: Int
        /// CPU per pod, in cores.
        public var cpuUsage: [Double]
        /// Memory working set per pod, in bytes.
        public var memoryUsage: [Double]
        /// Pods running at each sample.
        public var replicaCounts: [Double]?
        /// Requests per second across all pods.
        public var requestRate: [Double]?
        public init(stepSeconds: Int, cpuUsage: [Double], memoryUsage: [Double]) {
            self.stepSeconds = stepSeconds
            self.cpuUsage = cpuUsage
            self.memoryUsage = memoryUsage
        }
    }

    /// What the cluster allows.
    public struct Context: Codable, Hashable, Sendable {
        public var namespaceQuota: Quota?
        /// The Deployment's current settings, when the service already runs.
        public var current: Current?
        public init() {}
    }

    /// A namespace quota.
    public struct Quota: Codable, Hashable, Sendable {
        public var cpu: CPUQuantity?
        public var memory: MemoryQuantity?
        public init(cpu: CPUQuantity?, memory: MemoryQuantity?) {
            self.cpu = cpu
            self.memory = memory
        }
    }

    /// Settings of a Deployment that already runs.
    public struct Current: Codable, Hashable, Sendable {
        public var replicas: Int?
        public var requests: ResourcePair?
        public var limits: ResourcePair?
        public init() {}
    }

    /// Whether Terraform and Ansible may apply on their own.
    public enum ApplyMode: String, Codable, Hashable, Sendable, CaseIterable {
        case plan, auto
    }
}

/// Which of the accepted shapes a request file was written in.
public enum RequestForm: String, Codable, Hashable, Sendable {
    /// `apiVersion: provisio/v1alpha1`, `kind: ProvisionRequest`.
    case full
    /// `git_repo` + `app_description`.
    case short
    /// The JSON payload with `app_metadata` and friends.
    case compact
}

/// A request as loaded from a file: the normalized request plus where it came from.
public struct LoadedRequest: Sendable, Hashable {
    /// The path as given (relative paths stay relative, for messages).
    public var path: String
    /// The shape the team wrote.
    public var form: RequestForm
    /// The normalized request.
    public var request: ProvisionRequest
    /// The file's bytes, for digests and determinism.
    public var bytes: [UInt8]

    public init(path: String, form: RequestForm, request: ProvisionRequest, bytes: [UInt8]) {
        self.path = path
        self.form = form
        self.request = request
        self.bytes = bytes
    }
}
