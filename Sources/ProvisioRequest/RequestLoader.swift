import Foundation
import ProvisioCore
import Yams

/// Reads a request file in any accepted form, checks it against the standard, and returns the
/// normalized ``ProvisionRequest`` — or every problem, each naming the file, line and field.
///
/// Hostile input is bounded before any expansion: the byte size is capped, the document is
/// composed (aliases stay shared), anchors and aliases are refused, and the node walk has a budget.
public struct RequestLoader: Sendable {
    /// The limits applied to every file.
    public var limits: DocumentLimits

    /// Creates a loader with the given limits.
    public init(limits: DocumentLimits = DocumentLimits()) { self.limits = limits }

    /// Loads the file at `path`.
    public func load(path: String) throws -> LoadedRequest {
        let url = URL(fileURLWithPath: path)
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > limits.maxBytes {
            throw ProvisioErrors([ProvisioError(.invalidRequest, file: path, "file is \(size) bytes; requests are limited to \(limits.maxBytes) bytes (1 MiB)")]
            )
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ProvisioErrors([ProvisioError(.io, file: path, "cannot read the file: \(error.localizedDescription)")])
        }
        return try load(bytes: [UInt8](data), path: path)
    }

    /// Loads a request from bytes; `path` is used for messages and the default name.
    public func load(bytes: [UInt8], path: String) throws -> LoadedRequest {
        func fail(_ line: Int?, _ field: String?, _ message: String) -> ProvisioErrors {
            ProvisioErrors([ProvisioError(.invalidRequest, file: path, line: line, field: field, message)])
        }
        if bytes.count > limits.maxBytes {
            throw fail(nil, nil, "file is \(bytes.count) bytes; requests are limited to \(limits.maxBytes) bytes (1 MiB)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw fail(nil, nil, "file is not UTF-8 text") }
        // Anchors are refused, and finding them before the real compose means no alias is ever resolved:
        // Yams hashes every mapping key while composing, so an alias bomb used as a key would otherwise
        // be walked in full before the validator sees it.
        if let anchor = Self.firstAnchor(in: bytes) {
            throw fail(anchor.line, anchor.field, "YAML anchors and aliases (&name, *name) are not allowed in a request; write the value out")
        }
        let root: Node
        // The parser owns the anchors its nodes point to (weakly), so it lives as long as the tree is checked.
        var parser: Yams.Parser?
        defer { withExtendedLifetime(parser) {} }
        do {
            let p = try Yams.Parser(yaml: text)
            parser = p
            guard let node = try p.singleRoot() else { throw fail(1, nil, "file is empty; expected a ProvisionRequest") }
            root = node
        } catch let error as ProvisioErrors {
            throw error
        } catch let error as YamlError {
            throw fail(Self.line(of: error), nil, "not valid YAML or JSON: \(Self.summary(of: error))")
        } catch {
            throw fail(nil, nil, "not valid YAML or JSON: \(error)")
        }
        guard case .mapping(let mapping) = root else {
            throw fail(root.mark?.line, nil, "expected a mapping with apiVersion/kind (full form), git_repo (short form) or app_metadata (compact payload)")
        }
        let keys = Set(mapping.keys.compactMap { $0.scalar?.string })
        let form: RequestForm
        let schema: Schema
        if keys.contains("app_metadata") || keys.contains("historical_metrics") || keys.contains("deployment_context") {
            (form, schema) = (.compact, RequestSchema.compact)
        } else if keys.contains("git_repo") || keys.contains("app_description") {
            (form, schema) = (.short, RequestSchema.short)
        } else if keys.contains("apiVersion") || keys.contains("kind") || keys.contains("spec") || keys.contains("metadata") {
            (form, schema) = (.full, RequestSchema.full)
        } else {
            throw fail(
                root.mark?.line, nil, "not a ProvisionRequest: expected apiVersion/kind (full form), git_repo (short form) or app_metadata (compact payload)")
        }

        var validator = SchemaValidator(file: path, limits: limits)
        let value = validator.validate(root, schema, path: "")
        if !validator.errors.isEmpty { throw ProvisioErrors(validator.errors) }
        guard let object = value as? [String: Any] else { throw fail(1, nil, "not a ProvisionRequest") }

        let lines = LineIndex(root: root)
        let request: ProvisionRequest
        do {
            switch form {
            case .full: request = try Self.decode(ProvisionRequest.self, from: object)
            case .short: request = try Self.convertShort(object, path: path)
            case .compact: request = try Self.convertCompact(object, path: path)
            }
        } catch let error as ProvisioError {
            throw ProvisioErrors([ProvisioError(error.code, file: path, line: error.field.flatMap(lines.line(of:)), field: error.field, error.message)])
        } catch {
            throw fail(1, nil, "cannot read the request: \(error)")
        }
        let problems = Self.crossFieldProblems(request, form: form).map {
            ProvisioError(.invalidRequest, file: path, line: lines.line(of: $0.field), field: $0.field, $0.message)
        }
        if !problems.isEmpty { throw ProvisioErrors(problems) }
        return LoadedRequest(path: path, form: form, request: request, bytes: bytes)
    }

    // MARK: - Conversions

    static func decode<T: Decodable>(_ type: T.Type, from object: [String: Any]) throws -> T {
        let data = try JSONSerialization.data(withJSONObject: object)
        return try JSONDecoder().decode(type, from: data)
    }

    /// Derives a DNS-1123 name from a repository address ("https://x/acme/Order_Service.git" → "order-service").
    public static func name(fromRepo repo: String) -> String? {
        var last = repo
        while last.hasSuffix("/") { last.removeLast() }
        last = String(last.split(whereSeparator: { $0 == "/" || $0 == ":" }).last ?? "")
        if last.hasSuffix(".git") { last.removeLast(4) }
        var name = ""
        for c in last.lowercased() {
            if c.isASCII && (c.isLetter || c.isNumber) { name.append(c) } else if !name.hasSuffix("-") { name.append("-") }
        }
        name = String(name.prefix(63)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return name.range(of: RequestSchema.dnsLabelPattern, options: .regularExpression) == nil ? nil : name
    }

    static func convertShort(_ o: [String: Any], path: String) throws -> ProvisionRequest {
        let repo = o["git_repo"] as! String
        guard let name = (o["name"] as? String) ?? name(fromRepo: repo) else {
            throw ProvisioError(.invalidRequest, field: "git_repo", "cannot derive a DNS-1123 name from the repository; add `name:`")
        }
        return ProvisionRequest(
            metadata: .init(name: name), spec: .init(gitRepo: repo, description: o["app_description"] as! String))
    }

    static func convertCompact(_ o: [String: Any], path: String) throws -> ProvisionRequest {
        let meta = o["app_metadata"] as? [String: Any] ?? [:]
        let repo = meta["git_repo"] as! String
        guard let name = (meta["name"] as? String) ?? name(fromRepo: repo) else {
            throw ProvisioError(.invalidRequest, field: "app_metadata.git_repo", "cannot derive a DNS-1123 name from the repository; add app_metadata.name")
        }
        var spec = ProvisionRequest.Spec(gitRepo: repo, description: meta["description"] as! String)
        var app = ProvisionRequest.App()
        app.language = meta["language"] as? String
        app.framework = meta["framework"] as? String
        app.image = meta["image"] as? String
        app.port = meta["port"] as? Int
        app.endpoints = meta["endpoints"] as? [String]
        if app != ProvisionRequest.App() { spec.app = app }
        var workload = ProvisionRequest.Workload()
        workload.expectedQps = meta["expected_qps"] as? Double
        workload.peakQps = meta["peak_qps"] as? Double
        workload.concurrentUsers = meta["concurrent_users"] as? Int
        workload.pattern = (meta["pattern"] as? String).flatMap(ProvisionRequest.Pattern.init(rawValue:))
        if workload != ProvisionRequest.Workload() { spec.workload = workload }
        var slo = ProvisionRequest.SLO()
        slo.latencyP99Ms = meta["sla_latency_ms"] as? Double
        slo.availability = meta["availability"] as? String
        let criticality = meta["criticality"] as? String
        if criticality == "critical" || criticality == "high" { slo.oomTolerance = .low }
        if slo != ProvisionRequest.SLO() { spec.slo = slo }
        spec.stateful = meta["stateful"] as? Bool
        spec.dependencies = meta["dependencies"] as? [String]

        let context = o["deployment_context"] as? [String: Any] ?? [:]
        let tierText = (context["tier"] as? String) ?? (meta["tier"] as? String)
        spec.tier =
            tierText.flatMap(ProvisionRequest.Tier.init(rawValue:))
            ?? ((criticality == "critical" || criticality == "high") ? .production : nil)
        if let ns = context["namespace"] as? String {
            spec.target = .init()
            spec.target?.kubernetes = .init(namespace: ns)
        }
        if context["proxmox_node"] != nil || context["vms"] != nil {
            if spec.target == nil { spec.target = .init() }
            var px = ProvisionRequest.Proxmox()
            px.node = context["proxmox_node"] as? String
            if let vms = context["vms"] { px.vms = try decode([ProvisionRequest.VM].self, fromAny: vms) }
            spec.target?.proxmox = px
        }
        spec.apply = (context["apply"] as? String).flatMap(ProvisionRequest.ApplyMode.init(rawValue:))
        var ctx = ProvisionRequest.Context()
        if let q = context["namespace_quota"] { ctx.namespaceQuota = try decode(ProvisionRequest.Quota.self, fromAny: q) }
        if let manifest = o["service_manifest"] as? [String: Any] {
            var current = ProvisionRequest.Current()
            current.replicas = manifest["replicas"] as? Int
            if let res = manifest["resources"] as? [String: Any] {
                current.requests = try res["requests"].map { try decode(ResourcePair.self, fromAny: $0) }
                current.limits = try res["limits"].map { try decode(ResourcePair.self, fromAny: $0) }
            }
            ctx.current = current
        }
        if ctx != ProvisionRequest.Context() { spec.context = ctx }

        if let h = o["historical_metrics"] as? [String: Any] {
            var inline = ProvisionRequest.InlineMetrics(
                stepSeconds: h["step_seconds"] as! Int, cpuUsage: h["cpu_usage"] as! [Double], memoryUsage: h["memory_usage"] as! [Double])
            inline.replicaCounts = h["replica_counts"] as? [Double]
            inline.requestRate = h["request_rate"] as? [Double]
            spec.history = .init()
            spec.history?.inline = inline
        }
        return ProvisionRequest(metadata: .init(name: name), spec: spec)
    }

    static func decode<T: Decodable>(_ type: T.Type, fromAny value: Any) throws -> T {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])
        return try JSONDecoder().decode(type, from: data)
    }

    struct Problem {
        let field: String
        let message: String
    }

    /// Rules that span fields, reported with the field a person should change.
    static func crossFieldProblems(_ r: ProvisionRequest, form: RequestForm) -> [Problem] {
        var out: [Problem] = []
        let prefix: (String, String) -> String = { full, compact in form == .compact ? compact : full }
        if let w = r.spec.workload, let e = w.expectedQps, let p = w.peakQps, p < e {
            out.append(
                .init(
                    field: prefix("spec.workload.peakQps", "app_metadata.peak_qps"),
                    message: "peak (\(Tree.format(p))) is below the expected load (\(Tree.format(e))); the peak must be at least the normal load"))
        }
        if let h = r.spec.history?.inline {
            let base = prefix("spec.history.inline", "historical_metrics")
            let n = h.cpuUsage.count
            if n < 2 { out.append(.init(field: prefix("\(base).cpuUsage", "\(base).cpu_usage"), message: "needs at least 2 samples")) }
            let series: [(String, String, Int?)] = [
                ("memoryUsage", "memory_usage", h.memoryUsage.count), ("replicaCounts", "replica_counts", h.replicaCounts?.count),
                ("requestRate", "request_rate", h.requestRate?.count),
            ]
            for (full, compact, count) in series {
                if let count, count != n {
                    out.append(
                        .init(
                            field: "\(base).\(form == .compact ? compact : full)",
                            message: "has \(count) samples but cpu usage has \(n); every series needs one sample per step"))
                }
            }
        }
        if let vms = r.spec.target?.proxmox?.vms {
            var names = Set<String>()
            for (i, vm) in vms.enumerated() {
                let name = vm.name ?? "\(r.metadata.name)-\(vm.role)"
                if name.count > 63 {
                    out.append(
                        .init(
                            field: prefix("spec.target.proxmox.vms[\(i)].name", "deployment_context.vms[\(i)].name"),
                            message: "the VM name '\(name)' is longer than 63 characters; set a shorter name"))
                }
                if let u = vm.usage {
                    let base = prefix("spec.target.proxmox.vms[\(i)].usage", "deployment_context.vms[\(i)].usage")
                    if u.cpuCores.count < 2 { out.append(.init(field: "\(base).cpuCores", message: "needs at least 2 samples")) }
                    if u.memoryMiB.count != u.cpuCores.count {
                        out.append(
                            .init(
                                field: "\(base).memoryMiB",
                                message: "has \(u.memoryMiB.count) samples but cpuCores has \(u.cpuCores.count); every series needs one sample per step"))
                    }
                }
                if !names.insert(name).inserted {
                    out.append(
                        .init(
                            field: prefix("spec.target.proxmox.vms[\(i)]", "deployment_context.vms[\(i)]"),
                            message: "two VMs are both named '\(name)'; give one a name"))
                }
            }
        }
        return out
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        case .duplicatedKeysInMapping(_, let context): return context.mark.line
        default: return nil
        }
    }

    /// The first anchor in the document and the field it sits on, found without resolving any alias.
    ///
    /// Every `*` is made inert (`_`, same length, so lines and columns stay put) in a copy that is
    /// composed only to look for anchors: with no alias left, composing it costs one pass. A document
    /// without an anchor cannot resolve an alias either, so the real compose is then safe.
    static func firstAnchor(in bytes: [UInt8]) -> (line: Int?, field: String?)? {
        guard bytes.contains(UInt8(ascii: "&")) else { return nil }
        let inert = String(decoding: bytes.map { $0 == UInt8(ascii: "*") ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
        // A copy that does not parse leaves the real compose to report the syntax error.
        guard let parser = try? Yams.Parser(yaml: inert), let root = try? parser.singleRoot() else { return nil }
        return withExtendedLifetime(parser) { anchored(root, path: "") }
    }

    private static func anchored(_ node: Node, path: String) -> (line: Int?, field: String?)? {
        if node.anchor != nil { return (node.mark?.line, path.isEmpty ? nil : path) }
        switch node {
        case .mapping(let m):
            for (k, v) in m {
                let p = path.isEmpty ? (k.scalar?.string ?? "") : "\(path).\(k.scalar?.string ?? "")"
                if k.anchor != nil { return (k.mark?.line, p) }
                if let hit = anchored(v, path: p) { return hit }
            }
        case .sequence(let s):
            for (i, item) in s.enumerated() {
                if let hit = anchored(item, path: "\(path)[\(i)]") { return hit }
            }
        default: break
        }
        return nil
    }

    static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        default: return String(describing: error).split(separator: "\n").first.map(String.init) ?? "syntax error"
        }
    }
}

/// Maps dotted field paths back to the line they were written on.
struct LineIndex {
    private var lines: [String: Int] = [:]

    init(root: Node) { walk(root, path: "") }

    private mutating func walk(_ node: Node, path: String) {
        if let line = node.mark?.line, lines[path] == nil { lines[path] = line }
        switch node {
        case .mapping(let m):
            for (k, v) in m {
                let key = k.scalar?.string ?? ""
                let p = path.isEmpty ? key : "\(path).\(key)"
                if let line = k.mark?.line { lines[p] = line }
                walk(v, path: p)
            }
        case .sequence(let s):
            for (i, item) in s.enumerated() { walk(item, path: "\(path)[\(i)]") }
        default: break
        }
    }

    /// The line of `path`, or of its nearest parent that has one.
    func line(of path: String) -> Int? {
        var p = path
        while true {
            if let l = lines[p] { return l }
            guard let cut = p.lastIndex(where: { $0 == "." || $0 == "[" }) else { return lines[""] }
            p = String(p[..<cut])
        }
    }
}
