import Foundation
public import ProvisioCore
import Yams

/// One entry of a sizing dataset: a service described in words and what its maintainers set.
public struct EvalEntry: Sendable, Hashable, Codable {
    public var id: String
    public var app: String?
    public var category: String
    public var language: String?
    public var framework: String?
    public var stateful: Bool?
    public var workloadKind: String?
    public var description: String
    public var truth: Sizing

    enum CodingKeys: String, CodingKey {
        case id, app, category, language, framework, stateful
        case workloadKind = "workload_kind"
        case description = "typical_description"
        case truth = "ground_truth"
    }

    public init(
        id: String, category: String, language: String?, framework: String?, stateful: Bool?, workloadKind: String?, description: String,
        truth: Sizing
    ) {
        self.id = id
        self.category = category
        self.language = language
        self.framework = framework
        self.stateful = stateful
        self.workloadKind = workloadKind
        self.description = description
        self.truth = truth
    }
}

/// Replicas, requests and limits — a prediction or a ground truth; any part may be absent.
public struct Sizing: Sendable, Hashable, Codable {
    public var replicas: Int?
    public var requests: ResourcePair
    public var limits: ResourcePair

    public init(replicas: Int?, requests: ResourcePair, limits: ResourcePair) {
        self.replicas = replicas
        self.requests = requests
        self.limits = limits
    }

    struct Raw: Codable {
        var replicas: Int?
        var requests: [String: String?]?
        var limits: [String: String?]?
    }

    public init(from decoder: any Decoder) throws {
        let raw = try Raw(from: decoder)
        func pair(_ m: [String: String?]?) -> ResourcePair {
            ResourcePair(cpu: (m?["cpu"] ?? nil).flatMap(CPUQuantity.init(parsing:)), memory: (m?["memory"] ?? nil).flatMap(MemoryQuantity.init(parsing:)))
        }
        self.init(replicas: raw.replicas, requests: pair(raw.requests), limits: pair(raw.limits))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(replicas, forKey: .replicas)
        try c.encode(requests, forKey: .requests)
        try c.encode(limits, forKey: .limits)
    }

    enum CodingKeys: String, CodingKey { case replicas, requests, limits }

    /// The five compared fields, in report order.
    public static let fields = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "replicas"]

    /// A field as a plain number (millicores, bytes or replicas), nil when absent.
    public func value(_ field: String) -> Double? {
        switch field {
        case "requests.cpu": return requests.cpu.map { Double($0.millicores) }
        case "requests.memory": return requests.memory.map { Double($0.bytes) }
        case "limits.cpu": return limits.cpu.map { Double($0.millicores) }
        case "limits.memory": return limits.memory.map { Double($0.bytes) }
        case "replicas": return replicas.map(Double.init)
        default: return nil
        }
    }
}

/// Reading datasets and preset tables.
public enum Dataset {
    /// Loads a dataset in the community-sizing format (a YAML list of entries).
    public static func load(path: String) throws -> [EvalEntry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ProvisioError(.io, file: path, "cannot read the dataset")
        }
        guard text.utf8.count <= 32 << 20 else { throw ProvisioError(.io, file: path, "the dataset is larger than 32 MiB") }
        do {
            return try YAMLDecoder().decode([EvalEntry].self, from: text)
        } catch {
            throw ProvisioError.decoding(
                error, code: .configuration, file: path, what: "a sizing dataset (a list of entries with id, category, typical_description, ground_truth)")
        }
    }

    /// Loads a Bitnami-style preset table (`presets: {name: {requests, limits}}`).
    public static func loadPresets(path: String) throws -> [(String, Sizing)] {
        struct File: Decodable { var presets: [String: Sizing] }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ProvisioError(.io, file: path, "cannot read the preset table") }
        do {
            let order = ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"]
            let presets = try YAMLDecoder().decode(File.self, from: text).presets
            return presets.sorted { (order.firstIndex(of: $0.key) ?? 99, $0.key) < (order.firstIndex(of: $1.key) ?? 99, $1.key) }.map { ($0.key, $0.value) }
        } catch {
            throw ProvisioError(.configuration, file: path, field: "presets", "not a preset table: \(error)")
        }
    }
}
