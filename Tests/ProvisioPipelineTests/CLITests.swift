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

    @Test func evalVMTracesPrintsTheTableAndWritesPredictions() throws {
        let dir = Fixture.temporaryDirectory("traces")
        func trace(_ peakMHz: Double, _ peakKB: Int) -> String {
            var rows = ["vm,timestamp_s,cpu_cores,cpu_capacity_mhz,cpu_usage_mhz,memory_provisioned_kb,memory_usage_kb"]
            for vm in ["7", "8"] {
                for i in 0..<(4 * 288) {
                    let busy = i % 288 == 100
                    rows.append("\(vm),\(1_700_000_000 + i * 300),4,8000.0,\(busy ? peakMHz : 500),8388608,\(busy ? peakKB : 1_048_576)")
                }
            }
            return rows.joined(separator: "\n") + "\n"
        }
        try trace(4000, 2_097_152).write(toFile: dir + "/train.csv", atomically: true, encoding: .utf8)
        try trace(4400, 2_200_000).write(toFile: dir + "/test.csv", atomically: true, encoding: .utf8)
        let (status, output) = try Self.provisio(["eval", "vm-traces", dir + "/train.csv", dir + "/test.csv", "--out", dir + "/out"])
        #expect(status == 0, "\(output)")
        for method in ["provisioned", "KRR", "oracle", "provisio"] { #expect(output.contains("| \(method)"), "\(output)") }
        // Train peak 4000 MHz of 2000 MHz per core = 2 cores × 1.1 → 3 cores; 2048 MiB × 1.1 + 1280 = 3532.8 → 3584 MiB.
        let json = try #require(FileManager.default.contents(atPath: dir + "/out/predictions.json"))
        let predictions = try #require(try JSONSerialization.jsonObject(with: json) as? [String: [String: Int]])
        #expect(predictions["7"] == ["cores": 3, "memoryMiB": 3584])
        #expect(predictions.count == 2)
        #expect(output.contains("| provisio | ") && output.contains("0.0 % (0) |"))
    }
}
