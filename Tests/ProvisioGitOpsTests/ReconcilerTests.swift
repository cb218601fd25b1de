import Foundation
import Logging
import ProvisioCore
import ProvisioGitOps
import ProvisioPipeline
import Testing

/// A real bare repository as the remote and a second clone playing the team.
final class GitFixture: @unchecked Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let dir: String
    var remote: String { dir + "/remote.git" }
    var team: String { dir + "/team" }
    var state: String { dir + "/state" }

    init() throws {
        dir = NSTemporaryDirectory() + "provisio-gitops-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try git(["init", "-q", "--bare", "-b", "main", remote], in: dir)
        try git(["clone", "-q", remote, team], in: dir)
        try git(["checkout", "-q", "-b", "main"], in: team)
    }

    @discardableResult
    func git(_ args: [String], in cwd: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-c", "user.name=Team", "-c", "user.email=team@example.com", "-c", "commit.gpgsign=false"] + args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if p.terminationStatus != 0 { throw ProvisioError(.git, "git \(args.joined(separator: " ")) failed: \(text)") }
        return text
    }

    func write(_ path: String, _ text: String) throws {
        let full = team + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    func teamCommitAndPush(_ message: String) throws {
        try git(["add", "-A"], in: team)
        try git(["commit", "-q", "-m", message], in: team)
        try git(["push", "-q", "origin", "main"], in: team)
    }

    func pull() throws { try git(["pull", "-q", "--rebase", "origin", "main"], in: team) }

    /// Subjects of the remote's commits, newest first.
    func remoteLog() throws -> [String] {
        try git(["--git-dir", remote, "log", "--format=%an|%s", "main"], in: dir).split(separator: "\n").map(String.init)
    }

    static func request(_ name: String, qps: Int = 300) -> String {
        """
        apiVersion: provisio/v1alpha1
        kind: ProvisionRequest
        metadata:
          name: \(name)
        spec:
          gitRepo: https://github.com/acme/\(name)
          description: Go/Gin API, \(qps) QPS at peak, P99 under 100 ms, production.
          target: {kubernetes: {namespace: shop}}
        """
    }

    /// Serves the remote over git:// with `git daemon`, so pushes run receive-pack and its hooks.
    func serve() throws -> (url: String, process: Process) {
        for _ in 0..<20 {
            let port = Int.random(in: 20_000..<60_000)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [
                "git", "daemon", "--reuseaddr", "--listen=127.0.0.1", "--port=\(port)", "--base-path=\(dir)", "--export-all", "--enable=receive-pack", dir,
            ]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Wait until it accepts connections (or died because the port was taken).
            for _ in 0..<50 {
                if !p.isRunning { break }
                if (try? git(["ls-remote", "git://127.0.0.1:\(port)/remote.git"], in: dir)) != nil { return ("git://127.0.0.1:\(port)/remote.git", p) }
                Thread.sleep(forTimeInterval: 0.05)
            }
            if p.isRunning { p.terminate() }
        }
        throw ProvisioError(.git, "could not start git daemon")
    }

    func reconciler(url: String? = nil) throws -> Reconciler {
        let config = PipelineConfig(
            stateDirectory: state, knowledgeDirectory: Self.root + "/knowledge", policiesDirectory: Self.root + "/policies", offline: true, remember: false)
        let pipeline = try Pipeline(config: config, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        return try Reconciler(
            config: ReconcileConfig(repo: url ?? remote, branch: "main"), pipeline: pipeline, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
    }
}

@Suite struct ReconcilerTests {
    @Test func newRequestsGiveOneCommitWithFilesAndTrailersThenNothing() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.write("apps/carts/provision.yaml", GitFixture.request("carts", qps: 800))
        try f.write("README.md", "team repo\n")
        try f.teamCommitAndPush("add two services")
        let reconciler = try f.reconciler()
        let first = try await reconciler.reconcileOnce()
        #expect(first.commit != nil)
        #expect(first.requests.map(\.path) == ["apps/carts/provision.yaml", "apps/orders/provision.yaml"])
        let log = try f.remoteLog()
        #expect(log.count == 2)
        #expect(log.first?.hasPrefix("provisio|provisio: size carts, orders") == true)
        let message = try f.git(["--git-dir", f.remote, "log", "-1", "--format=%B", "main"], in: f.dir)
        let blob = try f.git(["--git-dir", f.remote, "rev-parse", "main~1:apps/orders/provision.yaml"], in: f.dir).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(message.contains("Provisio-Request: apps/orders/provision.yaml@\(blob)"))
        #expect(message.contains("Provisio-Source: \(first.source!)"))
        try f.pull()
        for file in ["deployment.yaml", "hpa.yaml", "pdb.yaml", "kustomization.yaml", "recommendation.json", "status.yaml"] {
            #expect(FileManager.default.fileExists(atPath: f.team + "/apps/orders/generated/" + file), "missing \(file)")
        }
        // The bot's own commit changes no request: the next pass commits nothing.
        let second = try await reconciler.reconcileOnce()
        #expect(second.commit == nil)
        #expect(try f.remoteLog().count == 2)
        // A new reconciler with the same state (a restart) agrees.
        #expect(try await f.reconciler().reconcileOnce().commit == nil)
    }

    @Test func modifiedThenDeletedRequest() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.teamCommitAndPush("add orders")
        let reconciler = try f.reconciler()
        _ = try await reconciler.reconcileOnce()
        try f.pull()
        let before = try String(contentsOfFile: f.team + "/apps/orders/generated/deployment.yaml", encoding: .utf8)
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders", qps: 6000))
        try f.teamCommitAndPush("orders: more load")
        let modified = try await reconciler.reconcileOnce()
        #expect(modified.commit != nil)
        #expect(modified.requests.map(\.path) == ["apps/orders/provision.yaml"])
        try f.pull()
        let after = try String(contentsOfFile: f.team + "/apps/orders/generated/deployment.yaml", encoding: .utf8)
        #expect(before != after, "more load must change the Deployment's resources")
        try f.git(["rm", "-q", "apps/orders/provision.yaml"], in: f.team)
        try f.teamCommitAndPush("retire orders")
        let pruned = try await reconciler.reconcileOnce()
        #expect(pruned.requests.first?.status == "pruned")
        try f.pull()
        #expect(!FileManager.default.fileExists(atPath: f.team + "/apps/orders/generated"))
        #expect(try f.remoteLog().count == 6)
    }

    @Test func aHumanPushDuringThePassIsKeptAndThePassIsRedone() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.teamCommitAndPush("add orders")
        let reconciler = try f.reconciler()
        var raced = false
        reconciler.beforePush = {
            guard !raced else { return }
            raced = true
            try f.write("docs/notes.md", "a human was here\n")
            try f.teamCommitAndPush("human commit during the pass")
        }
        let result = try await reconciler.reconcileOnce()
        #expect(result.pushRetries == 1)
        let log = try f.remoteLog()
        #expect(log.count == 3)
        #expect(log[0].hasPrefix("provisio|"))
        #expect(log[1] == "Team|human commit during the pass")
    }

    @Test func aRefusingServerIsReportedAndNothingIsLost() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.teamCommitAndPush("add orders")
        let hook = f.remote + "/hooks/pre-receive"
        try Data("#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n".utf8).write(to: URL(fileURLWithPath: hook))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        let (url, daemon) = try f.serve()
        defer { daemon.terminate() }
        let reconciler = try f.reconciler(url: url)
        do {
            _ = try await reconciler.reconcileOnce()
            Issue.record("the refused push must be reported")
        } catch let error as ProvisioError {
            #expect(error.description.contains("refused"), "\(error)")
        }
        #expect(try f.remoteLog().count == 1)
        try FileManager.default.removeItem(atPath: hook)
        let retried = try await reconciler.reconcileOnce()
        #expect(retried.commit != nil)
        #expect(try f.remoteLog().count == 2)
    }

    @Test func aCrashBetweenCommitAndPushIsRepairedWithOneCommit() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.teamCommitAndPush("add orders")
        let crashing = try f.reconciler()
        crashing.beforePush = { throw CancellationError() }
        await #expect(throws: CancellationError.self) { try await crashing.reconcileOnce() }
        #expect(try f.remoteLog().count == 1)
        let restarted = try f.reconciler()
        #expect(try await restarted.reconcileOnce().commit != nil)
        #expect(try await restarted.reconcileOnce().commit == nil)
        let log = try f.remoteLog()
        #expect(log.filter { $0.hasPrefix("provisio|") }.count == 1)
    }

    @Test func anInvalidRequestGetsItsStatusAndTheOthersAreStillSized() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.write(
            "apps/broken/provision.yaml",
            "apiVersion: provisio/v1alpha1\nkind: ProvisionRequest\nmetadata: {name: Broken_Name}\nspec: {gitRepo: x, description: y}\n")
        try f.teamCommitAndPush("add two")
        let result = try await f.reconciler().reconcileOnce()
        #expect(result.requests.first { $0.path == "apps/broken/provision.yaml" }?.status == "error")
        #expect(result.requests.first { $0.path == "apps/orders/provision.yaml" }?.status == "ok")
        try f.pull()
        let status = try String(contentsOfFile: f.team + "/apps/broken/generated/status.yaml", encoding: .utf8)
        #expect(status.contains("status: error"))
        #expect(status.contains("metadata.name"))
        #expect(FileManager.default.fileExists(atPath: f.team + "/apps/orders/generated/deployment.yaml"))
    }
}
