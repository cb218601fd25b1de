import Foundation
public import ProvisioCore
public import ProvisioPredict

/// What the model must answer: the DraftPlan's numbers in a flat shape a JSON Schema can constrain.
/// Nothing in it is trusted: it is parsed, every quantity re-read, and the plan checked like any other.
public struct PlanAnswer: Decodable, Sendable, Hashable {
    public var analysis: String
    public var replicas: Int
    public var requests: Pair
    public var limits: Pair
    public var autoscale: Bool
    public var hpa: HPA
    public var pdbMaxUnavailable: Int
    public var reasoning: [String]

    public struct Pair: Codable, Sendable, Hashable {
        public var cpu: String
        public var memory: String
    }

    public struct HPA: Codable, Sendable, Hashable {
        public var minReplicas: Int
        public var maxReplicas: Int
        public var targetCPUUtilization: Int
    }

    /// The JSON Schema sent as `response_format`: CPU in millicores, memory in MiB, every field required.
    public static let schema: Tree = {
        func int(_ lo: Int, _ hi: Int) -> Tree { .object([("type", .string("integer")), ("minimum", .int(lo)), ("maximum", .int(hi))]) }
        // No maxLength on free text: llama.cpp's grammar turns it into nested repetitions that make every
        // token inside the string an order of magnitude slower; max_tokens bounds the answer instead.
        func string(pattern: String? = nil) -> Tree { .object([("type", .string("string")), ("pattern", pattern.map(Tree.string))]) }
        func object(_ props: [(String, Tree)]) -> Tree {
            .object([
                ("type", .string("object")), ("properties", .object(props.map { ($0.0, $0.1) })), ("required", .list(props.map { .string($0.0) })),
                ("additionalProperties", .bool(false)),
            ])
        }
        let pair = object([("cpu", string(pattern: "^[1-9][0-9]{0,5}m$")), ("memory", string(pattern: "^[1-9][0-9]{0,6}Mi$"))])
        return object([
            ("analysis", string()), ("replicas", int(1, 100)), ("requests", pair), ("limits", pair), ("autoscale", .object([("type", .string("boolean"))])),
            ("hpa", object([("minReplicas", int(1, 100)), ("maxReplicas", int(1, 200)), ("targetCPUUtilization", int(10, 95))])),
            ("pdbMaxUnavailable", int(0, 10)),
            ("reasoning", .object([("type", .string("array")), ("items", string()), ("maxItems", .int(4))])),
        ])
    }()

    /// The answer in `text`: Markdown code fences and any words around the object are stripped first.
    /// Throws a message that says what is wrong (for `reasoner: embedded (fallback: …)`).
    public static func parse(_ text: String) throws -> PlanAnswer {
        let json = Self.stripFences(text)
        guard !json.isEmpty else { throw AnswerError("the answer is empty") }
        do {
            return try JSONDecoder().decode(PlanAnswer.self, from: Data(json.utf8))
        } catch let DecodingError.keyNotFound(key, _) {
            throw AnswerError("the answer has no '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, c) {
            throw AnswerError("'\(c.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch DecodingError.dataCorrupted {
            throw AnswerError("the answer is not valid JSON")
        } catch {
            throw AnswerError("the answer is not valid JSON")
        }
    }

    /// `{…}` out of "```json\n{…}\n```" or "Here is the plan: {…}".
    public static func stripFences(_ text: String) -> String {
        var s = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if s.hasPrefix("```") {
            s = String(s.drop(while: { $0 != "\n" }).dropFirst())
            if let end = s.range(of: "```", options: .backwards) { s = String(s[..<end.lowerBound]) }
            s = s.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if !s.hasPrefix("{"), let open = s.firstIndex(of: "{"), let close = s.lastIndex(of: "}"), open < close { s = String(s[open...close]) }
        return s
    }

    /// The recommendation with `vms` added (the model sizes pods only). Throws when a quantity is not one.
    public func recommendation(vms: [Recommendation.VMPlan]) throws -> Recommendation {
        func cpu(_ s: String, _ field: String) throws -> CPUQuantity {
            guard let q = CPUQuantity(parsing: s), q.millicores > 0 else { throw AnswerError("\(field) '\(s.prefix(20))' is not a CPU quantity above zero") }
            return q
        }
        func memory(_ s: String, _ field: String) throws -> MemoryQuantity {
            guard let q = MemoryQuantity(parsing: s), q.bytes >= 4 << 20 else {
                throw AnswerError("\(field) '\(s.prefix(20))' is not a memory quantity of 4Mi or more")
            }
            return q
        }
        guard replicas >= 1 else { throw AnswerError("replicas \(replicas) is below 1") }
        let requests = ResourcePair(cpu: try cpu(self.requests.cpu, "requests.cpu"), memory: try memory(self.requests.memory, "requests.memory"))
        let limits = ResourcePair(cpu: try cpu(self.limits.cpu, "limits.cpu"), memory: try memory(self.limits.memory, "limits.memory"))
        let hpa =
            autoscale
            ? Recommendation.HPA(minReplicas: hpa.minReplicas, maxReplicas: hpa.maxReplicas, targetCPUUtilization: hpa.targetCPUUtilization) : nil
        if let hpa, hpa.maxReplicas < hpa.minReplicas {
            throw AnswerError("hpa.maxReplicas \(hpa.maxReplicas) is below hpa.minReplicas \(hpa.minReplicas)")
        }
        if let hpa, !(10...95).contains(hpa.targetCPUUtilization) {
            throw AnswerError("hpa.targetCPUUtilization \(hpa.targetCPUUtilization) is outside 10–95")
        }
        guard (0...replicas).contains(pdbMaxUnavailable) else {
            throw AnswerError("pdbMaxUnavailable \(pdbMaxUnavailable) is outside 0–\(replicas)")
        }
        let pdb = replicas >= 2 && pdbMaxUnavailable >= 1 ? Recommendation.PDB(maxUnavailable: pdbMaxUnavailable) : nil
        return Recommendation(replicas: replicas, requests: requests, limits: limits, hpa: hpa, pdb: pdb, vms: vms)
    }

    /// The answer shape of a recommendation (for showing the model a draft).
    public static func json(of r: Recommendation) -> Tree {
        .object([
            ("replicas", .int(r.replicas)),
            ("requests", .object([("cpu", r.requests.cpu.map { .string("\($0.millicores)m") }), ("memory", r.requests.memory.map { .string(mib($0)) })])),
            ("limits", .object([("cpu", r.limits.cpu.map { .string("\($0.millicores)m") }), ("memory", r.limits.memory.map { .string(mib($0)) })])),
            ("autoscale", .bool(r.hpa != nil)),
            (
                "hpa",
                .object([
                    ("minReplicas", .int(r.hpa?.minReplicas ?? r.replicas)), ("maxReplicas", .int(r.hpa?.maxReplicas ?? r.replicas)),
                    ("targetCPUUtilization", .int(r.hpa?.targetCPUUtilization ?? 70)),
                ])
            ),
            ("pdbMaxUnavailable", .int(r.pdb?.maxUnavailable ?? 0)),
        ])
    }

    static func mib(_ q: MemoryQuantity) -> String { "\((q.bytes + (1 << 20) - 1) >> 20)Mi" }
}

/// Why a model's answer was not used.
public struct AnswerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}
