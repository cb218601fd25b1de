import Foundation
import ProvisioContext
import ProvisioCore
import ProvisioHistory
import ProvisioPredict

extension RefineAgent {
    /// Nodes a request under `path` may place VMs on: online, and allowed by the path rule.
    func allowedNodes(_ ctx: ContextBundle) -> [NodeCapacity] {
        let rule = policy.rule(for: ctx.requestPath)
        return (ctx.cluster.proxmoxNodes ?? []).filter { n in n.online && (rule?.proxmoxNodes.contains { Glob.matches($0, n.node) } ?? false) }
    }

    /// The plan against the room there is: pods against the Kubernetes cluster (proposing k3s workers when
    /// they do not fit), new VMs against the Proxmox nodes (only allowed nodes, never over free memory,
    /// cores within the overcommit ratio).
    func capacityCheck(_ r: Recommendation, ctx: ContextBundle) -> [Finding] {
        var out: [Finding] = []
        let cap = policy.capacity
        var nodes = allowedNodes(ctx)
        func take(_ cores: Int, _ mib: Int, preferring wanted: String?) -> String? {
            let fits = nodes.indices.filter { nodes[$0].freeMemoryMiB >= mib && nodes[$0].freeCores(overcommit: cap.cpuOvercommit) >= cores }
            guard let i = fits.first(where: { nodes[$0].node == wanted }) ?? fits.max(by: { nodes[$0].freeMemoryMiB < nodes[$1].freeMemoryMiB }) else {
                return nil
            }
            nodes[i].allocatedCores += cores
            nodes[i].allocatedMemoryMiB += mib
            return nodes[i].node
        }
        let haveNodes = ctx.cluster.proxmoxNodes != nil
        let requestNode = ctx.request.spec.target?.proxmox?.node

        // New VMs (and growth of existing ones) on the Proxmox nodes.
        if haveNodes {
            for (i, vm) in r.vms.enumerated() where vm.role != "k3s-worker" {
                let current = ctx.vmHistory.first { $0.name == vm.name }
                let growCores = max(0, vm.cores - (current?.allocatedCores ?? 0)) * vm.count
                let growMiB = max(0, vm.memoryMiB - (current?.allocatedMemoryMiB ?? 0)) * vm.count
                guard growCores > 0 || growMiB > 0 else { continue }
                let wanted = vm.node ?? requestNode
                if vm.vmid != nil {
                    // A resize stays on its node.
                    if let n = nodes.firstIndex(where: { $0.node == wanted }),
                        nodes[n].freeMemoryMiB < growMiB || nodes[n].freeCores(overcommit: cap.cpuOvercommit) < growCores
                    {
                        out.append(
                            Finding(
                                check: "capacity",
                                detail:
                                    "VM \(vm.name) grows by \(growCores) cores and \(growMiB) MiB, more than node \(wanted ?? "-") has free (\(nodes[n].freeMemoryMiB) MiB)",
                                fix: nil, needsReview: true, rejects: false))
                    } else if let n = nodes.firstIndex(where: { $0.node == wanted }) {
                        nodes[n].allocatedCores += growCores
                        nodes[n].allocatedMemoryMiB += growMiB
                    }
                    continue
                }
                guard let placed = take(growCores, growMiB, preferring: wanted) else {
                    out.append(
                        Finding(
                            check: "capacity",
                            detail:
                                "no allowed Proxmox node has \(growMiB) MiB and \(growCores) cores free for VM \(vm.name) (\(nodes.map { "\($0.node): \($0.freeMemoryMiB) MiB" }.joined(separator: ", ")))",
                            fix: nil, needsReview: true, rejects: false))
                    continue
                }
                if placed != wanted {
                    out.append(
                        Finding(
                            check: "capacity",
                            detail: "node \(wanted ?? "(none named)") has no room for VM \(vm.name); \(placed) has",
                            fix: { rec in
                                rec.vms[i].node = placed
                                return .init(field: "vms[\(i)].node", from: wanted ?? "-", to: placed, reason: "the named node has no room")
                            }, needsReview: wanted != nil, rejects: false))
                }
            }
        }

        // Pods against the Kubernetes cluster.
        guard let k = ctx.cluster.kubernetes, !r.vms.contains(where: { $0.role == "k3s-worker" }) else { return out }
        // A service that already runs has its current requests counted in the cluster's: only the growth needs room.
        let current = ctx.history?.currentRequests ?? ctx.request.spec.context?.current?.requests
        let running = Double(ctx.request.spec.context?.current?.replicas ?? Int(ctx.history?.replicas?.p50 ?? 0))
        let needCores = Double(r.replicas) * (r.requests.cpu?.cores ?? 0) - running * (current?.cpu?.cores ?? 0)
        let needMiB = Double(r.replicas) * (r.requests.memory?.mebibytes ?? 0) - running * (current?.memory?.mebibytes ?? 0)
        guard needCores > k.freeCores + 1e-9 || needMiB > k.freeMiB + 1e-9 else { return out }
        let shortCores = max(0, needCores - k.freeCores), shortMiB = max(0, needMiB - k.freeMiB)
        // A worker's allocatable: what k3s leaves after its own reservations (about 10 % of CPU, 15 % of memory).
        let workerCores = Double(cap.workerCores) * 0.9, workerMiB = Double(cap.workerMemoryMiB) * 0.85
        let count = max(Int((shortCores / workerCores).rounded(.up)), Int((shortMiB / workerMiB).rounded(.up)), 1)
        let what =
            "\(r.replicas) pods need \(Tree.format((needCores * 100).rounded() / 100)) cores and \(Int(needMiB)) MiB; the cluster has \(Tree.format((k.freeCores * 100).rounded() / 100)) cores and \(Int(k.freeMiB)) MiB free (\(k.source))"
        guard count <= cap.maxWorkers else {
            out.append(
                Finding(
                    check: "capacity", detail: "\(what); it would take \(count) workers, more than the policy's \(cap.maxWorkers)", fix: nil, needsReview: true,
                    rejects: false))
            return out
        }
        guard haveNodes else {
            out.append(
                Finding(
                    check: "capacity", detail: "\(what); Proxmox is not configured, so no workers can be proposed", fix: nil, needsReview: true, rejects: false)
            )
            return out
        }
        var placements: [String: Int] = [:]
        for _ in 0..<count {
            guard let n = take(cap.workerCores, cap.workerMemoryMiB, preferring: requestNode) else { break }
            placements[n, default: 0] += 1
        }
        let placed = placements.values.reduce(0, +)
        guard placed == count else {
            out.append(
                Finding(
                    check: "capacity",
                    detail: "\(what); the allowed Proxmox nodes have room for \(placed) of the \(count) k3s workers needed: the cluster is full",
                    fix: nil, needsReview: true, rejects: false))
            return out
        }
        let name = ctx.request.metadata.name
        let proposal = placements.keys.sorted().map { node in
            var vm = Recommendation.VMPlan(
                name: "\(name)-k3s-worker-\(node)", role: "k3s-worker", count: placements[node]!, cores: cap.workerCores, memoryMiB: cap.workerMemoryMiB,
                diskGiB: cap.workerDiskGiB)
            vm.node = node
            return vm
        }
        let summary = proposal.map { "\($0.count) × \($0.cores)c/\($0.memoryMiB)MiB on \($0.node!)" }.joined(separator: ", ")
        out.append(
            Finding(
                check: "capacity", detail: "\(what); proposes k3s workers: \(summary)",
                fix: { rec in
                    rec.vms += proposal
                    return .init(field: "vms", from: "-", to: "k3s workers \(summary)", reason: "the pods do not fit the cluster")
                }, needsReview: true, rejects: false))
        return out
    }
}
