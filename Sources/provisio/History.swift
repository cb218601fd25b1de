import ArgumentParser
import Foundation
import ProvisioCore
import ProvisioHistory

/// Reads and generates the history of running services.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Read a workload's history from Prometheus, or write demo history to try the metrics route.",
        subcommands: [Show.self, Demo.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what the metrics route reads for one workload: percentiles, throttling, restarts, OOM kills and events.")
        @Option(help: "Prometheus-compatible API (default $PROVISIO_PROMETHEUS_URL).") var prometheus: String?
        @Option(help: "Namespace.") var namespace: String
        @Option(help: "Deployment, StatefulSet or DaemonSet name.") var workload: String?
        @Option(help: "PromQL label matchers instead of the workload's pod names.") var selector: String?
        @Option(help: "Container to size (default: named like the workload, else the largest).") var container: String?
        @Option(help: "History to read, e.g. 14d.") var window = "14d"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let code = await guarded {
                var env = ProcessInfo.processInfo.environment
                if let prometheus { env["PROVISIO_PROMETHEUS_URL"] = prometheus }
                guard var config = try PrometheusConfig.load(values: [:], environment: env, file: "--prometheus") else {
                    throw ProvisioError(.configuration, field: "--prometheus", "give --prometheus URL or set PROVISIO_PROMETHEUS_URL")
                }
                guard let seconds = PrometheusConfig.duration(window), seconds >= 3600 else {
                    throw ProvisioError(.configuration, field: "--window", "expected a duration such as 14d, got '\(window)'")
                }
                config.window = seconds
                let ref = WorkloadRef(namespace: namespace, workload: workload, selector: selector, container: container)
                guard let usage = try await PrometheusHistory(config: config).fetch(ref) else {
                    throw ProvisioError(
                        .metrics, "Prometheus at \(config.displayURL) has no CPU or memory series for \(namespace)/\(selector ?? workload ?? "")")
                }
                let summary = HistorySummary(usage)
                if json {
                    print(try TreeEncoder.encode(summary).json())
                } else {
                    print(HistoryText.render(summary))
                }
                return 0
            }
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write OpenMetrics history for four demo workloads in namespace shop (steady, diurnal, leaking, throttled).",
            discussion: """
                Load it into a Prometheus with:
                  promtool tsdb create-blocks-from openmetrics --max-block-duration=360h demo.om DATA_DIR
                then start prometheus with --storage.tsdb.path=DATA_DIR --storage.tsdb.retention.time=3650d.
                """)
        @Option(help: "Days of history, ending now.") var days = 14.0
        @Option(help: "Seconds between samples.") var scrape = 60
        @Option(help: "Only these workloads (catalog, storefront, invoicer, pricing).") var workload: [String] = []
        @Option(help: "Output file.") var out: String

        func run() async throws {
            let code = await guarded {
                guard days > 0, days <= 60 else { throw ProvisioError(.configuration, field: "--days", "expected 0–60 days") }
                let chosen = DemoHistory.sample.filter { workload.isEmpty || workload.contains($0.name) }
                guard !chosen.isEmpty else { throw ProvisioError(.configuration, field: "--workload", "no demo workload named \(workload)") }
                var demo = DemoHistory(workloads: chosen, end: Date().timeIntervalSince1970 + 600, days: days)
                demo.scrape = scrape
                do {
                    try demo.openMetrics().write(toFile: out, atomically: true, encoding: .utf8)
                } catch {
                    throw ProvisioError(.io, file: out, "cannot write: \(error.localizedDescription)")
                }
                printError("wrote \(out): \(chosen.map(\.name).joined(separator: ", ")), \(Tree.format(days)) days")
                return 0
            }
            if code != 0 { throw ExitCode(code) }
        }
    }
}

/// The history as people read it.
enum HistoryText {
    static func render(_ h: HistorySummary) -> String {
        func f(_ d: Double) -> String { Tree.format((d * 1000).rounded() / 1000) }
        var s = "history from \(h.source): \(h.samples) pod samples over \(f(Double(h.windowSeconds) / 86_400)) days\n"
        s += "  cpu cores      p50 \(f(h.cpuCores.p50))  p95 \(f(h.cpuCores.p95))  p99 \(f(h.cpuCores.p99))  max \(f(h.cpuCores.max))\n"
        s += "  memory MiB     p50 \(f(h.memoryMiB.p50))  p95 \(f(h.memoryMiB.p95))  p99 \(f(h.memoryMiB.p99))  max \(f(h.memoryMiB.max))"
        s += "  trend \(f(h.memoryTrendMiBPerDay)) MiB/day\n"
        if let r = h.replicas { s += "  replicas       p50 \(f(r.p50))  max \(f(r.max))\n" }
        if let r = h.requestRate { s += "  requests/s     p50 \(f(r.p50))  p95 \(f(r.p95))  max \(f(r.max))\n" }
        if let t = h.throttlingRatio {
            s += "  throttling     p95 \(Int((t * 100).rounded()))% of CFS periods; \(f((h.throttledShare ?? 0) * 100))% of the time over 25%\n"
        }
        s += "  restarts       \(h.restarts) (OOM kills \(h.oomKills)\(h.oomKilledAtMiB.map { ", last at a \(f($0)) MiB limit" } ?? ""))\n"
        if let r = h.currentRequests { s += "  requests       \(r.cpu?.description ?? "-") / \(r.memory?.description ?? "-")\n" }
        if let l = h.currentLimits { s += "  limits         \(l.cpu?.description ?? "-") / \(l.memory?.description ?? "-")\n" }
        if let other = h.otherContainers { s += "  not sized      \(other.joined(separator: ", ")) (other containers)\n" }
        for e in h.events { s += "  \(e.time)  \(e.kind)\(e.count > 1 ? " ×\(e.count)" : "")\(e.pod.map { " \($0)" } ?? ""): \(e.detail)\n" }
        return s
    }
}
