import CLZMA
import Foundation
import ProvisioCore

/// Reads VM usage traces: CSV (optionally xz-compressed) with the columns
/// `vm, timestamp_s, cpu_cores, cpu_capacity_mhz, cpu_usage_mhz, memory_provisioned_kb, memory_usage_kb`.
public enum VMTrace {
    static let columns = ["vm", "timestamp_s", "cpu_cores", "cpu_capacity_mhz", "cpu_usage_mhz", "memory_provisioned_kb", "memory_usage_kb"]

    /// One VM per id, samples in time order; usage in cores is `cpu_usage_mhz / (cpu_capacity_mhz / cpu_cores)`.
    public static func load(path: String) throws -> [VMUsage] {
        guard let raw = FileManager.default.contents(atPath: path) else { throw ProvisioError(.io, file: path, "cannot read the trace") }
        let data = path.hasSuffix(".xz") ? try xz(raw, file: path) : raw
        return try parse(data, file: path)
    }

    static func parse(_ data: Data, file: String) throws -> [VMUsage] {
        var byVM: [String: (rows: [(Double, Double, Double, Double, Double)], order: Int)] = [:]
        var lineNumber = 0
        var index: [Int] = []
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            let bytes = buffer.bindMemory(to: UInt8.self)
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 10 { end += 1 }
                lineNumber += 1
                var line = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                if line.hasSuffix("\r") { line.removeLast() }
                start = end + 1
                if line.isEmpty { continue }
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                if index.isEmpty {
                    let header = fields.map { $0.trimmingCharacters(in: .whitespaces) }
                    index = try columns.map { c in
                        guard let i = header.firstIndex(of: c) else {
                            throw ProvisioError(.io, file: file, line: 1, field: c, "missing column; expected \(columns.joined(separator: ", "))")
                        }
                        return i
                    }
                    continue
                }
                guard fields.count >= index.max()! + 1 else {
                    throw ProvisioError(.io, file: file, line: lineNumber, "expected \(columns.count) columns, found \(fields.count)")
                }
                var numbers: [Double] = []
                for k in 1..<columns.count {
                    guard let v = Double(fields[index[k]]), v.isFinite else {
                        throw ProvisioError(.io, file: file, line: lineNumber, field: columns[k], "'\(fields[index[k]])' is not a number")
                    }
                    numbers.append(v)
                }
                let vm = String(fields[index[0]])
                let (t, cores, capacity, usage, provisioned) = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4])
                let used = cores > 0 && capacity > 0 ? usage / (capacity / cores) : 0
                let order = byVM[vm]?.order ?? byVM.count
                byVM[vm, default: ([], order)].rows.append((t, used, numbers[5] / 1024, cores, provisioned / 1024))
            }
        }
        guard !byVM.isEmpty else { throw ProvisioError(.io, file: file, "no samples") }
        return byVM.sorted { a, b in
            if let x = Int(a.key), let y = Int(b.key) { return x < y }
            return a.key < b.key
        }.map { name, entry in
            let rows = entry.rows.sorted { $0.0 < $1.0 }
            var u = VMUsage(name: name, times: rows.map(\.0), cpuCores: rows.map(\.1), memoryMiB: rows.map(\.2))
            u.allocatedCores = Int(rows.map(\.3).max() ?? 0)
            u.allocatedMemoryMiB = Int(rows.map(\.4).max() ?? 0)
            return u
        }
    }

    /// Decompresses an xz stream.
    static func xz(_ input: Data, file: String) throws -> Data {
        var stream = lzma_stream()
        guard lzma_stream_decoder(&stream, UInt64.max, 0) == LZMA_OK else { throw ProvisioError(.io, file: file, "cannot start the xz decoder") }
        defer { lzma_end(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        try input.withUnsafeBytes { (inBuf: UnsafeRawBufferPointer) in
            stream.next_in = inBuf.bindMemory(to: UInt8.self).baseAddress
            stream.avail_in = inBuf.count
            while true {
                let rc = buffer.withUnsafeMutableBufferPointer { out -> lzma_ret in
                    stream.next_out = out.baseAddress
                    stream.avail_out = chunk
                    let rc = lzma_code(&stream, LZMA_FINISH)
                    output.append(out.baseAddress!, count: chunk - stream.avail_out)
                    return rc
                }
                if rc == LZMA_STREAM_END { break }
                guard rc == LZMA_OK else { throw ProvisioError(.io, file: file, "not a valid xz file (liblzma error \(rc.rawValue))") }
            }
        }
        return output
    }
}

/// How a set of VM sizes fares on the usage that followed.
public struct VMJudgement: Sendable, Hashable {
    public var method: String
    /// 1 − Σ min(used, allocated) / Σ allocated over every sample of every VM.
    public var cpuSlack: Double
    public var memorySlack: Double
    /// Share of samples whose usage is above the allocation.
    public var cpuSamplesOver: Double
    public var memorySamplesOver: Double
    /// Share of VMs whose memory ever exceeds the allocation.
    public var vmsOverMemory: Double
    public var vmsOverMemoryCount: Int
    public var vms: Int

    /// Judges `sizes` (cores, MiB per VM name) on `usage`; VMs without a size are left out.
    public init(method: String, sizes: [String: (cores: Double, memoryMiB: Double)], usage: [VMUsage]) {
        self.method = method
        var usedCpu = 0.0, allocCpu = 0.0, usedMem = 0.0, allocMem = 0.0
        var samples = 0, cpuOver = 0, memOver = 0, vmsOver = 0, judged = 0
        for vm in usage {
            guard let size = sizes[vm.name] else { continue }
            judged += 1
            var over = false
            for (c, m) in zip(vm.cpuCores, vm.memoryMiB) {
                samples += 1
                usedCpu += min(c, size.cores)
                allocCpu += size.cores
                usedMem += min(m, size.memoryMiB)
                allocMem += size.memoryMiB
                if c > size.cores { cpuOver += 1 }
                if m > size.memoryMiB {
                    memOver += 1
                    over = true
                }
            }
            if over { vmsOver += 1 }
        }
        cpuSlack = allocCpu > 0 ? 1 - usedCpu / allocCpu : 0
        memorySlack = allocMem > 0 ? 1 - usedMem / allocMem : 0
        cpuSamplesOver = samples > 0 ? Double(cpuOver) / Double(samples) : 0
        memorySamplesOver = samples > 0 ? Double(memOver) / Double(samples) : 0
        vmsOverMemory = judged > 0 ? Double(vmsOver) / Double(judged) : 0
        vmsOverMemoryCount = vmsOver
        vms = judged
    }
}

/// The VM right-sizing evaluation: size from one period, judge on the next, next to the baselines.
public enum VMTraceEvaluation {
    /// What people provisioned (the allocation in the judged period).
    public static func provisioned(_ test: [VMUsage]) -> [String: (cores: Double, memoryMiB: Double)] {
        Dictionary(uniqueKeysWithValues: test.map { ($0.name, (Double($0.allocatedCores ?? 0), Double($0.allocatedMemoryMiB ?? 0))) })
    }

    static func step256(_ mib: Double) -> Double { (mib / 256 - 1e-9).rounded(.up) * 256 }

    /// KRR's rule: CPU p95 (whole cores), memory max + 15 % (256 MiB steps).
    public static func krr(_ train: [VMUsage]) -> [String: (cores: Double, memoryMiB: Double)] {
        Dictionary(
            uniqueKeysWithValues: train.map { u in
                let p95 = Percentiles.rank(u.cpuCores.sorted(), 0.95)
                return (u.name, (max(1, p95.rounded(.up)), step256((u.memoryMiB.max() ?? 0) * 1.15)))
            })
    }

    /// An oracle that knows the judged period's peaks.
    public static func oracle(_ test: [VMUsage]) -> [String: (cores: Double, memoryMiB: Double)] {
        Dictionary(uniqueKeysWithValues: test.map { u in (u.name, (max(1, (u.cpuCores.max() ?? 0).rounded(.up)), step256(u.memoryMiB.max() ?? 0))) })
    }

    /// provisio's sizes from the training period.
    public static func provisio(_ train: [VMUsage]) -> [String: VMSize] {
        Dictionary(uniqueKeysWithValues: train.map { ($0.name, VMSizer.size($0)) })
    }
}
