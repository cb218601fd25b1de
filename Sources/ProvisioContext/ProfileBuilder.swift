import Foundation
import ProvisioCore
import ProvisioRequest

/// Merges what the request declares, what the repository shows and what the description says.
///
/// Stack facts prefer the repository over the description (code does not lie about its
/// language); load and promises prefer the description over the repository header (the request
/// is newer than the Dockerfile).
enum ProfileBuilder {
    static func build(
        request: ProvisionRequest, form: RequestForm, repo: RepoFacts?, description d: DescriptionFacts, warnings: inout [String]
    ) -> AppProfile {
        let spec = request.spec
        // The compact payload spells fields its own way; name them as the team wrote them.
        let compactNames = [
            "app.language": "language", "app.framework": "framework", "app.port": "port", "app.image": "image", "app.endpoints": "endpoints",
            "workload.expectedQps": "expected_qps", "workload.peakQps": "peak_qps", "workload.concurrentUsers": "concurrent_users",
            "workload.pattern": "pattern", "slo.latencyP99Ms": "sla_latency_ms", "slo.availability": "availability",
            "slo.oomTolerance": "criticality", "tier": "tier (or criticality)", "stateful": "stateful", "dependencies": "dependencies",
        ]
        func declared<T>(_ v: T?, _ field: String) -> Sourced<T>? {
            v.map { Sourced($0, .declared, form == .compact ? "app_metadata.\(compactNames[field] ?? field)" : "spec.\(field)") }
        }
        func described<T>(_ f: Fact<T>?) -> Sourced<T>? { f.map { Sourced($0.value, .description, "\"\($0.evidence)\"") } }
        func fromRepo<T>(_ v: T?, _ file: String?) -> Sourced<T>? { v.map { Sourced($0, .repo, file ?? "repository") } }
        let header = repo?.metadata ?? [:]

        let language =
            declared(spec.app?.language.map(RepoInspector.normalizeLanguage), "app.language")
            ?? fromRepo(repo?.language, repo?.languageFrom) ?? described(d.language)
        var framework =
            declared(spec.app?.framework.map(RepoInspector.normalizeFramework), "app.framework")
            ?? fromRepo(repo?.framework, repo?.frameworkFrom)
        if framework == nil, let f = d.framework,
            language == nil || language?.value == d.language?.value
                || (language?.value == "javascript" && f.value != "")
        {
            framework = described(f)
        }
        if language == nil {
            warnings.append("language unknown: no declaration, no readable build file, nothing in the description; using the generic profile")
        }

        let port =
            declared(spec.app?.port, "app.port") ?? fromRepo(repo?.exposedPort, "Dockerfile EXPOSE") ?? Sourced(8080, .default, "no port declared or exposed")
        let image = declared(spec.app?.image, "app.image") ?? Sourced("\(request.metadata.name):latest", .default, "no image declared; set spec.app.image")

        // Tier and promises.
        let headerTier: Sourced<String>? = header["criticality"].flatMap { c in
            ["high", "critical"].contains(c.lowercased()) ? Sourced("production", .repo, "Dockerfile header criticality: \(c)") : nil
        }
        let tier =
            declared(spec.tier?.rawValue, "tier") ?? described(d.tier) ?? headerTier
            ?? Sourced("production", .default, "no tier given; sized as production to be safe")
        let zeroDowntime = described(d.zeroDowntime) ?? Sourced(false, .default, "not mentioned")
        let availability =
            declared(spec.slo?.availability, "slo.availability") ?? described(d.availability)
            ?? (zeroDowntime.value ? Sourced("99.95", .description, "zero downtime → 99.95") : nil)
            ?? Sourced(tier.value == "production" ? "99.9" : tier.value == "staging" ? "99.5" : "99", .default, "default for tier \(tier.value)")
        let oom =
            declared(spec.slo?.oomTolerance?.rawValue, "slo.oomTolerance") ?? d.oomToleranceLow.map { Sourced("low", .description, "\"\($0.evidence)\"") }
            ?? Sourced(tier.value == "production" ? "low" : "medium", .default, "default for tier \(tier.value)")
        let stateful = declared(spec.stateful, "stateful") ?? described(d.stateful) ?? Sourced(false, .default, "not mentioned; assumed stateless")
        let pattern =
            declared(spec.workload?.pattern?.rawValue, "workload.pattern") ?? described(d.pattern)
            ?? Sourced("diurnal", .default, "most request/response services follow the day")

        // Latency.
        let headerLatency = header["sla_latency_ms"].flatMap(Double.init).map { Sourced($0, .repo, "Dockerfile header sla_latency_ms") }
        let latency =
            declared(spec.slo?.latencyP99Ms, "slo.latencyP99Ms") ?? described(d.latencyP99Ms) ?? headerLatency
            ?? Sourced(tier.value == "production" ? 250 : 500, .default, "no latency target given")

        // Load.
        let users = declared(spec.workload?.concurrentUsers, "workload.concurrentUsers") ?? described(d.concurrentUsers)
        let headerQps = header["expected_qps"].flatMap(Double.init).map { Sourced($0, .repo, "Dockerfile header expected_qps") }
        var expected = declared(spec.workload?.expectedQps, "workload.expectedQps") ?? described(d.expectedQps) ?? headerQps
        var peak = declared(spec.workload?.peakQps, "workload.peakQps") ?? described(d.peakQps)
        let peakFactor: Double = ["steady": 1.5, "diurnal": 2, "spiky": 4, "batch": 1][pattern.value] ?? 2
        if expected == nil, peak == nil, let users {
            // One request every 10 s per active user is a common think-time assumption.
            expected = Sourced(max(1, Double(users.value) / 10), .default, "\(users.value) concurrent users × 0.1 req/s (10 s think time)")
        }
        if expected == nil, let p = peak {
            expected = Sourced(
                (p.value / peakFactor).rounded(), .default, "peak \(Tree.format(p.value)) ÷ \(Tree.format(peakFactor)) for a \(pattern.value) pattern")
        }
        if peak == nil, let e = expected {
            peak = Sourced(
                (e.value * peakFactor).rounded(), .default, "expected \(Tree.format(e.value)) × \(Tree.format(peakFactor)) for a \(pattern.value) pattern")
        }
        if expected == nil {
            warnings.append("no load given (QPS, RPS or users); assuming 20 QPS normally, 40 at peak")
            expected = Sourced(20, .default, "no load given")
            peak = Sourced(40, .default, "no load given")
        }

        // Dependencies: every source adds; the first source to name one is recorded.
        var deps: [Sourced<String>] = []
        func addDep(_ name: String, _ source: ValueSource, _ detail: String) {
            let n = name.lowercased()
            let canonical = ["postgres": "postgresql", "pg": "postgresql", "mongo": "mongodb", "rabbit": "rabbitmq"][n] ?? n
            if !deps.contains(where: { $0.value == canonical }) { deps.append(Sourced(canonical, source, detail)) }
        }
        for name in spec.dependencies ?? [] { addDep(name, .declared, form == .compact ? "app_metadata.dependencies" : "spec.dependencies") }
        for f in d.dependencies { addDep(f.value, .description, "\"\(f.evidence)\"") }
        for (name, file) in (repo?.dependencies ?? [:]).sorted(by: { $0.key < $1.key }) { addDep(name, .repo, file) }

        let endpoints =
            declared(spec.app?.endpoints, "app.endpoints")
            ?? ((repo?.endpoints.isEmpty ?? true) ? nil : fromRepo(repo?.endpoints, "route patterns in the source"))
        return AppProfile(
            language: language, framework: framework, baseImage: fromRepo(repo?.baseImage, "Dockerfile FROM"), image: image, port: port,
            endpoints: endpoints, expectedQps: expected!, peakQps: peak!, concurrentUsers: users, latencyP99Ms: latency, availability: availability,
            zeroDowntime: zeroDowntime, oomTolerance: oom, tier: tier, stateful: stateful, pattern: pattern, dependencies: deps,
            workers: fromRepo(repo?.workers, "Dockerfile CMD"))
    }
}
