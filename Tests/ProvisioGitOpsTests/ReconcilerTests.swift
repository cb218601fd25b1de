import Foundation
import Logging
import ProvisioCore
import ProvisioGitOps
import ProvisioPipeline
import ProvisioTestSupport
import Testing

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

    @Test func theNextPassDiffsFromProvisiosOwnCommitEvenWhenHistoryDroppedIt() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.write("apps/carts/provision.yaml", GitFixture.request("carts"))
        try f.teamCommitAndPush("add orders and carts")
        let reconciler = try f.reconciler()
        let first = try await reconciler.reconcileOnce()
        let source = try #require(first.source), pushed = try #require(first.commit)
        #expect(try reconciler.pipeline.database.pushedCommit(repo: f.remote, source: source) == pushed)
        // A human rewrites history without provisio's commit: only the request they changed is sized.
        try f.pull()
        try f.git(["reset", "-q", "--hard", source], in: f.team)
        try f.write("apps/carts/provision.yaml", GitFixture.request("carts", qps: 3000))
        try f.git(["-c", "user.name=Team", "-c", "user.email=team@example.com", "commit", "-qam", "carts: more load"], in: f.team)
        try f.git(["push", "-q", "--force", "origin", "main"], in: f.team)
        let rewritten = try await reconciler.reconcileOnce()
        #expect(rewritten.requests.map(\.path) == ["apps/carts/provision.yaml"])
        #expect(rewritten.commit != nil)
        // On top of provisio's new commit, a change is found from that commit too.
        try f.pull()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders", qps: 2000))
        try f.teamCommitAndPush("orders: more load")
        let next = try await reconciler.reconcileOnce()
        #expect(next.requests.map(\.path) == ["apps/orders/provision.yaml"])
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

@Suite struct TreeDiffTests {
    /// The tree diff agrees with git's own `diff --name-status`, folder/file swaps included.
    @Test func matchesGitDiff() throws {
        let f = try GitFixture()
        try f.write("a/one.txt", "1\n")
        try f.write("a/b/two.txt", "2\n")
        try f.write("c.txt", "c\n")
        try f.write("d/x.txt", "x\n")
        try f.teamCommitAndPush("first")
        let first = try f.git(["rev-parse", "HEAD"], in: f.team).trimmingCharacters(in: .whitespacesAndNewlines)
        try f.write("a/one.txt", "1 changed\n")
        try FileManager.default.removeItem(atPath: f.team + "/a/b")
        try FileManager.default.removeItem(atPath: f.team + "/c.txt")
        try f.write("c.txt/inside.txt", "now a folder\n")
        try FileManager.default.removeItem(atPath: f.team + "/d")
        try f.write("d", "now a file\n")
        try f.write("e/new/deep.txt", "new\n")
        try f.teamCommitAndPush("second")
        let second = try f.git(["rev-parse", "HEAD"], in: f.team).trimmingCharacters(in: .whitespacesAndNewlines)
        let repo = try GitOpsRepository(url: f.remote, branch: "main", directory: f.dir + "/clone")
        try repo.fetch()
        let ours = try repo.changes(from: first, to: second).map { "\($0.kind.rawValue.prefix(1).uppercased()) \($0.path)" }.sorted()
        let theirs = try f.git(["diff", "--no-renames", "--name-status", first, second], in: f.team).split(separator: "\n")
            .map { $0.replacingOccurrences(of: "\t", with: " ") }.sorted()
        #expect(ours == theirs)
        #expect(ours.count == 7)
    }
}

/// An https-style remote that wants a token: the pass authenticates, a wrong token is a clear error without it.
@Suite struct RemoteCredentialsTests {
    @Test func aTokenAuthenticatesFetchAndPushAndAWrongOneIsReportedWithoutTheToken() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.teamCommitAndPush("add orders")
        let (url, server) = try f.serveHTTP(user: "provisio-bot", token: "glpat-canary-3c2d1e")
        defer { kill(server.processIdentifier, SIGKILL) }

        let anonymous = try f.reconciler(url: url)
        await #expect {
            _ = try await anonymous.reconcileOnce()
        } throws: { "\($0)".contains("repo.tokenFile") }

        let wrong = try f.reconciler(url: url)
        wrong.repository.credentials = GitCredentials(username: "provisio-bot", token: "not-the-token-9f8e")
        await #expect {
            _ = try await wrong.reconcileOnce()
        } throws: { error in
            let text = "\(error)"
            return text.contains("refused the token") && !text.contains("not-the-token-9f8e")
        }

        let right = try f.reconciler(url: url)
        right.repository.credentials = GitCredentials(username: "provisio-bot", token: "glpat-canary-3c2d1e")
        let pass = try await right.reconcileOnce()
        #expect(pass.commit != nil)
        #expect(try f.remoteLog().first?.hasPrefix("provisio|provisio: size orders") == true)
        let database = try Data(contentsOf: URL(fileURLWithPath: f.state + "/provisio.sqlite"))
        #expect(database.range(of: Data("glpat-canary".utf8)) == nil)
    }

    @Test func anSSHKeyAuthenticatesAndAnUnknownHostKeyIsRefused() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.teamCommitAndPush("add orders")
        let (url, key, hostKey, stop) = try f.serveSSH()
        defer { stop() }
        let port = url.split(separator: ":").last!.split(separator: "/").first!

        // Pinned to another host's key: the connection is refused before anything is sent.
        let otherKey = f.dir + "/other-host"
        _ = try Shell.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", otherKey])
        let wrongHosts = f.dir + "/wrong_known_hosts"
        try "[127.0.0.1]:\(port) \(try String(contentsOfFile: otherKey + ".pub", encoding: .utf8))".write(
            toFile: wrongHosts, atomically: true, encoding: .utf8)
        let pinnedWrong = try f.reconciler(url: url)
        var credentials = GitCredentials(sshKey: key)
        credentials.knownHosts = wrongHosts
        pinnedWrong.repository.credentials = credentials
        await #expect {
            _ = try await pinnedWrong.reconcileOnce()
        } throws: { "\($0)".contains("host key") }

        // The right key, pinned: the pass fetches, commits and pushes over ssh.
        let knownHosts = f.dir + "/known_hosts"
        try "[127.0.0.1]:\(port) \(hostKey)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let right = try f.reconciler(url: url)
        credentials.knownHosts = knownHosts
        right.repository.credentials = credentials
        let pass = try await right.reconcileOnce()
        #expect(pass.commit != nil)
        #expect(try f.remoteLog().first?.hasPrefix("provisio|provisio: size orders") == true)
    }
}
