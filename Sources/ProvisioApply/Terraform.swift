public import Foundation
import ProvisioCore

/// Where and how Terraform (or OpenTofu) runs.
public struct TerraformConfig: Sendable, Hashable {
    /// `terraform` or `tofu` (a name on PATH or a path).
    public var binary = "terraform"
    /// The root module that reads provisio's `*.auto.tfvars.json`.
    public var workingDirectory: String
    /// Seconds per command.
    public var timeout: Double = 900
    /// Attempts of init/plan before giving up (with backoff between them).
    public var attempts = 3
    /// Seconds before the first retry; doubled each time.
    public var backoff: Double = 2
    /// Variables for the provider (e.g. `TF_VAR_proxmox_api_token`), never logged.
    public var environment: [String: String] = [:]

    public init(workingDirectory: String) { self.workingDirectory = workingDirectory }
}

/// What a saved plan would do, from `terraform show -json`.
public struct PlanSummary: Codable, Sendable, Hashable {
    public struct ResourceChange: Codable, Sendable, Hashable {
        public var address: String
        /// create, update, delete, replace (delete + create), read or no-op.
        public var action: String
    }

    public var add: Int
    public var change: Int
    public var destroy: Int
    public var resources: [ResourceChange]

    public var hasChanges: Bool { add + change + destroy > 0 }
    /// "2 to add, 0 to change, 1 to destroy"
    public var line: String { "\(add) to add, \(change) to change, \(destroy) to destroy" }

    /// Reads the `resource_changes` of a plan in Terraform's JSON format.
    public static func parse(showJSON data: Data) throws -> PlanSummary {
        struct Plan: Decodable {
            var resource_changes: [RC]?
            struct RC: Decodable {
                var address: String
                var change: Change
            }
            struct Change: Decodable { var actions: [String] }
        }
        guard let plan = try? JSONDecoder().decode(Plan.self, from: data) else {
            throw ProvisioError(.io, "terraform show -json did not print a plan in Terraform's JSON format")
        }
        var s = PlanSummary(add: 0, change: 0, destroy: 0, resources: [])
        for rc in plan.resource_changes ?? [] {
            let a = Set(rc.change.actions)
            let action: String
            if a == ["create", "delete"] {
                action = "replace"
                s.add += 1
                s.destroy += 1
            } else if a == ["create"] {
                action = "create"
                s.add += 1
            } else if a == ["delete"] {
                action = "delete"
                s.destroy += 1
            } else if a == ["update"] {
                action = "update"
                s.change += 1
            } else {
                continue  // no-op, read
            }
            s.resources.append(.init(address: rc.address, action: action))
        }
        return s
    }
}

/// Runs `init`, `plan -detailed-exitcode`, `show -json` and `apply` of the saved plan, always through the runner.
public struct TerraformDriver: Sendable {
    public let config: TerraformConfig
    public let runner: CommandRunner
    public static let planFile = "provisio.tfplan"

    public init(config: TerraformConfig, runner: CommandRunner) {
        self.config = config
        self.runner = runner
    }

    func command(_ args: [String]) -> Command {
        var c = Command(config.binary, args, in: config.workingDirectory)
        c.timeout = config.timeout
        c.environment = config.environment.merging(["TF_IN_AUTOMATION": "1"]) { a, _ in a }
        c.secrets = Array(config.environment.values)
        return c
    }

    /// A plan that failed: the outcomes of every attempt.
    public struct Failure: Error, Sendable {
        public var step: String
        public var outcomes: [CommandOutcome]
        public var message: String {
            "terraform \(step) failed after \(outcomes.count) attempt\(outcomes.count == 1 ? "" : "s"): \(outcomes.last.map(Self.describe) ?? "")"
        }
        static func describe(_ o: CommandOutcome) -> String {
            if o.timedOut { return "timed out after \(Tree.format(o.seconds.rounded())) s (process group stopped)" }
            return "exit \(o.exitCode.map(String.init) ?? "signal \(o.signal ?? 0)"): \(o.tail)"
        }
    }

    /// `init` then `plan -out`, retried with backoff; then `show -json` of the saved plan.
    public func plan() async throws -> (PlanSummary, [CommandOutcome]) {
        var log: [CommandOutcome] = []
        func attempt(_ step: String, _ args: [String], ok: (CommandOutcome) -> Bool) async throws -> CommandOutcome {
            var tries: [CommandOutcome] = []
            var delay = config.backoff
            for i in 1...max(1, config.attempts) {
                let o = try await runner.run(command(args))
                log.append(o)
                tries.append(o)
                if ok(o) { return o }
                if i < config.attempts {
                    try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                    delay *= 2
                }
            }
            throw Failure(step: step, outcomes: tries)
        }
        _ = try await attempt("init", ["init", "-input=false", "-no-color"]) { $0.succeeded }
        let plan = try await attempt("plan", ["plan", "-input=false", "-no-color", "-out=\(Self.planFile)", "-detailed-exitcode"]) {
            !$0.timedOut && ($0.exitCode == 0 || $0.exitCode == 2)
        }
        if plan.exitCode == 0 { return (PlanSummary(add: 0, change: 0, destroy: 0, resources: []), log) }
        let show = try await attempt("show", ["show", "-json", "-no-color", Self.planFile]) { $0.succeeded }
        return (try PlanSummary.parse(showJSON: Data(show.output.utf8)), log)
    }

    /// `apply` of the saved plan only (never a fresh plan): what was reviewed is what is applied.
    public func apply() async throws -> CommandOutcome {
        try await runner.run(command(["apply", "-input=false", "-no-color", Self.planFile]))
    }
}

/// Whether a plan may be applied without a person.
public enum ApplyGate {
    public struct Decision: Codable, Sendable, Hashable {
        public var apply: Bool
        public var reason: String
    }

    /// Applies only when the request says `apply: auto`, the policy's path rule allows it, and the plan
    /// destroys nothing unless the rule allows destroys.
    public static func decide(requested: String?, autoApply: Bool?, allowDestroy: Bool?, plan: PlanSummary) -> Decision {
        guard plan.hasChanges else { return .init(apply: false, reason: "no changes") }
        guard requested == "auto" else { return .init(apply: false, reason: "the request says apply: \(requested ?? "plan"); a person applies the plan") }
        guard autoApply == true else { return .init(apply: false, reason: "the policy for this path does not allow automatic apply") }
        if plan.destroy > 0 && allowDestroy != true {
            let doomed = plan.resources.filter { $0.action == "delete" || $0.action == "replace" }.map(\.address)
            return .init(apply: false, reason: "the plan destroys \(doomed.joined(separator: ", ")); the policy allows no destroys, so a person must apply it")
        }
        return .init(apply: true, reason: "apply: auto, allowed by policy\(plan.destroy > 0 ? " (destroys allowed)" : ""), plan \(plan.line)")
    }
}
