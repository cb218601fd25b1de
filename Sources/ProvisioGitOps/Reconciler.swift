import Foundation
public import Logging
public import ProvisioApply
import ProvisioContext
import ProvisioCore
import ProvisioHistory
public import ProvisioPipeline
import ProvisioRefine
import ProvisioRender
import ProvisioRequest
public import ProvisioStore

/// Which repository and branch to reconcile, and how.
public struct ReconcileConfig: Sendable {
    public var repo: String
    public var branch: String
    /// Paths that are requests ("**/provision.yaml").
    public var requestGlob: String
    /// Remove a deleted request's generated files.
    public var prune: Bool
    public var botName: String
    public var botEmail: String
    /// Attempts of one pass when a push loses a race.
    public var maxPushAttempts: Int
    /// Requests sized at the same time within one pass.
    public var maxConcurrentRequests: Int = 4
    /// Authentication to the remote (https token or ssh key).
    public var credentials: GitCredentials?

    public init(
        repo: String, branch: String = "main", requestGlob: String = "**/provision.yaml", prune: Bool = true, botName: String = "provisio",
        botEmail: String = "provisio@localhost", maxPushAttempts: Int = 5
    ) {
        self.repo = repo
        self.branch = branch
        self.requestGlob = requestGlob
        self.prune = prune
        self.botName = botName
        self.botEmail = botEmail
        self.maxPushAttempts = maxPushAttempts
    }
}

/// What one pass did.
public struct PassResult: Sendable {
    /// The remote tip the pass sized from.
    public var source: String?
    /// The commit pushed, if any.
    public var commit: String?
    public var requests: [ProvisioDatabase.RequestState]
    /// Pushes that lost a race and were redone.
    public var pushRetries: Int
    /// Wall time of the pass.
    public var seconds: Double = 0
    /// Wall time spent sizing (the agents), included in `seconds`.
    public var sizingSeconds: Double = 0
}

/// One reconcile pass: fetch, find the requests that changed since the last reconciled
/// commit (a tree diff, never a scan), size them, write one commit on the fetched tip, push.
///
/// State advances only after a successful push, so a pass stopped at any point is simply
/// redone by the next one; identical inputs render identical bytes, so a redo that finds its
/// own work already pushed commits nothing.
public final class Reconciler {
    public let config: ReconcileConfig
    public let pipeline: Pipeline
    public let repository: GitOpsRepository
    let logger: Logger
    /// Called after the commit is written and before it is pushed (tests inject races and crashes here).
    public var beforePush: (() throws -> Void)?
    /// Runs Terraform and Ansible for requests with VMs; nil: the variables are committed for a person.
    public var provisioner: Provisioner?
    /// Seconds before a failed provisioning is first retried; doubled per failure, at most an hour.
    public var provisioningBackoff: Double = 60
    var lastSizingSeconds = 0.0

    public init(config: ReconcileConfig, pipeline: Pipeline, logger: Logger) throws {
        self.config = config
        self.pipeline = pipeline
        self.logger = logger
        let key = Digest.fnv(Array("\(Redactor.scrub(config.repo))#\(config.branch)".utf8))
        repository = try GitOpsRepository(
            url: config.repo, branch: config.branch, directory: (pipeline.config.stateDirectory as NSString).appendingPathComponent("gitops/\(key)"))
        repository.credentials = config.credentials
    }

    var repoKey: String { Redactor.scrub(config.repo) }

    /// Runs one pass.
    public func reconcileOnce() async throws -> PassResult {
        let clock = ContinuousClock()
        let start = clock.now
        func seconds() -> Double {
            let d = clock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        var retries = 0
        var attempt = 0
        while true {
            attempt += 1
            do {
                var marks: [(String, Double)] = []
                func mark(_ name: String) { marks.append((name, seconds())) }
                let fetched = try repository.fetch()
                mark("fetch")
                guard let tip = fetched else {
                    logger.info("branch does not exist yet", metadata: ["repo": "\(repoKey)", "branch": "\(config.branch)"])
                    return PassResult(source: nil, commit: nil, requests: [], pushRetries: retries)
                }
                let last = try pipeline.database.reconciledSource(repo: repoKey, branch: config.branch)
                let retry = try provisioningRetries(at: tip)
                if last == tip && retry.isEmpty {
                    return PassResult(source: tip, commit: nil, requests: [], pushRetries: retries, seconds: seconds())
                }
                let (writes, states) = try await render(from: last, to: tip, retrying: retry)
                mark("render")
                let commit = try repository.commit(
                    parent: tip, writes: writes, message: commitMessage(states, source: tip), name: config.botName,
                    email: config.botEmail)
                guard let commit else {
                    try pipeline.database.recordPass(
                        repo: repoKey, branch: config.branch, source: tip, commit: nil, requests: states, seconds: seconds(), outcome: "unchanged")
                    logger.info("pass found nothing to change", metadata: ["repo": "\(repoKey)", "source": "\(tip)"])
                    return PassResult(source: tip, commit: nil, requests: states, pushRetries: retries, seconds: seconds(), sizingSeconds: lastSizingSeconds)
                }
                mark("commit")
                try beforePush?()
                let pushed = try repository.push(commit)
                mark("push")
                switch pushed {
                case .pushed:
                    try pipeline.database.recordPass(
                        repo: repoKey, branch: config.branch, source: tip, commit: commit, requests: states, seconds: seconds(), outcome: "pushed")
                    logger.info(
                        "pass pushed",
                        metadata: [
                            "repo": "\(repoKey)", "commit": "\(commit)", "requests": "\(states.count)",
                            "timing": "\(marks.map { "\($0.0)=\(String(format: "%.3f", $0.1))" }.joined(separator: " "))",
                        ])
                    return PassResult(source: tip, commit: commit, requests: states, pushRetries: retries, seconds: seconds(), sizingSeconds: lastSizingSeconds)
                case .rejectedNonFastForward:
                    retries += 1
                    logger.info("push lost a race; redoing on the new tip", metadata: ["repo": "\(repoKey)", "attempt": "\(attempt)"])
                    guard attempt < config.maxPushAttempts else {
                        throw ProvisioError(.git, "the branch kept moving: \(attempt) pushes were rejected as non-fast-forward; the next pass retries")
                    }
                    try await Task.sleep(for: .milliseconds(100 << min(attempt, 5)))
                case .refused(let reason):
                    throw ProvisioError(.git, "the remote refused the push (\(reason)); nothing was lost, the next pass retries")
                }
            } catch {
                try? pipeline.database.recordFailedPass(repo: repoKey, seconds: seconds(), outcome: "error")
                throw error
            }
        }
    }

    func commitMessage(_ states: [ProvisioDatabase.RequestState], source: String) -> String {
        let names = states.map { ($0.path as NSString).deletingLastPathComponent.split(separator: "/").last.map(String.init) ?? $0.path }
        var subject = "provisio: size " + names.prefix(3).joined(separator: ", ")
        if names.count > 3 { subject += " and \(names.count - 3) more" }
        if names.isEmpty { subject = "provisio: prune generated files" }
        var body = states.map { "- \($0.path): \($0.status) — \($0.message)" }.joined(separator: "\n")
        if !body.isEmpty { body += "\n" }
        let trailers = states.map { "Provisio-Request: \($0.path)@\($0.blob)" }.joined(separator: "\n")
        return "\(subject)\n\n\(body)\n\(trailers)\(trailers.isEmpty ? "" : "\n")Provisio-Source: \(source)\n"
    }

    /// A request read from the tip, ready to size.
    struct Job: Sendable {
        let change: TreeChange
        let bytes: [UInt8]
        let team: String?
    }

    /// The files to write for every request that changed between `last` and `tip`.
    ///
    /// Git is read and written from this one task; only the sizing runs concurrently
    /// (`maxConcurrentRequests` at a time), since the pipeline is a value that shares nothing mutable.
    func render(from last: String?, to tip: String, retrying retry: [TreeChange] = []) async throws -> (
        [String: [UInt8]?], [ProvisioDatabase.RequestState]
    ) {
        // provisio's own commit on `last` holds the same requests plus the generated files: diffing from it
        // finds the same request changes without walking thousands of freshly generated files again. It is
        // in the clone whether or not the team's history still contains it; if it was pruned, diff from `last`.
        let pushed = try last.flatMap { try self.pipeline.database.pushedCommit(repo: repoKey, source: $0) }
        var changes = try (pushed.flatMap { try? repository.changes(from: $0, to: tip) } ?? repository.changes(from: last, to: tip))
            .filter { Glob.matches(config.requestGlob, $0.path) }
        changes += retry.filter { r in !changes.contains { $0.path == r.path } }
        changes.sort { $0.path < $1.path }
        var writes: [String: [UInt8]?] = [:]
        var states: [String: ProvisioDatabase.RequestState] = [:]
        var jobs: [Job] = []
        for change in changes {
            let folder = (change.path as NSString).deletingLastPathComponent
            let generated = Renderer.generatedFolder(folder)
            if change.kind == .deleted {
                guard config.prune else { continue }
                // Everything the request produced: its generated folder, tfvars and Ansible files.
                var owned = try repository.files(at: tip, under: generated).map(\.path)
                if let old = try? repository.blob(change.blob), let loaded = try? RequestLoader().load(bytes: old, path: change.path) {
                    let n = loaded.request.metadata.name
                    owned += ["proxmox/\(n).auto.tfvars.json", "ansible/inventory/\(n).yml"]
                    owned += try repository.files(at: tip, under: "ansible/host_vars").map(\.path).filter { $0.hasPrefix("ansible/host_vars/\(n)-") }
                }
                for path in owned { writes[path] = .some(nil) }
                states[change.path] = .init(path: change.path, blob: change.blob, status: "pruned", message: "request deleted; generated files removed")
                continue
            }
            let team = try repository.file(folder.isEmpty ? "deployment.yaml" : "\(folder)/deployment.yaml", at: tip).map {
                String(decoding: $0, as: UTF8.self)
            }
            jobs.append(Job(change: change, bytes: try repository.blob(change.blob), team: team))
        }

        let pipeline = self.pipeline
        let provisioner = self.provisioner
        // The cluster's room, as the repository states it at this tip (a bad file fails every request that reads it, visibly).
        let capacityText = try repository.file(Pipeline.capacityPath, at: tip).map { String(decoding: $0, as: UTF8.self) }
        let root = (pipeline.config.stateDirectory as NSString).appendingPathComponent("worktree-unused")
        let sizingStart = ContinuousClock.now
        defer {
            let d = ContinuousClock.now - sizingStart
            lastSizingSeconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        let limit = max(1, config.maxConcurrentRequests)
        var outcomes: [String: Result<[RenderedFile], any Error>] = [:]
        var summaries: [String: (String, String)] = [:]
        try await withThrowingTaskGroup(of: (String, Result<([RenderedFile], String, String), any Error>).self) { group in
            var next = 0
            func add() {
                guard next < jobs.count else { return }
                let job = jobs[next]
                next += 1
                group.addTask {
                    do {
                        let folder = (job.change.path as NSString).deletingLastPathComponent
                        let loaded = try RequestLoader().load(bytes: job.bytes, path: job.change.path)
                        let team = try job.team.map { try TeamDeployment.parse($0, path: "\(folder)/deployment.yaml") }
                        let capacity = try capacityText.map { try KubernetesCapacity.parse($0, path: Pipeline.capacityPath) }
                        let result = try await pipeline.plan(loaded: loaded, relativePath: job.change.path, root: root, team: team, capacity: capacity)
                        let status = result.final.status == "approved" ? "ok" : result.final.status == "rejected" ? "error" : "needs-review"
                        var files = result.files
                        var state = status
                        if let provisioner, result.final.status != "rejected", !result.final.recommendation.vms.isEmpty {
                            let provisioned = await Self.provision(result, files: files, path: job.change.path, provisioner: provisioner, pipeline: pipeline)
                            files = provisioned.files
                            // A failed provisioning is retried by later passes (with backoff) even though the request did not change.
                            if provisioned.state == "failed" { state = Self.provisionFailed }
                        }
                        return (job.change.path, .success((files, state, result.final.recommendation.summary)))
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        return (job.change.path, .failure(error))
                    }
                }
            }
            for _ in 0..<limit { add() }
            while let (path, outcome) = try await group.next() {
                switch outcome {
                case .success(let (files, status, summary)):
                    outcomes[path] = .success(files)
                    summaries[path] = (status, summary)
                case .failure(let error):
                    outcomes[path] = .failure(error)
                }
                add()
            }
        }

        for job in jobs {
            let change = job.change
            let generated = Renderer.generatedFolder((change.path as NSString).deletingLastPathComponent)
            switch outcomes[change.path] {
            case .success(let files)?:
                // Files of a previous render that this one no longer produces go away.
                let fresh = Set(files.map(\.path))
                for old in try repository.files(at: tip, under: generated) where !fresh.contains(old.path) { writes[old.path] = .some(nil) }
                for f in files { writes[f.path] = Array(f.contents.utf8) }
                let (status, summary) = summaries[change.path] ?? ("ok", "")
                states[change.path] = .init(path: change.path, blob: change.blob, status: status, message: summary)
            case .failure(let error)?:
                // The request is wrong: say so where the team looks, and keep sizing the others.
                let message = Redactor.scrub((error as? ProvisioErrors)?.description ?? (error as? ProvisioError)?.description ?? String(describing: error))
                writes["\(generated)/status.yaml"] = Array(
                    Tree.object([
                        ("apiVersion", .string("provisio/v1alpha1")), ("kind", .string("ProvisionStatus")), ("request", .string(change.path)),
                        ("digest", .string(change.blob)), ("status", .string("error")), ("message", .string(message)),
                    ]).yaml().utf8)
                states[change.path] = .init(
                    path: change.path, blob: change.blob, status: "error", message: message.split(separator: "\n").first.map(String.init) ?? "invalid")
                logger.warning("request invalid", metadata: ["request.path": "\(change.path)"])
            case nil:
                break
            }
        }
        return (writes, states.values.sorted { $0.path < $1.path })
    }

    /// The request state of a request whose Terraform or Ansible run failed.
    static let provisionFailed = "provision-failed"

    /// Requests whose provisioning failed and whose backoff has passed: 1 minute after the first failure,
    /// doubling with each one, at most an hour. They are redone on `tip` as if they had changed.
    func provisioningRetries(at tip: String, now: Double = Date().timeIntervalSince1970) throws -> [TreeChange] {
        guard provisioner != nil else { return [] }
        var out: [TreeChange] = []
        for state in try pipeline.database.requestStates(repo: repoKey) where state.status == Self.provisionFailed {
            let runs = try pipeline.database.provisioningRuns(request: state.path)
            let failures = runs.prefix { $0.state == "failed" }.count
            let delay = min(3600, provisioningBackoff * pow(2, Double(max(0, failures - 1))))
            if let lastRun = runs.first, now - lastRun.endedAt < delay { continue }
            guard let file = try repository.files(at: tip, include: { $0 == state.path }).first else { continue }
            out.append(TreeChange(path: file.path, kind: .modified, blob: file.blob))
        }
        if !out.isEmpty { logger.info("retrying failed provisioning", metadata: ["requests": "\(out.map(\.path))"]) }
        return out
    }

    /// Runs Terraform and Ansible for a sized request, records the run, and adds its outcome to status.yaml.
    static func provision(_ result: PlanResult, files: [RenderedFile], path: String, provisioner: Provisioner, pipeline: Pipeline) async -> (
        files: [RenderedFile], state: String
    ) {
        let rule = pipeline.policy.rule(for: path)
        let clock = ContinuousClock(), start = clock.now
        let report = await provisioner.provision(
            request: result.context.request.metadata.name, files: files.map { ($0.path, $0.contents) },
            hosts: result.final.recommendation.vms.flatMap(\.instances), requested: result.context.request.spec.apply?.rawValue,
            autoApply: rule?.autoApply, allowDestroy: rule?.allowDestroy)
        let seconds = Double((clock.now - start) / .milliseconds(1)) / 1000
        let commands = (try? JSONEncoder().encode(report.commands)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        try? pipeline.database.recordProvisioning(request: path, seconds: seconds, state: report.state, message: report.message, commandsJSON: commands)
        let patched = files.map { f in
            guard f.path.hasSuffix("/status.yaml") else { return f }
            var patched = f
            patched.contents += Tree.object([("provisioning", report.statusBlock)]).yaml()
            return patched
        }
        return (patched, report.state)
    }
}
