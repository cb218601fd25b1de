public import Foundation
public import ProvisioCore
import Yams

struct ProxmoxEnvelope<D: Decodable>: Decodable { var data: D }

/// One Proxmox node's room: what it has, and what its VMs are given.
public struct NodeCapacity: Codable, Sendable, Hashable {
    public var node: String
    public var online: Bool
    public var cores: Int
    public var memoryMiB: Int
    /// Cores and memory given to the node's VMs (`maxcpu`, `maxmem` of `/cluster/resources`).
    public var allocatedCores: Int
    public var allocatedMemoryMiB: Int
    /// Memory in use on the host now.
    public var usedMemoryMiB: Int

    /// Memory a new VM may take: what no VM is promised and the host does not use, whichever is less.
    public var freeMemoryMiB: Int { max(0, min(memoryMiB - allocatedMemoryMiB, memoryMiB - usedMemoryMiB)) }

    /// Cores a new VM may take with the given CPU overcommit ratio.
    public func freeCores(overcommit: Double) -> Int { max(0, Int((Double(cores) * overcommit).rounded(.down)) - allocatedCores) }
}

/// What the Kubernetes cluster has and what its pods ask for.
public struct KubernetesCapacity: Codable, Sendable, Hashable {
    public var allocatable: ResourcePair
    public var requested: ResourcePair
    /// Where the figures came from: cluster/capacity.yaml or Prometheus.
    public var source: String

    public init(allocatable: ResourcePair, requested: ResourcePair, source: String) {
        self.allocatable = allocatable
        self.requested = requested
        self.source = source
    }

    public var freeCores: Double { (allocatable.cpu?.cores ?? 0) - (requested.cpu?.cores ?? 0) }
    public var freeMiB: Double { (allocatable.memory?.mebibytes ?? 0) - (requested.memory?.mebibytes ?? 0) }

    /// Reads `cluster/capacity.yaml` (`kind: ClusterCapacity`, `kubernetes.allocatable` and `.requested`).
    public static func parse(_ text: String, path: String) throws -> KubernetesCapacity {
        struct File: Decodable {
            var kind: String
            var kubernetes: K
            struct K: Decodable {
                var allocatable: ResourcePair
                var requested: ResourcePair
            }
        }
        guard text.utf8.count < 1 << 20, let node = try? Yams.compose(yaml: text) else {
            throw ProvisioError(.invalidRequest, file: path, "not valid YAML")
        }
        let file: File
        do { file = try YAMLDecoder().decode(File.self, from: node) } catch {
            throw ProvisioError(
                .invalidRequest, file: path, "expected kind: ClusterCapacity with kubernetes.allocatable and kubernetes.requested (cpu, memory)")
        }
        guard file.kind == "ClusterCapacity" else { throw ProvisioError(.invalidRequest, file: path, field: "kind", "expected ClusterCapacity") }
        guard file.kubernetes.allocatable.cpu != nil, file.kubernetes.allocatable.memory != nil else {
            throw ProvisioError(.invalidRequest, file: path, field: "kubernetes.allocatable", "needs cpu and memory")
        }
        return KubernetesCapacity(allocatable: file.kubernetes.allocatable, requested: file.kubernetes.requested, source: path)
    }
}

extension ProxmoxClient {
    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        let data = Data(try await fetch(path, what: path))
        guard let body = try? JSONDecoder().decode(ProxmoxEnvelope<T>.self, from: data) else {
            throw ProvisioError(.metrics, "the Proxmox API's answer for \(path) is not the documented JSON")
        }
        return body.data
    }

    /// Every node's capacity: `GET /nodes`, `/nodes/{node}/status` and `/cluster/resources?type=vm`.
    public func capacity() async throws -> [NodeCapacity] {
        struct Node: Decodable {
            var node: String
            var status: String?
            var maxcpu: Double?
            var maxmem: Double?
            var mem: Double?
        }
        struct Status: Decodable {
            var memory: Memory?
            var cpuinfo: CPU?
            struct Memory: Decodable {
                var total: Double
                var used: Double
            }
            struct CPU: Decodable { var cpus: Int }
        }
        struct VM: Decodable {
            var node: String?
            var maxcpu: Double?
            var maxmem: Double?
            var template: Int?
        }
        let nodes = try await get("/api2/json/nodes", as: [Node].self)
        let vms = try await get("/api2/json/cluster/resources?type=vm", as: [VM].self)
        var out: [NodeCapacity] = []
        for n in nodes.sorted(by: { $0.node < $1.node }) {
            let online = n.status == "online"
            var cores = Int(n.maxcpu ?? 0), total = n.maxmem ?? 0, used = n.mem ?? 0
            if online, let s = try? await get("/api2/json/nodes/\(n.node)/status", as: Status.self) {
                if let c = s.cpuinfo?.cpus { cores = c }
                if let m = s.memory {
                    total = m.total
                    used = m.used
                }
            }
            let mine = vms.filter { $0.node == n.node && $0.template != 1 }
            out.append(
                NodeCapacity(
                    node: n.node, online: online, cores: cores, memoryMiB: Int(total / 1_048_576),
                    allocatedCores: Int(mine.compactMap(\.maxcpu).reduce(0, +)), allocatedMemoryMiB: Int(mine.compactMap(\.maxmem).reduce(0, +) / 1_048_576),
                    usedMemoryMiB: Int(used / 1_048_576)))
        }
        return out
    }
}

extension PrometheusHistory {
    /// The cluster's allocatable and requested CPU and memory from kube-state-metrics; nil without series.
    public func kubernetesCapacity(now: Double = Date().timeIntervalSince1970) async throws -> KubernetesCapacity? {
        let start = now - 600
        func sum(_ q: String) async throws -> [String: Double] {
            var out: [String: Double] = [:]
            for s in try await client.queryRange(q, start: start, end: now, step: 60) {
                if let r = s.labels["resource"], let v = s.values.last?.value { out[r] = v }
            }
            return out
        }
        let alloc = try await sum(#"sum by (resource) (kube_node_status_allocatable{resource=~"cpu|memory"})"#)
        let req = try await sum(#"sum by (resource) (kube_pod_container_resource_requests{resource=~"cpu|memory"})"#)
        guard let ac = alloc["cpu"], let am = alloc["memory"] else { return nil }
        return KubernetesCapacity(
            allocatable: ResourcePair(cpu: CPUQuantity(cores: ac), memory: MemoryQuantity(bytes: Int64(am))),
            requested: ResourcePair(cpu: CPUQuantity(cores: req["cpu"] ?? 0), memory: MemoryQuantity(bytes: Int64(req["memory"] ?? 0))),
            source: "Prometheus at \(client.config.displayURL)")
    }
}
