import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ProvisioCore
import ProvisioPipeline
import ProvisioTestSupport
import Testing

@testable import ProvisioDaemon

@Suite struct DaemonConfigTests {
    static func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "provisio-config-\(UUID().uuidString.prefix(8)).yaml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static var env: [String: String] { ["PROVISIO_KNOWLEDGE": GitFixture.root + "/knowledge", "PROVISIO_POLICIES": GitFixture.root + "/policies"] }

    @Test func fileThenEnvironmentThenDefaults() throws {
        let path = try Self.write("repo:\n  url: /srv/gitops.git\n  branch: prod\ninterval: 10\nhttp:\n  port: 9000\n")
        var env = Self.env
        env["PROVISIO_BRANCH"] = "main"
        env["PROVISIO_WEBHOOK_SECRET"] = "s3cret"
        let c = try DaemonConfig.load(path: path, environment: env)
        #expect(c.repoURL == "/srv/gitops.git")
        #expect(c.branch == "main", "the environment overrides the file")
        #expect(c.interval == 10 && c.httpPort == 9000 && c.httpAddress == "127.0.0.1")
        #expect(c.webhookSecret == "s3cret")
    }

    @Test(arguments: [
        ("repo:\n  url: x\n  brnch: main\n", "repo.brnch", "unknown key"),
        ("repo:\n  branch: main\n", "repo.url", "required"),
        ("repo:\n  url: x\ninterval: soon\n", "interval", "expected seconds"),
        ("repo:\n  url: x\nhttp:\n  port: 99999\n", "http.port", "port number"),
        ("repo:\n  url: x\nwebhook:\n  secretFile: /nonexistent/secret\n", "webhook.secretFile", "does not exist"),
    ])
    func badConfigurationNamesTheKey(text: String, key: String, message: String) throws {
        let path = try Self.write(text)
        do {
            _ = try DaemonConfig.load(path: path, environment: Self.env)
            Issue.record("expected an error for \(key)")
        } catch let e as ProvisioError {
            #expect(e.field == key, "\(e)")
            #expect(e.description.contains(message), "\(e)")
        }
    }

    @Test func secretComesFromSystemdCredentials() throws {
        let dir = NSTemporaryDirectory() + "provisio-creds-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("from-credential\n".utf8).write(to: URL(fileURLWithPath: dir + "/webhook-secret"))
        var env = Self.env
        env["CREDENTIALS_DIRECTORY"] = dir
        env["PROVISIO_REPO"] = "/srv/x.git"
        #expect(try DaemonConfig.load(path: nil, environment: env).webhookSecret == "from-credential")
    }
}

@Suite struct DaemonHTTPTests {
    static func app(secret: String?) -> (some ApplicationProtocol, DaemonMetrics, PassTrigger) {
        var config = DaemonConfig(repoURL: "/x", stateDirectory: "/tmp", knowledgeDirectory: "/tmp", policiesDirectory: "/tmp")
        config.webhookSecret = secret
        let metrics = DaemonMetrics(), trigger = PassTrigger()
        let router = DaemonHTTP.router(config: config, metrics: metrics, trigger: trigger, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        return (Application(router: router), metrics, trigger)
    }

    static let payload = #"{"ref": "refs/heads/main", "after": "abc"}"#

    @Test func webhookChecksTheSignature() async throws {
        let (app, metrics, _) = Self.app(secret: "s3cret")
        let good = WebhookVerifier.hmacHex(body: Array(Self.payload.utf8), secret: "s3cret")
        try await app.test(.router) { client in
            try await client.execute(uri: "/hooks/git", method: .post, body: ByteBuffer(string: Self.payload)) { #expect($0.status == .unauthorized) }
            try await client.execute(
                uri: "/hooks/git", method: .post, headers: [HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + String(repeating: "0", count: 64)],
                body: ByteBuffer(string: Self.payload)
            ) { #expect($0.status == .unauthorized) }
            try await client.execute(
                uri: "/hooks/git", method: .post, headers: [HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + good], body: ByteBuffer(string: Self.payload)
            ) { #expect($0.status == .accepted) }
            try await client.execute(
                uri: "/hooks/git", method: .post, headers: [HTTPField.Name("X-Gitea-Signature")!: good], body: ByteBuffer(string: Self.payload)
            ) { #expect($0.status == .accepted) }
            try await client.execute(
                uri: "/hooks/git", method: .post, headers: [HTTPField.Name("X-Gitlab-Token")!: "s3cret"], body: ByteBuffer(string: Self.payload)
            ) { #expect($0.status == .accepted) }
            let other = #"{"ref": "refs/heads/feature"}"#
            let sig = WebhookVerifier.hmacHex(body: Array(other.utf8), secret: "s3cret")
            try await client.execute(
                uri: "/hooks/git", method: .post, headers: [HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + sig], body: ByteBuffer(string: other)
            ) { #expect($0.status == .accepted) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("provisio_webhook_requests_total{result=\"unauthorized\"} 2"))
                #expect(text.contains("provisio_webhook_requests_total{result=\"accepted\"} 3"))
                #expect(text.contains("provisio_webhook_requests_total{result=\"ignored\"} 1"))
            }
        }
        #expect(metrics.hasSucceeded == false)
    }

    @Test func withoutASecretEveryWebhookIsRefused() async throws {
        let (app, _, trigger) = Self.app(secret: nil)
        try await app.test(.router) { client in
            try await client.execute(uri: "/hooks/git", method: .post, headers: [HTTPField.Name("X-Gitlab-Token")!: ""], body: ByteBuffer(string: "{}")) {
                #expect($0.status == .unauthorized)
            }
        }
        _ = trigger
    }

    @Test func healthReadinessAndMetrics() async throws {
        let (app, metrics, _) = Self.app(secret: nil)
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            metrics.pass(outcome: "pushed", seconds: 0.3, requests: 2, retries: 1)
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("provisio_passes_total{outcome=\"pushed\"} 1"))
                #expect(text.contains("provisio_requests_sized_total 2"))
                #expect(text.contains("provisio_push_retries_total 1"))
                #expect(text.contains("provisio_pass_duration_seconds_bucket{le=\"0.5\"} 1"))
                #expect(text.contains("provisio_pass_duration_seconds_bucket{le=\"0.25\"} 0"))
            }
        }
    }
}

@Suite struct ReconcileServiceTests {
    @Test func theLoopPushesAndAWebhookTriggersAnotherPass() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.teamCommitAndPush("add orders")
        var config = DaemonConfig(
            repoURL: f.remote, stateDirectory: f.state, knowledgeDirectory: GitFixture.root + "/knowledge", policiesDirectory: GitFixture.root + "/policies")
        config.interval = 3600
        let pipeline = try Pipeline(
            config: PipelineConfig(
                stateDirectory: f.state, knowledgeDirectory: config.knowledgeDirectory, policiesDirectory: config.policiesDirectory, offline: true,
                remember: false), logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let metrics = DaemonMetrics(), trigger = PassTrigger()
        let service = ReconcileService(
            config: config, pipeline: pipeline, metrics: metrics, trigger: trigger, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            // The first pass runs at start.
            for _ in 0..<200 where !metrics.render().contains("provisio_passes_total{outcome=\"pushed\"} 1") { try await Task.sleep(for: .milliseconds(25)) }
            #expect(metrics.render().contains("provisio_passes_total{outcome=\"pushed\"} 1"))
            // A team push plus a webhook: sized long before the hour-long interval.
            try f.pull()
            try f.write("apps/carts/provision.yaml", GitFixture.request("carts"))
            try f.teamCommitAndPush("add carts")
            trigger.fire()
            for _ in 0..<200 where !metrics.render().contains("provisio_passes_total{outcome=\"pushed\"} 2") { try await Task.sleep(for: .milliseconds(25)) }
            #expect(metrics.render().contains("provisio_passes_total{outcome=\"pushed\"} 2"))
            group.cancelAll()
        }
        #expect(try f.remoteLog().filter { $0.hasPrefix("provisio|") }.count == 2)
    }
}

@Suite struct IdleMemoryTests {
    @Test func onlyReadOnlyFileMappingsAreAdvised() {
        let maps = """
            55d947943000-55d948fe2000 r-xp 00000000 fe:00 5318574                    /usr/bin/provisio
            55d948fe2000-55d94908a000 r--p 0169e000 fe:00 5318574                    /usr/bin/provisio
            55d94908a000-55d94922c000 rw-p 01746000 fe:00 5318574                    /usr/bin/provisio
            55d94922c000-55d94a000000 rw-p 00000000 00:00 0                          [heap]
            7f0000000000-7f0000021000 rw-p 00000000 00:00 0
            7f1000000000-7f1000010000 rw-s 00000000 00:05 1234                       /memfd:ring (deleted)
            7ffd1a5f2000-7ffd1a5f4000 r-xp 00000000 00:00 0                          [vdso]
            """
        let ranges = IdleMemory.readOnlyFileMappings(maps)
        #expect(ranges.map(\.start) == [0x55d9_4794_3000, 0x55d9_48fe_2000])
        #expect(ranges.map(\.length) == [0x169_f000, 0xa8000])
    }

    @Test func releaseGivesBackResidentCode() throws {
        // This test process maps tens of megabytes of code only it uses: the test binary.
        let before = try #require(IdleMemory.residentKilobytes())
        let advised = try #require(IdleMemory.release())
        let after = try #require(IdleMemory.residentKilobytes())
        #expect(advised > 0)
        #expect(after < before, "resident \(before) kB before, \(after) kB after")
        // The process goes on working after its pages were handed back.
        #expect(IdleMemory.residentKilobytes() ?? 0 > 0)
    }
}
