import Foundation
public import ProvisioContext
public import ProvisioCore
public import ProvisioPredict
public import ProvisioRefine

/// One file to write, relative to the GitOps repository's root.
public struct RenderedFile: Sendable, Hashable {
    public var path: String
    public var contents: String
    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}

/// Everything the renderer needs for one request.
public struct RenderInput: Sendable {
    public var context: ContextBundle
    public var draft: DraftPlan
    public var final: FinalPlan
    public var team: TeamDeployment?
    /// The request's folder relative to the repository root ("apps/order-service").
    public var requestFolder: String
    public init(context: ContextBundle, draft: DraftPlan, final: FinalPlan, team: TeamDeployment?, requestFolder: String) {
        self.context = context
        self.draft = draft
        self.final = final
        self.team = team
        self.requestFolder = requestFolder
    }
}

/// Turns the three agents' outputs into files, byte for byte the same for the same input.
public struct Renderer: Stage {
    public init() {}

    public func run(_ input: RenderInput) async throws -> [RenderedFile] { try render(input) }

    /// Where the generated files of a request folder go.
    public static func generatedFolder(_ requestFolder: String) -> String {
        requestFolder.isEmpty || requestFolder == "." ? "generated" : "\(requestFolder)/generated"
    }

    public func render(_ input: RenderInput) throws -> [RenderedFile] {
        let ctx = input.context, final = input.final
        let gen = Self.generatedFolder(input.requestFolder)
        var files: [RenderedFile] = []
        let status = final.status == "approved" ? "ok" : final.status == "rejected" ? "error" : "needs-review"
        if final.status != "rejected" {
            let m = ManifestBuilder.build(context: ctx, recommendation: final.recommendation, team: input.team)
            var resources: [Tree] = []
            if let d = m.deployment {
                files.append(.init(path: "\(gen)/deployment.yaml", contents: d.yaml()))
                resources.append(.string("deployment.yaml"))
            }
            if let p = m.deploymentPatch { files.append(.init(path: "\(gen)/deployment-patch.yaml", contents: p.yaml())) }
            if let h = m.hpa {
                files.append(.init(path: "\(gen)/hpa.yaml", contents: h.yaml()))
                resources.append(.string("hpa.yaml"))
            }
            if let p = m.pdb {
                files.append(.init(path: "\(gen)/pdb.yaml", contents: p.yaml()))
                resources.append(.string("pdb.yaml"))
            }
            let kustomization: Tree
            if m.deploymentPatch != nil {
                // A Component: the team's own kustomization includes it with `components: [generated]`.
                kustomization = .object([
                    ("apiVersion", .string("kustomize.config.k8s.io/v1alpha1")), ("kind", .string("Component")),
                    ("resources", resources.isEmpty ? nil : .list(resources)),
                    ("patches", .list([.object([("path", .string("deployment-patch.yaml"))])])),
                ])
            } else {
                kustomization = .object([
                    ("apiVersion", .string("kustomize.config.k8s.io/v1beta1")), ("kind", .string("Kustomization")),
                    ("resources", .list(resources)),
                ])
            }
            files.append(.init(path: "\(gen)/kustomization.yaml", contents: kustomization.yaml()))
            files += try proxmox(input)
        }
        files.append(.init(path: "\(gen)/recommendation.json", contents: try recommendation(input, status: status).json()))
        files.append(
            .init(
                path: "\(gen)/status.yaml",
                contents: Tree.object([
                    ("apiVersion", .string("provisio/v1alpha1")), ("kind", .string("ProvisionStatus")),
                    ("request", .string(ctx.requestPath)), ("digest", .string(ctx.requestDigest)),
                    ("status", .string(status)),
                    ("message", .string(status == "ok" ? "sized: \(final.recommendation.summary)" : final.reasons.first ?? status)),
                    ("reasons", final.reasons.isEmpty ? nil : .list(final.reasons.map(Tree.string))),
                    ("summary", .string(final.recommendation.summary)),
                    (
                        "reasoner",
                        final.reasoner.map { .object([("predict", .string(input.draft.reasoner)), ("refine", .string($0))]) }
                    ),
                    ("embedded", final.embedded.map { .string($0.summary) }),
                ]).yaml()))
        for f in files { try Self.checkSafe(f.path, requestFolder: input.requestFolder) }
        return files.sorted { $0.path < $1.path }
    }

    /// Refuses any path that would leave the places provisio writes to.
    static func checkSafe(_ path: String, requestFolder: String) throws {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let bad = path.hasPrefix("/") || parts.contains("..") || parts.contains("") || parts.contains(".")
        let allowed =
            path.hasPrefix(generatedFolder(requestFolder) + "/") || path.hasPrefix("proxmox/") || path.hasPrefix("ansible/host_vars/")
            || path.hasPrefix("ansible/inventory/")
        if bad || !allowed { throw ProvisioError(.unsafePath, file: path, "refusing to write outside the request's generated folder, proxmox/ or ansible/") }
    }

    func recommendation(_ input: RenderInput, status: String) throws -> Tree {
        let ctx = input.context
        // Only what the request determines goes in: no timings, no run ids, no memory recall.
        return .object([
            ("apiVersion", .string("provisio/v1alpha1")), ("kind", .string("Recommendation")),
            (
                "request",
                .object([
                    ("name", .string(ctx.request.metadata.name)), ("path", .string(ctx.requestPath)), ("digest", .string(ctx.requestDigest)),
                    ("form", .string(ctx.requestForm.rawValue)),
                ])
            ),
            ("status", .string(status)),
            ("recommendation", try TreeEncoder.encode(input.final.recommendation)),
            (
                "final",
                .object([
                    ("status", .string(input.final.status)), ("reasons", .list(input.final.reasons.map(Tree.string))),
                    ("checks", try TreeEncoder.encode(input.final.checks)), ("changes", try TreeEncoder.encode(input.final.changes)),
                    ("estimatedMonthlyCost", try TreeEncoder.encode(input.final.estimatedMonthlyCost)), ("confidence", .number(input.final.confidence)),
                    ("rounds", .int(input.final.rounds.count)), ("reasoner", input.final.reasoner.map(Tree.string)),
                    ("embedded", try input.final.embedded.map { try TreeEncoder.encode($0) }),
                ])
            ),
            (
                "draft",
                .object([
                    ("reasoner", .string(input.draft.reasoner)), ("confidence", .number(input.draft.confidence)),
                    ("reasoning", .list(input.draft.reasoning.map(Tree.string))), ("assumptions", .list(input.draft.assumptions.map(Tree.string))),
                    ("citations", .list(input.draft.citations.map(Tree.string))),
                ])
            ),
            (
                "context",
                .object([
                    ("requestKind", .string(ctx.requestKind)), ("route", try TreeEncoder.encode(ctx.route)),
                    ("appProfile", try TreeEncoder.encode(ctx.appProfile)),
                    ("retrieved", .list(ctx.retrieved.map { .object([("id", .string($0.id)), ("role", .string($0.role))]) })),
                    ("warnings", .list(ctx.warnings.map(Tree.string))),
                ])
            ),
        ])
    }

    func proxmox(_ input: RenderInput) throws -> [RenderedFile] {
        let vms = input.final.recommendation.vms
        guard !vms.isEmpty else { return [] }
        let ctx = input.context
        let name = ctx.request.metadata.name
        let node = ctx.request.spec.target?.proxmox?.node
        var map: [Tree.Entry] = []
        var files: [RenderedFile] = []
        var hosts: [Tree.Entry] = []
        for vm in vms.sorted(by: { $0.name < $1.name }) {
            for instance in vm.instances {
                map.append(
                    .init(
                        instance,
                        .object([
                            ("role", .string(vm.role)), ("node", (vm.node ?? node).map(Tree.string)), ("cores", .int(vm.cores)),
                            ("memory_mib", .int(vm.memoryMiB)), ("floating_memory_mib", vm.floatingMiB.map(Tree.int)), ("disk_gib", .int(vm.diskGiB)),
                            ("vmid", vm.vmid.map(Tree.int)),
                            ("tags", .list([.string("provisio"), .string(name), .string(vm.role)])),
                        ])))
                files.append(.init(path: "ansible/host_vars/\(instance).yml", contents: hostVars(vm, request: name).yaml()))
                hosts.append(.init(instance, .map([])))
            }
        }
        files.append(.init(path: "proxmox/\(name).auto.tfvars.json", contents: Tree.object([("vms", .map(map))]).json()))
        // Groups by role (what playbooks target: postgresql, redis, …) and by request and role; k3s workers
        // go into the k3s-ansible layout (node, and k3s_cluster with children master and node).
        let groups = Dictionary(grouping: vms, by: \.role).keys.sorted()
        func members(_ role: String) -> [Tree.Entry] { hosts.filter { h in vms.contains { $0.role == role && h.key.hasPrefix($0.name) } } }
        var children: [Tree.Entry] = []
        for role in groups {
            let group = role == "k3s-worker" ? "node" : role.replacingOccurrences(of: "-", with: "_")
            children.append(.init(group, .object([("hosts", .map(members(role)))])))
            children.append(.init("\(name)_\(role)".replacingOccurrences(of: "-", with: "_"), .object([("hosts", .map(members(role)))])))
        }
        if groups.contains("k3s-worker") {
            children.append(.init("k3s_cluster", .object([("children", .map([.init("master", .map([])), .init("node", .map([]))]))])))
        }
        let inventory = Tree.object([("all", .object([("children", .map(children))]))])
        files.append(.init(path: "ansible/inventory/\(name).yml", contents: inventory.yaml()))
        return files
    }

    /// Datastore tuning derived from the VM size (the usual starting points, refined later).
    func hostVars(_ vm: Recommendation.VMPlan, request: String) -> Tree {
        var pairs: [(String, Tree?)] = [
            ("provisio_request", .string(request)), ("provisio_role", .string(vm.role)),
            ("vm_cores", .int(vm.cores)), ("vm_memory_mib", .int(vm.memoryMiB)), ("vm_disk_gib", .int(vm.diskGiB)),
        ]
        let mem = vm.memoryMiB
        switch vm.role {
        case "postgresql", "postgres":
            pairs += [
                ("postgresql_shared_buffers", .string("\(mem / 4)MB")), ("postgresql_effective_cache_size", .string("\(mem * 3 / 4)MB")),
                ("postgresql_maintenance_work_mem", .string("\(min(2048, mem / 16))MB")),
                ("postgresql_max_connections", .int(min(500, max(100, vm.cores * 50)))),
                ("postgresql_work_mem", .string("\(max(4, (mem / 4) / min(500, max(100, vm.cores * 50)) ))MB")),
            ]
        case "redis":
            pairs += [("redis_maxmemory", .string("\(mem * 3 / 4)mb")), ("redis_maxmemory_policy", .string("allkeys-lru"))]
        default:
            break
        }
        return .object(pairs)
    }
}
