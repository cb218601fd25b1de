import Foundation
import Logging
import ProvisioCore
import ProvisioHistory
import ProvisioPipeline
import ProvisioTestSupport
import Testing

/// Placement on Proxmox nodes and k3s workers for a full cluster, against a stand-in of the Proxmox API.
@Suite(.serialized) struct CapacityTests {
    static let tokenId = "provisio@pve!capacity"
    static let secret = "cap-secret-5e6f-canary"
    static let gib = 1_073_741_824.0

    /// pve01: nearly full; pve02: room; pve03: the most room, but the policy does not allow it; pve04: offline.
    static func api(pve02FreeGiB: Double = 96) throws -> ProxmoxStandIn {
        let nodes: [[String: Any]] = [
            ["node": "pve01", "status": "online", "maxcpu": 16, "maxmem": 64 * gib, "mem": 40 * gib, "cpu": 0.3],
            ["node": "pve02", "status": "online", "maxcpu": 32, "maxmem": 128 * gib, "mem": 20 * gib, "cpu": 0.1],
            ["node": "pve03", "status": "online", "maxcpu": 64, "maxmem": 512 * gib, "mem": 10 * gib, "cpu": 0.05],
            ["node": "pve04", "status": "offline"],
        ]
        let status: [String: Any] = [
            "pve01": ["memory": ["total": 64 * gib, "used": 40 * gib, "free": 24 * gib], "cpuinfo": ["cpus": 16]],
            "pve02": ["memory": ["total": 128 * gib, "used": 20 * gib, "free": 108 * gib], "cpuinfo": ["cpus": 32]],
            "pve03": ["memory": ["total": 512 * gib, "used": 10 * gib, "free": 502 * gib], "cpuinfo": ["cpus": 64]],
        ]
        let resources: [[String: Any]] = [
            ["vmid": 100, "node": "pve01", "type": "qemu", "maxcpu": 8, "maxmem": 60 * gib, "status": "running", "template": 0],
            ["vmid": 200, "node": "pve02", "type": "qemu", "maxcpu": 8, "maxmem": (128 - pve02FreeGiB) * gib, "status": "running", "template": 0],
            ["vmid": 9000, "node": "pve01", "type": "qemu", "maxcpu": 2, "maxmem": 2 * gib, "status": "stopped", "template": 1],
        ]
        return try ProxmoxStandIn(token: "\(tokenId)=\(secret)", nodes: nodes, status: status, resources: resources)
    }

    static func pipeline(_ api: ProxmoxStandIn, secret: String = CapacityTests.secret) throws -> Pipeline {
        let policies = Fixture.temporaryDirectory("policy")
        let text = try String(contentsOfFile: Fixture.root + "/policies/default.yaml", encoding: .utf8).replacingOccurrences(
            of: #"proxmoxNodes: ["*"]"#, with: #"proxmoxNodes: ["pve01", "pve02", "pve04"]"#)
        try text.write(toFile: policies + "/default.yaml", atomically: true, encoding: .utf8)
        var config = PipelineConfig(
            stateDirectory: Fixture.temporaryDirectory("state"), knowledgeDirectory: Fixture.root + "/knowledge", policiesDirectory: policies, offline: true,
            remember: false)
        config.proxmox = ProxmoxConfig(url: api.url, tokenId: tokenId, tokenSecret: secret)
        return try Pipeline(config: config, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    static func request(_ extra: String, capacity: String? = nil, description: String = "Go HTTP API for orders, 200 QPS, production") throws -> String {
        let root = Fixture.temporaryDirectory("capacity")
        let dir = root + "/apps/orders"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if let capacity {
            try FileManager.default.createDirectory(atPath: root + "/cluster", withIntermediateDirectories: true)
            try capacity.write(toFile: root + "/cluster/capacity.yaml", atomically: true, encoding: .utf8)
        }
        let yaml = """
            apiVersion: provisio/v1alpha1
            kind: ProvisionRequest
            metadata: {name: orders}
            spec:
              gitRepo: https://git.example.com/shop/orders.git
              description: \(description)
            \(extra)

            """
        try yaml.write(toFile: dir + "/provision.yaml", atomically: true, encoding: .utf8)
        return dir + "/provision.yaml"
    }

    @Test func aVMGoesToAnAllowedNodeWithRoomNeverAnUnlistedOne() async throws {
        let api = try Self.api()
        defer { api.stop() }
        let r = try await Self.pipeline(api).plan(
            path: try Self.request("  target: {kubernetes: {namespace: shop}, proxmox: {node: pve01, vms: [{role: postgresql, memoryMiB: 16384, cores: 4}]}}"))
        let vm = try #require(r.final.recommendation.vms.first)
        #expect(vm.node == "pve02", "pve01 has 4 GiB free; pve03 has the most room but is not allowed")
        #expect(r.final.changes.contains { $0.field == "vms[0].node" && $0.to == "pve02" })
        #expect(r.final.status == "needs-review")
        #expect(r.final.rounds.contains { $0.tool == "check_capacity" })
        let tfvars = try #require(r.files.first { $0.path.hasSuffix(".auto.tfvars.json") })
        #expect(tfvars.contents.contains(#""node": "pve02""#))
        #expect(r.context.cluster.proxmoxNodes?.first { $0.node == "pve01" }?.freeMemoryMiB == 4096)
        #expect(!r.files.contains { $0.contents.contains(Self.secret) })
    }

    @Test func podsThatDoNotFitTheClusterGetK3sWorkersProposed() async throws {
        let api = try Self.api()
        defer { api.stop() }
        let capacity = """
            apiVersion: provisio/v1alpha1
            kind: ClusterCapacity
            kubernetes:
              allocatable: {cpu: "8", memory: 32Gi}
              requested: {cpu: "7.8", memory: 31Gi}

            """
        let r = try await Self.pipeline(api).plan(
            path: try Self.request("  target: {kubernetes: {namespace: shop}}", capacity: capacity, description: "Go HTTP API for orders, 3000 QPS, production")
        )
        #expect(r.context.cluster.kubernetes?.source == "cluster/capacity.yaml")
        let workers = r.final.recommendation.vms.filter { $0.role == "k3s-worker" }
        #expect(!workers.isEmpty)
        #expect(workers.allSatisfy { $0.node == "pve02" || $0.node == "pve01" })
        #expect(!workers.contains { $0.node == "pve03" })
        #expect(r.final.status == "needs-review")
        #expect(r.final.reasons.contains { $0.contains("proposes k3s workers") })
        let inventory = try #require(r.files.first { $0.path.hasPrefix("ansible/inventory/") })
        #expect(inventory.contents.contains("    node:") && inventory.contents.contains("k3s_cluster:"))
    }

    @Test func aFullClusterAsksForReviewAndProposesNothing() async throws {
        let api = try Self.api(pve02FreeGiB: 2)
        defer { api.stop() }
        let capacity = "kind: ClusterCapacity\nkubernetes:\n  allocatable: {cpu: \"8\", memory: 32Gi}\n  requested: {cpu: \"7.9\", memory: 31.5Gi}\n"
        let r = try await Self.pipeline(api).plan(
            path: try Self.request("  target: {kubernetes: {namespace: shop}}", capacity: capacity, description: "Go HTTP API for orders, 3000 QPS, production")
        )
        #expect(r.final.recommendation.vms.isEmpty)
        #expect(r.final.status == "needs-review")
        #expect(r.final.reasons.contains { $0.contains("the cluster is full") }, "\(r.final.reasons)")
        #expect(r.final.checks.contains { $0.name == "capacity" && !$0.passed })
    }

    @Test func aRefusedTokenIsAClearWarningWithoutTheSecret() async throws {
        let api = try Self.api()
        defer { api.stop() }
        let r = try await Self.pipeline(api, secret: "wrong-canary-9a8b").plan(
            path: try Self.request("  target: {kubernetes: {namespace: shop}, proxmox: {node: pve01, vms: [{role: postgresql}]}}"))
        let warning = try #require(r.context.warnings.first { $0.contains("Proxmox capacity unavailable") })
        #expect(warning.contains("HTTP 401") && warning.contains("proxmox.tokenId"))
        #expect(!warning.contains("wrong-canary-9a8b"))
        #expect(r.context.cluster.proxmoxNodes == nil)
    }

    @Test func aBadCapacityFileNamesTheFileAndField() async throws {
        let api = try Self.api()
        defer { api.stop() }
        let path = try Self.request(
            "  target: {kubernetes: {namespace: shop}}", capacity: "kind: ClusterCapacity\nkubernetes:\n  allocatable: {cpu: \"8\"}\n  requested: {}\n")
        await #expect {
            _ = try await Self.pipeline(api).plan(path: path)
        } throws: { "\($0)".contains("cluster/capacity.yaml: kubernetes.allocatable: needs cpu and memory") }
    }
}
