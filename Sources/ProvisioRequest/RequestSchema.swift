import Foundation
public import ProvisioCore

/// The request standard as a ``Schema``: one definition prints the JSON Schema and validates files.
public enum RequestSchema {
    static let dnsLabelPattern = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
    static let dnsLabel = Schema.StringRule(
        pattern: dnsLabelPattern, maxLength: 63,
        hint: "is not a DNS-1123 label: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit")
    /// PromQL label matchers (`app="x", pod=~"x-.*"`): accepted only in this shape, so a request cannot inject PromQL.
    public static let selectorPattern =
        #"^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"([^"\\]|\\.)*"\s*(,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"([^"\\]|\\.)*"\s*)*$"#
    static let selector = Schema.StringRule(
        pattern: selectorPattern, maxLength: 512, hint: "must be PromQL label matchers such as app=\"shop\", pod=~\"api-.*\"")
    static let stackName = Schema.StringRule(
        pattern: "^[A-Za-z0-9][A-Za-z0-9+#. _/-]{0,39}$", maxLength: 40,
        hint: "must be a short name such as go, java, python, gin or spring-boot")
    static let dependency = Schema.StringRule(
        pattern: "^[a-z0-9][a-z0-9._-]{0,39}$", maxLength: 40,
        hint: "must be a short lower-case name such as postgresql, redis or kafka")
    static let image = Schema.StringRule(
        pattern: "^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$", maxLength: 255,
        hint: "is not a container image reference")
    static let endpoint = Schema.StringRule(
        pattern: "^/[A-Za-z0-9._~:/{}*-]{0,199}$", maxLength: 200, hint: "must be a path starting with /")
    static let node = Schema.StringRule(
        pattern: "^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", maxLength: 63, hint: "is not a Proxmox node name")
    static let availability = Schema.StringRule(
        pattern: "^(9[0-9](\\.[0-9]{1,4})?|100)$", maxLength: 8,
        hint: "must be a percentage between 90 and 100, such as \"99.9\"", acceptsNumbers: true)
    static let description = Schema.StringRule(
        maxLength: 4000, check: { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "must not be empty" : nil })
    static let cpu = Schema.StringRule(
        maxLength: 16, hint: nil, acceptsNumbers: true,
        check: { CPUQuantity(parsing: $0) == nil ? "'\($0)' is not a CPU quantity such as 500m or 2" : nil })
    static let memory = Schema.StringRule(
        maxLength: 16, acceptsNumbers: true,
        check: { MemoryQuantity(parsing: $0) == nil ? "'\($0)' is not a memory quantity such as 512Mi or 4Gi" : nil })
    static let gitRepo = Schema.StringRule(maxLength: 512, check: GitRepoAddress.problem(with:))

    static func series(_ d: String) -> Schema {
        .array(items: .number(min: 0), maxItems: 50_000, description: d)
    }

    static let quota = Schema.object(
        properties: [.init("cpu", .string(cpu)), .init("memory", .string(memory))], required: [],
        description: "The namespace's ResourceQuota for requests.")

    static let resources = Schema.object(
        properties: [.init("cpu", .string(cpu)), .init("memory", .string(memory))], required: [])

    static let vm = Schema.object(
        properties: [
            .init("role", .string(dnsLabel, description: "What the VM runs: postgresql, redis, k3s-worker, ...")),
            .init("name", .string(dnsLabel, description: "VM name; defaults to <request>-<role>.")),
            .init("count", .integer(min: 1, max: 20)),
            .init("cores", .integer(min: 1, max: 128, description: "Fix the cores instead of letting provisio size them.")),
            .init("memoryMiB", .integer(min: 256, max: 1_048_576)),
            .init("diskGiB", .integer(min: 1, max: 65_536)),
            .init("vmid", .integer(min: 100, max: 999_999_999, description: "The VM exists: size it from its usage (Proxmox RRD, pve-exporter or usage).")),
            .init(
                "usage",
                .object(
                    properties: [
                        .init("stepSeconds", .integer(min: 1, max: 86_400)), .init("cpuCores", series("Cores in use.")),
                        .init("memoryMiB", series("Memory in use, MiB.")),
                    ], required: ["stepSeconds", "cpuCores", "memoryMiB"], description: "Usage samples of a VM that already runs.")),
        ], required: ["role"])

    /// The full `provisio/v1alpha1` form.
    public static let full = Schema.object(
        properties: [
            .init("apiVersion", .string(.init(enumValues: ["provisio/v1alpha1"]))),
            .init("kind", .string(.init(enumValues: ["ProvisionRequest"]))),
            .init("metadata", .object(properties: [.init("name", .string(dnsLabel, description: "Names the Deployment."))], required: ["name"])),
            .init(
                "spec",
                .object(
                    properties: [
                        .init(
                            "gitRepo",
                            .string(gitRepo, description: "The application's source repository (https, ssh, git@host:path, file:// or a local path).")),
                        .init(
                            "description",
                            .string(description, description: "One paragraph in plain words: what it does, its load, latency target, criticality, datastores.")),
                        .init(
                            "app",
                            .object(
                                properties: [
                                    .init("language", .string(stackName)), .init("framework", .string(stackName)),
                                    .init("image", .string(image)), .init("port", .integer(min: 1, max: 65535)),
                                    .init("endpoints", .array(items: .string(endpoint), maxItems: 200)),
                                ], required: [])),
                        .init(
                            "workload",
                            .object(
                                properties: [
                                    .init("expectedQps", .number(min: 0, max: 10_000_000, description: "Requests per second on a normal day.")),
                                    .init("peakQps", .number(min: 0, max: 10_000_000, description: "Requests per second at the busiest moment.")),
                                    .init("concurrentUsers", .integer(min: 0, max: 100_000_000)),
                                    .init("pattern", .string(.init(enumValues: ProvisionRequest.Pattern.allCases.map(\.rawValue)))),
                                ], required: [])),
                        .init(
                            "slo",
                            .object(
                                properties: [
                                    .init("latencyP99Ms", .number(min: 1, max: 600_000)),
                                    .init("availability", .string(availability)),
                                    .init("oomTolerance", .string(.init(enumValues: ProvisionRequest.OOMTolerance.allCases.map(\.rawValue)))),
                                ], required: [])),
                        .init("tier", .string(.init(enumValues: ProvisionRequest.Tier.allCases.map(\.rawValue)))),
                        .init("stateful", .boolean()),
                        .init("dependencies", .array(items: .string(dependency), maxItems: 32)),
                        .init(
                            "target",
                            .object(
                                properties: [
                                    .init("kubernetes", .object(properties: [.init("namespace", .string(dnsLabel))], required: [])),
                                    .init(
                                        "proxmox",
                                        .object(
                                            properties: [.init("node", .string(node)), .init("vms", .array(items: vm, maxItems: 32))],
                                            required: [])),
                                ], required: [])),
                        .init(
                            "history",
                            .object(
                                properties: [
                                    .init(
                                        "prometheus",
                                        .object(
                                            properties: [
                                                .init("namespace", .string(dnsLabel)), .init("workload", .string(dnsLabel)),
                                                .init("selector", .string(selector)), .init("container", .string(dnsLabel)),
                                            ],
                                            required: [])),
                                    .init(
                                        "inline",
                                        .object(
                                            properties: [
                                                .init("stepSeconds", .integer(min: 1, max: 86_400)),
                                                .init("cpuUsage", series("CPU per pod, cores.")),
                                                .init("memoryUsage", series("Memory working set per pod, bytes.")),
                                                .init("replicaCounts", series("Pods running.")),
                                                .init("requestRate", series("Requests per second, all pods.")),
                                            ], required: ["stepSeconds", "cpuUsage", "memoryUsage"])),
                                ], required: [])),
                        .init(
                            "context",
                            .object(
                                properties: [
                                    .init("namespaceQuota", quota),
                                    .init(
                                        "current",
                                        .object(
                                            properties: [
                                                .init("replicas", .integer(min: 0, max: 10_000)), .init("requests", resources),
                                                .init("limits", resources),
                                            ], required: [])),
                                ], required: [])),
                        .init("apply", .string(.init(enumValues: ProvisionRequest.ApplyMode.allCases.map(\.rawValue)))),
                    ], required: ["gitRepo", "description"])),
        ], required: ["apiVersion", "kind", "metadata", "spec"],
        description: "A provisio/v1alpha1 ProvisionRequest.")

    /// The short form: two keys.
    public static let short = Schema.object(
        properties: [
            .init("git_repo", .string(gitRepo)), .init("app_description", .string(description)),
            .init("name", .string(dnsLabel, description: "Defaults to the repository's name.")),
        ], required: ["git_repo", "app_description"],
        description: "The short form: a repository and a description; everything else is inferred.")

    /// The compact JSON payload.
    public static let compact = Schema.object(
        properties: [
            .init(
                "app_metadata",
                .object(
                    properties: [
                        .init("name", .string(dnsLabel)), .init("git_repo", .string(gitRepo)), .init("description", .string(description)),
                        .init("language", .string(stackName)), .init("framework", .string(stackName)), .init("image", .string(image)),
                        .init("port", .integer(min: 1, max: 65535)), .init("endpoints", .array(items: .string(endpoint), maxItems: 200)),
                        .init("expected_qps", .number(min: 0, max: 10_000_000)), .init("peak_qps", .number(min: 0, max: 10_000_000)),
                        .init("concurrent_users", .integer(min: 0, max: 100_000_000)),
                        .init("sla_latency_ms", .number(min: 1, max: 600_000)), .init("availability", .string(availability)),
                        .init("criticality", .string(.init(enumValues: ["low", "medium", "high", "critical"]))),
                        .init("tier", .string(.init(enumValues: ProvisionRequest.Tier.allCases.map(\.rawValue)))),
                        .init("stateful", .boolean()), .init("dependencies", .array(items: .string(dependency), maxItems: 32)),
                        .init("pattern", .string(.init(enumValues: ProvisionRequest.Pattern.allCases.map(\.rawValue)))),
                    ], required: ["git_repo", "description"])),
            .init(
                "historical_metrics",
                .object(
                    properties: [
                        .init("step_seconds", .integer(min: 1, max: 86_400)),
                        .init("cpu_usage", series("CPU per pod, cores.")), .init("memory_usage", series("Memory per pod, bytes.")),
                        .init("replica_counts", series("Pods running.")), .init("request_rate", series("Requests per second, all pods.")),
                    ], required: ["step_seconds", "cpu_usage", "memory_usage"])),
            .init(
                "deployment_context",
                .object(
                    properties: [
                        .init("namespace", .string(dnsLabel)),
                        .init("tier", .string(.init(enumValues: ProvisionRequest.Tier.allCases.map(\.rawValue)))),
                        .init("namespace_quota", quota), .init("proxmox_node", .string(node)),
                        .init("vms", .array(items: vm, maxItems: 32)),
                        .init("apply", .string(.init(enumValues: ProvisionRequest.ApplyMode.allCases.map(\.rawValue)))),
                    ], required: [])),
            .init(
                "service_manifest",
                .object(
                    properties: [
                        .init("replicas", .integer(min: 0, max: 10_000)),
                        .init("resources", .object(properties: [.init("requests", resources), .init("limits", resources)], required: [])),
                    ], required: [])),
        ], required: ["app_metadata"],
        description: "The compact JSON payload.")

    /// The JSON Schema document that editors use; `provisio schema` prints it.
    public static func document() -> Tree {
        .object([
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("$id", .string("https://provisio.dev/schemas/provision-request-v1alpha1.json")),
            ("title", .string("provisio ProvisionRequest")),
            ("oneOf", .list([full.jsonSchema(), short.jsonSchema(), compact.jsonSchema()])),
        ])
    }
}

/// Which repository addresses a request may name, and why others are refused.
public enum GitRepoAddress {
    /// Returns why `address` is refused, or nil when it is acceptable.
    public static func problem(with address: String) -> String? {
        let a = address
        if a.isEmpty { return "must not be empty" }
        if a.hasPrefix("-") { return "'\(a)' looks like a command-line option; give a repository URL or path" }
        if a.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f }) {
            return "must not contain spaces or control characters"
        }
        if a.contains("::") { return "'\(a)' uses a git remote helper, which is not allowed" }
        let lower = a.lowercased()
        let schemes = ["https://", "http://", "ssh://", "file://"]
        if let scheme = schemes.first(where: { lower.hasPrefix($0) }) {
            let rest = a.dropFirst(scheme.count)
            if scheme != "file://" && (rest.isEmpty || rest.hasPrefix("/")) { return "'\(a)' has no host" }
            if rest.contains("/-") || rest.hasPrefix("-") { return "'\(a)' contains an option-like path segment" }
            return nil
        }
        if lower.range(of: "^[a-z0-9._-]+@[a-z0-9.-]+:[^-]", options: .regularExpression) != nil { return nil }
        if a.hasPrefix("/") || a.hasPrefix("./") || a.hasPrefix("../") { return nil }
        if let colon = a.firstIndex(of: ":"), a[..<colon].allSatisfy({ $0.isLetter || $0 == "+" }) {
            return "'\(a[..<colon])' is not a supported scheme; use https, ssh, git@host:path, file:// or a local path"
        }
        return "'\(a)' is not a repository URL; use https://, ssh://, git@host:path, file:// or a local path"
    }
}
