import Foundation
import Logging
import ProvisioContext
import ProvisioCore
import ProvisioHistory
import ProvisioPipeline
import ProvisioTestSupport
import ProvisioTools
import Testing

/// The metrics route against a real Prometheus with backfilled history of four behaviours.
@Suite(.serialized) struct MetricsRouteTests {
    static func pipeline(prometheus: PrometheusConfig?) throws -> Pipeline {
        var config = PipelineConfig(
            stateDirectory: Fixture.temporaryDirectory("state"), knowledgeDirectory: Fixture.root + "/knowledge",
            policiesDirectory: Fixture.root + "/policies", offline: true, remember: false)
        config.prometheus = prometheus
        return try Pipeline(config: config, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    static func request(_ workload: String, history: String? = nil, extra: String = "") throws -> String {
        let dir = Fixture.temporaryDirectory("metrics") + "/apps/\(workload)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/provision.yaml"
        let yaml = """
            apiVersion: provisio/v1alpha1
            kind: ProvisionRequest
            metadata: {name: \(workload)}
            spec:
              gitRepo: https://git.example.com/shop/\(workload).git
              description: Go HTTP API of the shop, production
              target: {kubernetes: {namespace: shop}}
              history: {prometheus: \(history ?? "{namespace: shop, workload: \(workload)}")}
            \(extra)

            """
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func eachRecommendationRespondsToWhatItsHistoryShows() async throws {
        let demo = DemoHistory(end: Date().timeIntervalSince1970 + 600, days: 3)
        let server = try PrometheusServer(openMetrics: demo.openMetrics())
        defer { server.stop() }
        var config = PrometheusConfig(url: server.url)
        config.window = 3 * 86_400
        let pipeline = try Self.pipeline(prometheus: config)
        var results: [String: PlanResult] = [:]
        for w in ["catalog", "storefront", "invoicer", "pricing"] { results[w] = try await pipeline.plan(path: try Self.request(w)) }

        for (name, r) in results {
            #expect(r.context.route.name == "metrics", "\(name): \(r.context.route.reason)")
            #expect(r.context.requestKind == "existing")
            let backtest = try #require(r.final.checks.first { $0.name == "backtest" }, "\(name) has no backtest")
            #expect(backtest.passed, "\(name): \(backtest.detail)")
            #expect(r.final.rounds.contains { $0.tool == "backtest" })
        }

        // The cluster's room from kube-state-metrics: 2 nodes × 4 cores; requests of the 9 demo pods.
        let cluster = try #require(results["catalog"]?.context.cluster.kubernetes)
        #expect(cluster.source.hasPrefix("Prometheus"))
        #expect(cluster.allocatable.cpu?.cores == 8)
        // catalog 2 × 0.5, storefront 3 × 0.5, invoicer 2 × 0.1, pricing 2 × 0.25 = 3.2 cores.
        #expect(abs((cluster.requested.cpu?.cores ?? 0) - 3.2) < 0.01, "\(cluster.requested)")

        // Steady: near what it uses (0.2 cores, 300 MiB), far below its 500m/512Mi requests.
        let steady = try #require(results["catalog"])
        let steadyCpu = try #require(steady.final.recommendation.requests.cpu).cores
        let steadyMem = try #require(steady.final.recommendation.requests.memory).mebibytes
        #expect(steadyCpu > 0.2 && steadyCpu < 0.35, "catalog cpu \(steadyCpu)")
        #expect(steadyMem > 300 && steadyMem < 400, "catalog memory \(steadyMem)")
        #expect(steady.context.history?.events.isEmpty == true)

        // Diurnal with a daily spike to 1.2 cores: the limit covers the spike, the HPA has room.
        let diurnal = try #require(results["storefront"])
        #expect(try #require(diurnal.final.recommendation.limits.cpu).cores >= 1.2)
        #expect(diurnal.context.history?.cpuCores.max ?? 0 > 1.1)
        let hpa = try #require(diurnal.final.recommendation.hpa)
        #expect(hpa.maxReplicas > hpa.minReplicas)
        #expect(abs(diurnal.context.history?.memoryTrendMiBPerDay ?? 99) < 5, "a day/night cycle is not growth")

        // Leaking and OOM-killed at 512 MiB: more memory than it was killed at, and the kills as events.
        let leak = try #require(results["invoicer"])
        let h = try #require(leak.context.history)
        #expect(h.oomKills >= 4)
        #expect(h.oomKilledAtMiB == 512)
        #expect(h.events.contains { $0.kind == "oom-kill" && $0.detail.contains("512 MiB") })
        #expect(try #require(leak.final.recommendation.requests.memory).mebibytes > 512)
        #expect(try #require(leak.final.recommendation.limits.memory).mebibytes > 512)
        #expect(leak.draft.reasoning.contains { $0.contains("OOM kills") })

        // Throttled at its 500m limit: more CPU than it was allowed.
        let throttled = try #require(results["pricing"])
        let th = try #require(throttled.context.history)
        #expect((th.throttlingRatio ?? 0) > 0.5)
        #expect(th.cpuCores.max <= 0.5 + 1e-6, "usage is capped at the limit")
        #expect(th.events.contains { $0.kind == "throttling" })
        #expect(try #require(throttled.final.recommendation.limits.cpu).cores > 0.5)
        #expect(try #require(throttled.final.recommendation.requests.cpu).cores > 0.5)
        #expect(throttled.draft.reasoning.contains { $0.contains("Throttling") })
        // KRR's rule (p95 of what was observed) stays at the throttled 0.5 cores; the demand is 0.8 (the generator's).
        #expect(th.cpuCores.p95 * 1.15 < 0.8)
        #expect(try #require(throttled.final.recommendation.requests.cpu).cores >= 0.8)

        // A workload Prometheus has never seen: knowledge route, with a warning that says why.
        let ghost = try await pipeline.plan(path: try Self.request("ghost"))
        #expect(ghost.context.route.name == "knowledge")
        #expect(ghost.context.warnings.contains { $0.contains("no CPU or memory series") })

        // A Proxmox VM reported by prometheus-pve-exporter: ~2.6 cores and 5200 MiB in its nightly batch.
        let vmPlan = try await pipeline.plan(path: try VMHistoryTests.request(vms: "[{role: postgresql, vmid: \(DemoHistory.vmid)}]"))
        let vmHistory = try #require(vmPlan.context.vmHistory.first)
        #expect(vmHistory.source == "pve-exporter")
        #expect(vmHistory.cpuCores.max > 2.3 && vmHistory.cpuCores.max < 2.7)
        let vm = try #require(vmPlan.final.recommendation.vms.first)
        #expect(vm.cores == 3)  // 2.4–2.6 × 1.1 → 3
        #expect(vm.memoryMiB == 7168)  // 5200 × 1.1 + 1280 = 7000 → 7168

        // With a request-rate query, the observed CPU per request (4 ms in the demo) sizes a declared peak above anything seen.
        var withRate = config
        withRate.queries.requestRate = "sum(rate(http_requests_total{{{selector}}}[{{rate}}]))"
        let launch = try await Self.pipeline(prometheus: withRate).plan(
            path: try Self.request("storefront", extra: "  workload: {expectedQps: 300, peakQps: 3000}"))
        let perRequest = try #require(launch.context.history?.cpuMsPerRequest)
        #expect(abs(perRequest - 4) < 0.5, "\(perRequest)")
        #expect(launch.draft.reasoning.contains { $0.contains("Declared peak 3000 QPS") })
        let launchHPA = try #require(launch.final.recommendation.hpa)
        let launchCpu = try #require(launch.final.recommendation.requests.cpu)
        // 3000 QPS × 4 ms = 12 cores at peak.
        #expect(Double(launchHPA.maxReplicas) * launchCpu.cores >= 12 || launch.final.changes.contains { $0.field == "hpa.maxReplicas" })

        // The same history through the tool registry (what MCP clients and a model call).
        let registry = ToolRegistry(pipeline: pipeline)
        let history = try await registry.call("query_history", arguments: Data(#"{"namespace": "shop", "workload": "invoicer"}"#.utf8)).json()
        #expect(history.contains("\"oomKills\": \(h.oomKills)"), "\(history.prefix(400))")
        let tooSmall = try await registry.call(
            "backtest",
            arguments: Data(
                #"{"namespace": "shop", "workload": "invoicer", "requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "300Mi"}}"#.utf8)
        ).json()
        let overLimit = try #require(tooSmall.split(separator: "\n").first { $0.contains("memoryOverLimit") })
        #expect(!overLimit.contains(": 0,"), "a 300Mi limit is under the leak's samples: \(overLimit)")

        // A label selector instead of the workload name reads the same pods.
        let selected = try await pipeline.plan(path: try Self.request("invoice-by-label", history: #"{namespace: shop, selector: 'pod=~"invoicer-.*"'}"#))
        #expect(selected.context.route.name == "metrics")
        #expect(selected.context.history?.oomKills == h.oomKills)
    }

    @Test func basicAuthCredentialsAreSentAndARefusalIsAWarning() async throws {
        // bcrypt of "prom-pass-1", as Prometheus's web configuration wants it.
        let hash = "$2b$04$OrebtadJCe5I1Y9qX1pO4.JQOsFkBBDce3sB1ZhMVt64o7uQDMJhW"
        let demo = DemoHistory(workloads: [DemoHistory.sample[0]], end: Date().timeIntervalSince1970 + 600, days: 1)
        let server = try PrometheusServer(openMetrics: demo.openMetrics(), basicAuth: ("provisio", hash, "prom-pass-1"))
        defer { server.stop() }
        var config = PrometheusConfig(url: server.url)
        config.window = 86_400
        config.username = "provisio"
        config.password = "prom-pass-1"
        let ok = try await Self.pipeline(prometheus: config).plan(path: try Self.request("catalog"))
        #expect(ok.context.route.name == "metrics", "\(ok.context.warnings)")
        config.password = "not-the-password"
        let refused = try await Self.pipeline(prometheus: config).plan(path: try Self.request("catalog"))
        #expect(refused.context.route.name == "knowledge")
        let warning = try #require(refused.context.warnings.first { $0.contains("history unavailable") })
        #expect(warning.contains("refused the credentials (HTTP 401)"))
        #expect(!warning.contains("not-the-password"))
    }

    @Test func aPrometheusThatIsDownFallsBackToKnowledgeWithAWarning() async throws {
        // A port nothing listens on.
        let pipeline = try Self.pipeline(prometheus: PrometheusConfig(url: "http://user:hunter2@127.0.0.1:9"))
        let r = try await pipeline.plan(path: try Self.request("catalog"))
        #expect(r.context.route.name == "knowledge")
        let warning = try #require(r.context.warnings.first { $0.contains("history unavailable") })
        #expect(warning.contains("unreachable"))
        #expect(!warning.contains("hunter2"))
        #expect(r.final.recommendation.requests.cpu != nil)
    }

    @Test func aPrometheusThatDoesNotAnswerInTimeFallsBackToKnowledge() async throws {
        // Accepts connections (the kernel completes them) but never answers.
        let silent = try SilentListener()
        defer { silent.close() }
        var config = PrometheusConfig(url: "http://127.0.0.1:\(silent.port)")
        config.timeout = 0.5
        let clock = ContinuousClock(), start = clock.now
        let r = try await Self.pipeline(prometheus: config).plan(path: try Self.request("catalog"))
        #expect(clock.now - start < .seconds(5))
        #expect(r.context.route.name == "knowledge")
        #expect(r.context.warnings.contains { $0.contains("no answer within 0.5 s") }, "\(r.context.warnings)")
    }

    @Test func historyDeclaredWithoutPrometheusIsAWarning() async throws {
        let r = try await Self.pipeline(prometheus: nil).plan(path: try Self.request("catalog"))
        #expect(r.context.route.name == "knowledge")
        #expect(r.context.warnings.contains { $0.contains("no Prometheus is configured") })
    }
}

/// A TCP listener that never accepts: connections complete in the kernel's backlog and hang.
final class SilentListener: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw PrometheusServer.Failure("cannot listen") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
