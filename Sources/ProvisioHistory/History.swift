import Foundation
public import ProvisioCore

/// Percentiles of one series.
public struct Percentiles: Codable, Sendable, Hashable {
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double

    /// Nearest-rank percentiles of `values` (which must not be empty).
    public init(_ values: [Double]) {
        let s = values.sorted()
        p50 = Self.rank(s, 0.5)
        p95 = Self.rank(s, 0.95)
        p99 = Self.rank(s, 0.99)
        max = s.last ?? 0
    }

    /// The nearest-rank `q` quantile of `sorted`.
    public static func rank(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }
}

/// Something the monitoring saw happen: the "monitor log" of a running service.
public struct MonitorEvent: Codable, Sendable, Hashable {
    /// oom-kill, restart or throttling.
    public var kind: String
    /// When it happened (UTC, ISO 8601); for throttling, when the episode began.
    public var time: String
    public var pod: String?
    public var count: Int
    public var detail: String

    public init(kind: String, time: Double, pod: String?, count: Int, detail: String) {
        self.kind = kind
        self.time = Self.iso(time)
        self.pod = pod
        self.count = count
        self.detail = detail
    }

    static func iso(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: t.rounded()))
    }
}

/// The raw usage of a running service, one sample per pod per step: what sizing and the backtest read.
public struct UsageHistory: Sendable, Hashable {
    /// Where it came from: `inline` or the Prometheus address (without credentials).
    public var source: String
    public var stepSeconds: Int
    /// Unix seconds of each step.
    public var times: [Double]
    /// CPU cores of each pod at each step (nil: the pod did not exist then).
    public var cpu: [[Double?]]
    /// Memory working set bytes of each pod at each step.
    public var memory: [[Double?]]
    /// Pod names, in the order of `cpu` and `memory`.
    public var pods: [String]
    /// Pods running at each step (counted from the series when not given).
    public var replicas: [Double]
    /// Requests per second across all pods at each step.
    public var requestRate: [Double]?
    /// Throttled CFS periods / all CFS periods at each step.
    public var throttling: [Double]?
    public var events: [MonitorEvent]
    /// The container's settings at the end of the window.
    public var currentRequests: ResourcePair?
    public var currentLimits: ResourcePair?
    /// The memory limit in force when the container was last OOM-killed, bytes.
    public var oomKilledAtBytes: Double?
    /// Containers of the pod other than the one sized (sidecars).
    public var otherContainers: [String] = []
    /// CPU milliseconds per request: the median over steps of all pods' CPU / the request rate.
    public var cpuMsPerRequest: Double?

    public init(source: String, stepSeconds: Int, times: [Double], pods: [String], cpu: [[Double?]], memory: [[Double?]]) {
        self.source = source
        self.stepSeconds = stepSeconds
        self.times = times
        self.pods = pods
        self.cpu = cpu
        self.memory = memory
        replicas = times.indices.map { i in Double(memory.filter { $0.indices.contains(i) && $0[i] != nil }.count) }
        events = []
    }

    static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Every CPU sample of every pod, cores.
    public var cpuSamples: [Double] { cpu.flatMap { $0.compactMap { $0 } } }
    /// Every memory sample of every pod, bytes.
    public var memorySamples: [Double] { memory.flatMap { $0.compactMap { $0 } } }

    /// The largest pod's memory at each step, bytes (for the trend).
    public var memoryEnvelope: [(Double, Double)] {
        times.indices.compactMap { i in
            let values = memory.compactMap { $0.indices.contains(i) ? $0[i] : nil }
            return values.max().map { (times[i], $0) }
        }
    }
}

/// What the history of a running service says, per pod.
public struct HistorySummary: Codable, Sendable, Hashable {
    public var source: String
    /// CPU per pod, cores.
    public var cpuCores: Percentiles
    /// Memory per pod, MiB.
    public var memoryMiB: Percentiles
    public var requestRate: Percentiles?
    public var replicas: Percentiles?
    public var restarts: Int
    public var oomKills: Int
    /// The memory limit the container was last OOM-killed at, MiB.
    public var oomKilledAtMiB: Double?
    /// Throttled share of CFS periods: p95 over the window.
    public var throttlingRatio: Double?
    /// Share of steps in which more than a quarter of the periods were throttled.
    public var throttledShare: Double?
    public var currentRequests: ResourcePair?
    public var currentLimits: ResourcePair?
    /// Seconds covered.
    public var windowSeconds: Int
    public var samples: Int
    /// Growth of the daily memory peak, MiB per day (Theil–Sen on the largest pod's daily peaks).
    public var memoryTrendMiBPerDay: Double
    /// OOM kills, restarts and throttling episodes, oldest first.
    public var events: [MonitorEvent]
    public var otherContainers: [String]?
    /// CPU milliseconds per request, when a request rate is known.
    public var cpuMsPerRequest: Double?

    /// Summarizes a usage history (which must have at least one CPU and one memory sample).
    public init(_ h: UsageHistory) {
        source = h.source
        let cpu = h.cpuSamples, mem = h.memorySamples.map { $0 / 1_048_576 }
        cpuCores = Percentiles(cpu)
        memoryMiB = Percentiles(mem)
        requestRate = h.requestRate.flatMap { $0.isEmpty ? nil : Percentiles($0) }
        replicas = h.replicas.isEmpty ? nil : Percentiles(h.replicas)
        restarts = h.events.filter { $0.kind == "restart" || $0.kind == "oom-kill" }.map(\.count).reduce(0, +)
        oomKills = h.events.filter { $0.kind == "oom-kill" }.map(\.count).reduce(0, +)
        oomKilledAtMiB = h.oomKilledAtBytes.map { ($0 / 1_048_576 * 10).rounded() / 10 }
        if let t = h.throttling, !t.isEmpty {
            throttlingRatio = (Percentiles(t).p95 * 1000).rounded() / 1000
            throttledShare = (Double(t.filter { $0 > 0.25 }.count) / Double(t.count) * 1000).rounded() / 1000
        }
        currentRequests = h.currentRequests
        currentLimits = h.currentLimits
        windowSeconds = h.stepSeconds * h.times.count
        samples = cpu.count
        memoryTrendMiBPerDay = (Self.dailyPeakTrend(h.memoryEnvelope) / 1_048_576 * 100).rounded() / 100
        events = h.events
        otherContainers = h.otherContainers.isEmpty ? nil : h.otherContainers
        cpuMsPerRequest = h.cpuMsPerRequest.map { ($0 * 1000).rounded() / 1000 }
    }

    /// Growth per day of the daily peaks: the median of the slopes between every pair of days (Theil–Sen),
    /// so a day/night cycle or one spike does not look like growth. Zero with fewer than three full days.
    public static func dailyPeakTrend(_ points: [(Double, Double)]) -> Double {
        guard let t0 = points.first?.0 else { return 0 }
        var peaks: [Int: Double] = [:]
        for (t, v) in points { peaks[Int((t - t0) / 86_400), default: -.infinity] = max(peaks[Int((t - t0) / 86_400)] ?? -.infinity, v) }
        // A partial last day has not reached its peak yet.
        let span = (points.last!.0 - t0) / 86_400
        if span.truncatingRemainder(dividingBy: 1) < 0.5 { peaks[Int(span)] = nil }
        let days = peaks.keys.sorted()
        guard days.count >= 3 else { return 0 }
        var slopes: [Double] = []
        for i in days.indices {
            for j in days.indices where j > i { slopes.append((peaks[days[j]]! - peaks[days[i]]!) / Double(days[j] - days[i])) }
        }
        return UsageHistory.median(slopes) ?? 0
    }
}

extension UsageHistory {
    /// Usage carried in the request itself: one series per pod-equivalent.
    public init(inline stepSeconds: Int, cpu: [Double], memory: [Double], replicas: [Double]?, requestRate: [Double]?) {
        let times = cpu.indices.map { Double($0 * stepSeconds) }
        self.init(source: "inline", stepSeconds: stepSeconds, times: times, pods: ["inline"], cpu: [cpu.map { $0 }], memory: [memory.map { $0 }])
        if let replicas, !replicas.isEmpty { self.replicas = replicas }
        self.requestRate = requestRate.flatMap { $0.isEmpty ? nil : $0 }
        if let rate = self.requestRate {
            // Inline CPU is per pod: all pods' CPU is that × the pods running.
            let ratios = rate.indices.compactMap { i -> Double? in
                guard rate[i] > 0, cpu.indices.contains(i) else { return nil }
                return cpu[i] * (self.replicas.indices.contains(i) ? Swift.max(1, self.replicas[i]) : 1) / rate[i]
            }
            cpuMsPerRequest = Self.median(ratios).map { $0 * 1000 }
        }
    }
}

/// How a plan would have fared against the history it was sized from.
public struct Backtest: Codable, Sendable, Hashable {
    /// Share of pod samples whose memory was above the memory limit.
    public var memoryOverLimit: Double
    /// Share of pod samples whose memory was above the memory request.
    public var memoryOverRequest: Double
    /// Share of pod samples whose CPU was above the CPU request.
    public var cpuOverRequest: Double
    /// Share of pod samples whose CPU was above the CPU limit (they would have been throttled).
    public var cpuOverLimit: Double?
    /// 1 − mean usage / request.
    public var cpuSlack: Double
    public var memorySlack: Double
    public var samples: Int

    public init(history: UsageHistory, requests: ResourcePair, limits: ResourcePair) {
        let cpu = history.cpuSamples, mem = history.memorySamples
        func share(_ xs: [Double], _ bound: Double?) -> Double {
            guard let bound, !xs.isEmpty else { return 0 }
            return Double(xs.filter { $0 > bound + 1e-9 }.count) / Double(xs.count)
        }
        func slack(_ xs: [Double], _ alloc: Double?) -> Double {
            guard let alloc, alloc > 0, !xs.isEmpty else { return 0 }
            return 1 - xs.map { Swift.min($0, alloc) }.reduce(0, +) / Double(xs.count) / alloc
        }
        func r(_ d: Double) -> Double { (d * 10_000).rounded() / 10_000 }
        let memLimit = limits.memory.map { Double($0.bytes) }, memReq = requests.memory.map { Double($0.bytes) }
        memoryOverLimit = r(share(mem, memLimit))
        memoryOverRequest = r(share(mem, memReq))
        cpuOverRequest = r(share(cpu, requests.cpu?.cores))
        cpuOverLimit = limits.cpu.map { r(share(cpu, $0.cores)) }
        cpuSlack = r(slack(cpu, requests.cpu?.cores))
        memorySlack = r(slack(mem, memReq))
        samples = cpu.count
    }
}
