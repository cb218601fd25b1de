import Foundation

/// How close one method's predictions are to the truth for one field.
public struct FieldStats: Sendable, Hashable, Codable {
    public var field: String
    /// Entries whose truth has this field.
    public var n: Int
    /// Share of n predicted within a factor of two (½ ≤ predicted/truth ≤ 2).
    public var within2x: Double
    /// Median |log2(predicted/truth)| over entries with both values.
    public var medianAbsLog2: Double?
    /// Share of n predicted below half the truth.
    public var under: Double
    /// Share of n predicted above twice the truth.
    public var over: Double
    /// Entries of n with no prediction for the field.
    public var missing: Int

    /// Computes the statistics from (predicted, truth) pairs; pairs without a truth are skipped.
    public static func compute(field: String, pairs: [(predicted: Double?, truth: Double?)]) -> FieldStats {
        let scored = pairs.compactMap { p -> (Double?, Double)? in
            guard let t = p.truth, t > 0 else { return nil }
            return (p.predicted, t)
        }
        let n = scored.count
        var within = 0, under = 0, over = 0, missing = 0
        var logs: [Double] = []
        for (p, t) in scored {
            guard let p, p > 0 else {
                missing += 1
                continue
            }
            let r = p / t
            if r < 0.5 - 1e-12 { under += 1 } else if r > 2 + 1e-12 { over += 1 } else { within += 1 }
            logs.append(abs(log2(r)))
        }
        func share(_ k: Int) -> Double { n == 0 ? 0 : Double(k) / Double(n) }
        return FieldStats(
            field: field, n: n, within2x: share(within), medianAbsLog2: median(logs), under: share(under), over: share(over), missing: missing)
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
