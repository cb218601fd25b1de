import Foundation
import Logging
import ProvisioCore
import ProvisioTestSupport
import Testing

@testable import ProvisioApply

/// Terraform (stand-in) then a real `ansible-playbook` against localhost, behind one gate.
@Suite struct ProvisionerTests {

    /// The files provisio renders for a request with a PostgreSQL and a Redis VM.
    static let files: [(path: String, contents: String)] = [
        (
            "proxmox/orders.auto.tfvars.json",
            #"{"vms": {"orders-postgresql": {"cores": 4, "memory_mib": 8192, "node": "pve01"}, "orders-redis": {"cores": 2, "memory_mib": 2048, "node": "pve01"}}}"#
        ),
        (
            "ansible/inventory/orders.yml",
            "all:\n  children:\n    postgresql:\n      hosts:\n        orders-postgresql: {}\n    redis:\n      hosts:\n        orders-redis: {}\n"
        ),
        (
            "ansible/host_vars/orders-postgresql.yml",
            """
            provisio_request: orders
            provisio_role: postgresql
            vm_cores: 4
            vm_memory_mib: 8192
            postgresql_shared_buffers: 2048MB
            postgresql_effective_cache_size: 6144MB
            postgresql_maintenance_work_mem: 512MB
            postgresql_max_connections: 200
            postgresql_work_mem: 10MB

            """
        ),
        (
            "ansible/host_vars/orders-redis.yml",
            "provisio_request: orders\nprovisio_role: redis\nvm_cores: 2\nvm_memory_mib: 2048\nredis_maxmemory: 1536mb\nredis_maxmemory_policy: allkeys-lru\n"
        ),
    ]

    @Test func autoAppliesTerraformThenChecksAndRunsAnsibleOnTheRequestsHostsOnly() async throws {
        let fixture = try ProvisioningFixture()
        let out = fixture.output
        let p = fixture.provisioner()
        let report = await p.provision(
            request: "orders", files: Self.files, hosts: ["orders-postgresql", "orders-redis"], requested: "auto", autoApply: true, allowDestroy: false)
        #expect(report.state == "applied", "\(report.message)\n\(report.commands.map(\.tail).joined(separator: "\n"))")
        #expect(report.plan?.add == 2)
        let commands = report.commands.map(\.command)
        let checkIndex = try #require(commands.firstIndex { $0.contains("--check --diff") })
        #expect(commands.indices.contains(checkIndex + 1) && !commands[checkIndex + 1].contains("--check"))
        #expect(commands[checkIndex].contains("--limit orders-postgresql,orders-redis"))
        let pg = try String(contentsOfFile: out + "/provisio.conf", encoding: .utf8)
        #expect(pg.contains("shared_buffers = '2048MB'") && pg.contains("max_connections = 200"))
        let redis = try String(contentsOfFile: out + "/redis.conf", encoding: .utf8)
        #expect(redis.contains("maxmemory 1536mb") && redis.contains("maxmemory-policy allkeys-lru"))
        #expect(report.message.contains("ansible:"))
        // The canary token never reaches what is kept.
        let kept = String(decoding: try JSONEncoder().encode(report), as: UTF8.self) + report.statusBlock.yaml()
        #expect(!kept.contains(ProvisioningFixture.canary))
        #expect(!kept.contains("canary-7d1e"))
    }

    @Test func aSecondRunTouchesOnlyTheHostsThatChangedAndLogsNoSecret() async throws {
        let fixture = try ProvisioningFixture()
        let logs = LogCapture()
        let runner = CommandRunner(logger: Logger(label: "capture") { _ in logs })
        let p = Provisioner(terraform: fixture.terraform, ansible: fixture.ansible, runner: runner, workRoot: fixture.work)
        let hosts = ["orders-postgresql", "orders-redis"]
        _ = await p.provision(request: "orders", files: Self.files, hosts: hosts, requested: "auto", autoApply: true, allowDestroy: false)
        // Only the Redis VM's variables change: Terraform has nothing to do, Ansible runs on that host alone.
        var files = Self.files
        files[3].contents = files[3].contents.replacingOccurrences(of: "1536mb", with: "1792mb")
        let second = await p.provision(request: "orders", files: files, hosts: hosts, requested: "auto", autoApply: true, allowDestroy: false)
        #expect(second.plan?.hasChanges == false)
        #expect(second.ansibleHosts == ["orders-redis"], "\(second.message)")
        #expect(second.commands.contains { $0.command.contains("--limit orders-redis") })
        let redis = try String(contentsOfFile: fixture.output + "/redis.conf", encoding: .utf8)
        #expect(redis.contains("maxmemory 1792mb"))
        // Nothing logged carries the token.
        let text = logs.lines.joined(separator: "\n")
        #expect(text.contains("terraform") || text.contains("terraform-standin"))
        #expect(!text.contains("canary-7d1e"))
    }

    @Test func planModeChangesNothingAndSaysWhatAPersonShouldApply() async throws {
        let fixture = try ProvisioningFixture()
        let (out, tf) = (fixture.output, fixture.work)
        let p = fixture.provisioner()
        let report = await p.provision(
            request: "orders", files: Self.files, hosts: ["orders-postgresql", "orders-redis"], requested: "plan", autoApply: true, allowDestroy: false)
        #expect(report.state == "planned")
        #expect(report.decision?.apply == false)
        #expect(!FileManager.default.fileExists(atPath: tf + "/orders/terraform.tfstate"), "nothing applied")
        #expect(FileManager.default.fileExists(atPath: tf + "/orders/variables.tf"), "the module was copied for the request")
        #expect(!FileManager.default.fileExists(atPath: out + "/provisio.conf"))
        #expect(!report.commands.contains { $0.command.contains("ansible-playbook") }, "no VMs yet: Ansible waits for the apply")
        let status = report.statusBlock.yaml()
        #expect(status.contains("state: planned") && status.contains("2 to add"))
        #expect(status.contains(#"create proxmox_virtual_environment_vm.vm["orders-postgresql"]"#))
    }

    @Test func aFailedApplyIsReportedNotHidden() async throws {
        let fixture = try ProvisioningFixture()
        var config = fixture.terraform
        config.environment["TF_STANDIN_FAIL"] = "apply"
        let report = await Provisioner(terraform: config, ansible: nil, runner: Fixtures.runner, workRoot: fixture.work).provision(
            request: "orders", files: Self.files, hosts: [], requested: "auto", autoApply: true, allowDestroy: false)
        #expect(report.state == "failed")
        #expect(report.message.contains("terraform apply failed") && report.message.contains("disk pool full"))
    }

    @Test func recapCountsChangesAndFailures() {
        let out = """
            PLAY RECAP *********************************************************************
            orders-postgresql          : ok=2    changed=1    unreachable=0    failed=0    skipped=0
            orders-redis               : ok=1    changed=2    unreachable=1    failed=0    skipped=0
            """
        let r = AnsibleDriver.recap(out)
        #expect(r.changed == 3 && r.failed == 1)
    }
}

/// Collects every log line with its metadata.
final class LogCapture: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var lines: [String] { lock.withLock { stored } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = "\(event.message) \((event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.joined(separator: " "))"
        lock.withLock { stored.append(line) }
    }
}
