import Foundation

/// Writes realistic Kubernetes usage history as OpenMetrics text, for `promtool tsdb
/// create-blocks-from openmetrics`: the series cAdvisor and kube-state-metrics would have scraped.
/// It lets anyone try the metrics route (and the tests and benchmarks exercise it) without a cluster.
public struct DemoHistory: Sendable {
    /// A kind of workload behaviour.
    public enum Shape: String, Sendable, CaseIterable {
        /// Flat usage with a little noise.
        case steady
        /// A day/night cycle with a short daily spike.
        case diurnal
        /// Memory grows until the container is OOM-killed at its limit, then restarts.
        case leak
        /// Wants more CPU than its limit allows: usage is flat at the limit, periods throttled.
        case throttled
    }

    /// One workload to generate.
    public struct Workload: Sendable {
        public var name: String
        public var namespace: String
        public var shape: Shape
        public var pods: Int
        /// CPU cores per pod (the mean demand).
        public var cpu: Double
        /// Working set per pod, MiB (the base).
        public var memoryMiB: Double
        /// The container's settings.
        public var cpuRequest: Double, cpuLimit: Double, memoryRequestMiB: Double, memoryLimitMiB: Double

        public init(
            name: String, namespace: String, shape: Shape, pods: Int, cpu: Double, memoryMiB: Double, cpuRequest: Double, cpuLimit: Double,
            memoryRequestMiB: Double, memoryLimitMiB: Double
        ) {
            self.name = name
            self.namespace = namespace
            self.shape = shape
            self.pods = pods
            self.cpu = cpu
            self.memoryMiB = memoryMiB
            self.cpuRequest = cpuRequest
            self.cpuLimit = cpuLimit
            self.memoryRequestMiB = memoryRequestMiB
            self.memoryLimitMiB = memoryLimitMiB
        }
    }

    /// The four behaviours side by side in namespace `shop`.
    public static let sample: [Workload] = [
        .init(
            name: "catalog", namespace: "shop", shape: .steady, pods: 2, cpu: 0.2, memoryMiB: 300, cpuRequest: 0.5, cpuLimit: 1, memoryRequestMiB: 512,
            memoryLimitMiB: 1024),
        .init(
            name: "storefront", namespace: "shop", shape: .diurnal, pods: 3, cpu: 0.3, memoryMiB: 400, cpuRequest: 0.5, cpuLimit: 2, memoryRequestMiB: 512,
            memoryLimitMiB: 1024),
        .init(
            name: "invoicer", namespace: "shop", shape: .leak, pods: 2, cpu: 0.1, memoryMiB: 200, cpuRequest: 0.1, cpuLimit: 0.5, memoryRequestMiB: 256,
            memoryLimitMiB: 512),
        .init(
            name: "pricing", namespace: "shop", shape: .throttled, pods: 2, cpu: 0.8, memoryMiB: 250, cpuRequest: 0.25, cpuLimit: 0.5,
            memoryRequestMiB: 256, memoryLimitMiB: 512),
    ]

    public var workloads: [Workload]
    /// The VM id of the demo Proxmox VM (4 cores; about 0.6 cores and 3 GiB, 2.4 cores and 5.1 GiB in a nightly batch).
    public static let vmid = 201
    /// Unix seconds of the last sample.
    public var end: Double
    public var days: Double
    /// Seconds between scrapes.
    public var scrape: Int = 60
    public var seed: UInt64 = 42

    public init(workloads: [Workload] = DemoHistory.sample, end: Double, days: Double) {
        self.workloads = workloads
        self.end = end
        self.days = days
    }

    struct Pod {
        var name: String
        var cpu: [Double]
        var memory: [Double]
        var throttled: [Double]
        var restarts: [Int]
        var oom: [Int]
    }

    /// Deterministic noise.
    struct Noise {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
    }

    var times: [Double] {
        let n = Int(days * 86_400) / scrape
        return (0...n).map { end - Double((n - $0) * scrape) }
    }

    func simulate(_ w: Workload, index: Int) -> [Pod] {
        let ts = times
        var noise = Noise(state: seed &+ UInt64(index) &* 7919)
        let hash = ["7d9f8b6c5d", "5c8d7f9b4", "6b7c9d8f5d", "84f6c9d7b"][index % 4]
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return (0..<w.pods).map { p in
            let suffix = String((0..<5).map { k in alphabet[(p * 7 + k * 3 + index) % alphabet.count] })
            var pod = Pod(name: "\(w.name)-\(hash)-\(suffix)", cpu: [], memory: [], throttled: [], restarts: [], oom: [])
            var leaked = 0.0, restarts = 0, oom = 0
            for t in ts {
                let hour = (t.truncatingRemainder(dividingBy: 86_400)) / 3600
                let jitter = noise.next() - 0.5
                var demand = w.cpu, mem = w.memoryMiB
                switch w.shape {
                case .steady:
                    demand *= 1 + 0.2 * jitter
                    mem += 10 * jitter
                case .diurnal:
                    let day = max(0, sin((hour - 6) / 24 * 2 * .pi))
                    demand = w.cpu * (0.3 + 1.4 * day) * (1 + 0.2 * jitter)
                    if hour >= 18 && hour < 18.25 { demand = w.cpu * 4 }
                    mem += 120 * day + 10 * jitter
                case .leak:
                    demand *= 1 + 0.3 * jitter
                    leaked += 0.5 * Double(scrape) / 60  // half a MiB a minute: a kill every ten hours or so
                    mem += leaked
                    if mem >= w.memoryLimitMiB {
                        restarts += 1
                        oom = 1
                        leaked = 0
                        mem = w.memoryMiB
                    }
                case .throttled:
                    demand *= 1 + 0.2 * jitter
                    mem += 8 * jitter
                }
                let used = min(demand, w.cpuLimit)
                // Share of 100 ms periods throttled: what the demand over the limit costs.
                let throttledShare = demand > w.cpuLimit ? min(0.95, 0.5 + 0.5 * (demand - w.cpuLimit) / w.cpuLimit) : 0
                pod.cpu.append(used)
                pod.memory.append(mem * 1_048_576)
                pod.throttled.append(throttledShare)
                pod.restarts.append(restarts)
                pod.oom.append(oom)
            }
            return pod
        }
    }

    /// The OpenMetrics text, one family at a time, each series in time order, ending with `# EOF`.
    public func openMetrics() -> String {
        let ts = times
        let sims = workloads.enumerated().map { ($0.element, simulate($0.element, index: $0.offset)) }
        var out = ""
        out.reserveCapacity(sims.reduce(0) { $0 + $1.1.count } * ts.count * 9 * 120)
        func stamp(_ t: Double) -> String { String(Int(t)) }
        func num(_ d: Double) -> String {
            if d == d.rounded() && abs(d) < 1e15 { return String(Int(d)) }
            return String(format: "%.6g", d)
        }
        func family(_ name: String, _ type: String, _ series: (Workload, Pod) -> [(String, (Int) -> Double)]) {
            out += "# TYPE \(name) \(type)\n"
            let sampleName = type == "counter" ? "\(name)_total" : name
            for (w, pods) in sims {
                for pod in pods {
                    for (extra, value) in series(w, pod) {
                        let labels = "namespace=\"\(w.namespace)\",pod=\"\(pod.name)\",container=\"\(w.name)\"\(extra)"
                        for i in ts.indices { out += "\(sampleName){\(labels)} \(num(value(i))) \(stamp(ts[i]))\n" }
                    }
                }
            }
        }
        let dt = Double(scrape)
        family("container_cpu_usage_seconds", "counter") { _, pod in
            var sums: [Double] = []
            var acc = 0.0
            for c in pod.cpu {
                acc += c * dt
                sums.append((acc * 1000).rounded() / 1000)
            }
            return [("", { sums[$0] })]
        }
        // Requests served: 4 ms of CPU each.
        family("http_requests", "counter") { _, pod in
            var sums: [Double] = []
            var acc = 0.0
            for c in pod.cpu {
                acc += (c * dt / 0.004).rounded()
                sums.append(acc)
            }
            return [("", { sums[$0] })]
        }
        family("container_memory_working_set_bytes", "gauge") { _, pod in [("", { pod.memory[$0].rounded() })] }
        family("container_cpu_cfs_periods", "counter") { _, _ in [("", { Double($0) * dt * 10 })] }
        family("container_cpu_cfs_throttled_periods", "counter") { _, pod in
            var sums: [Double] = []
            var acc = 0.0
            for s in pod.throttled {
                acc += (s * dt * 10).rounded()
                sums.append(acc)
            }
            return [("", { sums[$0] })]
        }
        family("kube_pod_container_status_restarts", "counter") { _, pod in [("", { Double(pod.restarts[$0]) })] }
        family("kube_pod_container_status_last_terminated_reason", "gauge") { _, pod in [(",reason=\"OOMKilled\"", { Double(pod.oom[$0]) })] }
        family("kube_pod_container_resource_requests", "gauge") { w, _ in
            [(",resource=\"cpu\",unit=\"core\"", { _ in w.cpuRequest }), (",resource=\"memory\",unit=\"byte\"", { _ in w.memoryRequestMiB * 1_048_576 })]
        }
        family("kube_pod_container_resource_limits", "gauge") { w, _ in
            [(",resource=\"cpu\",unit=\"core\"", { _ in w.cpuLimit }), (",resource=\"memory\",unit=\"byte\"", { _ in w.memoryLimitMiB * 1_048_576 })]
        }
        // Two 4-core, 16 GiB k3s nodes as kube-state-metrics reports them.
        out += "# TYPE kube_node_status_allocatable gauge\n"
        for node in ["k3s-1", "k3s-2"] {
            for (resource, value) in [("cpu", "4"), ("memory", "\(16 * 1_073_741_824)")] {
                for t in ts { out += "kube_node_status_allocatable{node=\"\(node)\",resource=\"\(resource)\"} \(value) \(stamp(t))\n" }
            }
        }
        // One Proxmox VM as prometheus-pve-exporter reports it: a database VM with a nightly batch.
        var noise = Noise(state: seed &+ 99)
        let vm = ts.map { t -> (Double, Double) in
            let hour = (t.truncatingRemainder(dividingBy: 86_400)) / 3600
            let batch = hour >= 2 && hour < 3
            return ((batch ? 0.6 : 0.15) + 0.05 * noise.next(), (batch ? 5200 : 3000 + 200 * noise.next()) * 1_048_576)
        }
        let id = "id=\"qemu/\(Self.vmid)\""
        out += "# TYPE pve_cpu_usage_ratio gauge\n"
        for (i, t) in ts.enumerated() { out += "pve_cpu_usage_ratio{\(id)} \(num(vm[i].0)) \(stamp(t))\n" }
        out += "# TYPE pve_cpu_usage_limit gauge\n"
        for t in ts { out += "pve_cpu_usage_limit{\(id)} 4 \(stamp(t))\n" }
        out += "# TYPE pve_memory_usage_bytes gauge\n"
        for (i, t) in ts.enumerated() { out += "pve_memory_usage_bytes{\(id)} \(num(vm[i].1.rounded())) \(stamp(t))\n" }
        out += "# EOF\n"
        return out
    }
}
