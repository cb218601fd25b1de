import Foundation
import Logging
import ProvisioCore
import ProvisioHistory
import ProvisioPipeline
import ProvisioTestSupport
import Testing

/// Existing Proxmox VMs sized from their own usage: the Proxmox API's RRD data (a stand-in speaking its
/// wire format), prometheus-pve-exporter series (a real Prometheus) and inline samples.
@Suite(.serialized) struct VMHistoryTests {
    static let tokenId = "provisio@pve!sizing"
    static let secret = "0f1e2d3c-4b5a-6978-secret"

    /// 30 days, hourly: 8 cores allotted, ~0.8 used and 2.4 in a nightly batch; 6 GiB used, 7 GiB in the batch; 16 GiB allotted.
    static var rrd: [[String: Double]] {
        let end = 1_790_000_000.0
        var points: [[String: Double]] = (0..<(30 * 24)).map { h in
            let batch = h % 24 == 3
            return [
                "time": end - Double(30 * 24 - h) * 3600, "cpu": batch ? 0.3 : 0.1, "maxcpu": 8, "mem": (batch ? 7168 : 6144) * 1_048_576,
                "maxmem": 16384 * 1_048_576, "netin": 1200,
            ]
        }
        // The VM was off for a while: Proxmox returns points with the time only.
        points += (1...5).map { ["time": end + Double($0) * 3600] }
        return points
    }

    static func request(vms: String, node: String = "pve01") throws -> String {
        let dir = Fixture.temporaryDirectory("vm") + "/apps/orders"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/provision.yaml"
        let yaml = """
            apiVersion: provisio/v1alpha1
            kind: ProvisionRequest
            metadata: {name: orders}
            spec:
              gitRepo: https://git.example.com/shop/orders.git
              description: Go HTTP API for orders, 200 QPS, production
              target:
                kubernetes: {namespace: shop}
                proxmox: {node: \(node), vms: \(vms)}

            """
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func pipeline(proxmox: ProxmoxConfig? = nil, prometheus: PrometheusConfig? = nil) throws -> Pipeline {
        var config = PipelineConfig(
            stateDirectory: Fixture.temporaryDirectory("state"), knowledgeDirectory: Fixture.root + "/knowledge",
            policiesDirectory: Fixture.root + "/policies", offline: true, remember: false)
        config.proxmox = proxmox
        config.prometheus = prometheus
        return try Pipeline(config: config, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    @Test func anExistingVMIsSizedFromItsRRDData() async throws {
        let api = try ProxmoxStandIn(token: "\(Self.tokenId)=\(Self.secret)", rrd: ["pve01/101": Self.rrd])
        defer { api.stop() }
        let pipeline = try Self.pipeline(proxmox: ProxmoxConfig(url: api.url, tokenId: Self.tokenId, tokenSecret: Self.secret))
        let r = try await pipeline.plan(path: try Self.request(vms: "[{role: postgresql, vmid: 101}]"))

        let request = try #require(api.requests.first)
        #expect(request.contains("/api2/json/nodes/pve01/qemu/101/rrddata"))
        #expect(request.contains("\"month\"") && request.contains("\"MAX\""))
        let h = try #require(r.context.vmHistory.first)
        #expect(h.source == "proxmox-rrd")
        #expect(h.samples == 30 * 24, "points of a VM that was off are left out")
        #expect(h.allocatedCores == 8 && h.allocatedMemoryMiB == 16384)
        let vm = try #require(r.final.recommendation.vms.first)
        // Peak 2.4 cores × 1.1 → 3 cores; peak 7168 MiB × 1.1 + 1280 = 9164.8 → 9216 MiB (1 GiB steps above 8 GiB).
        #expect(vm.cores == 3)
        #expect(vm.memoryMiB == 9216)
        #expect(vm.vmid == 101)
        let floating = try #require(vm.floatingMiB)
        #expect(floating <= vm.memoryMiB && floating >= 6144)
        #expect(r.draft.reasoning.contains { $0.contains("already runs") && $0.contains("proxmox-rrd") })
        #expect(r.final.checks.contains { $0.name == "backtest" && $0.detail.contains("VM orders-postgresql") && $0.passed })
        let tfvars = try #require(r.files.first { $0.path.hasSuffix(".auto.tfvars.json") })
        #expect(tfvars.contents.contains("\"vmid\": 101"))
        #expect(tfvars.contents.contains("\"floating_memory_mib\": \(floating)"))
        #expect(!r.files.contains { $0.contents.contains(Self.secret) })
    }

    @Test func aRefusedTokenIsAWarningThatNamesTheFixAndNotTheSecret() async throws {
        let api = try ProxmoxStandIn(token: "\(Self.tokenId)=\(Self.secret)", rrd: ["pve01/101": Self.rrd])
        defer { api.stop() }
        let pipeline = try Self.pipeline(proxmox: ProxmoxConfig(url: api.url, tokenId: Self.tokenId, tokenSecret: "wrong-secret"))
        let r = try await pipeline.plan(path: try Self.request(vms: "[{role: postgresql, vmid: 101}]"))
        #expect(r.context.vmHistory.isEmpty)
        let warning = try #require(r.context.warnings.first { $0.contains("orders-postgresql") })
        #expect(warning.contains("HTTP 401") && warning.contains("proxmox.tokenId"))
        #expect(!warning.contains("wrong-secret"))
        #expect(r.final.recommendation.vms.first?.memoryMiB != nil, "still sized, from knowledge")
        // An unknown VM: Proxmox answers 500; also a warning.
        let unknown = try await Self.pipeline(proxmox: ProxmoxConfig(url: api.url, tokenId: Self.tokenId, tokenSecret: Self.secret))
            .plan(path: try Self.request(vms: "[{role: postgresql, vmid: 999}]"))
        #expect(unknown.context.warnings.contains { $0.contains("HTTP 500") })
    }

    @Test func inlineUsageNeedsNoAPI() async throws {
        let cpu = (0..<(7 * 24)).map { $0 % 24 == 2 ? 3.5 : 1.0 }
        let mem = (0..<(7 * 24)).map { $0 % 24 == 2 ? 1800.0 : 1200.0 }
        let usage = "{stepSeconds: 3600, cpuCores: [\(cpu.map { "\($0)" }.joined(separator: ","))], memoryMiB: [\(mem.map { "\($0)" }.joined(separator: ","))]}"
        let r = try await Self.pipeline().plan(path: try Self.request(vms: "[{role: redis, name: orders-cache, usage: \(usage)}]"))
        let vm = try #require(r.final.recommendation.vms.first)
        // 3.5 × 1.1 = 3.85 → 4 cores; 1800 × 1.1 + 1280 = 3260 → 3584 MiB (512 MiB steps).
        #expect(vm.cores == 4)
        #expect(vm.memoryMiB == 3584)
        #expect(r.context.vmHistory.first?.source == "inline")
    }

    @Test func aVMIdWithNoSourceIsSizedFromKnowledgeWithAWarning() async throws {
        let r = try await Self.pipeline().plan(path: try Self.request(vms: "[{role: postgresql, vmid: 101}]"))
        #expect(r.context.vmHistory.isEmpty)
        #expect(r.context.warnings.contains { $0.contains("no usage history") && $0.contains("neither the Proxmox API nor Prometheus") })
    }
}

/// The Proxmox API over https with its own CA, as a default Proxmox install has it.
@Suite struct ProxmoxTLSTests {
    /// A cluster CA and a node certificate for localhost signed by it, made with openssl; and the node's SHA-256 fingerprint.
    static func certificates() throws -> (dir: String, fingerprint: String) {
        let dir = Fixture.temporaryDirectory("pve-tls")
        func run(_ args: [String]) throws {
            let r = try Shell.run(args, cwd: dir)
            if r.status != 0 { throw PrometheusServer.Failure("\(args.joined(separator: " ")): \(r.output)") }
        }
        try run([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
            "/CN=Proxmox Virtual Environment/OU=test",
        ])
        try run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: dir + "/ext.cnf", atomically: true, encoding: .utf8)
        try run([
            "openssl", "x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "node.pem", "-days", "2", "-extfile",
            "ext.cnf",
        ])
        let out = try Shell.run(["openssl", "x509", "-in", "node.pem", "-noout", "-fingerprint", "-sha256"], cwd: dir).output
        let fingerprint = try #require(out.split(separator: "=").last).trimmingCharacters(in: .whitespacesAndNewlines)
        return (dir, fingerprint)
    }

    static func plan(_ tls: ProxmoxTLS, api: ProxmoxStandIn) async throws -> PlanResult {
        var config = ProxmoxConfig(url: api.url, tokenId: VMHistoryTests.tokenId, tokenSecret: VMHistoryTests.secret)
        config.tls = tls
        return try await VMHistoryTests.pipeline(proxmox: config).plan(path: try VMHistoryTests.request(vms: "[{role: postgresql, vmid: 101}]"))
    }

    @Test func theClusterCAOrAPinnedFingerprintIsTrustedAndNothingElse() async throws {
        let (dir, fingerprint) = try Self.certificates()
        let api = try ProxmoxStandIn(
            token: "\(VMHistoryTests.tokenId)=\(VMHistoryTests.secret)", rrd: ["pve01/101": VMHistoryTests.rrd],
            certificate: (dir + "/node.pem", dir + "/node.key"))
        defer { api.stop() }
        #expect(api.url.hasPrefix("https://"))

        let withCA = try await Self.plan(ProxmoxTLS(caFile: dir + "/ca.pem"), api: api)
        #expect(withCA.context.vmHistory.first?.source == "proxmox-rrd", "\(withCA.context.warnings)")

        let pinned = try await Self.plan(ProxmoxTLS(fingerprint: fingerprint), api: api)
        #expect(pinned.context.vmHistory.first?.source == "proxmox-rrd", "\(pinned.context.warnings)")

        let wrongPin = try await Self.plan(ProxmoxTLS(fingerprint: String(repeating: "ab", count: 32)), api: api)
        #expect(wrongPin.context.vmHistory.isEmpty)
        #expect(wrongPin.context.warnings.contains { $0.contains("TLS handshake") && $0.contains("proxmox.fingerprint") }, "\(wrongPin.context.warnings)")

        let systemCAs = try await Self.plan(ProxmoxTLS(), api: api)
        #expect(systemCAs.context.vmHistory.isEmpty, "a Proxmox CA is not in the system's store")
        #expect(systemCAs.context.warnings.contains { $0.contains("proxmox.caFile") })
        #expect(!(systemCAs.context.warnings + wrongPin.context.warnings).contains { $0.contains(VMHistoryTests.secret) })
    }

    @Test func fingerprintsAreNormalized() {
        #expect(ProxmoxTLS.normalize(String(repeating: "AB:", count: 31) + "AB") == String(repeating: "ab", count: 32))
        #expect(ProxmoxTLS.normalize("AB:CD") == nil)
    }
}
