import Foundation
import ProvisioContext
public import ProvisioCore
public import ProvisioPipeline
import ProvisioPredict
import ProvisioRefine
public import ProvisioRequest

/// One method's predictions and scores.
public struct MethodResult: Sendable {
    public var name: String
    /// Predictions by entry id.
    public var predictions: [String: Sizing]
    public var stats: [FieldStats]
    /// Corpus BLEU of rendered Deployments against references built from the truth (pipeline methods only).
    public var bleu: Double?
    /// Mean key-path F1 of the same pairs.
    public var keyPathF1: Double?
    public var seconds: Double
    /// Per entry: the documents retrieved, the reasoner's arithmetic and the final plan (pipeline methods only).
    public var reasoning: [String: Tree] = [:]

    public func stat(_ field: String) -> FieldStats? { stats.first { $0.field == field } }
}

/// Runs the pipeline (and simple baselines) over a dataset and scores them.
public struct Evaluator: Sendable {
    public let entries: [EvalEntry]

    public init(entries: [EvalEntry]) { self.entries = entries }

    /// The request a team would write from an entry: its description, language, framework and
    /// whether it keeps state. No repository is cloned and nothing else of the entry is used.
    public static func request(for entry: EvalEntry, index: Int) -> LoadedRequest {
        var spec = ProvisionRequest.Spec(gitRepo: "https://example.invalid/eval/service-\(index)", description: entry.description)
        var app = ProvisionRequest.App()
        app.language = entry.language.map { String($0.split(whereSeparator: { "/(,".contains($0) }).first ?? "").trimmingCharacters(in: .whitespaces) }
        app.framework = entry.framework
        spec.app = app
        spec.stateful = entry.stateful
        let request = ProvisionRequest(metadata: .init(name: "service-\(index)"), spec: spec)
        let bytes = Array(((try? JSONEncoder().encode(request)) ?? Data()).map { $0 })
        return LoadedRequest(path: "/provisio-eval/apps/service-\(index)/provision.yaml", form: .full, request: request, bytes: bytes)
    }

    /// Runs the three-agent pipeline on every entry; `progress` is called after each.
    public func run(name: String, pipeline: Pipeline, progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> MethodResult {
        let clock = ContinuousClock()
        let start = clock.now
        var predictions: [String: Sizing] = [:]
        var hyps: [[String]] = [], refs: [[String]] = []
        var f1s: [Double] = []
        var reasoning: [String: Tree] = [:]
        for (i, entry) in entries.enumerated() {
            let loaded = Self.request(for: entry, index: i + 1)
            let result = try await pipeline.plan(path: loaded.path, loaded: loaded)
            let r = result.final.recommendation
            predictions[entry.id] = Sizing(replicas: r.replicas, requests: r.requests, limits: r.limits)
            reasoning[entry.id] = .object([
                ("retrieved", .list(result.context.retrieved.map { .string("\($0.id) as \($0.role)\($0.matchedOn.map { " (\($0))" } ?? "")") })),
                ("reasoning", .list(result.draft.reasoning.map(Tree.string))), ("final", .string(r.summary)),
                ("changes", .list(result.final.changes.map { .string("\($0.field): \($0.from) → \($0.to) (\($0.reason))") })),
            ])
            let predicted = ManifestBuilder.build(context: result.context, recommendation: r, team: nil).deployment
            let reference = ManifestBuilder.build(
                context: result.context,
                recommendation: Recommendation(
                    replicas: entry.truth.replicas ?? 1, requests: entry.truth.requests, limits: entry.truth.limits, hpa: nil, pdb: nil, vms: []),
                team: nil
            ).deployment
            if let predicted, let reference {
                hyps.append(TextSimilarity.tokens(predicted.yaml()))
                refs.append(TextSimilarity.tokens(reference.yaml()))
                f1s.append(TextSimilarity.f1(TextSimilarity.keyPaths(predicted), TextSimilarity.keyPaths(reference)))
            }
            progress?(i + 1, entries.count)
        }
        let d = clock.now - start
        var result = score(name: name, predictions: predictions)
        result.bleu = hyps.isEmpty ? nil : TextSimilarity.corpusBLEU(hypotheses: hyps, references: refs)
        result.keyPathF1 = f1s.isEmpty ? nil : f1s.reduce(0, +) / Double(f1s.count)
        result.seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        result.reasoning = reasoning
        return result
    }

    /// The same sizing for every entry (the copied-from-an-example guess).
    public func constant(name: String, _ sizing: Sizing) -> MethodResult {
        score(name: name, predictions: Dictionary(uniqueKeysWithValues: entries.map { ($0.id, sizing) }))
    }

    /// Scores predictions against the entries' truth.
    public func score(name: String, predictions: [String: Sizing]) -> MethodResult {
        let stats = Sizing.fields.map { field in
            FieldStats.compute(field: field, pairs: entries.map { (predictions[$0.id]?.value(field), $0.truth.value(field)) })
        }
        return MethodResult(name: name, predictions: predictions, stats: stats, bleu: nil, keyPathF1: nil, seconds: 0)
    }
}
