import Foundation
import ProvisioCore
import Yams

/// Limits that keep a hostile document from costing more than a normal one.
public struct DocumentLimits: Sendable {
    /// Largest file accepted, in bytes.
    public var maxBytes = 1 << 20
    /// Most YAML nodes walked.
    public var maxNodes = 100_000
    /// Deepest nesting accepted.
    public var maxDepth = 32

    /// The defaults: 1 MiB, 100 000 nodes, depth 32.
    public init() {}
}

/// Walks a composed YAML node against a ``Schema``, collecting every problem with its line,
/// and produces a JSON-compatible value with the types the schema asks for.
struct SchemaValidator {
    let file: String
    let limits: DocumentLimits
    private(set) var errors: [ProvisioError] = []
    private var nodes = 0

    init(file: String, limits: DocumentLimits) {
        self.file = file
        self.limits = limits
    }

    private mutating func fail(_ node: Node?, _ path: String, _ message: String) {
        errors.append(ProvisioError(.invalidRequest, file: file, line: node?.mark?.line, field: path, message))
    }

    /// Validates `node` at `path`; returns the converted value, or nil when it is invalid.
    ///
    /// `keyLine` is the line of the key that holds `node`, where a missing field is reported.
    mutating func validate(_ node: Node, _ schema: Schema, path: String, depth: Int = 0, keyLine: Int? = nil) -> Any? {
        nodes += 1
        guard nodes <= limits.maxNodes else {
            if nodes == limits.maxNodes + 1 { fail(node, path, "document has more than \(limits.maxNodes) nodes") }
            return nil
        }
        guard depth <= limits.maxDepth else {
            fail(node, path, "nested deeper than \(limits.maxDepth) levels")
            return nil
        }
        if case .alias = node {
            fail(node, path, "YAML aliases are not allowed in a request; write the value out")
            return nil
        }
        if node.anchor != nil {
            fail(node, path, "YAML anchors are not allowed in a request; write the value out")
            return nil
        }
        switch schema {
        case .object(let properties, let required, _):
            guard case .mapping(let mapping) = node else {
                fail(node, path, "expected a mapping, got \(Self.describe(node))")
                return nil
            }
            var out: [String: Any] = [:]
            var seen = Set<String>()
            var nulls: [String: Int?] = [:]
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    fail(keyNode, path, "keys must be plain strings")
                    continue
                }
                let key = keyScalar.string
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if key == "<<" {
                    fail(keyNode, childPath, "YAML merge keys are not allowed in a request")
                    continue
                }
                if !seen.insert(key).inserted {
                    fail(keyNode, childPath, "appears twice")
                    continue
                }
                guard let property = properties.first(where: { $0.name == key }) else {
                    let allowed = properties.map(\.name).joined(separator: ", ")
                    fail(keyNode, childPath, "unknown field; allowed here: \(allowed)")
                    continue
                }
                if case .scalar(let s) = valueNode,
                    s.tag.rawValue == Tag.Name.null.rawValue || (s.string.isEmpty && s.style == .plain) || s.string == "~" || s.string == "null"
                {
                    // An explicit null is the same as leaving the field out.
                    nulls[key] = keyNode.mark?.line
                    continue
                }
                if let v = validate(valueNode, property.schema, path: childPath, depth: depth + 1, keyLine: keyNode.mark?.line) {
                    out[key] = v
                }
            }
            for name in required where !seen.contains(name) || out[name] == nil {
                let field = path.isEmpty ? name : "\(path).\(name)"
                if let line = nulls[name] {
                    errors.append(ProvisioError(.invalidRequest, file: file, line: line, field: field, "required field is empty"))
                } else if !seen.contains(name) {
                    errors.append(
                        ProvisioError(.invalidRequest, file: file, line: keyLine ?? node.mark?.line, field: field, "required field is missing"))
                }  // else present but invalid: already reported
            }
            return out
        case .map(let values, _):
            guard case .mapping(let mapping) = node else {
                fail(node, path, "expected a mapping, got \(Self.describe(node))")
                return nil
            }
            var out: [String: Any] = [:]
            for (keyNode, valueNode) in mapping {
                let key = keyNode.scalar?.string ?? ""
                if let v = validate(valueNode, values, path: "\(path).\(key)", depth: depth + 1) { out[key] = v }
            }
            return out
        case .array(let items, let maxItems, _):
            guard case .sequence(let sequence) = node else {
                fail(node, path, "expected a list, got \(Self.describe(node))")
                return nil
            }
            if sequence.count > maxItems {
                fail(node, path, "has \(sequence.count) items; at most \(maxItems) are allowed")
                return nil
            }
            var out: [Any] = []
            for (i, item) in sequence.enumerated() {
                if let v = validate(item, items, path: "\(path)[\(i)]", depth: depth + 1) { out.append(v) }
            }
            return out
        case .string(let rule, _):
            guard case .scalar(let scalar) = node else {
                fail(node, path, "expected a string, got \(Self.describe(node))")
                return nil
            }
            let text = scalar.string
            let isNumber = scalar.style == .plain && Double(text) != nil
            if isNumber && !rule.acceptsNumbers && rule.enumValues == nil && rule.pattern != nil {
                // A number where a constrained string is expected is still checked against the pattern below.
            }
            if text.count > rule.maxLength {
                fail(node, path, "is \(text.count) characters long; at most \(rule.maxLength) are allowed")
                return nil
            }
            if let values = rule.enumValues, !values.contains(text) {
                fail(node, path, "'\(Self.clip(text))' is not one of: \(values.joined(separator: ", "))")
                return nil
            }
            if let pattern = rule.pattern, text.range(of: pattern, options: .regularExpression) == nil {
                fail(node, path, "'\(Self.clip(text))' \(rule.hint ?? "does not match \(pattern)")")
                return nil
            }
            if let check = rule.check, let problem = check(text) {
                fail(node, path, problem)
                return nil
            }
            return text
        case .integer(let min, let max, _):
            guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Int(scalar.string) else {
                fail(node, path, "expected a whole number, got \(Self.describe(node))")
                return nil
            }
            if let min, value < min {
                fail(node, path, "\(value) is below the minimum \(min)")
                return nil
            }
            if let max, value > max {
                fail(node, path, "\(value) is above the maximum \(max)")
                return nil
            }
            return value
        case .number(let min, let max, _):
            guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Double(scalar.string), value.isFinite else {
                fail(node, path, "expected a number, got \(Self.describe(node))")
                return nil
            }
            if let min, value < min {
                fail(node, path, "\(Tree.format(value)) is below the minimum \(Tree.format(min))")
                return nil
            }
            if let max, value > max {
                fail(node, path, "\(Tree.format(value)) is above the maximum \(Tree.format(max))")
                return nil
            }
            return value
        case .boolean:
            guard case .scalar(let scalar) = node, scalar.style == .plain, ["true", "false"].contains(scalar.string) else {
                fail(node, path, "expected true or false, got \(Self.describe(node))")
                return nil
            }
            return scalar.string == "true"
        }
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "'\(clip(s.string))'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func clip(_ s: String) -> String { s.count > 60 ? String(s.prefix(57)) + "..." : s }
}
