import Foundation
public import ProvisioContext
public import ProvisioCore
public import ProvisioPredict
import Yams

/// The parts of a team's own Deployment that provisio needs to patch it rather than replace it.
public struct TeamDeployment: Sendable, Hashable, Codable {
    public var name: String
    public var namespace: String?
    public var selector: [String: String]
    public var podLabels: [String: String]
    public var containers: [String]
    /// The file it came from, relative to the request's folder.
    public var file: String

    struct Doc: Codable {
        struct Meta: Codable {
            var name: String
            var namespace: String?
            var labels: [String: String]?
        }
        struct Selector: Codable { var matchLabels: [String: String]? }
        struct Container: Codable { var name: String }
        struct PodSpec: Codable { var containers: [Container] }
        struct Template: Codable {
            var metadata: TemplateMeta?
            var spec: PodSpec
        }
        struct Spec: Codable {
            var selector: Selector?
            var template: Template
        }
        struct TemplateMeta: Codable { var labels: [String: String]? }
        var apiVersion: String
        var kind: String
        var metadata: Meta
        var spec: Spec
    }

    /// Reads `deployment.yaml` from the request's folder when there is one.
    public static func load(folder: String) throws -> TeamDeployment? {
        let path = (folder as NSString).appendingPathComponent("deployment.yaml")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.utf8.count <= 1 << 20 else {
            throw ProvisioError(.io, file: path, "cannot read the team's Deployment (or it is over 1 MiB)")
        }
        return try parse(text, path: path)
    }

    /// Parses the team's Deployment from its text; `path` names it in errors.
    public static func parse(_ text: String, path: String) throws -> TeamDeployment {
        guard text.utf8.count <= 1 << 20 else { throw ProvisioError(.invalidRequest, file: path, "the team's Deployment is over 1 MiB") }
        if text.range(of: #"(^|\s)[&*][A-Za-z]"#, options: .regularExpression) != nil {
            throw ProvisioError(.invalidRequest, file: path, "YAML anchors and aliases are not allowed")
        }
        let doc: Doc
        do { doc = try YAMLDecoder().decode(Doc.self, from: text) } catch {
            throw ProvisioError(.invalidRequest, file: path, "not a Deployment provisio can patch: \(error)")
        }
        guard doc.kind == "Deployment", !doc.spec.template.spec.containers.isEmpty else {
            throw ProvisioError(.invalidRequest, file: path, field: "kind", "expected a Deployment with at least one container")
        }
        return TeamDeployment(
            name: doc.metadata.name, namespace: doc.metadata.namespace, selector: doc.spec.selector?.matchLabels ?? [:],
            podLabels: doc.spec.template.metadata?.labels ?? [:], containers: doc.spec.template.spec.containers.map(\.name), file: "deployment.yaml")
    }
}

/// The Kubernetes objects for a plan, as trees ready to print.
public struct Manifests: Sendable, Equatable {
    /// The full Deployment, or nil when patching the team's.
    public var deployment: Tree?
    /// A strategic-merge patch of the team's Deployment.
    public var deploymentPatch: Tree?
    public var hpa: Tree?
    public var pdb: Tree?
}

/// Builds Deployment, HPA and PDB objects, and checks them the way the API server would.
public enum ManifestBuilder {
    static func resources(_ r: Recommendation) -> Tree {
        func pair(_ p: ResourcePair) -> Tree {
            .object([("cpu", p.cpu.map { .string($0.description) }), ("memory", p.memory.map { .string($0.description) })])
        }
        return .object([("requests", pair(r.requests)), ("limits", pair(r.limits))])
    }

    /// Builds the objects for `recommendation`.
    public static func build(context: ContextBundle, recommendation r: Recommendation, team: TeamDeployment?) -> Manifests {
        let name = team?.name ?? context.request.metadata.name
        let namespace = team?.namespace ?? context.cluster.namespace
        let selector: [(String, String)] =
            team.map { $0.selector.isEmpty ? $0.podLabels.sorted { $0.key < $1.key } : $0.selector.sorted { $0.key < $1.key } }
            ?? [("app.kubernetes.io/name", name)]
        let selectorTree = Tree.map(selector.map { Tree.Entry($0.0, .string($0.1)) })
        let labels = Tree.object([("app.kubernetes.io/name", .string(name)), ("app.kubernetes.io/managed-by", .string("provisio"))])
        func meta(_ n: String) -> Tree {
            .object([("name", .string(n)), ("namespace", .string(namespace)), ("labels", labels)])
        }
        let replicas: Tree? = r.hpa == nil ? .int(r.replicas) : nil
        var manifests = Manifests()
        if let team {
            let container = team.containers.first { $0 == name } ?? team.containers[0]
            manifests.deploymentPatch = .object([
                ("apiVersion", .string("apps/v1")), ("kind", .string("Deployment")),
                ("metadata", .object([("name", .string(name)), ("namespace", team.namespace.map(Tree.string))])),
                (
                    "spec",
                    .object([
                        ("replicas", replicas),
                        (
                            "template",
                            .object([("spec", .object([("containers", .list([.object([("name", .string(container)), ("resources", resources(r))])]))]))])
                        ),
                    ])
                ),
            ])
        } else {
            let port = context.appProfile.port.value
            manifests.deployment = .object([
                ("apiVersion", .string("apps/v1")), ("kind", .string("Deployment")), ("metadata", meta(name)),
                (
                    "spec",
                    .object([
                        ("replicas", replicas),
                        ("selector", .object([("matchLabels", selectorTree)])),
                        (
                            "template",
                            .object([
                                ("metadata", .object([("labels", labels)])),
                                (
                                    "spec",
                                    .object([
                                        (
                                            "containers",
                                            .list([
                                                .object([
                                                    ("name", .string(name)), ("image", .string(context.appProfile.image.value)),
                                                    (
                                                        "ports",
                                                        .list([
                                                            .object([("name", .string("http")), ("containerPort", .int(port)), ("protocol", .string("TCP"))])
                                                        ])
                                                    ),
                                                    ("resources", resources(r)),
                                                ])
                                            ])
                                        )
                                    ])
                                ),
                            ])
                        ),
                    ])
                ),
            ])
        }
        if let hpa = r.hpa {
            manifests.hpa = .object([
                ("apiVersion", .string("autoscaling/v2")), ("kind", .string("HorizontalPodAutoscaler")), ("metadata", meta(name)),
                (
                    "spec",
                    .object([
                        ("scaleTargetRef", .object([("apiVersion", .string("apps/v1")), ("kind", .string("Deployment")), ("name", .string(name))])),
                        ("minReplicas", .int(hpa.minReplicas)), ("maxReplicas", .int(hpa.maxReplicas)),
                        (
                            "metrics",
                            .list([
                                .object([
                                    ("type", .string("Resource")),
                                    (
                                        "resource",
                                        .object([
                                            ("name", .string("cpu")),
                                            ("target", .object([("type", .string("Utilization")), ("averageUtilization", .int(hpa.targetCPUUtilization))])),
                                        ])
                                    ),
                                ])
                            ])
                        ),
                        ("behavior", .object([("scaleDown", .object([("stabilizationWindowSeconds", .int(300))]))])),
                    ])
                ),
            ])
        }
        if let pdb = r.pdb {
            manifests.pdb = .object([
                ("apiVersion", .string("policy/v1")), ("kind", .string("PodDisruptionBudget")), ("metadata", meta(name)),
                ("spec", .object([("maxUnavailable", .int(pdb.maxUnavailable)), ("selector", .object([("matchLabels", selectorTree)]))])),
            ])
        }
        return manifests
    }

    /// Structural problems the API server would reject or that would silently not work.
    public static func problems(_ m: Manifests, recommendation r: Recommendation, team: TeamDeployment?) -> [String] {
        var out: [String] = []
        let dns = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
        func get(_ t: Tree?, _ path: [String]) -> Tree? {
            var cur = t
            for k in path {
                guard case .map(let entries)? = cur else { return nil }
                cur = entries.first { $0.key == k }?.value
            }
            return cur
        }
        func labels(_ t: Tree?) -> [String: String] {
            guard case .map(let e)? = t else { return [:] }
            return Dictionary(uniqueKeysWithValues: e.compactMap { if case .string(let v) = $0.value { return ($0.key, v) } else { return nil } })
        }
        let objects = [m.deployment, m.deploymentPatch, m.hpa, m.pdb].compactMap { $0 }
        for o in objects {
            for field in ["apiVersion", "kind"] where get(o, [field]) == nil { out.append("an object has no \(field)") }
            if case .string(let n)? = get(o, ["metadata", "name"]) {
                if n.count > 63 || n.range(of: dns, options: .regularExpression) == nil { out.append("name '\(n)' is not a DNS-1123 label") }
            } else {
                out.append("an object has no metadata.name")
            }
        }
        if let d = m.deployment {
            let selector = labels(get(d, ["spec", "selector", "matchLabels"]))
            let podLabels = labels(get(d, ["spec", "template", "metadata", "labels"]))
            if selector.isEmpty { out.append("Deployment selector is empty") }
            if !selector.allSatisfy({ podLabels[$0.key] == $0.value }) { out.append("Deployment selector does not match the pod template's labels") }
            if case .list(let containers)? = get(d, ["spec", "template", "spec", "containers"]), !containers.isEmpty {
                for c in containers where get(c, ["name"]) == nil || get(c, ["image"]) == nil { out.append("a container has no name or image") }
            } else {
                out.append("Deployment has no containers")
            }
        }
        if let pdb = m.pdb {
            let selector = labels(get(pdb, ["spec", "selector", "matchLabels"]))
            let pods = m.deployment.map { labels(get($0, ["spec", "template", "metadata", "labels"])) } ?? team?.podLabels ?? [:]
            if selector.isEmpty || !selector.allSatisfy({ pods[$0.key] == $0.value }) {
                out.append("PodDisruptionBudget selector does not select the Deployment's pods")
            }
        }
        if let hpa = m.hpa, case .string(let target)? = get(hpa, ["spec", "scaleTargetRef", "name"]) {
            let dname = m.deployment.flatMap { if case .string(let s)? = get($0, ["metadata", "name"]) { return s } else { return nil } } ?? team?.name
            if target != dname { out.append("HPA targets '\(target)', not the Deployment") }
        }
        if let c = r.requests.cpu, let l = r.limits.cpu, l < c { out.append("CPU limit \(l) is below the request \(c)") }
        if let c = r.requests.memory, let l = r.limits.memory, l < c { out.append("memory limit \(l) is below the request \(c)") }
        if r.requests.memory == nil || r.requests.cpu == nil { out.append("requests must set cpu and memory") }
        if let h = r.hpa, h.minReplicas > h.maxReplicas || h.minReplicas < 1 {
            out.append("HPA minReplicas \(h.minReplicas) / maxReplicas \(h.maxReplicas) are inconsistent")
        }
        return out
    }
}
