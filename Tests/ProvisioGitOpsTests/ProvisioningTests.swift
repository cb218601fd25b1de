import Foundation
import ProvisioApply
import ProvisioCore
import ProvisioGitOps
import ProvisioTestSupport
import Testing

/// A pass that sizes a request with VMs also runs Terraform and Ansible behind the gate, and says so in status.yaml.
@Suite struct ProvisioningTests {
    static func request(apply: String) -> String {
        GitFixture.request("orders") + "\n  target: {kubernetes: {namespace: shop}, proxmox: {node: pve01, vms: [{role: postgresql}]}}\n  apply: \(apply)\n"
    }

    @Test func applyAutoRunsTerraformAndAnsibleAndTheRepoSaysWhatHappened() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", Self.request(apply: "auto").replacingOccurrences(of: "  target: {kubernetes: {namespace: shop}}\n", with: ""))
        try f.teamCommitAndPush("orders with a database VM")
        let fixture = try ProvisioningFixture()
        let reconciler = try f.reconciler(policies: try ProvisioningFixture.policies(autoApply: true))
        reconciler.provisioner = fixture.provisioner()
        let pass = try await reconciler.reconcileOnce()
        #expect(pass.commit != nil)
        try f.pull()
        let status = try String(contentsOfFile: f.team + "/apps/orders/generated/status.yaml", encoding: .utf8)
        #expect(status.contains("provisioning:") && status.contains("state: applied"), "\(status)")
        #expect(status.contains("1 to add"))
        // Ansible wrote PostgreSQL settings derived from the VM size in the committed host_vars.
        let hostVars = try String(contentsOfFile: f.team + "/ansible/host_vars/orders-postgresql.yml", encoding: .utf8)
        let shared = try #require(hostVars.split(separator: "\n").first { $0.hasPrefix("postgresql_shared_buffers:") })
        let conf = try String(contentsOfFile: fixture.output + "/provisio.conf", encoding: .utf8)
        #expect(conf.contains("shared_buffers = '\(shared.split(separator: " ").last!)'"))
        // The run is recorded; the canary token is nowhere a person or an attacker could read it.
        let runs = try reconciler.pipeline.database.provisioningRuns(request: "apps/orders/provision.yaml")
        #expect(runs.first?.state == "applied")
        let grep = try Shell.run(["git", "-C", f.team, "grep", "-c", "canary-7d1e"])
        #expect(grep.status != 0, "the token is not in the repository")
        let database = try Data(contentsOf: URL(fileURLWithPath: f.state + "/provisio.sqlite"))
        #expect(database.range(of: Data("canary-7d1e".utf8)) == nil)
        #expect(!runs.contains { $0.commands.contains("canary-7d1e") || $0.message.contains("canary-7d1e") })
    }

    @Test func applyPlanLeavesThePlanForAPerson() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", Self.request(apply: "plan").replacingOccurrences(of: "  target: {kubernetes: {namespace: shop}}\n", with: ""))
        try f.teamCommitAndPush("orders with a database VM")
        let fixture = try ProvisioningFixture()
        let reconciler = try f.reconciler(policies: try ProvisioningFixture.policies(autoApply: true))
        reconciler.provisioner = fixture.provisioner()
        _ = try await reconciler.reconcileOnce()
        try f.pull()
        let status = try String(contentsOfFile: f.team + "/apps/orders/generated/status.yaml", encoding: .utf8)
        #expect(status.contains("state: planned") && status.contains("a person applies the plan"), "\(status)")
        #expect(!FileManager.default.fileExists(atPath: fixture.work + "/orders/terraform.tfstate"))
    }

    @Test func aFailedApplyIsRetriedByLaterPassesUntilItSucceeds() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", Self.request(apply: "auto").replacingOccurrences(of: "  target: {kubernetes: {namespace: shop}}\n", with: ""))
        try f.teamCommitAndPush("orders with a database VM")
        let fixture = try ProvisioningFixture()
        let reconciler = try f.reconciler(policies: try ProvisioningFixture.policies(autoApply: true))
        var failing = fixture.terraform
        failing.environment["TF_STANDIN_FAIL"] = "apply"
        reconciler.provisioner = Provisioner(terraform: failing, ansible: fixture.ansible, runner: fixture.runner, workRoot: fixture.work)
        reconciler.provisioningBackoff = 0
        _ = try await reconciler.reconcileOnce()
        try f.pull()
        var status = try String(contentsOfFile: f.team + "/apps/orders/generated/status.yaml", encoding: .utf8)
        #expect(status.contains("state: failed") && status.contains("disk pool full"), "\(status)")
        // The same failure again: nothing new to commit, the request stays due for a retry.
        let again = try await reconciler.reconcileOnce()
        #expect(again.commit == nil)
        #expect(again.requests.first?.status == "provision-failed")
        // The cause is fixed; no new commit from the team, yet the next pass provisions and says so.
        reconciler.provisioner = fixture.provisioner()
        let fixed = try await reconciler.reconcileOnce()
        #expect(fixed.commit != nil)
        try f.pull()
        status = try String(contentsOfFile: f.team + "/apps/orders/generated/status.yaml", encoding: .utf8)
        #expect(status.contains("state: applied"), "\(status)")
        #expect(try await reconciler.reconcileOnce().commit == nil, "done: no more retries")
        #expect(try f.remoteLog().count == 3)
    }
}
