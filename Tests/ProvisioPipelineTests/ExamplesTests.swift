import Foundation
import ProvisioPipeline
import ProvisioRender
import Testing

/// Every example request, end to end: golden files, a real Kubernetes schema validator, determinism.
@Suite struct ExamplesTests {
    static let record = ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1"

    @Test func thereAreAtLeastSixExamples() {
        #expect(Fixture.requests.count >= 6)
    }

    @Test(arguments: Fixture.requests)
    func renderedFilesMatchGoldenFiles(request: String) async throws {
        let result = try await Fixture.pipeline().plan(path: request)
        #expect(result.context.repo.status == "read", "the example app repository should be readable")
        let name = result.context.request.metadata.name
        let folder = Fixture.golden + "/" + name
        if Self.record {
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let expectedNames = Set(((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []))
        var seen = Set<String>()
        for file in result.files {
            let goldenName = file.path.replacingOccurrences(of: "/", with: "__")
            seen.insert(goldenName)
            let goldenPath = folder + "/" + goldenName
            if Self.record {
                try Data(file.contents.utf8).write(to: URL(fileURLWithPath: goldenPath))
                continue
            }
            let expected = try? String(contentsOfFile: goldenPath, encoding: .utf8)
            #expect(expected == file.contents, "\(file.path) differs from \(goldenPath); re-record with RECORD_SNAPSHOTS=1 if the change is intended")
        }
        if !Self.record { #expect(seen == expectedNames, "rendered file set differs from the golden folder") }
    }

    @Test(arguments: Fixture.requests)
    func renderedManifestsPassKubernetesValidation(request: String) async throws {
        let result = try await Fixture.pipeline(remember: false).plan(path: request)
        let dir = Fixture.temporaryDirectory("kv")
        var paths: [String] = []
        for file in result.files where ["deployment.yaml", "hpa.yaml", "pdb.yaml"].contains((file.path as NSString).lastPathComponent) {
            let path = dir + "/" + file.path.replacingOccurrences(of: "/", with: "__")
            try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        #expect(!paths.isEmpty || result.final.status == "rejected")
        guard !paths.isEmpty else { return }
        let (status, output) = try Fixture.run(["kubernetes-validate", "--strict", "--kubernetes-version", "1.30.0"] + paths)
        #expect(status == 0, "kubernetes-validate failed:\n\(output)")
        #expect(output.components(separatedBy: "passed").count - 1 == paths.count, "every manifest must be reported as passed:\n\(output)")
    }

    @Test func sameRequestRendersTheSameBytes() async throws {
        for request in Fixture.requests {
            let a = try await Fixture.pipeline().plan(path: request)
            let b = try await Fixture.pipeline().plan(path: request)
            #expect(a.files == b.files, "\(request) rendered differently twice")
            // Memory grows between runs but must not change the rendered files.
            let pipeline = try Fixture.pipeline()
            let c = try await pipeline.plan(path: request)
            let d = try await pipeline.plan(path: request)
            #expect(c.files == d.files)
        }
    }

    @Test func writeCreatesOnlyGeneratedFilesInsideTheRepository() async throws {
        // Copy the GitOps example so the test writes into a scratch repository.
        let scratch = Fixture.temporaryDirectory("gitops")
        try Fixture.run(["cp", "-R", Fixture.examples + "/gitops-repo/.", scratch])
        let request = scratch + "/apps/catalog-service/provision.yaml"
        let result = try await Fixture.pipeline().plan(path: request)
        #expect(result.root == URL(fileURLWithPath: scratch).standardizedFileURL.path)
        let written = try Pipeline.write(result)
        #expect(written.contains { $0.hasSuffix("apps/catalog-service/generated/deployment-patch.yaml") })
        #expect(written.contains { $0.hasSuffix("proxmox/catalog-service.auto.tfvars.json") })
        #expect(written.allSatisfy { $0.hasPrefix(result.root + "/") })
        let tfvars = try Data(contentsOf: URL(fileURLWithPath: result.root + "/proxmox/catalog-service.auto.tfvars.json"))
        let json = try JSONSerialization.jsonObject(with: tfvars) as? [String: Any]
        let vms = json?["vms"] as? [String: Any]
        #expect(vms?["catalog-service-postgresql"] != nil)
    }
}
