import Foundation
import ProvisioCore

/// Tables, predictions.json and the SVG plot of an evaluation.
public enum Report {
    static func pct(_ d: Double) -> String { String(format: "%.1f %%", d * 100) }
    static func num(_ d: Double?) -> String { d.map { String(format: "%.2f", $0) } ?? "–" }

    /// The headline table (markdown): requests within 2×, memory under half, and the rest.
    public static func summaryTable(_ results: [MethodResult]) -> String {
        var s =
            "| method | req.cpu within 2× | req.mem within 2× | req.mem under ½ | lim.cpu within 2× | lim.mem within 2× | replicas within 2× | BLEU | key-path F1 |\n"
        s += "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        for r in results {
            let c = r.stat("requests.cpu"), m = r.stat("requests.memory"), lc = r.stat("limits.cpu"), lm = r.stat("limits.memory"), rep = r.stat("replicas")
            s +=
                "| \(r.name) | \(pct(c?.within2x ?? 0)) | \(pct(m?.within2x ?? 0)) | \(pct(m?.under ?? 0)) | \(pct(lc?.within2x ?? 0)) | \(pct(lm?.within2x ?? 0)) | \(pct(rep?.within2x ?? 0)) | \(r.bleu.map { String(format: "%.1f", $0) } ?? "–") | \(num(r.keyPathF1)) |\n"
        }
        return s
    }

    /// Every statistic of every field, per method (markdown).
    public static func detailTable(_ r: MethodResult) -> String {
        var s = "| field | n | within 2× | median abs log2 | under ½ | over 2× | missing |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        for f in r.stats {
            s += "| \(f.field) | \(f.n) | \(pct(f.within2x)) | \(num(f.medianAbsLog2)) | \(pct(f.under)) | \(pct(f.over)) | \(f.missing) |\n"
        }
        return s
    }

    /// The whole report.md.
    public static func markdown(dataset: String, entries: Int, results: [MethodResult]) -> String {
        var s = "# provisio eval\n\nDataset: `\((dataset as NSString).lastPathComponent)`, \(entries) entries.\n\n"
        s += "Within 2×: ½ ≤ predicted/truth ≤ 2, as a share of the entries whose truth has the field; a missing prediction counts against it. "
        s +=
            "Median abs log2 is over entries with both values. BLEU compares each rendered Deployment with one built from the truth (corpus BLEU-4 on YAML tokens); key-path F1 compares their leaf paths.\n\n"
        s += summaryTable(results) + "\n"
        for r in results {
            s += "## \(r.name)\n\n" + detailTable(r) + "\n"
            if r.seconds > 0 { s += "Time: \(String(format: "%.2f", r.seconds)) s for \(entries) entries.\n\n" }
        }
        return s
    }

    /// `{id: {replicas, requests: {cpu, memory}, limits: {cpu, memory}}}` in Kubernetes quantities.
    public static func predictionsJSON(_ r: MethodResult, order: [String]) -> String {
        Tree.map(
            order.compactMap { id in
                guard let p = r.predictions[id] else { return nil }
                func pair(_ q: ResourcePair) -> Tree {
                    .object([("cpu", q.cpu.map { .string($0.description) } ?? .null), ("memory", q.memory.map { .string($0.description) } ?? .null)])
                }
                return Tree.Entry(id, .object([("replicas", p.replicas.map(Tree.int) ?? .null), ("requests", pair(p.requests)), ("limits", pair(p.limits))]))
            }
        ).json()
    }
}
