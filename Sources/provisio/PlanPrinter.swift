import Foundation
import ProvisioCore
import ProvisioPipeline

/// Prints a plan for people (text) or machines (a tree for YAML/JSON).
enum PlanPrinter {
    static func tree(_ r: PlanResult) throws -> Tree {
        .object([
            ("request", .string(r.context.requestPath)),
            ("context", try TreeEncoder.encode(r.context)),
            ("draft", try TreeEncoder.encode(r.draft)),
            ("final", try TreeEncoder.encode(r.final)),
            ("files", .list(r.files.map { .object([("path", .string($0.path)), ("contents", .string($0.contents))]) })),
        ])
    }

    static func text(_ r: PlanResult) -> String {
        let c = r.context, d = r.draft, f = r.final, p = c.appProfile
        var s = "═══ \(c.requestPath) — \(c.request.metadata.name) (\(c.requestForm.rawValue) form)\n\n"
        s += "Agent 1 · Context — \(c.requestKind) service, route \(c.route.name): \(c.route.reason)\n"
        func line(_ k: String, _ v: String, _ src: String, _ detail: String) {
            s += "  \(k.padding(toLength: 14, withPad: " ", startingAt: 0)) \(v)  [\(src): \(detail)]\n"
        }
        if let l = p.language { line("language", l.value, l.source.rawValue, l.detail) }
        if let fw = p.framework { line("framework", fw.value, fw.source.rawValue, fw.detail) }
        line("load", "\(Tree.format(p.expectedQps.value)) QPS expected", p.expectedQps.source.rawValue, p.expectedQps.detail)
        line("", "\(Tree.format(p.peakQps.value)) QPS peak", p.peakQps.source.rawValue, p.peakQps.detail)
        line("latency p99", "\(Tree.format(p.latencyP99Ms.value)) ms", p.latencyP99Ms.source.rawValue, p.latencyP99Ms.detail)
        line("tier", p.tier.value, p.tier.source.rawValue, p.tier.detail)
        line("availability", p.availability.value + "%", p.availability.source.rawValue, p.availability.detail)
        line("pattern", p.pattern.value, p.pattern.source.rawValue, p.pattern.detail)
        for dep in p.dependencies { line("dependency", dep.value, dep.source.rawValue, dep.detail) }
        s += "  repository     \(c.repo.status)\(c.repo.commit.map { " at \($0.prefix(12))" } ?? "")\n"
        for doc in c.retrieved { s += "  retrieved      \(doc.id) as \(doc.role) (bm25 \(Tree.format(doc.score)))\n" }
        for sim in c.similar { s += "  similar        \(sim.requestName) (\(Tree.format(sim.similarity))): \(sim.summary)\n" }
        if let h = c.history {
            s += HistoryText.render(h).split(separator: "\n").map { "  \($0)" }.joined(separator: "\n") + "\n"
        }
        for w in c.warnings { s += "  ! \(w)\n" }
        s += "\nAgent 2 · Predict — \(d.reasoner) reasoner, confidence \(Tree.format(d.confidence))\n"
        for step in d.reasoning { s += "  \(step)\n" }
        for a in d.assumptions { s += "  assumes: \(a)\n" }
        s += "  cites: \(d.citations.joined(separator: ", "))\n"
        s += "\nAgent 3 · Refine — \(f.status.uppercased()), confidence \(Tree.format(f.confidence))\(f.reasoner.map { ", \($0) reasoner" } ?? "")\n"
        for round in f.rounds { s += "  [\(round.round)] \(round.tool): \(round.observation)\n" }
        for check in f.checks { s += "  \(check.passed ? "✓" : "✗") \(check.name): \(check.detail)\n" }
        for change in f.changes { s += "  changed \(change.field): \(change.from) → \(change.to) (\(change.reason))\n" }
        for reason in f.reasons { s += "  needs attention: \(reason)\n" }
        let cost = f.estimatedMonthlyCost
        s +=
            "  cost: \(Tree.format(cost.total)) \(cost.currency)/month (pods \(Tree.format(cost.pods)), up to \(Tree.format(cost.podsAtMax)) at the HPA maximum; VMs \(Tree.format(cost.vms)))\n"
        s += "  final: \(f.recommendation.summary)\n"
        if let e = f.embedded { s += "  embedded reasoner's plan: \(e.summary)\n" }
        let total = r.timings.map(\.1).reduce(0, +)
        s +=
            "  time: " + r.timings.map { "\($0.0) \(Tree.format(($0.1 * 100_000).rounded() / 100)) ms" }.joined(separator: ", ")
            + " (total \(Tree.format((total * 100_000).rounded() / 100)) ms)\n"
        s += "\nFiles (relative to \(r.root)):\n"
        for file in r.files where !file.path.hasSuffix("recommendation.json") {
            s += "─── \(file.path)\n\(file.contents)"
        }
        s += "─── \(r.files.first { $0.path.hasSuffix("recommendation.json") }?.path ?? "recommendation.json") (see --output json)\n\n"
        return s
    }
}
