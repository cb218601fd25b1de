import Foundation
import ProvisioCore
import ProvisioStore

/// Decides whether a request describes a well-known application ("Keycloak identity server
/// for internal apps") rather than a custom service that merely uses one ("Spring Boot service
/// that stores carts in MongoDB"), and which of its components.
///
/// The application must be named in the declared framework or in the description's subject —
/// the words before the first connective ("that", "for", "used by", "backed by", ...).
struct ApplicationMatcher {
    let documents: [KnowledgeDocument]
    static let kinds: Set<String> = ["app", "archetype", "datastore", "cache", "queue"]
    static let connectives = [
        " that ", " which ", " who ", " for ", " used ", " backed ", " with ", " to ", " in front of ", " behind ", " on ", " from ",
        " using ", " stored ", " storing ", " serving ", " where ", " via ", " by ", ", ", "; ", ". ", " - ", " – ",
    ]

    /// The position of a name whose words are spread over the request.
    static let scattered = Int.max

    struct Hit {
        let doc: KnowledgeDocument
        let phrase: String
        let position: Int
        /// How it was found, when not simply where the phrase is.
        var via: String? = nil
    }

    /// The position (in UTF-8 bytes) where `phrase` first occurs in `text` as whole words. A byte scan:
    /// a request is checked against every phrase of every document, thousands of calls.
    static func find(_ phrase: String, in text: String) -> Int? {
        var phrase = phrase
        var text = text
        return phrase.withUTF8 { p in
            text.withUTF8 { t in
                guard !p.isEmpty, p.count <= t.count else { return nil }
                func isWordByte(_ b: UInt8) -> Bool {
                    (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
                }
                let first = p[0]
                var i = 0
                while i <= t.count - p.count {
                    if t[i] == first, i == 0 || !isWordByte(t[i - 1]), i + p.count == t.count || !isWordByte(t[i + p.count]) {
                        var j = 1
                        while j < p.count, t[i + j] == p[j] { j += 1 }
                        if j == p.count { return i }
                    }
                    i += 1
                }
                return nil
            }
        }
    }

    /// The subject of a description: its words up to the first connective.
    static func subject(of description: String) -> String {
        let text = " " + description.lowercased() + " "
        var end = text.endIndex
        for c in connectives {
            // Skip a connective in the first two words ("Tiny Go REST service ..." has none there anyway).
            var search = text.startIndex
            while let r = text.range(of: c, range: search..<text.endIndex) {
                if text.distance(from: text.startIndex, to: r.lowerBound) > 3 {
                    if r.lowerBound < end { end = r.lowerBound }
                    break
                }
                search = r.upperBound
            }
        }
        return String(text[..<end])
    }

    static func parenthesized(_ text: String) -> [String] {
        guard let re = try? NSRegularExpression(pattern: #"\(([^)]*)\)"#) else { return [] }
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
    }

    func match(description: String, framework: String?, defaultInstall: Bool = false, users: Int? = nil, qps: Double? = nil) -> RetrievedDocument? {
        let subject = Self.subject(of: description)
        let full = " " + description.lowercased() + " "
        // "Spring Boot (AMQP)": a short word in parentheses names a protocol or library, not the
        // service; a longer name there ("client-go exporter (kube-state-metrics)") still counts.
        let fw = framework.map { " " + $0.lowercased().replacingOccurrences(of: #"\([^)]*\)"#, with: " ", options: .regularExpression) + " " }
        let aside = framework.map { f in
            // "SonarQube (embedded Elasticsearch)", "(with Redis)", "(Collector based)": what it is built
            // on or with, not its name.
            let names = Self.parenthesized(f.lowercased()).filter { a in
                !["embedded ", "with ", "using ", "uses ", "on ", "via ", "backed by ", "plus ", "built on "].contains(where: { a.hasPrefix($0) })
                    && !a.hasSuffix(" based") && !a.hasSuffix("-based")
            }
            return " " + names.joined(separator: " ") + " "
        }
        var hits: [Hit] = []
        // A framework that is exactly a document's name ("Drone", "Temporal") names it, even where the
        // word alone is too common to be one of its description phrases.
        let fwName = fw?.trimmingCharacters(in: .whitespaces)
        for doc in documents where Self.kinds.contains(doc.kind) {
            if let fwName, !fwName.isEmpty, fwName == doc.id.replacingOccurrences(of: "-", with: " ") || fwName == doc.title.lowercased() {
                hits.append(Hit(doc: doc, phrase: fwName, position: -2))
            }
            for phrase in doc.matches where phrase.count >= 3 {
                if let fw, let p = Self.find(phrase, in: fw), !Self.namesLibrary(fw, after: p + phrase.utf8.count) {
                    hits.append(Hit(doc: doc, phrase: phrase, position: -2))
                } else if let aside, phrase.count >= 6, Self.find(phrase, in: aside) != nil {
                    hits.append(Hit(doc: doc, phrase: phrase, position: -2))
                } else if let p = Self.find(phrase, in: subject) {
                    hits.append(Hit(doc: doc, phrase: phrase, position: p))
                }
            }
        }
        // "HAProxy-based ingress controller" with framework HAProxy is the HAProxy ingress controller: a
        // name of three or more words that contains the framework's name and whose other words are all
        // in the subject and framework is the more specific match.
        let words = Self.words
        let present = words(subject + " " + (fw ?? ""))
        let found = hits.filter { $0.position < 0 }.map { words($0.phrase) }
        for doc in documents where Self.kinds.contains(doc.kind) {
            for phrase in doc.matches {
                let parts = words(phrase)
                if parts.count >= 3, parts.isSubset(of: present), found.contains(where: { $0.isStrictSubset(of: parts) }) {
                    hits.append(Hit(doc: doc, phrase: phrase, position: -3))
                }
            }
        }
        // A component of an application named later in the description: "Node.js WebSocket streaming
        // server that pushes timelines to Mastodon clients" is Mastodon's streaming server, "Admission
        // webhook that injects Vault Agent sidecars" is Vault's agent injector. The application must be
        // an application rather than a datastore (those are what a service uses) and the component's
        // name at least two words, so that "API server that reads secrets from Vault" stays custom.
        // Being part of a named application is more specific than being of a kind (an archetype) or being
        // built on another application ("Ingress gateway of the Istio service mesh", framework Envoy).
        var ofNamed: [Hit] = []
        for doc in documents where doc.kind == "app" {
            guard let components = doc.components, let name = doc.matches.first(where: { $0.count >= 4 && Self.find($0, in: full) != nil }) else {
                continue
            }
            for c in components {
                for phrase in c.matches where phrase.contains(" ") {
                    if (fw.map { Self.find(phrase, in: $0) != nil } ?? false) || Self.find(phrase, in: subject) != nil {
                        ofNamed.append(Hit(doc: doc, phrase: phrase, position: -3, via: "'\(phrase)' of \(name), both in the request"))
                    }
                }
            }
        }
        if !ofNamed.isEmpty {
            hits.removeAll { $0.doc.kind == "archetype" }
            hits += ofNamed
        }
        // A component may be named on its own in the framework ("Relay" of Sentry, "Trivy" of Harbor) —
        // as the framework's first word, so that "Node.js WebSocket server" is not Argo's "server". A
        // component name that several applications use ("controller", "webhook") names none of them.
        if hits.isEmpty, let fw {
            var byPhrase: [String: Set<String>] = [:]
            var found: [Hit] = []
            for doc in documents where Self.kinds.contains(doc.kind) {
                for c in doc.components ?? [] {
                    for phrase in c.matches where phrase.count >= 4 {
                        byPhrase[phrase, default: []].insert(doc.id)
                        if Self.find(phrase, in: fw) == 1 { found.append(Hit(doc: doc, phrase: phrase, position: -1)) }
                    }
                }
            }
            hits += found.filter { byPhrase[$0.phrase]?.count == 1 }
        }
        // Nothing named outright: an application's name of three or more words may be spelled out across
        // the request ("Cluster add-on that collects kubelet resource metrics and serves the metrics API",
        // framework "Kubernetes aggregated API server", is the Kubernetes metrics server). The framework
        // must carry part of the name and be no known framework or runtime, and the subject must not lead
        // with one: "Go server that exports Kubernetes metrics", or a Gin service mentioning Kubernetes,
        // metrics and a server, is custom code. Datastores are left out: a service names those as what it
        // uses.
        let isStack = { (text: String) in
            documents.contains { d in (d.kind == "runtime" || d.kind == "framework") && d.matches.contains { Self.find($0, in: text) != nil } }
        }
        // The subject's last word may belong to another application's name ("Adapter that serves the custom
        // metrics API", framework "Kubernetes aggregated API server", is the Prometheus adapter's kind, not
        // the metrics server): then the spelled-out name is not the service's.
        if hits.isEmpty, let fw, !isStack(fw), !isStack(subject) {
            let all = words(full + " " + fw)
            let fromFramework = words(fw)
            let head = subject.split(separator: " ").last.map { String($0).trimmingCharacters(in: .punctuationCharacters) } ?? ""
            let headOwners = Set(documents.filter { Self.kinds.contains($0.kind) && $0.matches.contains { words($0).contains(head) } }.map(\.id))
            for doc in documents where doc.kind == "app" && (headOwners.isEmpty || headOwners.contains(doc.id)) {
                for phrase in doc.matches {
                    let parts = words(phrase)
                    if parts.count >= 3, parts.isSubset(of: all), !parts.isDisjoint(with: fromFramework) {
                        hits.append(Hit(doc: doc, phrase: phrase, position: Self.scattered))
                    }
                }
            }
        }
        // Nothing named: a generic kind of application ("time-series database", "message broker")
        // still says more than the runtime does.
        if hits.isEmpty {
            for doc in documents where doc.kind == "generic" && doc.container != nil {
                for phrase in doc.matches where phrase.count >= 3 {
                    if let p = Self.find(phrase, in: subject) { hits.append(Hit(doc: doc, phrase: phrase, position: p)) }
                }
            }
        }
        // "Operator-managed Prometheus instance" (framework "Prometheus Operator CR"): the service is what
        // the operator runs, named in the description, not the operator named in the framework.
        if Self.operatorManaged(full) {
            let isOperator = { (h: Hit) in h.phrase.contains("operator") || h.doc.id.contains("operator") }
            if hits.contains(where: { !isOperator($0) }) { hits.removeAll(where: isOperator) }
        }
        // Earliest wins; at the same place the longer phrase is the more specific name.
        guard let best = hits.min(by: { ($0.position, -$0.phrase.count, $0.doc.id) < ($1.position, -$1.phrase.count, $1.doc.id) }) else { return nil }
        let doc = best.doc
        var container = doc.container
        var preset = doc.bitnamiPreset
        var sizes = doc.sizes
        var componentName: String?
        if let components = doc.components, !components.isEmpty {
            // The subject names the component best ("CA injector that patches ... cert-manager"), then the
            // framework, then the rest of the description.
            var bestComponent: (KnowledgeDocument.Component, Int, Int)?
            for c in components {
                for phrase in c.matches where phrase.count >= 3 {
                    let inText = Self.find(phrase, in: full)
                    let inFramework = fw.flatMap { Self.find(phrase, in: $0) }.map { _ in subject.utf8.count }
                    let pos = inText.map { $0 < subject.utf8.count ? $0 : min($0, inFramework ?? $0) } ?? inFramework
                    if let pos, bestComponent == nil || (pos, -phrase.count) < (bestComponent!.1, -bestComponent!.2) {
                        bestComponent = (c, pos, phrase.count)
                    }
                }
            }
            if let (c, _, _) = bestComponent {
                componentName = c.name
                container = c.container ?? container
                preset = c.bitnamiPreset ?? (c.container == nil ? preset : nil)
                sizes = c.sizes ?? (c.container == nil ? sizes : nil)
            }
        }
        // A published size for the stated load beats any default.
        var sizeUsed: String?
        if let sizes, !sizes.isEmpty, users != nil || qps != nil {
            let fits: (KnowledgeDocument.SizeTier) -> Bool = { t in
                if let u = users, let tu = t.users { return tu >= u }
                if let q = qps, let tq = t.qps { return tq >= q }
                return false
            }
            let relevant = sizes.filter { (users != nil && $0.users != nil) || (qps != nil && $0.qps != nil) }
            if let tier = relevant.first(where: fits) ?? relevant.last {
                container = KnowledgeDocument.ContainerProfile(requests: tier.requests, limits: tier.limits, replicas: tier.replicas ?? container?.replicas)
                sizeUsed = tier.users.map { "size for up to \($0) users" } ?? tier.qps.map { "size for up to \(Tree.format($0)) QPS" }
            }
        }
        // Bitnami packaging sets a resources preset instead of the upstream recommendation. With no
        // load given, both are what maintainers ship for an unknown load, and nothing says which
        // packaging the team runs: where the two agree within 4×, their geometric midpoint is within
        // 2× of either; where they disagree more, the packaged default install is the better-founded
        // guess than a production reference size. A request that names Bitnami gets the preset.
        var presetUsed: String?
        let bitnami = Self.find("bitnami", in: full) != nil
        // "managed by the official operator", "the official chart": the upstream packaging is named.
        let upstreamNamed = !bitnami && (Self.find("official", in: full) != nil || Self.operatorManaged(full))
        if sizeUsed == nil, bitnami || (defaultInstall && !upstreamNamed), let preset,
            let table = documents.first(where: { $0.presets?[preset] != nil }), let values = table.presets?[preset]
        {
            if bitnami || container == nil {
                container = KnowledgeDocument.ContainerProfile(requests: values.requests, limits: values.limits, replicas: container?.replicas)
                presetUsed = "\(table.id):\(preset)"
            } else {
                container = KnowledgeDocument.ContainerProfile(
                    requests: Self.midpoint(container?.requests, values.requests), limits: Self.midpoint(container?.limits, values.limits),
                    replicas: container?.replicas)
                presetUsed = "\(table.id):\(preset) with \(doc.id)'s upstream default (default install: no load given)"
            }
        }
        return RetrievedDocument(
            id: doc.id, title: doc.title, role: "application", score: 1, kind: doc.kind, profile: doc.profile, container: container, vm: doc.vm,
            component: componentName, preset: presetUsed ?? sizeUsed.map { "\(doc.id): \($0)" },
            matchedOn: best.via
                ?? (best.position == Self.scattered
                    ? "the words of '\(best.phrase)'" : best.position < 0 ? "framework: \(best.phrase)" : "description: \(best.phrase)"),
            load: doc.load, sources: doc.sources.map(\.citation))
    }

    /// The words of a text. Requests and names are nearly always ASCII, which splits on bytes; anything
    /// else splits on Unicode letters and digits.
    static func words(_ text: String) -> Set<String> {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            let isWordByte = { (b: UInt8) in (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) }
            return Set(text.utf8.split(whereSeparator: { !isWordByte($0) }).map { String(decoding: $0, as: UTF8.self) })
        }
        return Set(text.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init))
    }

    /// Whether the framework goes on to say that the name before `offset` is a library the service uses
    /// ("Temporal Go SDK", "Dapr SDK", "Kafka Streams", "Elasticsearch client"), not the service itself.
    static func namesLibrary(_ framework: String, after offset: Int) -> Bool {
        let rest = framework.utf8.dropFirst(offset)
        let isWordByte = { (b: UInt8) in (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        let next = rest.split(whereSeparator: { !isWordByte($0) }).prefix(2).map { String(decoding: $0, as: UTF8.self) }
        return next.contains { ["sdk", "sdks", "client", "clients", "library", "driver", "streams"].contains($0) }
    }

    /// "Operator-managed …", "… managed by the official operator".
    static func operatorManaged(_ text: String) -> Bool {
        find("operator-managed", in: text) != nil
            || text.range(of: #"managed by (the |an |its )?[a-z0-9-]*( [a-z0-9-]+)? ?operator"#, options: .regularExpression) != nil
    }

    /// Per amount: the geometric midpoint of the upstream and the preset value when they are within 4× of
    /// each other, otherwise the preset's.
    static func midpoint(_ upstream: ResourcePair?, _ preset: ResourcePair?) -> ResourcePair? {
        guard let upstream, let preset else { return preset ?? upstream }
        func mid(_ u: Double?, _ p: Double?) -> Double? {
            guard let u, let p, u > 0, p > 0, max(u, p) / min(u, p) <= 4 else { return p ?? u }
            return (u * p).squareRoot()
        }
        return ResourcePair(
            cpu: mid(upstream.cpu.map { Double($0.millicores) }, preset.cpu.map { Double($0.millicores) }).map { CPUQuantity(millicores: Int($0.rounded())) },
            memory: mid(upstream.memory?.mebibytes, preset.memory?.mebibytes).map { MemoryQuantity(mebibytes: $0.rounded()) })
    }
}
