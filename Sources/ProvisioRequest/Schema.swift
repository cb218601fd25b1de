public import ProvisioCore

/// A small JSON Schema, expressive enough for the request standard, that can both print itself
/// as JSON Schema (for editors) and validate a YAML node tree with line numbers (for people).
public indirect enum Schema: Sendable {
    /// An object with a closed set of properties.
    case object(properties: [Property], required: [String], description: String? = nil)
    /// A list of items of one shape.
    case array(items: Schema, maxItems: Int, description: String? = nil)
    /// A string, optionally constrained.
    case string(StringRule = StringRule(), description: String? = nil)
    /// A whole number.
    case integer(min: Int? = nil, max: Int? = nil, description: String? = nil)
    /// A number.
    case number(min: Double? = nil, max: Double? = nil, description: String? = nil)
    /// true or false.
    case boolean(description: String? = nil)
    /// A free-form object whose values follow one schema (used for inline time series keys).
    case map(values: Schema, description: String? = nil)

    /// A named property of an object.
    public struct Property: Sendable {
        public let name: String
        public let schema: Schema
        public init(_ name: String, _ schema: Schema) {
            self.name = name
            self.schema = schema
        }
    }

    /// Constraints on a string and the message shown when they fail.
    public struct StringRule: Sendable {
        public var pattern: String?
        public var enumValues: [String]?
        public var maxLength: Int
        public var hint: String?
        /// Accepts a YAML number where a string is expected (availability "99.9" written as 99.9).
        public var acceptsNumbers: Bool
        /// A check that a regular expression cannot express; returns the problem or nil.
        public var check: (@Sendable (String) -> String?)?

        public init(
            pattern: String? = nil, enumValues: [String]? = nil, maxLength: Int = 4096, hint: String? = nil,
            acceptsNumbers: Bool = false, check: (@Sendable (String) -> String?)? = nil
        ) {
            self.pattern = pattern
            self.enumValues = enumValues
            self.maxLength = maxLength
            self.hint = hint
            self.acceptsNumbers = acceptsNumbers
            self.check = check
        }
    }
}

extension Schema {
    /// The schema as a JSON Schema (draft 2020-12) document tree.
    public func jsonSchema() -> Tree {
        switch self {
        case .object(let properties, let required, let description):
            return .object([
                ("type", .string("object")),
                ("description", description.map(Tree.string)),
                ("properties", .map(properties.map { Tree.Entry($0.name, $0.schema.jsonSchema()) })),
                ("required", required.isEmpty ? nil : .list(required.map(Tree.string))),
                ("additionalProperties", .bool(false)),
            ])
        case .array(let items, let maxItems, let description):
            return .object([
                ("type", .string("array")), ("description", description.map(Tree.string)),
                ("items", items.jsonSchema()), ("maxItems", .int(maxItems)),
            ])
        case .string(let rule, let description):
            return .object([
                ("type", rule.acceptsNumbers ? .list([.string("string"), .string("number")]) : .string("string")),
                ("description", description.map(Tree.string)),
                ("pattern", rule.pattern.map(Tree.string)),
                ("enum", rule.enumValues.map { .list($0.map(Tree.string)) }),
                ("maxLength", rule.acceptsNumbers ? nil : .int(rule.maxLength)),
            ])
        case .integer(let min, let max, let description):
            return .object([
                ("type", .string("integer")), ("description", description.map(Tree.string)),
                ("minimum", min.map(Tree.int)), ("maximum", max.map(Tree.int)),
            ])
        case .number(let min, let max, let description):
            return .object([
                ("type", .string("number")), ("description", description.map(Tree.string)),
                ("minimum", min.map(Tree.number)), ("maximum", max.map(Tree.number)),
            ])
        case .boolean(let description):
            return .object([("type", .string("boolean")), ("description", description.map(Tree.string))])
        case .map(let values, let description):
            return .object([
                ("type", .string("object")), ("description", description.map(Tree.string)),
                ("additionalProperties", values.jsonSchema()),
            ])
        }
    }
}
