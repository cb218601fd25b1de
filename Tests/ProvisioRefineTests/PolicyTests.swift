import Foundation
import ProvisioCore
import Testing

@testable import ProvisioRefine

@Suite struct PolicyTests {
    static let policies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/policies"

    @Test func theShippedPolicyLoads() throws {
        let p = try Policy.load(from: Self.policies)
        #expect(p.tiers["production"]!.minReplicas >= 2)
        #expect(p.forbiddenNamespaces.contains("kube-system"))
        #expect(p.rule(for: "apps/x/provision.yaml") != nil)
    }

    @Test(arguments: [
        ("**", "apps/x/provision.yaml", true),
        ("teams/a/**", "teams/a/svc/provision.yaml", true),
        ("teams/a/**", "teams/b/svc/provision.yaml", false),
        ("apps/*/provision.yaml", "apps/x/provision.yaml", true),
        ("apps/*/provision.yaml", "apps/x/y/provision.yaml", false),
        ("team-*", "team-payments", true),
        ("**/provision.yaml", "provision.yaml", true),
    ])
    func globs(pattern: String, path: String, matches: Bool) {
        #expect(Glob.matches(pattern, path) == matches)
    }

    static func write(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "provisio-policy-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        return dir
    }

    @Test func aBrokenPolicyNamesTheFileAndField() throws {
        let shipped = try String(contentsOfFile: Self.policies + "/default.yaml", encoding: .utf8)
        let dir = try Self.write(["default.yaml": shipped.replacingOccurrences(of: "maxCpu: \"4\"", with: "maxCpu: lots")])
        do {
            _ = try Policy.load(from: dir)
            Issue.record("expected an error")
        } catch let e as ProvisioError {
            #expect(e.file?.hasSuffix("default.yaml") == true)
            #expect(e.field == "spec.tiers.production.maxCpu", "\(e)")
        }
        let missingTier = try Self.write(["a.yaml": "apiVersion: provisio/v1alpha1\nkind: SizingPolicy\nmetadata: {name: a}\nspec: {forbiddenNamespaces: []}\n"]
        )
        #expect(throws: ProvisioError.self) { try Policy.load(from: missingTier) }
        let empty = try Self.write([:])
        #expect(throws: ProvisioError.self) { try Policy.load(from: empty) }
    }

    @Test func laterFilesOverrideTiersAndAddPathRules() throws {
        let shipped = try String(contentsOfFile: Self.policies + "/default.yaml", encoding: .utf8)
        let dir = try Self.write([
            "00-default.yaml": shipped,
            "10-team.yaml": """
            apiVersion: provisio/v1alpha1
            kind: SizingPolicy
            metadata: {name: team}
            spec:
              tiers:
                dev: {minReplicas: 1, maxReplicas: 1, maxCpu: 500m, maxMemory: 1Gi, maxLimitRequestRatio: {cpu: 2, memory: 2}, cpuLimits: false}
              forbiddenNamespaces: [payments]
            """,
        ])
        let p = try Policy.load(from: dir)
        #expect(p.tiers["dev"]!.maxReplicas == 1)
        #expect(p.tiers["dev"]!.cpuLimits == false)
        #expect(p.forbiddenNamespaces.contains("payments") && p.forbiddenNamespaces.contains("kube-system"))
    }
}
