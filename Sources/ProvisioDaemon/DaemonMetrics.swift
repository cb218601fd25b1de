public import Foundation
import Synchronization

/// The daemon's counters, rendered in the Prometheus text format at `/metrics`.
public final class DaemonMetrics: Sendable {
    struct State {
        var passes: [String: Int] = [:]
        var requestsSized = 0
        var failures: [String: Int] = [:]
        var pushRetries = 0
        var lastSuccess: Double?
        var webhook: [String: Int] = [:]
        var durationBuckets = [Int](repeating: 0, count: DaemonMetrics.buckets.count)
        var durationSum = 0.0
        var durationCount = 0
    }

    static let buckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    private let state = Mutex(State())

    public init() {}

    /// Records a finished pass.
    public func pass(outcome: String, seconds: Double, requests: Int, retries: Int, at date: Date = Date()) {
        state.withLock { s in
            s.passes[outcome, default: 0] += 1
            s.requestsSized += requests
            s.pushRetries += retries
            if outcome != "error" { s.lastSuccess = date.timeIntervalSince1970 }
            for (i, b) in Self.buckets.enumerated() where seconds <= b { s.durationBuckets[i] += 1 }
            s.durationSum += seconds
            s.durationCount += 1
        }
    }

    /// Records a failed pass and why.
    public func failure(reason: String) { state.withLock { $0.failures[reason, default: 0] += 1 } }

    /// Records a webhook call's result (accepted, unauthorized, ignored).
    public func webhook(_ result: String) { state.withLock { $0.webhook[result, default: 0] += 1 } }

    /// Whether a pass has succeeded since start.
    public var hasSucceeded: Bool { state.withLock { $0.lastSuccess != nil } }

    /// The Prometheus text exposition.
    public func render() -> String {
        let s = state.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) { out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" }
        family("provisio_passes_total", "counter", "Reconcile passes by outcome.")
        for outcome in ["pushed", "unchanged", "error"] { out += "provisio_passes_total{outcome=\"\(outcome)\"} \(s.passes[outcome] ?? 0)\n" }
        family("provisio_requests_sized_total", "counter", "Requests sized by reconcile passes.")
        out += "provisio_requests_sized_total \(s.requestsSized)\n"
        family("provisio_failures_total", "counter", "Failed passes by reason.")
        for (reason, n) in s.failures.sorted(by: { $0.key < $1.key }) { out += "provisio_failures_total{reason=\"\(reason)\"} \(n)\n" }
        family("provisio_push_retries_total", "counter", "Pushes redone after losing a race.")
        out += "provisio_push_retries_total \(s.pushRetries)\n"
        family("provisio_last_successful_pass_timestamp_seconds", "gauge", "When the last pass succeeded.")
        out += "provisio_last_successful_pass_timestamp_seconds \(s.lastSuccess.map { String(format: "%.3f", $0) } ?? "0")\n"
        family("provisio_webhook_requests_total", "counter", "Webhook calls by result.")
        for result in ["accepted", "ignored", "unauthorized"] { out += "provisio_webhook_requests_total{result=\"\(result)\"} \(s.webhook[result] ?? 0)\n" }
        family("provisio_pass_duration_seconds", "histogram", "How long passes take.")
        for (i, b) in Self.buckets.enumerated() { out += "provisio_pass_duration_seconds_bucket{le=\"\(b)\"} \(s.durationBuckets[i])\n" }
        out += "provisio_pass_duration_seconds_bucket{le=\"+Inf\"} \(s.durationCount)\n"
        out += "provisio_pass_duration_seconds_sum \(String(format: "%.6f", s.durationSum))\n"
        out += "provisio_pass_duration_seconds_count \(s.durationCount)\n"
        return out
    }
}
