import Foundation
public import ProvisioCore
import Yams

/// Sizing policy: bounds per tier, namespaces, path rules, VM bounds and prices.
public struct Policy: Codable, Sendable, Hashable {
    public var tiers: [String: TierBounds]
    public var forbiddenNamespaces: [String]
    public var paths: [PathRule]
    public var vm: VMBounds
    public var cost: Prices
    public var capacity = Capacity()

    /// How provisio may use the Proxmox nodes' room.
    public struct Capacity: Codable, Sendable, Hashable {
        /// Cores VMs may be given per physical core.
        public var cpuOvercommit: Double = 4
        /// The size of a k3s worker VM provisio proposes when the cluster is full.
        public var workerCores: Int = 4
        public var workerMemoryMiB: Int = 8192
        public var workerDiskGiB: Int = 40
        /// At most this many workers in one proposal.
        public var maxWorkers: Int = 6
        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            cpuOvercommit = try c.decodeIfPresent(Double.self, forKey: .cpuOvercommit) ?? cpuOvercommit
            workerCores = try c.decodeIfPresent(Int.self, forKey: .workerCores) ?? workerCores
            workerMemoryMiB = try c.decodeIfPresent(Int.self, forKey: .workerMemoryMiB) ?? workerMemoryMiB
            workerDiskGiB = try c.decodeIfPresent(Int.self, forKey: .workerDiskGiB) ?? workerDiskGiB
            maxWorkers = try c.decodeIfPresent(Int.self, forKey: .maxWorkers) ?? maxWorkers
        }
    }

    /// Bounds for one tier.
    public struct TierBounds: Codable, Sendable, Hashable {
        public var minReplicas: Int
        public var maxReplicas: Int
        public var maxCpu: CPUQuantity
        public var maxMemory: MemoryQuantity
        public var maxLimitRequestRatio: Ratio
        public var cpuLimits: Bool
    }

    /// Largest allowed limit ÷ request.
    public struct Ratio: Codable, Sendable, Hashable {
        public var cpu: Double
        public var memory: Double
    }

    /// Which request paths may target which namespaces and nodes.
    public struct PathRule: Codable, Sendable, Hashable {
        public var path: String
        public var namespaces: [String]
        public var proxmoxNodes: [String]
        /// Whether requests under this path may have Terraform and Ansible apply on their own (`apply: auto`).
        public var autoApply: Bool?
        /// Whether such an apply may destroy or replace resources.
        public var allowDestroy: Bool?
    }

    /// VM size bounds.
    public struct VMBounds: Codable, Sendable, Hashable {
        public var maxCores: Int
        public var maxMemoryMiB: Int
        public var maxDiskGiB: Int
    }

    /// Prices for the monthly estimate.
    public struct Prices: Codable, Sendable, Hashable {
        public var currency: String
        public var corePerHour: Double
        public var gibPerHour: Double
        public var vmCorePerHour: Double
        public var vmGibPerHour: Double
        public var diskGibPerMonth: Double
    }

    struct File: Codable {
        var apiVersion: String
        var kind: String
        var metadata: [String: String]
        var spec: Partial
    }

    struct Partial: Codable {
        var tiers: [String: TierBounds]?
        var forbiddenNamespaces: [String]?
        var paths: [PathRule]?
        var vm: VMBounds?
        var cost: Prices?
        var capacity: Capacity?
    }

    /// Reads every `*.yaml` in `directory` in name order and merges them.
    public static func load(from directory: String) throws -> Policy {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        if names.isEmpty { throw ProvisioError(.invalidPolicy, file: directory, "no policy files (*.yaml) found; provisio needs at least one SizingPolicy") }
        var tiers: [String: TierBounds] = [:]
        var forbidden: [String] = []
        var paths: [PathRule] = []
        var vm: VMBounds?
        var cost: Prices?
        var capacity = Capacity()
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ProvisioError(.io, file: path, "cannot read the policy file") }
            if text.contains("&") && text.range(of: #"(^|\s)[&*][A-Za-z]"#, options: .regularExpression) != nil {
                throw ProvisioError(.invalidPolicy, file: path, "YAML anchors and aliases are not allowed in policies")
            }
            let file: File
            do { file = try YAMLDecoder().decode(File.self, from: text) } catch {
                throw ProvisioError.decoding(error, code: .invalidPolicy, file: path, what: "a SizingPolicy")
            }
            guard file.kind == "SizingPolicy" else { throw ProvisioError(.invalidPolicy, file: path, field: "kind", "must be SizingPolicy") }
            for (k, v) in file.spec.tiers ?? [:] {
                guard ["production", "staging", "dev"].contains(k) else {
                    throw ProvisioError(.invalidPolicy, file: path, field: "spec.tiers.\(k)", "unknown tier; use production, staging or dev")
                }
                if v.minReplicas < 1 || v.maxReplicas < v.minReplicas {
                    throw ProvisioError(
                        .invalidPolicy, file: path, field: "spec.tiers.\(k).maxReplicas", "must be at least minReplicas, and minReplicas at least 1")
                }
                tiers[k] = v
            }
            forbidden += file.spec.forbiddenNamespaces ?? []
            paths += file.spec.paths ?? []
            vm = file.spec.vm ?? vm
            cost = file.spec.cost ?? cost
            if let c = file.spec.capacity {
                guard c.cpuOvercommit >= 1, c.cpuOvercommit <= 16 else {
                    throw ProvisioError(.invalidPolicy, file: path, field: "spec.capacity.cpuOvercommit", "must be between 1 and 16")
                }
                guard c.workerCores >= 1, c.workerMemoryMiB >= 1024, c.maxWorkers >= 0 else {
                    throw ProvisioError(.invalidPolicy, file: path, field: "spec.capacity", "worker size must be at least 1 core and 1024 MiB")
                }
                capacity = c
            }
        }
        for t in ["production", "staging", "dev"] where tiers[t] == nil {
            throw ProvisioError(.invalidPolicy, file: directory, field: "spec.tiers.\(t)", "no policy file defines this tier")
        }
        guard let vm, let cost else {
            throw ProvisioError(.invalidPolicy, file: directory, field: vm == nil ? "spec.vm" : "spec.cost", "no policy file defines it")
        }
        return Policy(tiers: tiers, forbiddenNamespaces: forbidden, paths: paths, vm: vm, cost: cost, capacity: capacity)
    }

    /// The first path rule matching `path`, if any.
    public func rule(for path: String) -> PathRule? {
        paths.first { Glob.matches($0.path, path) }
    }
}

/// Shell-style globs where `*` stays within a folder and `**` crosses folders.
public enum Glob {
    /// Whether `path` matches `pattern`.
    public static func matches(_ pattern: String, _ path: String) -> Bool {
        var re = "^"
        var i = pattern.startIndex
        while i < pattern.endIndex {
            let c = pattern[i]
            if c == "*" {
                let next = pattern.index(after: i)
                if next < pattern.endIndex && pattern[next] == "*" {
                    re += ".*"
                    i = pattern.index(after: next)
                    if i < pattern.endIndex && pattern[i] == "/" {
                        i = pattern.index(after: i)
                        re += "(?:/)?"
                    }
                    continue
                }
                re += "[^/]*"
            } else if c == "?" {
                re += "[^/]"
            } else {
                re += NSRegularExpression.escapedPattern(for: String(c))
            }
            i = pattern.index(after: i)
        }
        re += "$"
        return path.range(of: re, options: .regularExpression) != nil
    }
}
