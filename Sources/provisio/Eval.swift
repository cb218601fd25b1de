import ArgumentParser
import Foundation
import ProvisioCore
import ProvisioEval
import ProvisioPipeline

/// `provisio eval`: sizing accuracy on a dataset, and VM right-sizing on usage traces.
struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure sizing quality: on a sizing dataset (default), or VM right-sizing on usage traces (vm-traces).",
        subcommands: [EvalDataset.self, EvalVMTraces.self], defaultSubcommand: EvalDataset.self)
}

/// `provisio eval DATASET`: accuracy against a sizing dataset, with baselines and ablations.
struct EvalDataset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Measure sizing accuracy on a dataset (community-sizing format): table, report.md, predictions.json, reasoning.json, plot.svg.")

    @Argument(help: "Dataset YAML (a list of entries with typical_description and ground_truth).") var dataset: String
    @Option(help: "Folder for report.md, predictions.json, reasoning.json and plot.svg.") var out: String = "eval-out"
    @Flag(help: "Predict without retrieval (generic baseline document only).") var noRetrieval = false
    @Flag(help: "Predict without agent 3 (the draft is final).") var noRefine = false
    @Option(help: "A preset table (presets: {name: {requests, limits}}) to score as baselines.") var presets: String?
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let code = await guarded {
            let entries = try Dataset.load(path: dataset)
            let evaluator = Evaluator(entries: entries)
            var base = try common.config(remember: false)
            base.offline = true
            let tty = isatty(STDERR_FILENO) == 1
            func runPipeline(_ name: String, retrieval: Bool, refine: Bool) async throws -> MethodResult {
                var config = base
                config.retrieval = retrieval
                config.refine = refine
                let pipeline = try Pipeline(config: config, logger: common.logger())
                let result = try await evaluator.run(name: name, pipeline: pipeline) { done, total in
                    guard tty else { return }
                    let width = 30, filled = done * width / max(1, total)
                    let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                    FileHandle.standardError.write(Data("\r\(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(bar) \(done)/\(total)".utf8))
                    if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
                }
                return result
            }
            var results: [MethodResult] = []
            results.append(
                evaluator.constant(
                    name: "constant 100m/128Mi",
                    Sizing(
                        replicas: 1, requests: .init(cpu: CPUQuantity(millicores: 100), memory: MemoryQuantity(bytes: 128 << 20)),
                        limits: .init(cpu: nil, memory: nil))))
            if let presets {
                for (name, sizing) in try Dataset.loadPresets(path: presets) where ["nano", "micro", "small"].contains(name) {
                    var s = sizing
                    s.replicas = 1
                    results.append(evaluator.constant(name: "bitnami preset \(name)", s))
                }
            }
            let main = try await runPipeline(
                "provisio" + (noRetrieval ? " (no retrieval)" : "") + (noRefine ? " (no refine)" : ""), retrieval: !noRetrieval, refine: !noRefine)
            results.append(main)
            if !noRetrieval { results.append(try await runPipeline("provisio, no retrieval", retrieval: false, refine: !noRefine)) }
            if !noRefine { results.append(try await runPipeline("provisio, no refine", retrieval: !noRetrieval, refine: false)) }

            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let report = Report.markdown(dataset: dataset, entries: entries.count, results: results)
            try Data(report.utf8).write(to: URL(fileURLWithPath: out + "/report.md"))
            try Data(Report.predictionsJSON(main, order: entries.map(\.id)).utf8).write(to: URL(fileURLWithPath: out + "/predictions.json"))
            let why = Tree.map(entries.compactMap { e in main.reasoning[e.id].map { Tree.Entry(e.id, $0) } })
            try Data(why.json().utf8).write(to: URL(fileURLWithPath: out + "/reasoning.json"))
            try Data(Plot.svg(entries: entries, result: main).utf8).write(to: URL(fileURLWithPath: out + "/plot.svg"))
            print(Report.summaryTable(results), terminator: "")
            print(
                "\n\(entries.count) entries; \(main.name) took \(String(format: "%.2f", main.seconds)) s. Wrote \(out)/report.md, predictions.json, reasoning.json, plot.svg"
            )
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}
