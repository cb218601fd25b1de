import Foundation
import ProvisioCore

/// The usage history of one VM: CPU in cores and memory in MiB at each sample.
public struct VMUsage: Sendable, Hashable {
    public var name: String
    /// Unix seconds.
    public var times: [Double]
    public var cpuCores: [Double]
    public var memoryMiB: [Double]
    /// What is allocated now, when known.
    public var allocatedCores: Int?
    public var allocatedMemoryMiB: Int?

    public init(name: String, times: [Double], cpuCores: [Double], memoryMiB: [Double]) {
        self.name = name
        self.times = times
        self.cpuCores = cpuCores
        self.memoryMiB = memoryMiB
    }

    public var days: Double { times.count >= 2 ? (times.last! - times.first!) / 86_400 : 0 }
}

/// A VM size in the units Proxmox takes: whole cores, memory and balloon minimum in MiB.
public struct VMSize: Codable, Sendable, Hashable {
    public var cores: Int
    /// `memory.dedicated`: what the guest may use.
    public var memoryMiB: Int
    /// `memory.floating`: the balloon minimum the host may shrink the guest to under pressure.
    public var floatingMiB: Int
    /// The arithmetic, step by step.
    public var reasoning: [String]
}

/// Sizes a VM from its own usage history.
///
/// CPU: whole cores above the peak plus 10 %, so almost no sample would have been short of CPU.
/// Memory: the peak plus 10 % plus a fixed 1.25 GiB — a guest's page cache and one-off spikes are
/// largest, relative to its size, on small VMs — plus the rise of its daily peaks continued for as long
/// as the history is (a robust Theil–Sen line, so a cycle or a spike is not mistaken for growth),
/// rounded up to the steps Proxmox users pick: 256 MiB up to 2 GiB, 512 MiB up to 8 GiB, then 1 GiB.
public enum VMSizer {
    public static let margin = 0.10
    public static let memoryHeadroomMiB = 1280.0

    /// Rounds memory up to 256 MiB steps up to 2 GiB, 512 MiB up to 8 GiB, 1 GiB above.
    public static func step(_ mib: Double) -> Int {
        let s = mib <= 2048 ? 256.0 : mib <= 8192 ? 512.0 : 1024.0
        return Int((mib / s - 1e-9).rounded(.up) * s)
    }

    public static func size(_ u: VMUsage) -> VMSize {
        func f(_ d: Double) -> String { Tree.format((d * 100).rounded() / 100) }
        var steps: [String] = []
        let days = u.days
        let cpuPeak = u.cpuCores.max() ?? 0
        let cores = max(1, Int((cpuPeak * (1 + margin) - 1e-9).rounded(.up)))
        steps.append("CPU: peak \(f(cpuPeak)) cores × \(f(1 + margin)) = \(f(cpuPeak * (1 + margin))) → \(cores) whole core\(cores == 1 ? "" : "s").")
        let memPeak = u.memoryMiB.max() ?? 0
        let perDay = days >= 3 ? max(0, HistorySummary.dailyPeakTrend(Array(zip(u.times, u.memoryMiB)))) : 0
        let rise = perDay * days
        let raw = memPeak * (1 + margin) + memoryHeadroomMiB + rise
        let memory = step(raw)
        steps.append(
            "Memory: peak \(f(memPeak)) MiB × \(f(1 + margin)) + \(f(memoryHeadroomMiB)) MiB headroom + daily-peak trend \(f(perDay)) MiB/day × \(f(days)) days = \(f(raw)) MiB → \(memory) MiB."
        )
        let p95 = Percentiles.rank(u.memoryMiB.sorted(), 0.95)
        let floating = min(memory, step(max(512, p95 * (1 + margin))))
        steps.append("Balloon minimum: p95 \(f(p95)) MiB × \(f(1 + margin)) → \(floating) MiB (the host may reclaim down to it under pressure).")
        return VMSize(cores: cores, memoryMiB: memory, floatingMiB: floating, reasoning: steps)
    }
}

/// What agent 1 learned about a VM that already runs.
public struct VMHistorySummary: Codable, Sendable, Hashable {
    /// The VM's name in the plan.
    public var name: String
    public var vmid: Int?
    /// proxmox-rrd, pve-exporter or inline.
    public var source: String
    public var days: Double
    public var samples: Int
    public var cpuCores: Percentiles
    public var memoryMiB: Percentiles
    public var allocatedCores: Int?
    public var allocatedMemoryMiB: Int?

    public init(name: String, vmid: Int?, source: String, usage u: VMUsage) {
        self.name = name
        self.vmid = vmid
        self.source = source
        days = (u.days * 100).rounded() / 100
        samples = u.cpuCores.count
        cpuCores = Percentiles(u.cpuCores)
        memoryMiB = Percentiles(u.memoryMiB)
        allocatedCores = u.allocatedCores
        allocatedMemoryMiB = u.allocatedMemoryMiB
    }
}
