import Foundation
import ProvisioPipeline
import ProvisioRequest
import Testing

/// Behaviour of the three agents that users rely on, through the whole pipeline.
@Suite struct AgentBehaviourTests {
    static func write(_ yaml: String) throws -> String {
        let dir = Fixture.temporaryDirectory("req") + "/apps/svc"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/provision.yaml"
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func request(name: String = "svc", repo: String = "https://github.com/acme/order-service", description: String, extra: String = "") -> String {
        """
        apiVersion: provisio/v1alpha1
        kind: ProvisionRequest
        metadata:
          name: \(name)
        spec:
          gitRepo: \(repo)
          description: "\(description)"
        \(extra)
        """
    }

    @Test func unreachableRepositoryIsAWarningNotAFailure() async throws {
        let path = try Self.write(
            Self.request(
                repo: "file:///nonexistent/provisio/ghost", description: "Go API, 300 QPS, production.", extra: "  target: {kubernetes: {namespace: shop}}"))
        let result = try await Fixture.pipeline(remember: false).plan(path: path)
        #expect(result.context.repo.status == "unreachable")
        #expect(result.context.warnings.contains { $0.contains("unreachable") })
        #expect(result.final.recommendation.replicas >= 2)
        #expect(result.context.appProfile.language?.source.rawValue == "description")
    }

    @Test func forbiddenNamespaceIsRejectedAndNoManifestsAreRendered() async throws {
        let path = try Self.write(Self.request(description: "Go API, 300 QPS.", extra: "  target: {kubernetes: {namespace: kube-system}}"))
        let result = try await Fixture.pipeline(remember: false).plan(path: path)
        #expect(result.final.status == "rejected")
        #expect(!result.files.contains { $0.path.hasSuffix("deployment.yaml") })
        #expect(result.files.contains { $0.path.hasSuffix("status.yaml") && $0.contents.contains("status: error") })
    }

    @Test func quotaTooSmallForThePeakClampsTheHPAAndAsksForReview() async throws {
        let path = try Self.write(
            Self.request(
                description: "Gin API, 400 QPS normally and 4000 at peak, P99 under 100 ms, production.",
                extra: "  target: {kubernetes: {namespace: shop}}\n  context: {namespaceQuota: {cpu: \"2\", memory: 4Gi}}"))
        let result = try await Fixture.pipeline(remember: false).plan(path: path)
        #expect(result.final.status == "needs-review")
        let hpa = try #require(result.final.recommendation.hpa)
        let cpu = try #require(result.final.recommendation.requests.cpu)
        #expect(Double(hpa.maxReplicas) * cpu.cores <= 2.0 + 1e-9)
        #expect(result.final.changes.contains { $0.field == "hpa.maxReplicas" })
        #expect(result.final.reasons.contains { $0.contains("quota") })
        #expect(result.files.contains { $0.path.hasSuffix("status.yaml") && $0.contents.contains("needs-review") })
    }

    @Test func devTierIsClampedByPolicyNeverSilently() async throws {
        let path = try Self.write(
            Self.request(
                description: "Prototype Django app for the dev environment, 5000 QPS at peak.",
                extra: "  target: {kubernetes: {namespace: sandbox}}"))
        let result = try await Fixture.pipeline(remember: false).plan(path: path)
        #expect(result.context.appProfile.tier.value == "dev")
        #expect(result.final.recommendation.hpa?.maxReplicas ?? 0 <= 3)
        #expect(result.final.status == "needs-review")
        #expect(!result.final.changes.isEmpty)
    }

    @Test func moreLoadNeverGetsLessCapacity() async throws {
        var previous = 0.0
        for qps in [50, 500, 5000] {
            let path = try Self.write(
                Self.request(description: "Spring Boot API, \(qps) QPS at peak, production.", extra: "  target: {kubernetes: {namespace: shop}}"))
            let r = try await Fixture.pipeline(remember: false).plan(path: path).draft.recommendation
            let capacity = Double(r.hpa?.maxReplicas ?? r.replicas) * (r.requests.cpu?.cores ?? 0)
            #expect(capacity >= previous, "capacity at \(qps) QPS fell to \(capacity)")
            previous = capacity
        }
    }

    @Test func reasoningShowsArithmeticAndCitesRetrievedDocuments() async throws {
        let result = try await Fixture.pipeline(remember: false).plan(path: Fixture.examples + "/gitops-repo/apps/order-service/provision.yaml")
        let reasoning = result.draft.reasoning.joined(separator: "\n")
        #expect(reasoning.contains("2000 × 0.8 / 1000"), "CPU arithmetic from the Gin document's cost per request")
        #expect(reasoning.contains("Little's law"))
        #expect(result.draft.citations.contains("go-gin"))
        #expect(result.context.retrieved.contains { $0.id == "postgresql" && $0.role == "dependency:postgresql" })
    }

    @Test func memoryRecallsSimilarPastDeployments() async throws {
        let pipeline = try Fixture.pipeline()
        let first = try Self.write(
            Self.request(name: "orders-a", description: "Gin API, 800 QPS at peak, production, PostgreSQL.", extra: "  target: {kubernetes: {namespace: shop}}")
        )
        _ = try await pipeline.plan(path: first)
        let second = try Self.write(
            Self.request(
                name: "orders-b", description: "Gin API, 1000 QPS at peak, production, PostgreSQL.", extra: "  target: {kubernetes: {namespace: shop}}"))
        let result = try await pipeline.plan(path: second)
        #expect(result.context.similar.first?.requestName == "orders-a")
        #expect(try pipeline.database.runCount() == 2)
    }

    @Test func inlineHistoryTakesTheMetricsRoute() async throws {
        let result = try await Fixture.pipeline(remember: false).plan(path: Fixture.examples + "/gitops-repo/apps/recommendation-api/provision.yaml")
        #expect(result.context.route.name == "metrics")
        let h = try #require(result.context.history)
        let memReq = try #require(result.final.recommendation.requests.memory)
        #expect(memReq.mebibytes >= h.memoryMiB.max, "memory request must cover the observed peak")
        #expect(result.context.requestKind == "existing")
    }

    @Test func knowledgeIndexRebuildsWhenAFileChanges() throws {
        let pipeline = try Fixture.pipeline()
        #expect(try pipeline.database.refreshKnowledge(from: pipeline.config.knowledgeDirectory) == false)
        let copy = Fixture.temporaryDirectory("kb")
        try Fixture.run(["cp", "-R", pipeline.config.knowledgeDirectory + "/.", copy])
        #expect(try pipeline.database.refreshKnowledge(from: copy) == false, "same contents, same fingerprint")
        try Data("\n".utf8).write(to: URL(fileURLWithPath: copy + "/redis.md"), options: .atomic)
        let original = try String(contentsOfFile: pipeline.config.knowledgeDirectory + "/redis.md", encoding: .utf8)
        try Data((original + "\nChanged.\n").utf8).write(to: URL(fileURLWithPath: copy + "/redis.md"))
        #expect(try pipeline.database.refreshKnowledge(from: copy) == true)
        #expect(try pipeline.database.search("redis", limit: 3).first?.id == "redis")
    }
}
