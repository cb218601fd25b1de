import Foundation
import Testing

/// The `provisio` executable as a user runs it: output, exit codes, nothing written on error.
@Suite struct CLITests {
    /// The built executable, next to the test bundle.
    static let binary: String = {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("provisio").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return Fixture.root + "/.build/debug/provisio"
    }()

    static func provisio(_ args: [String]) throws -> (Int32, String) {
        try Fixture.run([binary] + args + [], cwd: Fixture.root)
    }

    static func stateArgs() -> [String] { ["--state-dir", Fixture.temporaryDirectory("cli")] }

    @Test func validatePrintsFileLineFieldMessageAndFails() throws {
        let dir = Fixture.temporaryDirectory("bad")
        let bad = dir + "/provision.yaml"
        try Data(
            """
            apiVersion: provisio/v1alpha1
            kind: ProvisionRequest
            metadata:
              name: Bad_Name
            spec:
              gitRepo: https://github.com/acme/x
              description: Go API
              replicas: 3
            """.utf8
        ).write(to: URL(fileURLWithPath: bad))
        let (status, output) = try Self.provisio(["validate", "--state-dir", Fixture.temporaryDirectory("cli"), bad])
        #expect(status == 1)
        #expect(output.contains("\(bad):4: metadata.name: 'Bad_Name' is not a DNS-1123 label"), "\(output)")
        #expect(output.contains("\(bad):8: spec.replicas: unknown field"), "\(output)")
    }

    @Test func validateAcceptsEveryExample() throws {
        let (status, output) = try Self.provisio(["validate", "--state-dir", Fixture.temporaryDirectory("cli")] + Fixture.requests)
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(Fixture.requests.count) requests valid"))
    }

    @Test func planPrintsTheThreeAgentsAndTheFiles() throws {
        let request = Fixture.examples + "/gitops-repo/apps/order-service/provision.yaml"
        let (status, output) = try Self.provisio(["plan", "--offline"] + Self.stateArgs() + [request])
        #expect(status == 0, "\(output)")
        for marker in [
            "Agent 1 · Context", "Agent 2 · Predict", "Agent 3 · Refine", "apps/order-service/generated/deployment.yaml", "kind: HorizontalPodAutoscaler",
        ] {
            #expect(output.contains(marker), "missing \(marker)")
        }
    }

    @Test func planJSONHasTheThreeOutputs() throws {
        let request = Fixture.examples + "/gitops-repo/apps/fastapi-backend/provision.yaml"
        let (status, output) = try Self.provisio(["plan", "--offline", "--output", "json"] + Self.stateArgs() + [request])
        #expect(status == 0)
        let start = output.firstIndex(of: "[") ?? output.startIndex
        let list = try JSONSerialization.jsonObject(with: Data(output[start...].utf8)) as? [[String: Any]]
        let doc = try #require(list?.first)
        #expect(doc["context"] != nil && doc["draft"] != nil && doc["final"] != nil && doc["files"] != nil)
        let final = doc["final"] as? [String: Any]
        #expect(["approved", "needs-review", "rejected"].contains(final?["status"] as? String ?? ""))
    }

    @Test func planWriteOnAnInvalidRequestWritesNothing() throws {
        let scratch = Fixture.temporaryDirectory("nowrite")
        try FileManager.default.createDirectory(atPath: scratch + "/apps/x", withIntermediateDirectories: true)
        try Data("".utf8).write(to: URL(fileURLWithPath: scratch + "/.provisio.yaml"))
        try Data("git_repo: \"--upload-pack=touch /tmp/pwned\"\napp_description: x\n".utf8).write(to: URL(fileURLWithPath: scratch + "/apps/x/provision.yaml"))
        let (status, output) = try Self.provisio(["plan", "--write", "--offline"] + Self.stateArgs() + [scratch + "/apps/x/provision.yaml"])
        #expect(status == 1)
        #expect(output.contains("git_repo"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: scratch + "/apps/x/generated"))
    }

    @Test func schemaPrintsJSONSchema() throws {
        let (status, output) = try Self.provisio(["schema"])
        #expect(status == 0)
        let doc = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        #expect((doc?["oneOf"] as? [Any])?.count == 3)
    }

    @Test func badOptionIsAUsageError() throws {
        let (status, _) = try Self.provisio(["plan", "--rewrite-repo", "nonsense", Fixture.requests[0]] + Self.stateArgs())
        #expect(status == 64)
    }
}
