import Foundation
import ProvisioCore

/// Where and how `ansible-playbook` runs.
public struct AnsibleConfig: Sendable, Hashable {
    public var binary = "ansible-playbook"
    /// An Ansible project: the playbook at its top, provisio's `inventory/` and `host_vars/` written into it.
    public var workingDirectory: String
    public var playbook = "site.yml"
    /// More arguments (e.g. `-e`, `--private-key`), after provisio's own.
    public var extraArguments: [String] = []
    public var timeout: Double = 1800
    public var environment: [String: String] = [:]

    public init(workingDirectory: String) { self.workingDirectory = workingDirectory }
}

/// `ansible-playbook --check --diff` first, then the real run, limited to the hosts a request created or changed.
public struct AnsibleDriver: Sendable {
    public let config: AnsibleConfig
    public let runner: CommandRunner

    public init(config: AnsibleConfig, runner: CommandRunner) {
        self.config = config
        self.runner = runner
    }

    func command(check: Bool, limit: [String]) -> Command {
        var args = ["-i", "inventory", config.playbook, "--limit", limit.sorted().joined(separator: ",")]
        if check { args += ["--check", "--diff"] }
        var c = Command(config.binary, args + config.extraArguments, in: config.workingDirectory)
        c.timeout = config.timeout
        c.environment = config.environment.merging(["ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0"]) { a, _ in a }
        c.secrets = Array(config.environment.values)
        return c
    }

    public func check(limit: [String]) async throws -> CommandOutcome { try await runner.run(command(check: true, limit: limit)) }
    public func run(limit: [String]) async throws -> CommandOutcome { try await runner.run(command(check: false, limit: limit)) }

    /// What the PLAY RECAP says: hosts with changes and failures.
    public static func recap(_ output: String) -> (changed: Int, failed: Int) {
        var changed = 0, failed = 0
        for line in output.split(separator: "\n") where line.contains("ok=") && line.contains(" : ") {
            func number(_ key: String) -> Int {
                guard let r = line.range(of: "\(key)=") else { return 0 }
                return Int(line[r.upperBound...].prefix { $0.isNumber }) ?? 0
            }
            changed += number("changed")
            failed += number("failed") + number("unreachable")
        }
        return (changed, failed)
    }
}
