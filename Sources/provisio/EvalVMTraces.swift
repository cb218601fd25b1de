import ArgumentParser
import Foundation
import ProvisioCore
import ProvisioHistory

/// `provisio eval vm-traces TRAIN TEST`: size VMs from one period of usage, judge on the next.
struct EvalVMTraces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm-traces",
        abstract: "Size each VM from TRAIN's usage and judge the sizes on TEST: slack, samples over the allocation, VMs over their memory.",
        discussion: """
            Traces are CSV (or .csv.xz) with vm, timestamp_s, cpu_cores, cpu_capacity_mhz, cpu_usage_mhz, \
            memory_provisioned_kb, memory_usage_kb. Baselines: what was provisioned, KRR's rule (CPU p95, memory max + 15 %), \
            and an oracle that knows TEST's peaks.
            """)

    @Argument(help: "Usage to size from.") var train: String
    @Argument(help: "Usage to judge on.") var test: String
    @Option(help: "Folder for predictions.json ({vm: {cores, memoryMiB}}) and reasoning.json.") var out: String?

    func run() async throws {
        let code = await guarded {
            let clock = ContinuousClock(), start = clock.now
            let trainUsage = try VMTrace.load(path: train), testUsage = try VMTrace.load(path: test)
            let ours = VMTraceEvaluation.provisio(trainUsage)
            let judged = Set(testUsage.map(\.name)).intersection(trainUsage.map(\.name))
            let missing = testUsage.filter { !judged.contains($0.name) }.map(\.name)
            if !missing.isEmpty { printError("no history in \(train) for \(missing.count) VMs (\(missing.prefix(5).joined(separator: ", "))…); not judged") }
            let common = testUsage.filter { judged.contains($0.name) }
            let rows = [
                VMJudgement(method: "provisioned", sizes: VMTraceEvaluation.provisioned(common), usage: common),
                VMJudgement(method: "KRR (p95, max + 15 %)", sizes: VMTraceEvaluation.krr(trainUsage), usage: common),
                VMJudgement(method: "oracle (test peaks)", sizes: VMTraceEvaluation.oracle(common), usage: common),
                VMJudgement(
                    method: "provisio", sizes: ours.mapValues { (Double($0.cores), Double($0.memoryMiB)) }, usage: common),
            ]
            func pct(_ d: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f %%", d * 100) }
            print("\(common.count) VMs sized from \((train as NSString).lastPathComponent), judged on \((test as NSString).lastPathComponent)\n")
            print("| method | CPU slack | memory slack | CPU samples over | memory samples over | VMs over memory |")
            print("|---|---|---|---|---|---|")
            for r in rows {
                print(
                    "| \(r.method) | \(pct(r.cpuSlack)) | \(pct(r.memorySlack)) | \(pct(r.cpuSamplesOver, 2)) | \(pct(r.memorySamplesOver, 3)) | \(pct(r.vmsOverMemory)) (\(r.vmsOverMemoryCount)) |"
                )
            }
            let seconds = Double((clock.now - start) / .milliseconds(1)) / 1000
            printError("evaluated in \(Tree.format((seconds * 100).rounded() / 100)) s")
            if let out {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let predictions = Tree.object(
                    ours.keys.sorted { (Int($0) ?? 0, $0) < (Int($1) ?? 0, $1) }.map { name in
                        (name, .object([("cores", .int(ours[name]!.cores)), ("memoryMiB", .int(ours[name]!.memoryMiB))]))
                    })
                let reasoning = Tree.object(
                    ours.keys.sorted { (Int($0) ?? 0, $0) < (Int($1) ?? 0, $1) }.map { name in
                        (name, .object([("floatingMiB", .int(ours[name]!.floatingMiB)), ("reasoning", .list(ours[name]!.reasoning.map(Tree.string)))]))
                    })
                for (file, tree) in [("predictions.json", predictions), ("reasoning.json", reasoning)] {
                    let path = (out as NSString).appendingPathComponent(file)
                    guard FileManager.default.createFile(atPath: path, contents: Data((tree.json() + "\n").utf8)) else {
                        throw ProvisioError(.io, file: path, "cannot write")
                    }
                }
                printError("wrote \(out)/predictions.json and reasoning.json")
            }
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}
