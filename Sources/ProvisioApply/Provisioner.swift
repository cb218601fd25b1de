import Foundation
import Logging
public import ProvisioCore

/// One request's provisioning: Terraform for its VMs, then Ansible for their configuration, behind one gate.
public struct Provisioner: Sendable {
    /// Terraform settings; `workingDirectory` is the root module (its `*.tf` and site `*.tfvars`).
    public var terraform: TerraformConfig?
    public var ansible: AnsibleConfig?
    public let runner: CommandRunner
    /// Each request runs Terraform in its own copy of the module under here, with its own state, so one
    /// request's plan can never touch another request's VMs.
    public var workRoot: String

    public init(terraform: TerraformConfig?, ansible: AnsibleConfig?, runner: CommandRunner, workRoot: String) {
        self.terraform = terraform
        self.ansible = ansible
        self.runner = runner
        self.workRoot = workRoot
    }

    /// The request's Terraform directory: the module's files copied in (refreshed each time), state kept.
    func terraformDirectory(for request: String, module: String) throws -> String {
        let dir = (workRoot as NSString).appendingPathComponent(request)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: module)) ?? []
        let sources = names.filter { n in (n.hasSuffix(".tf") || n.hasSuffix(".tfvars") || n == ".terraform.lock.hcl") && !n.hasSuffix(".auto.tfvars.json") }
        guard sources.contains(where: { $0.hasSuffix(".tf") }) else {
            throw ProvisioError(.configuration, field: "terraform.workingDirectory", "\(module) has no *.tf files: point it at the root module")
        }
        for n in sources {
            let to = (dir as NSString).appendingPathComponent(n)
            try? FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: (module as NSString).appendingPathComponent(n), toPath: to)
        }
        return dir
    }

    /// What happened, for status.yaml and the run record.
    public struct Report: Codable, Sendable, Hashable {
        /// planned, applied, failed or skipped.
        public var state: String
        public var message: String
        public var plan: PlanSummary?
        public var decision: ApplyGate.Decision?
        public var commands: [CommandOutcome]
        public var ansibleHosts: [String]

        /// Marks the run failed with `message` and returns the report.
        mutating func failing(_ message: String) -> Report {
            state = "failed"
            self.message = message
            return self
        }

        /// The `provisioning` block of status.yaml (no command output: that stays in the run record).
        public var statusBlock: Tree {
            .object([
                ("state", .string(state)), ("message", .string(message)),
                ("plan", plan.map { .string($0.line) }),
                (
                    "resources",
                    plan.flatMap { $0.resources.isEmpty ? nil : .list($0.resources.map { .string("\($0.action) \($0.address)") }) }
                ),
                ("applied", decision.map { .bool($0.apply && state == "applied") }),
                ("gate", decision.map { .string($0.reason) }),
                ("hosts", ansibleHosts.isEmpty ? nil : .list(ansibleHosts.map(Tree.string))),
                (
                    "commands",
                    commands.isEmpty
                        ? nil
                        : .list(
                            // No durations: the same outcome must render the same bytes (durations are in the run record).
                            commands.map { .string("\($0.command) → \($0.timedOut ? "timed out" : "exit \($0.exitCode.map(String.init) ?? "signal")")") })
                ),
            ])
        }
    }

    /// Writes the request's generated `proxmox/*.tfvars.json` and `ansible/…` files into the working directories,
    /// plans, and applies when the gate allows. `files` are (repository path, contents).
    public func provision(
        request name: String, files: [(path: String, contents: String)], hosts: [String], requested: String?, autoApply: Bool?, allowDestroy: Bool?
    ) async -> Report {
        var report = Report(state: "skipped", message: "no VMs in this request", plan: nil, decision: nil, commands: [], ansibleHosts: [])
        let tfvars = files.filter { $0.path.hasPrefix("proxmox/") && $0.path.hasSuffix(".auto.tfvars.json") }
        guard !tfvars.isEmpty || !hosts.isEmpty else { return report }
        guard var terraform else {
            report.message = "no terraform.workingDirectory configured: the variables are in the repository for a person to apply"
            return report
        }
        do {
            terraform.workingDirectory = try terraformDirectory(for: name, module: terraform.workingDirectory)
            for f in tfvars {
                try write(f.contents, to: (terraform.workingDirectory as NSString).appendingPathComponent((f.path as NSString).lastPathComponent))
            }
            let driver = TerraformDriver(config: terraform, runner: runner)
            let (plan, outcomes) = try await driver.plan()
            report.commands += outcomes
            report.plan = plan
            let decision = ApplyGate.decide(requested: requested, autoApply: autoApply, allowDestroy: allowDestroy, plan: plan)
            report.decision = decision
            report.state = "planned"
            report.message = plan.hasChanges ? "terraform plan: \(plan.line); \(decision.reason)" : "terraform plan: no changes"
            // Ansible needs the VMs to exist as planned: after an apply, or when there was nothing to change.
            let vmsInPlace = decision.apply || !plan.hasChanges
            if decision.apply {
                let applied = try await driver.apply()
                report.commands.append(applied)
                guard applied.succeeded else {
                    return report.failing("terraform apply failed: \(TerraformDriver.Failure.describe(applied)); the next pass plans again")
                }
                report.state = "applied"
                report.message = "terraform apply: \(plan.line)"
            }
            // The check always runs (it changes nothing); the real run follows the same gate as Terraform.
            let gateOpen = requested == "auto" && autoApply == true
            if let ansible, vmsInPlace, !hosts.isEmpty {
                // Only the hosts this run created or changed: a VM in the plan, or a host whose variables changed.
                var changed = Set(plan.resources.filter { $0.action != "delete" }.compactMap { Self.vmName(fromAddress: $0.address) })
                for f in files where f.path.hasPrefix("ansible/") {
                    let target = (ansible.workingDirectory as NSString).appendingPathComponent(String(f.path.dropFirst("ansible/".count)))
                    let before = FileManager.default.contents(atPath: target).map { String(decoding: $0, as: UTF8.self) }
                    if before != f.contents, f.path.hasPrefix("ansible/host_vars/") {
                        changed.insert(((f.path as NSString).lastPathComponent as NSString).deletingPathExtension)
                    }
                    try write(f.contents, to: target)
                }
                let limit = hosts.filter { changed.contains($0) }
                guard !limit.isEmpty else {
                    report.message += "; ansible: no host changed"
                    return report
                }
                let hosts = limit  // the only hosts touched from here on
                let driver = AnsibleDriver(config: ansible, runner: runner)
                report.ansibleHosts = hosts
                let check = try await driver.check(limit: hosts)
                report.commands.append(check)
                guard check.succeeded else { return report.failing("ansible-playbook --check failed: \(TerraformDriver.Failure.describe(check))") }
                guard gateOpen else {
                    let recap = AnsibleDriver.recap(check.output)
                    report.message += "; ansible --check: \(recap.changed) change\(recap.changed == 1 ? "" : "s") pending, for a person to apply"
                    return report
                }
                let run = try await driver.run(limit: hosts)
                report.commands.append(run)
                guard run.succeeded else { return report.failing("ansible-playbook failed: \(TerraformDriver.Failure.describe(run))") }
                let recap = AnsibleDriver.recap(run.output)
                report.state = "applied"
                report.message += "; ansible: \(recap.changed) change\(recap.changed == 1 ? "" : "s") on \(hosts.count) host\(hosts.count == 1 ? "" : "s")"
            }
        } catch let f as TerraformDriver.Failure {
            report.commands += f.outcomes
            report.state = "failed"
            report.message = f.message
        } catch {
            report.state = "failed"
            report.message = Redactor.scrub((error as? ProvisioError)?.description ?? String(describing: error))
        }
        return report
    }

    /// `proxmox_virtual_environment_vm.vm["orders-db"]` → `orders-db`.
    static func vmName(fromAddress address: String) -> String? {
        guard let open = address.range(of: "[\""), let close = address.range(of: "\"]", options: .backwards), open.upperBound <= close.lowerBound else {
            return nil
        }
        return String(address[open.upperBound..<close.lowerBound])
    }

    func write(_ contents: String, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ProvisioError(.io, file: path, "cannot write: \(error.localizedDescription)")
        }
    }
}
