import Foundation
public import ProvisioCore

/// BLEU and key-path F1 between rendered manifests and reference manifests.
public enum TextSimilarity {
    /// Splits YAML into word tokens and single punctuation tokens ("cpu: 100m" → cpu, :, 100m).
    public static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var word = ""
        func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "." || c == "/" }
        for c in text {
            if isWord(c) {
                word.append(c)
            } else {
                if !word.isEmpty {
                    out.append(word)
                    word = ""
                }
                if !c.isWhitespace { out.append(String(c)) }
            }
        }
        if !word.isEmpty { out.append(word) }
        return out
    }

    /// Corpus BLEU-4 (0–100) over pre-tokenized hypotheses and one reference each, with the
    /// brevity penalty and exponential smoothing of zero n-gram matches, as sacreBLEU computes it.
    public static func corpusBLEU(hypotheses: [[String]], references: [[String]]) -> Double {
        precondition(hypotheses.count == references.count)
        var correct = [Int](repeating: 0, count: 4)
        var total = [Int](repeating: 0, count: 4)
        var sysLen = 0, refLen = 0
        for (h, r) in zip(hypotheses, references) {
            sysLen += h.count
            refLen += r.count
            for n in 1...4 {
                let hc = ngrams(h, n), rc = ngrams(r, n)
                total[n - 1] += max(0, h.count - n + 1)
                for (g, c) in hc { correct[n - 1] += min(c, rc[g] ?? 0) }
            }
        }
        var precisions = [Double](repeating: 0, count: 4)
        var smooth = 1.0
        for n in 0..<4 {
            if total[n] == 0 { break }
            if correct[n] == 0 {
                smooth *= 2
                precisions[n] = 100 / (smooth * Double(total[n]))
            } else {
                precisions[n] = 100 * Double(correct[n]) / Double(total[n])
            }
        }
        let bp = sysLen < refLen ? (sysLen > 0 ? exp(1 - Double(refLen) / Double(sysLen)) : 0) : 1
        let logSum = precisions.map { $0 > 0 ? log($0) : -9_999_999_999 }.reduce(0, +)
        return bp * exp(logSum / 4)
    }

    static func ngrams(_ tokens: [String], _ n: Int) -> [[String]: Int] {
        var out: [[String]: Int] = [:]
        guard tokens.count >= n else { return out }
        for i in 0...(tokens.count - n) { out[Array(tokens[i..<(i + n)]), default: 0] += 1 }
        return out
    }

    /// The dotted paths of every leaf of a tree ("spec.template.spec.containers[0].image").
    public static func keyPaths(_ tree: Tree, prefix: String = "") -> Set<String> {
        switch tree {
        case .map(let entries):
            if entries.isEmpty { return [prefix] }
            return entries.reduce(into: Set<String>()) { acc, e in acc.formUnion(keyPaths(e.value, prefix: prefix.isEmpty ? e.key : "\(prefix).\(e.key)")) }
        case .list(let items):
            if items.isEmpty { return [prefix] }
            return items.enumerated().reduce(into: Set<String>()) { acc, item in acc.formUnion(keyPaths(item.element, prefix: "\(prefix)[\(item.offset)]")) }
        default:
            return [prefix]
        }
    }

    /// F1 of two key-path sets (1 when both are empty).
    public static func f1(_ predicted: Set<String>, _ reference: Set<String>) -> Double {
        if predicted.isEmpty && reference.isEmpty { return 1 }
        let common = Double(predicted.intersection(reference).count)
        guard common > 0 else { return 0 }
        let p = common / Double(predicted.count), r = common / Double(reference.count)
        return 2 * p * r / (p + r)
    }
}
