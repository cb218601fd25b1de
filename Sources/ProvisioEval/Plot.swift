import Foundation
import ProvisioCore

/// A log-log scatter plot of predicted against true values, one colour per category.
public enum Plot {
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// An SVG with one panel per field (requests.cpu, requests.memory) and one point per entry that has both values.
    public static func svg(entries: [EvalEntry], result: MethodResult) -> String {
        let categories = Array(Set(entries.map(\.category))).sorted()
        let panels: [(String, String, Double)] = [("requests.cpu", "CPU request (millicores)", 1), ("requests.memory", "memory request (MiB)", 1_048_576)]
        let w = 460.0, h = 420.0, margin = 60.0
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w * 2 + 160))\" height=\"\(Int(h + 40))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<title>\(escape(result.name)): predicted vs truth</title>\n"
        for (p, (field, label, unit)) in panels.enumerated() {
            let pts: [(EvalEntry, Double, Double)] = entries.compactMap { e in
                guard let t = e.truth.value(field), let v = result.predictions[e.id]?.value(field), t > 0, v > 0 else { return nil }
                return (e, v / unit, t / unit)
            }
            let all = pts.flatMap { [$0.1, $0.2] }
            let lo = log10(max(1e-3, (all.min() ?? 1) / 1.5)), hi = log10((all.max() ?? 10) * 1.5)
            let ox = Double(p) * (w + 20) + margin
            func x(_ v: Double) -> Double { ox + (log10(v) - lo) / (hi - lo) * (w - margin - 10) }
            func y(_ v: Double) -> Double { h - margin + 20 - (log10(v) - lo) / (hi - lo) * (h - margin - 10) }
            s += "<clipPath id=\"clip\(p)\"><rect x=\"\(Int(ox))\" y=\"30\" width=\"\(Int(w - margin - 10))\" height=\"\(Int(h - margin - 10))\"/></clipPath>\n"
            s += "<g class=\"panel\" data-field=\"\(field)\">\n"
            s += "<rect x=\"\(Int(ox))\" y=\"30\" width=\"\(Int(w - margin - 10))\" height=\"\(Int(h - margin - 10))\" fill=\"none\" stroke=\"#999\"/>\n"
            let a = pow(10, lo), b = pow(10, hi)
            s += "<line x1=\"\(x(a))\" y1=\"\(y(a))\" x2=\"\(x(b))\" y2=\"\(y(b))\" stroke=\"#444\"/>\n"
            for f in [0.5, 2.0] {
                s +=
                    "<line x1=\"\(x(a))\" y1=\"\(y(a * f))\" x2=\"\(x(b))\" y2=\"\(y(b * f))\" stroke=\"#bbb\" stroke-dasharray=\"4 3\" clip-path=\"url(#clip\(p))\"/>\n"
            }
            var tick = pow(10, lo.rounded(.down))
            while tick <= b {
                if tick >= a {
                    s += "<text x=\"\(x(tick))\" y=\"\(h - margin + 36)\" text-anchor=\"middle\">\(Tree.format(tick))</text>\n"
                    s += "<text x=\"\(ox - 6)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(Tree.format(tick))</text>\n"
                }
                tick *= 10
            }
            s += "<text x=\"\(ox + (w - margin) / 2)\" y=\"\(h + 30)\" text-anchor=\"middle\">truth: \(escape(label))</text>\n"
            s +=
                "<text x=\"\(ox + (w - margin) / 2)\" y=\"20\" text-anchor=\"middle\">predicted (up) vs truth (across), \(escape(label)); dashed: 2× band</text>\n"
            for (e, v, t) in pts {
                let color = palette[(categories.firstIndex(of: e.category) ?? 0) % palette.count]
                s +=
                    "<circle class=\"point\" data-id=\"\(escape(e.id))\" cx=\"\(x(t))\" cy=\"\(y(v))\" r=\"4\" fill=\"\(color)\" fill-opacity=\"0.75\"><title>\(escape(e.id)): predicted \(Tree.format(v)), truth \(Tree.format(t))</title></circle>\n"
            }
            s += "</g>\n"
        }
        for (i, c) in categories.enumerated() {
            let yy = 40 + i * 18
            s +=
                "<circle cx=\"\(Int(w * 2 + 50))\" cy=\"\(yy)\" r=\"5\" fill=\"\(palette[i % palette.count])\"/><text x=\"\(Int(w * 2 + 60))\" y=\"\(yy + 4)\">\(escape(c))</text>\n"
        }
        return s + "</svg>\n"
    }
}
