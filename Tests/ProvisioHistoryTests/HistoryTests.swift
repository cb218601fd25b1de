import Foundation
import ProvisioCore
import ProvisioTestSupport
import Testing

@testable import ProvisioHistory

@Suite struct AssembleTests {
    static let start = 1_700_000_000.0
    static func series(_ labels: [String: String], _ values: [Double], step: Double = 60, offset: Int = 0) -> PrometheusSeries {
        PrometheusSeries(labels: labels, values: values.enumerated().map { .init(time: start + Double($0.offset + offset) * step, value: $0.element) })
    }

    @Test func picksTheWorkloadsContainerTrimsTheWindowAndFindsOOMKills() throws {
        let pod = "api-5c8d7f9b4-abcde"
        let mem: [Double] = [100, 200, 300, 100].map { $0 * 1_048_576 }
        let results: [String: [PrometheusSeries]] = [
            "cpu": [
                Self.series(["pod": pod, "container": "api"], [0.1, 0.2, 0.3, 0.1], offset: 5),
                Self.series(["pod": pod, "container": "istio-proxy"], [0.05, 0.05, 0.05, 0.05], offset: 5),
            ],
            "memory": [
                Self.series(["pod": pod, "container": "api"], mem, offset: 5),
                // The sidecar is bigger: the workload's own container is still the one sized.
                Self.series(["pod": pod, "container": "istio-proxy"], [900, 900, 900, 900].map { $0 * 1_048_576 }, offset: 5),
            ],
            "restarts": [Self.series(["pod": pod, "container": "api"], [0, 0, 0, 1], offset: 5)],
            "oom": [Self.series(["pod": pod, "container": "api"], [0, 0, 0, 1], offset: 5)],
            "limits": [Self.series(["container": "api", "resource": "memory"], [320, 320, 320, 320].map { $0 * 1_048_576 }, offset: 5)],
            "requests": [Self.series(["container": "api", "resource": "cpu"], [0.25, 0.25, 0.25, 0.25], offset: 5)],
        ]
        let h = try #require(
            PrometheusHistory.assemble(
                results, ref: WorkloadRef(namespace: "shop", workload: "api"), source: "test", start: Self.start, end: Self.start + 20 * 60, step: 60))
        #expect(h.times.count == 4, "the window starts at the first sample and ends at the last")
        #expect(h.otherContainers == ["istio-proxy"])
        #expect(h.cpuSamples == [0.1, 0.2, 0.3, 0.1])
        #expect((h.oomKilledAtBytes ?? 0) == 335_544_320.0)
        #expect(h.events.map(\.kind) == ["oom-kill"])
        #expect(h.currentRequests?.cpu == CPUQuantity(millicores: 250))
        #expect(h.currentLimits?.memory == MemoryQuantity(bytes: 320 * 1_048_576))
        let s = HistorySummary(h)
        #expect(s.oomKills == 1 && s.restarts == 1)
        #expect(s.memoryMiB.max == 300)
        #expect(s.windowSeconds == 240)
    }

    @Test func aRestartWithoutAnOOMKillIsARestart() throws {
        let pod = "api-0"
        let results: [String: [PrometheusSeries]] = [
            "cpu": [Self.series(["pod": pod, "container": "api"], [0.1, 0.1, 0.1])],
            "memory": [Self.series(["pod": pod, "container": "api"], [1, 1, 1])],
            "restarts": [Self.series(["pod": pod, "container": "api"], [3, 5, 5])],
        ]
        let h = try #require(
            PrometheusHistory.assemble(
                results, ref: WorkloadRef(namespace: "a", workload: "api"), source: "t", start: Self.start, end: Self.start + 120, step: 60))
        #expect(h.events.count == 1)
        #expect(h.events.first?.kind == "restart")
        #expect(h.events.first?.count == 2)
        #expect(HistorySummary(h).oomKills == 0)
    }

    @Test func noSeriesMeansNoHistory() {
        #expect(PrometheusHistory.assemble([:], ref: WorkloadRef(namespace: "a", workload: "b"), source: "t", start: 0, end: 600, step: 60) == nil)
    }

    @Test func throttlingEpisodesAreRunsAboveAQuarter() {
        let s = Self.series([:], [0, 0.5, 0.9, 0.4, 0, 0, 0.3, 0])
        let episodes = PrometheusHistory.throttlingEpisodes(s, step: 60)
        #expect(episodes.count == 2)
        #expect(episodes[0].detail.contains("3 min") && episodes[0].detail.contains("90%"))
        #expect(episodes[1].detail.contains("1 min"))
    }
}

@Suite struct TrendAndBacktestTests {
    static func points(days: Int, perDay: Double, base: Double) -> [(Double, Double)] {
        (0..<(days * 24)).map { h in
            let t = Double(h) * 3600
            let cycle = 200 * max(0, sin(Double(h % 24) / 24 * 2 * .pi))
            return (t, base + cycle + perDay * t / 86_400)
        }
    }

    @Test func aDayNightCycleIsNotGrowthButASteadyRiseIs() {
        #expect(abs(HistorySummary.dailyPeakTrend(Self.points(days: 7, perDay: 0, base: 500))) < 1)
        let rising = HistorySummary.dailyPeakTrend(Self.points(days: 7, perDay: 30, base: 500))
        #expect(abs(rising - 30) < 1, "\(rising)")
        #expect(HistorySummary.dailyPeakTrend(Self.points(days: 2, perDay: 30, base: 500)) == 0, "two days are too few")
    }

    @Test func backtestArithmeticByHand() {
        var h = UsageHistory(
            source: "t", stepSeconds: 60, times: [0, 60, 120, 180], pods: ["a"], cpu: [[0.1, 0.2, 0.3, 0.4]],
            memory: [[100, 200, 300, 400].map { $0 * 1_048_576 }])
        h.events = []
        let b = Backtest(
            history: h, requests: ResourcePair(cpu: CPUQuantity(millicores: 250), memory: MemoryQuantity(bytes: 250 * 1_048_576)),
            limits: ResourcePair(cpu: CPUQuantity(millicores: 350), memory: MemoryQuantity(bytes: 350 * 1_048_576)))
        #expect(b.cpuOverRequest == 0.5)  // 0.3 and 0.4
        #expect(b.cpuOverLimit == 0.25)  // 0.4
        #expect(b.memoryOverRequest == 0.5)
        #expect(b.memoryOverLimit == 0.25)
        // Used capped at the request: (0.1 + 0.2 + 0.25 + 0.25) / 4 = 0.2 of 0.25 → 20 % slack.
        #expect(abs(b.cpuSlack - 0.2) < 1e-9)
        // (100 + 200 + 250 + 250) / 4 = 200 of 250 → 20 %.
        #expect(abs(b.memorySlack - 0.2) < 1e-9)
    }
}

@Suite struct PrometheusConfigTests {
    @Test func selectorsThatCouldInjectPromQLAreRefused() throws {
        let good = WorkloadRef(namespace: "shop", workload: nil, selector: #"pod=~"api-.*", node!="n1""#)
        #expect(try good.matchers() == #"namespace="shop", pod=~"api-.*", node!="n1""#)
        for bad in [#"pod="x"}) or vector(1) #"#, #"pod="x"} or up{"#, "up", #"pod="a" or 1"#] {
            #expect(throws: ProvisioError.self) { try WorkloadRef(namespace: "shop", workload: nil, selector: bad).matchers() }
        }
        #expect(try WorkloadRef(namespace: "shop", workload: "api").matchers().contains(#"pod=~"api-([a-z0-9]{1,10}-)?[a-z0-9]{5}|api-[0-9]+""#))
    }

    @Test func configurationErrorsNameTheKey() throws {
        func error(_ values: [String: String]) -> String? {
            do {
                _ = try PrometheusConfig.load(values: values, environment: [:], file: "/etc/provisio/config.yaml")
                return nil
            } catch { return "\(error)" }
        }
        #expect(try PrometheusConfig.load(values: [:], environment: [:], file: "f") == nil)
        #expect(error(["prometheus.url": "ftp://x"])?.contains("prometheus.url") == true)
        #expect(error(["prometheus.url": "http://p:9090", "prometheus.timeout": "soon"])?.contains("/etc/provisio/config.yaml: prometheus.timeout") == true)
        #expect(error(["prometheus.url": "http://p:9090", "prometheus.window": "2m"])?.contains("prometheus.window") == true)
        #expect(error(["prometheus.url": "http://p:9090", "prometheus.tokenFile": "/nonexistent"])?.contains("prometheus.tokenFile") == true)
        let c = try #require(
            try PrometheusConfig.load(
                values: ["prometheus.url": "http://p:9090", "prometheus.window": "7d", "prometheus.queries.cpu": "my_cpu{{{selector}}}"], environment: [:],
                file: "f"))
        #expect(c.window == 7 * 86_400)
        #expect(c.queries.cpu == "my_cpu{{{selector}}}")
    }

    @Test func theTokenComesFromASystemdCredentialAndNeverFromTheURL() throws {
        let dir = NSTemporaryDirectory() + "provisio-cred-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "s3cr3t-token\n".write(toFile: dir + "/prometheus-token", atomically: true, encoding: .utf8)
        let c = try #require(
            try PrometheusConfig.load(values: ["prometheus.url": "https://u:pw@mimir/prometheus"], environment: ["CREDENTIALS_DIRECTORY": dir], file: "f"))
        #expect(c.bearerToken == "s3cr3t-token")
        #expect(!c.displayURL.contains("pw"))
    }

    @Test func anErrorAnswerIsReportedWithPrometheusMessage() {
        let body = Data(#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#.utf8)
        #expect {
            try PrometheusClient.decodeMatrix(body, query: "up{")
        } throws: { e in "\(e)".contains("bad_data: parse error at char 5") }
        let ok = Data(#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"pod":"a"},"values":[[1,"0.5"],[2,"NaN"]]}]}}"#.utf8)
        #expect((try? PrometheusClient.decodeMatrix(ok, query: "q"))?.first?.values.map(\.value) == [0.5])
    }
}

@Suite struct VMTraceTests {
    static let csv = """
        vm,timestamp_s,cpu_cores,cpu_capacity_mhz,cpu_usage_mhz,memory_provisioned_kb,memory_usage_kb
        a,0,2,4000.0,1000.0,4194304,1048576
        a,300,2,4000.0,3000.0,4194304,2097152
        b,0,4,8000.0,0.0,8388608,524288
        b,300,4,8000.0,2000.0,8388608,1048576

        """

    @Test func readsCSVAndXZWithUsageInCores() throws {
        let dir = NSTemporaryDirectory() + "provisio-trace-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.csv.write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        let plain = try VMTrace.load(path: dir + "/t.csv")
        // a: 1000 MHz of 2000 MHz per core = 0.5 cores; 3000 → 1.5 cores. Memory kB / 1024 = MiB.
        #expect(plain.map(\.name) == ["a", "b"])
        #expect(plain[0].cpuCores == [0.5, 1.5])
        #expect(plain[0].memoryMiB == [1024, 2048])
        #expect(plain[0].allocatedCores == 2 && plain[0].allocatedMemoryMiB == 4096)
        let compressed = try Shell.run(["xz", "-k", dir + "/t.csv"])
        #expect(compressed.status == 0)
        #expect(try VMTrace.load(path: dir + "/t.csv.xz") == plain)
        try "vm,timestamp_s\n1,2\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        #expect {
            try VMTrace.load(path: dir + "/bad.csv")
        } throws: { "\($0)".contains("bad.csv:1: cpu_cores: missing column") }
        try (Self.csv + "a,600,2,4000.0,lots,1,1\n").write(toFile: dir + "/bad2.csv", atomically: true, encoding: .utf8)
        #expect {
            try VMTrace.load(path: dir + "/bad2.csv")
        } throws: { "\($0)".contains("bad2.csv:6: cpu_usage_mhz: 'lots' is not a number") }
    }

    @Test func judgementArithmeticByHand() throws {
        let usage = try VMTrace.parse(Data(Self.csv.utf8), file: "t")
        // a gets 1 core and 1536 MiB: cpu used min(0.5,1)+min(1.5,1) = 1.5 of 2; memory 1024 + 1536 of 3072.
        // b (2000 MHz per core) gets 1 core and 2048 MiB: cpu 0 + 1 of 2; memory 512 + 1024 of 4096.
        let j = VMJudgement(method: "m", sizes: ["a": (1, 1536), "b": (1, 2048)], usage: usage)
        #expect(abs(j.cpuSlack - (1 - 2.5 / 4)) < 1e-9)
        #expect(abs(j.memorySlack - (1 - (1024 + 1536 + 512 + 1024) / 7168.0)) < 1e-9)
        #expect(j.cpuSamplesOver == 0.25)  // a at 1.5 cores
        #expect(j.memorySamplesOver == 0.25)  // a at 2048 MiB
        #expect(j.vmsOverMemory == 0.5 && j.vmsOverMemoryCount == 1)
    }

    @Test func sizesWholeCoresAndProxmoxMemorySteps() {
        #expect(VMSizer.step(100) == 256)
        #expect(VMSizer.step(2048) == 2048)
        #expect(VMSizer.step(2049) == 2560)
        #expect(VMSizer.step(8193) == 9216)
        let u = VMUsage(name: "x", times: [0, 300, 600], cpuCores: [0.5, 1.9, 1.0], memoryMiB: [1000, 3000, 2000])
        let s = VMSizer.size(u)
        // 1.9 × 1.1 = 2.09 → 3 cores; 3000 × 1.1 + 1280 = 4580 → 4608 MiB (9 steps of 512 MiB).
        #expect(s.cores == 3)
        #expect(s.memoryMiB == 4608)
        #expect(s.floatingMiB <= s.memoryMiB)
        #expect(s.reasoning.count == 3)
    }
}
