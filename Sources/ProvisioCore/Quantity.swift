import Foundation

/// A CPU amount in millicores, printed the way Kubernetes prints it ("250m", "2").
public struct CPUQuantity: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Millicores (1000 = one core).
    public var millicores: Int

    /// Creates a CPU amount from millicores.
    public init(millicores: Int) { self.millicores = max(0, millicores) }

    /// Creates a CPU amount from cores, rounding up to the next millicore.
    /// Floating-point noise (0.4 × 1000 = 400.00000000000006) is ignored before rounding.
    public init(cores: Double) { self.init(millicores: Int((cores * 1000 - 1e-6).rounded(.up))) }

    /// Parses a Kubernetes CPU quantity ("100m", "0.5", "2"); nil when it is not one.
    public init?(parsing text: String) {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.hasSuffix("m") {
            guard let v = Int(s.dropLast()), v >= 0 else { return nil }
            self.init(millicores: v)
        } else {
            // Parse the decimal digits exactly: "4.03" is 4030m, not 4031m after binary rounding.
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            guard !s.isEmpty, s != ".", parts.count <= 2, let whole = Int(parts[0].isEmpty ? "0" : parts[0]), whole >= 0, !parts[0].hasPrefix("+"),
                !parts[0].hasPrefix("-")
            else { return nil }
            var milli = whole * 1000
            if parts.count == 2 {
                let fraction = parts[1]
                guard !fraction.isEmpty, fraction.allSatisfy(\.isASCII), fraction.allSatisfy(\.isNumber) else { return nil }
                let first3 = String(fraction.prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0)
                milli += Int(first3)!
                // Kubernetes rounds sub-millicore precision up.
                if fraction.dropFirst(3).contains(where: { $0 != "0" }) { milli += 1 }
            }
            self.init(millicores: milli)
        }
    }

    /// Cores as a floating-point number.
    public var cores: Double { Double(millicores) / 1000 }

    public var description: String {
        millicores % 1000 == 0 ? String(millicores / 1000) : "\(millicores)m"
    }

    /// Rounds up to a multiple of `step` millicores.
    public func roundedUp(to step: Int) -> CPUQuantity {
        CPUQuantity(millicores: (millicores + step - 1) / step * step)
    }

    public static func < (a: CPUQuantity, b: CPUQuantity) -> Bool { a.millicores < b.millicores }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let q = CPUQuantity(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a CPU quantity: \(text)"))
        }
        self = q
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A memory amount in bytes, printed in the largest binary unit that divides it ("256Mi"), or else in
/// whole decimal gigabytes or megabytes ("1G", "2500M").
public struct MemoryQuantity: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Bytes.
    public var bytes: Int64

    public static let kibi: Int64 = 1024
    public static let mebi: Int64 = 1024 * 1024
    public static let gibi: Int64 = 1024 * 1024 * 1024

    /// Creates a memory amount from bytes.
    public init(bytes: Int64) { self.bytes = max(0, bytes) }

    /// Creates a memory amount from mebibytes, rounding up to a whole byte.
    public init(mebibytes: Double) { self.init(bytes: Int64((mebibytes * Double(Self.mebi) - 1e-6).rounded(.up))) }

    private static let suffixes: [(String, Int64)] = [
        ("Ki", 1024), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40),
        ("k", 1000), ("K", 1000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000),
    ]

    /// Parses a Kubernetes memory quantity ("128Mi", "1Gi", "500M", "1048576"); nil when it is not one.
    public init?(parsing text: String) {
        let s = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in Self.suffixes where s.hasSuffix(suffix) {
            let number = String(s.dropLast(suffix.count))
            guard let v = Double(number), v >= 0, v.isFinite, !number.contains("e") else { return nil }
            self.init(bytes: Int64((v * Double(factor)).rounded(.up)))
            return
        }
        guard let v = Int64(s), v >= 0 else { return nil }
        self.init(bytes: v)
    }

    /// Mebibytes as a floating-point number.
    public var mebibytes: Double { Double(bytes) / Double(Self.mebi) }

    /// Gibibytes as a floating-point number.
    public var gibibytes: Double { Double(bytes) / Double(Self.gibi) }

    public var description: String {
        if bytes == 0 { return "0" }
        if bytes % Self.gibi == 0 { return "\(bytes / Self.gibi)Gi" }
        if bytes % Self.mebi == 0 { return "\(bytes / Self.mebi)Mi" }
        // A decimal amount from a source ("1G", "512M") stays decimal rather than becoming bytes or Ki.
        if bytes % 1_000_000_000 == 0 { return "\(bytes / 1_000_000_000)G" }
        if bytes % 1_000_000 == 0 { return "\(bytes / 1_000_000)M" }
        if bytes % Self.kibi == 0 { return "\(bytes / Self.kibi)Ki" }
        return String(bytes)
    }

    /// Rounds up to a multiple of `step` mebibytes.
    public func roundedUp(toMebibytes step: Int64) -> MemoryQuantity {
        let unit = step * Self.mebi
        return MemoryQuantity(bytes: (bytes + unit - 1) / unit * unit)
    }

    public static func < (a: MemoryQuantity, b: MemoryQuantity) -> Bool { a.bytes < b.bytes }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let q = MemoryQuantity(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a memory quantity: \(text)"))
        }
        self = q
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// CPU and memory for one container, as in a Kubernetes `resources.requests` or `limits` block.
public struct ResourcePair: Hashable, Sendable, Codable {
    /// CPU amount; nil when not set (a CPU limit may be left out on purpose).
    public var cpu: CPUQuantity?
    /// Memory amount.
    public var memory: MemoryQuantity?

    /// Creates a pair.
    public init(cpu: CPUQuantity?, memory: MemoryQuantity?) {
        self.cpu = cpu
        self.memory = memory
    }
}
