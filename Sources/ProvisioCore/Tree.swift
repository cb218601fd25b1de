import Foundation

/// An ordered document tree that renders to YAML or JSON byte for byte the same every time.
///
/// Rendering goes through this type instead of a general YAML library so that key order, quoting
/// and number formatting never depend on a dictionary's hash seed or a library's float printer.
public indirect enum Tree: Sendable, Equatable {
    case string(String)
    case int(Int)
    case number(Double)
    case bool(Bool)
    case null
    case list([Tree])
    case map([Entry])

    /// One key of a map, in the order it was added.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: Tree
        public init(_ key: String, _ value: Tree) {
            self.key = key
            self.value = value
        }
    }

    /// Builds a map from key/value pairs in the given order, dropping nil values.
    public static func object(_ pairs: [(String, Tree?)]) -> Tree {
        .map(pairs.compactMap { k, v in v.map { Entry(k, $0) } })
    }

    /// Converts a value produced by `JSONSerialization`, sorting object keys.
    public init(jsonObject: Any) {
        switch jsonObject {
        case let s as String: self = .string(s)
        case let n as NSNumber:
            // Booleans arrive as NSNumber with the char type code on every platform.
            let type = String(cString: n.objCType)
            if type == "c" || type == "B" {
                self = .bool(n.boolValue)
                return
            }
            if type == "d" || type == "f" {
                self = .number(n.doubleValue)
                return
            }
            self = .int(n.intValue)
        case let a as [Any]: self = .list(a.map(Tree.init(jsonObject:)))
        case let m as [String: Any]: self = .map(m.keys.sorted().map { Entry($0, Tree(jsonObject: m[$0]!)) })
        default: self = .null
        }
    }
}

extension Tree {
    /// Formats a double without exponent and without trailing zeros ("0.5", "12", "0.035").
    public static func format(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return "0" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        var s = String(format: "%.6f", d)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// Renders YAML (block style, two-space indent), ending with a newline.
    public func yaml() -> String {
        var out = ""
        switch self {
        case .map(let entries) where !entries.isEmpty: Tree.emitMap(entries, indent: 0, into: &out)
        case .list(let items) where !items.isEmpty: Tree.emitList(items, indent: 0, into: &out)
        default: out = scalarYAML() + "\n"
        }
        return out
    }

    private func scalarYAML() -> String {
        switch self {
        case .string(let s): return Tree.quoteIfNeeded(s)
        case .int(let i): return String(i)
        case .number(let d): return Tree.format(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    private var isBlock: Bool {
        switch self {
        case .map(let e): return !e.isEmpty
        case .list(let l): return !l.isEmpty
        default: return false
        }
    }

    private static func emitMap(_ entries: [Entry], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for e in entries {
            let key = quoteIfNeeded(e.key)
            switch e.value {
            case .map(let m) where !m.isEmpty:
                out += "\(pad)\(key):\n"
                emitMap(m, indent: indent + 2, into: &out)
            case .list(let l) where !l.isEmpty:
                out += "\(pad)\(key):\n"
                emitList(l, indent: indent + 2, into: &out)
            default:
                out += "\(pad)\(key): \(e.value.scalarYAML())\n"
            }
        }
    }

    private static func emitList(_ items: [Tree], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .map(let m) where !m.isEmpty:
                var inner = ""
                emitMap(m, indent: indent + 2, into: &inner)
                // The first key goes on the dash line.
                out += pad + "- " + inner.dropFirst(indent + 2)
            case .list(let l) where !l.isEmpty:
                out += "\(pad)-\n"
                emitList(l, indent: indent + 2, into: &out)
            default:
                out += "\(pad)- \(item.scalarYAML())\n"
            }
        }
    }

    private static let plainUnsafe: Set<Character> = ["-", "?", ":", ",", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`", " "]
    private static let reserved: Set<String> = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "", ".nan", ".inf", "-.inf",
    ]

    /// Quotes a string when YAML would otherwise read it as something else.
    public static func quoteIfNeeded(_ s: String) -> String {
        let needs =
            reserved.contains(s.lowercased())
            || plainUnsafe.contains(s.first!)
            || s.last == " " || s.last == ":"
            || s.contains(": ") || s.contains(" #") || s.contains("\n") || s.contains("\t")
            || Double(s) != nil || s.allSatisfy({ $0.isNumber || $0 == "." || $0 == "_" || $0 == "e" || $0 == "E" || $0 == "+" || $0 == "-" })
            || s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
        return needs ? jsonString(s) : s
    }

    /// A JSON string literal (also a valid YAML double-quoted scalar).
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7f {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// Renders JSON with two-space indent and keys in tree order, ending with a newline.
    public func json() -> String {
        var out = ""
        emitJSON(indent: 0, into: &out)
        return out + "\n"
    }

    private func emitJSON(indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent + 2)
        let close = String(repeating: " ", count: indent)
        switch self {
        case .string(let s): out += Tree.jsonString(s)
        case .int(let i): out += String(i)
        case .number(let d): out += Tree.format(d)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .list(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.emitJSON(indent: indent + 2, into: &out)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += close + "]"
        case .map(let entries):
            if entries.isEmpty {
                out += "{}"
                return
            }
            out += "{\n"
            for (i, e) in entries.enumerated() {
                out += pad + Tree.jsonString(e.key) + ": "
                e.value.emitJSON(indent: indent + 2, into: &out)
                out += i == entries.count - 1 ? "\n" : ",\n"
            }
            out += close + "}"
        }
    }
}

/// Encodes `Encodable` values to a ``Tree`` with sorted keys, for stable JSON and YAML output.
public enum TreeEncoder {
    /// Encodes a value through JSON into a tree.
    public static func encode(_ value: some Encodable) throws -> Tree {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        return Tree(jsonObject: object)
    }
}
