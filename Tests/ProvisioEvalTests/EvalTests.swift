import Foundation
import Logging
import ProvisioCore
import ProvisioEval
import ProvisioPipeline
import ProvisioTestSupport
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct MetricTests {
    static func sizing(_ cpu: Int?, _ mem: Int64?, replicas: Int? = 1) -> Sizing {
        Sizing(
            replicas: replicas, requests: .init(cpu: cpu.map { CPUQuantity(millicores: $0) }, memory: mem.map { MemoryQuantity(bytes: $0 << 20) }),
            limits: .init(cpu: nil, memory: nil))
    }

    static func entry(_ id: String, truth: Sizing) -> EvalEntry {
        EvalEntry(id: id, category: "web-api", language: "go", framework: nil, stateful: false, workloadKind: "Deployment", description: "x", truth: truth)
    }

    @Test func statisticsMatchHandComputedValues() {
        // Truth 100m everywhere; predictions 100m (×1), 250m (×2.5), 40m (×0.4), 200m (×2, inclusive), none (missing).
        let entries = ["a", "b", "c", "d", "e"].map { Self.entry($0, truth: Self.sizing(100, 128)) }
        let predictions: [String: Sizing] = [
            "a": Self.sizing(100, 128), "b": Self.sizing(250, 64), "c": Self.sizing(40, 32), "d": Self.sizing(200, 256), "e": Self.sizing(nil, nil),
        ]
        let result = Evaluator(entries: entries).score(name: "hand", predictions: predictions)
        let cpu = try! #require(result.stat("requests.cpu"))
        #expect(cpu.n == 5)
        #expect(cpu.missing == 1)
        #expect(cpu.within2x == 2.0 / 5)  // a and d
        #expect(cpu.under == 1.0 / 5)  // c
        #expect(cpu.over == 1.0 / 5)  // b
        // |log2| of 1, 2.5, 0.4, 2 → 0, 1.3219, 1.3219, 1 → median (1 + 1.3219) / 2
        #expect(abs(cpu.medianAbsLog2! - (1 + log2(2.5)) / 2) < 1e-9)
        let mem = try! #require(result.stat("requests.memory"))
        // 128/128, 64/128 (=½, inclusive), 32/128 (under), 256/128 (=2, inclusive)
        #expect(mem.within2x == 3.0 / 5)
        #expect(mem.under == 1.0 / 5)
        let limits = try! #require(result.stat("limits.cpu"))
        #expect(limits.n == 0)
    }

    @Test func entriesWithoutTruthAreNotCounted() {
        let entries = [Self.entry("a", truth: Self.sizing(nil, 100)), Self.entry("b", truth: Self.sizing(100, 100))]
        let result = Evaluator(entries: entries).score(name: "x", predictions: ["a": Self.sizing(5000, 100), "b": Self.sizing(100, 100)])
        #expect(result.stat("requests.cpu")?.n == 1)
        #expect(result.stat("requests.cpu")?.within2x == 1)
    }
}

@Suite struct SimilarityTests {
    @Test func tokensSplitWordsAndPunctuation() {
        #expect(TextSimilarity.tokens("cpu: \"100m\"\n- name: x") == ["cpu", ":", "\"", "100m", "\"", "-", "name", ":", "x"])
    }

    @Test func identicalTextScores100AndDisjointScoresNearZero() {
        let a = TextSimilarity.tokens("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n")
        #expect(abs(TextSimilarity.corpusBLEU(hypotheses: [a], references: [a]) - 100) < 1e-9)
        // Exponential smoothing keeps a disjoint pair just above zero, as sacreBLEU does.
        #expect(TextSimilarity.corpusBLEU(hypotheses: [["q", "w", "e", "r"]], references: [a]) < 5)
    }

    @Test func bleuAgreesWithSacreBLEU() throws {
        let pairs: [(String, String)] = [
            (
                "resources:\n  requests:\n    cpu: 250m\n    memory: 256Mi\n",
                "resources:\n  requests:\n    cpu: 100m\n    memory: 128Mi\n  limits:\n    memory: 256Mi\n"
            ),
            (
                "spec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: a\n",
                "spec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: a\n"
            ),
            ("kind: Deployment\n", "kind: StatefulSet\nmetadata: {}\n"),
        ]
        let hyps = pairs.map { TextSimilarity.tokens($0.0) }, refs = pairs.map { TextSimilarity.tokens($0.1) }
        let ours = TextSimilarity.corpusBLEU(hypotheses: hyps, references: refs)
        let script = """
            import json, sys, sacrebleu
            data = json.load(sys.stdin)
            print(sacrebleu.corpus_bleu(data["h"], [data["r"]], tokenize="none").score)
            """
        let input = try JSONSerialization.data(withJSONObject: ["h": hyps.map { $0.joined(separator: " ") }, "r": refs.map { $0.joined(separator: " ") }])
        let (status, out) = try Shell.run(["python3", "-c", script], input: input)
        #expect(status == 0, "sacrebleu must be installed (pip install sacrebleu): \(out)")
        let theirs = try #require(out.split(separator: "\n").last.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) })
        #expect(abs(ours - theirs) < 1e-6, "ours \(ours), sacrebleu \(theirs)")
    }

    @Test func keyPathF1() {
        let a = Tree.object([("a", .object([("b", .int(1)), ("c", .int(2))]))])
        let b = Tree.object([("a", .object([("b", .int(5))])), ("d", .int(1))])
        #expect(TextSimilarity.keyPaths(a) == ["a.b", "a.c"])
        // common {a.b}: precision 1/2, recall 1/2 → F1 ½
        #expect(abs(TextSimilarity.f1(TextSimilarity.keyPaths(a), TextSimilarity.keyPaths(b)) - 0.5) < 1e-12)
    }
}

@Suite struct EvalRunTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static let fixture = """
        - id: cart-api
          category: web-api
          language: Go
          framework: Gin
          stateful: false
          workload_kind: Deployment
          typical_description: Go REST API that keeps shopping carts in Redis.
          ground_truth:
            replicas: 2
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: null, memory: 256Mi}
        - id: report-worker
          category: batch
          language: Python
          framework: Celery
          stateful: false
          workload_kind: Deployment
          typical_description: Python worker that renders PDF reports from a queue.
          ground_truth:
            replicas: 1
            requests: {cpu: 500m, memory: 1Gi}
            limits: {cpu: null, memory: null}
        - id: orders-db
          category: database
          language: C
          framework: PostgreSQL
          stateful: true
          workload_kind: StatefulSet
          typical_description: PostgreSQL primary holding the orders schema.
          ground_truth:
            replicas: 1
            requests: {cpu: 250m, memory: 512Mi}
            limits: {cpu: null, memory: null}
        """

    @Test func fixtureRunsThroughTheWholePipelineAndTheOutputsAreWellFormed() async throws {
        let dir = NSTemporaryDirectory() + "provisio-eval-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(Self.fixture.utf8).write(to: URL(fileURLWithPath: dir + "/dataset.yaml"))
        let entries = try Dataset.load(path: dir + "/dataset.yaml")
        #expect(entries.count == 3)
        #expect(entries[0].truth.limits.memory == MemoryQuantity(parsing: "256Mi"))
        var config = PipelineConfig(
            stateDirectory: dir + "/state", knowledgeDirectory: Self.root + "/knowledge", policiesDirectory: Self.root + "/policies", offline: true,
            remember: false)
        config.retrieval = true
        let pipeline = try Pipeline(config: config, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let result = try await Evaluator(entries: entries).run(name: "provisio", pipeline: pipeline)
        #expect(result.predictions.count == 3)
        #expect(result.bleu != nil && result.bleu! > 0 && result.bleu! <= 100)
        #expect(result.keyPathF1 != nil)
        // Why each number: the documents retrieved and the reasoner's arithmetic, per entry.
        guard case .map(let why)? = result.reasoning["orders-db"] else {
            Issue.record("no reasoning for orders-db")
            return
        }
        guard case .list(let retrieved)? = why.first(where: { $0.key == "retrieved" })?.value else {
            Issue.record("no retrieved list")
            return
        }
        #expect(retrieved.contains { if case .string(let s) = $0 { return s.hasPrefix("postgresql as application") } else { return false } })
        // The database is recognised as PostgreSQL, not sized as a generic service.
        let db = Evaluator.request(for: entries[2], index: 3)
        let plan = try await pipeline.plan(path: db.path, loaded: db)
        #expect(plan.context.retrieved.first { $0.role == "application" }?.id == "postgresql")
        #expect(plan.draft.citations.contains("postgresql"))

        let json = try JSONSerialization.jsonObject(with: Data(Report.predictionsJSON(result, order: entries.map(\.id)).utf8)) as? [String: Any]
        #expect(Set(json?.keys.map { $0 } ?? []) == ["cart-api", "report-worker", "orders-db"])
        let cart = json?["cart-api"] as? [String: Any]
        #expect((cart?["requests"] as? [String: Any])?["cpu"] is String)

        let svg = Plot.svg(entries: entries, result: result)
        let delegate = PointCounter()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = delegate
        #expect(parser.parse(), "the SVG must be well-formed XML")
        // One point per entry in each of the two panels (every fixture entry has both request values).
        #expect(delegate.points["requests.cpu"] == 3)
        #expect(delegate.points["requests.memory"] == 3)
        #expect(Report.markdown(dataset: "dataset.yaml", entries: 3, results: [result]).contains("| provisio |"))
    }
}

final class PointCounter: NSObject, XMLParserDelegate {
    var points: [String: Int] = [:]
    var panel = ""
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "g", let f = attributes["data-field"] { panel = f }
        if name == "circle", attributes["class"] == "point" { points[panel, default: 0] += 1 }
    }
}
