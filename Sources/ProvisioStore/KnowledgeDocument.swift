import Foundation
public import ProvisioCore
import Yams

/// One sizing document from `knowledge/`: front-matter numbers with their sources, then prose.
public struct KnowledgeDocument: Sendable, Codable, Hashable {
    /// Stable id, equal to the file name without `.md`.
    public var id: String
    public var title: String
    /// runtime, framework, datastore, cache, queue, app (a named application), archetype (a kind of
    /// service: an admission webhook, a queue consumer) or generic.
    public var kind: String
    public var language: String?
    /// Lower-case words in a request that select this document.
    public var matches: [String]
    /// The per-container model for runtimes and frameworks.
    public var profile: RuntimeProfile?
    /// What maintainers recommend for one container of a named application.
    public var container: ContainerProfile?
    /// VM sizes for running it on Proxmox, ascending by load.
    public var vm: [VMTier]?
    /// What kind of service a named application is (web-api, platform, observability, ...).
    public var category: String?
    /// The Bitnami chart's `resourcesPreset` for the main container, when it sets one.
    public var bitnamiPreset: String?
    /// Other processes of a multi-component application.
    public var components: [Component]?
    /// Named resource presets (for a packaging's preset table).
    public var presets: [String: ContainerProfile]?
    /// Published sizes by load (users or requests per second), ascending.
    public var sizes: [SizeTier]?
    /// The load the numbers are tied to.
    public var load: String
    public var sources: [Source]
    /// The explanation after the front matter.
    public var body: String = ""
    /// The file it was read from, relative to the knowledge folder.
    public var path: String = ""

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, title, kind, language, matches, profile, container, vm, category, bitnamiPreset, components, presets, sizes, load, sources, body, path
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        title = try c.decode(String.self, forKey: .title)
        kind = try c.decode(String.self, forKey: .kind)
        language = try c.decodeIfPresent(String.self, forKey: .language)
        matches = try c.decode([String].self, forKey: .matches)
        profile = try c.decodeIfPresent(RuntimeProfile.self, forKey: .profile)
        container = try c.decodeIfPresent(ContainerProfile.self, forKey: .container)
        vm = try c.decodeIfPresent([VMTier].self, forKey: .vm)
        category = try c.decodeIfPresent(String.self, forKey: .category)
        bitnamiPreset = try c.decodeIfPresent(String.self, forKey: .bitnamiPreset)
        components = try c.decodeIfPresent([Component].self, forKey: .components)
        presets = try c.decodeIfPresent([String: ContainerProfile].self, forKey: .presets)
        sizes = try c.decodeIfPresent([SizeTier].self, forKey: .sizes)
        load = try c.decode(String.self, forKey: .load)
        sources = try c.decode([Source].self, forKey: .sources)
        body = try c.decodeIfPresent(String.self, forKey: .body) ?? ""
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? ""
    }

    /// The numbers the embedded reasoner uses for one container of a runtime or framework.
    public struct RuntimeProfile: Sendable, Codable, Hashable {
        public var baseMemory: MemoryQuantity?
        public var memoryPerInflight: MemoryQuantity?
        public var cpuMsPerRequest: Double?
        public var maxCoresPerPod: Double?
        public var startupCpu: CPUQuantity?
        public var memoryLimitFactor: Double?
        public var minCpu: CPUQuantity?
        public var minMemory: MemoryQuantity?

        public init() {}

        /// Fields of `other` where set, else these.
        public func overridden(by other: RuntimeProfile) -> RuntimeProfile {
            var r = self
            r.baseMemory = other.baseMemory ?? baseMemory
            r.memoryPerInflight = other.memoryPerInflight ?? memoryPerInflight
            r.cpuMsPerRequest = other.cpuMsPerRequest ?? cpuMsPerRequest
            r.maxCoresPerPod = other.maxCoresPerPod ?? maxCoresPerPod
            r.startupCpu = other.startupCpu ?? startupCpu
            r.memoryLimitFactor = other.memoryLimitFactor ?? memoryLimitFactor
            r.minCpu = other.minCpu ?? minCpu
            r.minMemory = other.minMemory ?? minMemory
            return r
        }
    }

    /// Recommended container resources.
    public struct ContainerProfile: Sendable, Codable, Hashable {
        public var requests: ResourcePair?
        public var limits: ResourcePair?
        public var replicas: Int?

        public init(requests: ResourcePair?, limits: ResourcePair?, replicas: Int?) {
            self.requests = requests
            self.limits = limits
            self.replicas = replicas
        }
    }

    /// One process of a multi-component application.
    public struct Component: Sendable, Codable, Hashable {
        public var name: String
        public var matches: [String]
        public var container: ContainerProfile?
        public var bitnamiPreset: String?
        public var sizes: [SizeTier]?
    }

    /// A published size for a given load: up to `users` users or `qps` requests per second.
    public struct SizeTier: Sendable, Codable, Hashable {
        public var users: Int?
        public var qps: Double?
        public var requests: ResourcePair?
        public var limits: ResourcePair?
        public var replicas: Int?
    }

    /// One VM size and the load it carries.
    public struct VMTier: Sendable, Codable, Hashable {
        public var upToQps: Double
        public var cores: Int
        public var memoryMiB: Int
        public var diskGiB: Int
    }

    /// Where a number comes from.
    public struct Source: Sendable, Codable, Hashable {
        public var repo: String?
        public var path: String?
        public var url: String?

        /// `owner/name:path` or the URL.
        public var citation: String { url ?? [repo, path].compactMap { $0 }.joined(separator: ":") }
    }

    static let kinds: Set<String> = ["runtime", "framework", "datastore", "cache", "queue", "app", "archetype", "generic", "reference"]

    /// Parses a document; errors name the file and field.
    public static func parse(_ text: String, path: String) throws -> KnowledgeDocument {
        func fail(_ field: String?, _ message: String) -> ProvisioError {
            ProvisioError(.invalidKnowledge, file: path, field: field, message)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first?.trimmingCharacters(in: .whitespaces) == "---",
            let end = lines.dropFirst().firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" })
        else { throw fail(nil, "missing YAML front matter between --- lines") }
        let front = lines[1..<end].joined(separator: "\n")
        // Unknown keys are typos that would otherwise be silently ignored.
        if case .mapping(let m)? = try? Yams.compose(yaml: front) {
            let allowed = Set(CodingKeys.allCases.map(\.stringValue)).subtracting(["body", "path"])
            for key in m.keys.compactMap(\.scalar?.string) where !allowed.contains(key) {
                throw fail(key, "unknown field; allowed: \(allowed.sorted().joined(separator: ", "))")
            }
        }
        var doc: KnowledgeDocument
        do {
            doc = try YAMLDecoder().decode(KnowledgeDocument.self, from: front)
        } catch {
            throw ProvisioError.decoding(error, code: .invalidKnowledge, file: path, what: "knowledge front matter")
        }
        doc.body = lines[(end + 1)...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        doc.path = path
        let base = (path as NSString).lastPathComponent
        if base.hasSuffix(".md") && String(base.dropLast(3)) != doc.id {
            throw fail("id", "'\(doc.id)' must equal the file name '\(base.dropLast(3))'")
        }
        if !kinds.contains(doc.kind) { throw fail("kind", "'\(doc.kind)' is not one of \(kinds.sorted().joined(separator: ", "))") }
        if doc.sources.isEmpty { throw fail("sources", "at least one source is required") }
        doc.matches = doc.matches.map { $0.lowercased() }
        return doc
    }

    /// Reads every `*.md` in `directory`, sorted by file name. README.md is skipped.
    public static func loadAll(from directory: String) throws -> [KnowledgeDocument] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw ProvisioError(.io, file: directory, "cannot read the knowledge folder: \(error.localizedDescription)")
        }
        var docs: [KnowledgeDocument] = []
        var seen: [String: String] = [:]
        for name in names.sorted() where name.hasSuffix(".md") && name.lowercased() != "readme.md" {
            let full = (directory as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: full, encoding: .utf8) else {
                throw ProvisioError(.io, file: full, "cannot read the file as UTF-8")
            }
            let doc = try parse(text, path: name)
            if let other = seen[doc.id] { throw ProvisioError(.invalidKnowledge, file: full, field: "id", "'\(doc.id)' is also used by \(other)") }
            seen[doc.id] = name
            docs.append(doc)
        }
        return docs
    }

    /// A 64-bit FNV-1a fingerprint of the folder's Markdown files (names and bytes), to notice changes.
    public static func fingerprint(of directory: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) {
            for b in bytes {
                hash ^= UInt64(b)
                hash = hash &* 0x100_0000_01b3
            }
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".md") }.sorted()
        for name in names {
            mix(Array(name.utf8))
            mix([0])
            if let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name)) { mix(data) }
            mix([0])
        }
        return String(hash, radix: 16)
    }
}
