public import Foundation
import ProvisioCore
import ProvisioRequest

/// Which workload's history to read.
public struct WorkloadRef: Sendable, Hashable {
    public var namespace: String
    /// A Deployment, StatefulSet or DaemonSet name: its pods are matched by name.
    public var workload: String?
    /// Label matchers instead of the pod-name match, e.g. `pod=~"api-.*", node="n1"`.
    public var selector: String?
    /// The container to size; default: the one named like the workload, else the largest.
    public var container: String?

    public init(namespace: String, workload: String?, selector: String? = nil, container: String? = nil) {
        self.namespace = namespace
        self.workload = workload
        self.selector = selector
        self.container = container
    }

    /// The label matchers for the workload's pods.
    public func matchers() throws -> String {
        var parts = ["namespace=\"\(namespace)\""]
        if let selector {
            guard selector.range(of: RequestSchema.selectorPattern, options: .regularExpression) != nil else {
                throw ProvisioError(
                    .invalidRequest, field: "spec.history.prometheus.selector", "'\(selector)' is not a list of label matchers like app=\"x\", pod=~\"x-.*\"")
            }
            parts.append(selector.trimmingCharacters(in: .whitespaces))
        } else if let workload {
            // Deployment pods: name-<template hash>-<5>; StatefulSet: name-<ordinal>; DaemonSet: name-<5>.
            parts.append("pod=~\"\(workload)-([a-z0-9]{1,10}-)?[a-z0-9]{5}|\(workload)-[0-9]+\"")
        } else {
            throw ProvisioError(.invalidRequest, field: "spec.history.prometheus", "name a workload or give a selector")
        }
        return parts.joined(separator: ", ")
    }
}

/// Reads a workload's usage, throttling, restarts and OOM kills from Prometheus.
public struct PrometheusHistory: Sendable {
    public let client: PrometheusClient
    public init(config: PrometheusConfig) { client = PrometheusClient(config: config) }

    /// Seconds between points: at least 30, and few enough points to stay under the API's 11,000 per series.
    public static func step(window: Double) -> Int { max(30, Int((window / 10_000 / 30).rounded(.up)) * 30) }

    /// The history, or nil when Prometheus has no CPU or memory series for the workload.
    public func fetch(_ ref: WorkloadRef, now: Double = Date().timeIntervalSince1970) async throws -> UsageHistory? {
        let config = client.config
        let step = Self.step(window: config.window)
        let end = (now / Double(step)).rounded(.down) * Double(step)
        let start = end - (config.window / Double(step)).rounded(.down) * Double(step)
        let selector = try ref.matchers()
        func fill(_ q: String) -> String {
            q.replacingOccurrences(of: "{{selector}}", with: selector).replacingOccurrences(of: "{{rate}}", with: config.rateWindow)
        }
        let q = config.queries
        var named: [(String, String)] = [
            ("cpu", q.cpu), ("memory", q.memory), ("throttling", q.throttling), ("restarts", q.restarts), ("oom", q.oomKilled), ("requests", q.requests),
            ("limits", q.limits),
        ]
        if let rate = q.requestRate { named.append(("rate", rate)) }
        let client = self.client
        // Every query runs to its own end (answer, error or timeout): cancelling an in-flight URLSession
        // task on Linux can hang, so a failure is thrown only once all have finished.
        let answers = await withTaskGroup(of: (String, Result<[PrometheusSeries], any Error>).self) { group in
            for (name, query) in named {
                group.addTask {
                    do { return (name, .success(try await client.queryRange(fill(query), start: start, end: end, step: step))) } catch {
                        return (name, .failure(error))
                    }
                }
            }
            var out: [(String, Result<[PrometheusSeries], any Error>)] = []
            for await answer in group { out.append(answer) }
            return out
        }
        var results: [String: [PrometheusSeries]] = [:]
        for (name, result) in answers.sorted(by: { $0.0 < $1.0 }) { results[name] = try result.get() }
        return Self.assemble(results, ref: ref, source: config.displayURL, start: start, end: end, step: step)
    }

    /// Builds the per-pod history from the query results (separate from the HTTP part for tests).
    static func assemble(_ r: [String: [PrometheusSeries]], ref: WorkloadRef, source: String, start: Double, end: Double, step: Int) -> UsageHistory? {
        let memory = r["memory"] ?? [], cpu = r["cpu"] ?? []
        guard !memory.isEmpty, !cpu.isEmpty else { return nil }
        // The container to size.
        var total: [String: Double] = [:]
        for s in memory { total[s.labels["container"] ?? "", default: 0] += s.values.map(\.value).reduce(0, +) }
        let containers = total.keys.sorted()
        let main =
            ref.container.flatMap { c in containers.contains(c) ? c : nil }
            ?? ref.workload.flatMap { w in containers.contains(w) ? w : nil }
            ?? total.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }!.key
        func mine(_ s: PrometheusSeries) -> Bool { s.labels["container"].map { $0 == main } ?? true }

        let count = Int(((end - start) / Double(step)).rounded()) + 1
        let times = (0..<count).map { start + Double($0 * step) }
        func index(_ t: Double) -> Int? {
            let i = Int(((t - start) / Double(step)).rounded())
            return (0..<count).contains(i) ? i : nil
        }
        func grid(_ s: PrometheusSeries) -> [Double?] {
            var row = [Double?](repeating: nil, count: count)
            for v in s.values { if let i = index(v.time) { row[i] = v.value } }
            return row
        }
        let pods = Set((memory + cpu).filter(mine).compactMap { $0.labels["pod"] }).sorted()
        func rows(_ series: [PrometheusSeries]) -> [[Double?]] {
            pods.map { pod in
                series.filter { mine($0) && $0.labels["pod"] == pod }.map(grid).reduce([Double?](repeating: nil, count: count)) { acc, row in
                    zip(acc, row).map { a, b in a.map { $0 + (b ?? 0) } ?? b }
                }
            }
        }
        // The window is where samples exist: a workload younger than the window has a shorter history.
        let cpuRows = rows(cpu), memoryRows = rows(memory)
        let present = (0..<count).filter { i in memoryRows.contains { $0[i] != nil } || cpuRows.contains { $0[i] != nil } }
        guard let first = present.first, let lastIndex = present.last else { return nil }
        let span = first...lastIndex
        var h = UsageHistory(
            source: source, stepSeconds: step, times: Array(times[span]), pods: pods, cpu: cpuRows.map { Array($0[span]) },
            memory: memoryRows.map { Array($0[span]) })
        guard !h.cpuSamples.isEmpty, !h.memorySamples.isEmpty else { return nil }
        h.otherContainers = containers.filter { $0 != main && !$0.isEmpty }

        // Throttling, per step.
        if let t = r["throttling"]?.first(where: mine) {
            let values = grid(t)[span].compactMap { $0 }.map { min(1, max(0, $0)) }
            if !values.isEmpty { h.throttling = values }
            h.events += throttlingEpisodes(t, step: step)
        }
        // Settings in force, as a function of time.
        func setting(_ name: String, _ resource: String) -> PrometheusSeries? {
            r[name]?.first { mine($0) && $0.labels["resource"] == resource }
        }
        func last(_ s: PrometheusSeries?) -> Double? { s?.values.last?.value }
        let cpuReq = last(setting("requests", "cpu")), memReq = last(setting("requests", "memory"))
        let cpuLim = last(setting("limits", "cpu")), memLim = last(setting("limits", "memory"))
        if cpuReq != nil || memReq != nil {
            h.currentRequests = ResourcePair(cpu: cpuReq.map { CPUQuantity(cores: $0) }, memory: memReq.map { MemoryQuantity(bytes: Int64($0)) })
        }
        if cpuLim != nil || memLim != nil {
            h.currentLimits = ResourcePair(cpu: cpuLim.map { CPUQuantity(cores: $0) }, memory: memLim.map { MemoryQuantity(bytes: Int64($0)) })
        }
        let memLimitSeries = setting("limits", "memory")

        // Restarts and OOM kills.
        let oom = (r["oom"] ?? []).filter(mine)
        for s in (r["restarts"] ?? []).filter(mine) {
            let pod = s.labels["pod"]
            for (a, b) in zip(s.values, s.values.dropFirst()) where b.value > a.value {
                let n = Int((b.value - a.value).rounded())
                let killed = oom.contains { o in
                    o.labels["pod"] == pod && o.values.contains { $0.time >= a.time && $0.time <= b.time + Double(2 * step) && $0.value >= 1 }
                }
                if killed {
                    let limit =
                        memLimitSeries?.values.last(where: { $0.time <= b.time })?.value
                        ?? h.memory[pods.firstIndex(of: pod ?? "") ?? 0].enumerated().filter { times[$0.offset] <= b.time && times[$0.offset] > b.time - 1800 }
                        .compactMap(\.element).max()
                    if let limit { h.oomKilledAtBytes = max(h.oomKilledAtBytes ?? 0, limit) }
                    let at = limit.map { " at the \(Tree.format(($0 / 1_048_576).rounded())) MiB limit" } ?? ""
                    h.events.append(MonitorEvent(kind: "oom-kill", time: b.time, pod: pod, count: n, detail: "container \(main) OOM-killed\(at)"))
                } else {
                    h.events.append(MonitorEvent(kind: "restart", time: b.time, pod: pod, count: n, detail: "container \(main) restarted"))
                }
            }
        }
        h.events.sort { $0.time < $1.time }
        if h.events.count > 50 { h.events = Array(h.events.suffix(50)) }

        if let rate = r["rate"], !rate.isEmpty {
            var total = [Double](repeating: 0, count: count)
            var seen = [Bool](repeating: false, count: count)
            for s in rate {
                for (i, v) in grid(s).enumerated() {
                    if let v {
                        total[i] += v
                        seen[i] = true
                    }
                }
            }
            let aligned = Array(zip(total, seen))[span].map { $0 }
            h.requestRate = aligned.filter(\.1).map(\.0)
            let ratios = aligned.indices.compactMap { i -> Double? in
                guard aligned[i].1, aligned[i].0 > 0 else { return nil }
                let cpu = h.cpu.compactMap { $0[i] }
                return cpu.isEmpty ? nil : cpu.reduce(0, +) / aligned[i].0
            }
            h.cpuMsPerRequest = UsageHistory.median(ratios).map { $0 * 1000 }
        }
        return h
    }

    /// Runs of steps with more than a quarter of CFS periods throttled.
    static func throttlingEpisodes(_ s: PrometheusSeries, step: Int) -> [MonitorEvent] {
        var out: [MonitorEvent] = []
        var begin: Double?, last = 0.0, peak = 0.0, steps = 0
        func close() {
            if let b = begin {
                out.append(
                    MonitorEvent(
                        kind: "throttling", time: b, pod: nil, count: 1,
                        detail: "\(Tree.format((Double(steps * step) / 60).rounded())) min with up to \(Int((peak * 100).rounded()))% of CFS periods throttled")
                )
            }
            begin = nil
            peak = 0
            steps = 0
        }
        for v in s.values {
            if v.value > 0.25 {
                let ratio = min(1, v.value)
                if begin == nil || v.time - last > Double(step) * 1.5 {
                    close()
                    begin = v.time
                }
                peak = max(peak, ratio)
                steps += 1
                last = v.time
            } else if begin != nil {
                close()
            }
        }
        close()
        return out
    }
}
