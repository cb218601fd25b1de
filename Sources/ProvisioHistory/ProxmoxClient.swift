public import Foundation
import ProvisioCore

/// How to reach the Proxmox VE API: `https://pve.example:8006` with an API token.
public struct ProxmoxConfig: Sendable, Hashable {
    public var url: String
    /// `USER@REALM!TOKENID`.
    public var tokenId: String
    public var tokenSecret: String
    public var timeout: Double = 10
    /// How the node's certificate is trusted (https).
    public var tls = ProxmoxTLS()

    public init(url: String, tokenId: String, tokenSecret: String) {
        self.url = url
        self.tokenId = tokenId
        self.tokenSecret = tokenSecret
    }

    public var displayURL: String { Redactor.scrub(url) }

    /// The configuration keys (under `proxmox.`).
    public static let keys: [String: String] = [
        "proxmox.url": "Proxmox VE API, e.g. https://pve01:8006; used to read existing VMs' usage (RRD)",
        "proxmox.tokenId": "API token id USER@REALM!TOKENID (or $PROVISIO_PROXMOX_TOKEN_ID)",
        "proxmox.tokenSecretFile": "file holding the token secret (default: systemd credential proxmox-token-secret, or $PROVISIO_PROXMOX_TOKEN_SECRET)",
        "proxmox.timeout": "seconds one API call may take (default 10)",
        "proxmox.caFile": "PEM CA file to trust for the API's certificate, e.g. a copy of /etc/pve/pve-root-ca.pem (default: the system's CAs)",
        "proxmox.fingerprint": "SHA-256 fingerprint of the API's certificate to pin instead (pvenode cert info; hex, colons allowed)",
    ]

    /// Reads the `proxmox.*` keys, the environment and systemd credentials; nil when no URL is configured.
    public static func load(values: [String: String], environment: [String: String], file: String) throws -> ProxmoxConfig? {
        func fail(_ key: String, _ message: String) -> ProvisioError { ProvisioError(.configuration, file: file, field: key, message) }
        guard let url = environment["PROVISIO_PROXMOX_URL"] ?? values["proxmox.url"], !url.isEmpty else { return nil }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw fail("proxmox.url", "'\(Redactor.scrub(url))' is not an http(s) URL")
        }
        guard let id = environment["PROVISIO_PROXMOX_TOKEN_ID"] ?? values["proxmox.tokenId"],
            id.range(of: #"^[^@\s!=]+@[^@\s!=]+![A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) != nil
        else { throw fail("proxmox.tokenId", "required with proxmox.url: an API token id such as provisio@pve!sizing") }
        let secret = try Secrets.read(
            key: "proxmox.tokenSecretFile", credential: "proxmox-token-secret", env: "PROVISIO_PROXMOX_TOKEN_SECRET", values: values,
            environment: environment, file: file)
        guard let secret, !secret.isEmpty else {
            throw fail("proxmox.tokenSecretFile", "the token secret is missing: a credential proxmox-token-secret or $PROVISIO_PROXMOX_TOKEN_SECRET")
        }
        var c = ProxmoxConfig(url: url, tokenId: id, tokenSecret: secret)
        if let v = values["proxmox.timeout"] {
            guard let d = Double(v), d > 0, d <= 600 else { throw fail("proxmox.timeout", "expected seconds between 0 and 600, got '\(v)'") }
            c.timeout = d
        }
        if let ca = environment["PROVISIO_PROXMOX_CA_FILE"] ?? values["proxmox.caFile"] {
            guard FileManager.default.fileExists(atPath: ca) else { throw fail("proxmox.caFile", "\(ca) does not exist") }
            c.tls.caFile = ca
        }
        if let f = environment["PROVISIO_PROXMOX_FINGERPRINT"] ?? values["proxmox.fingerprint"] {
            guard ProxmoxTLS.normalize(f) != nil else { throw fail("proxmox.fingerprint", "expected a SHA-256 fingerprint: 64 hex digits, colons allowed") }
            c.tls.fingerprint = f
        }
        return c
    }
}

/// Reads VM usage and node capacity from the Proxmox VE API.
public struct ProxmoxClient: Sendable {
    public let config: ProxmoxConfig

    public init(config: ProxmoxConfig) { self.config = config }

    /// GET `path` (from `/api2/json/…`) with token auth; returns the body of a 200, else a clear error.
    func fetch(_ path: String, what: String) async throws -> [UInt8] {
        let base = config.url.hasSuffix("/") ? String(config.url.dropLast()) : config.url
        guard let url = URL(string: base + path) else { throw ProvisioError(.configuration, field: "proxmox.url", "'\(config.displayURL)' is not a URL") }
        let (status, body): (Int, [UInt8])
        do {
            (status, body) = try await ProxmoxTransport.get(
                url, headers: [("Authorization", "PVEAPIToken=\(config.tokenId)=\(config.tokenSecret)"), ("Accept", "application/json")], tls: config.tls,
                timeout: config.timeout)
        } catch {
            throw ProvisioError(.metrics, "the Proxmox API at \(config.displayURL): \(Redactor.scrub(String(describing: error)))")
        }
        guard status == 200 else {
            let hint = status == 401 ? " (check proxmox.tokenId and the secret)" : status == 403 ? " (the token needs Sys.Audit and VM.Audit)" : ""
            throw ProvisioError(.metrics, "the Proxmox API at \(config.displayURL) answered HTTP \(status) for \(what)\(hint)")
        }
        return body
    }

    struct RRD: Decodable {
        var data: [Point]
        struct Point: Decodable {
            var time: Double
            var cpu: Double?
            var maxcpu: Double?
            var mem: Double?
            var maxmem: Double?
        }
    }

    /// `GET /api2/json/nodes/{node}/qemu/{vmid}/rrddata?timeframe=…&cf=MAX`: the peaks of each interval,
    /// CPU as cores (`cpu × maxcpu`) and memory in MiB. Points where the VM was off are left out.
    public func usage(node: String, vmid: Int, timeframe: String = "month") async throws -> VMUsage {
        guard node.range(of: #"^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$"#, options: .regularExpression) != nil else {
            throw ProvisioError(.invalidRequest, field: "spec.target.proxmox.node", "'\(node)' is not a Proxmox node name")
        }
        let data = Data(try await fetch("/api2/json/nodes/\(node)/qemu/\(vmid)/rrddata?timeframe=\(timeframe)&cf=MAX", what: "VM \(vmid) on \(node)"))
        guard let rrd = try? JSONDecoder().decode(RRD.self, from: data) else {
            throw ProvisioError(.metrics, "the Proxmox API's rrddata for VM \(vmid) is not the documented JSON")
        }
        let points = rrd.data.filter { $0.cpu != nil && $0.maxcpu != nil && $0.mem != nil }.sorted { $0.time < $1.time }
        var u = VMUsage(
            name: "\(vmid)", times: points.map(\.time), cpuCores: points.map { $0.cpu! * $0.maxcpu! }, memoryMiB: points.map { $0.mem! / 1_048_576 })
        u.allocatedCores = points.last?.maxcpu.map { Int($0) }
        u.allocatedMemoryMiB = points.last?.maxmem.map { Int($0 / 1_048_576) }
        return u
    }
}

extension PrometheusHistory {
    /// A VM's usage from prometheus-pve-exporter: `pve_cpu_usage_ratio × pve_cpu_usage_limit` cores and
    /// `pve_memory_usage_bytes`, for `id="qemu/<vmid>"`; nil when there are no such series.
    public func vmUsage(vmid: Int, now: Double = Date().timeIntervalSince1970) async throws -> VMUsage? {
        let config = client.config
        let step = max(300, Self.step(window: config.window))
        let end = (now / Double(step)).rounded(.down) * Double(step)
        let start = end - (config.window / Double(step)).rounded(.down) * Double(step)
        let id = "id=\"qemu/\(vmid)\""
        let cpu = try await client.queryRange("max(pve_cpu_usage_ratio{\(id)} * on(id) pve_cpu_usage_limit{\(id)})", start: start, end: end, step: step)
        let mem = try await client.queryRange("max(pve_memory_usage_bytes{\(id)})", start: start, end: end, step: step)
        guard let c = cpu.first, let m = mem.first, !c.values.isEmpty else { return nil }
        let memory = Dictionary(m.values.map { ($0.time, $0.value) }) { a, _ in a }
        let points = c.values.compactMap { v in memory[v.time].map { (v.time, v.value, $0 / 1_048_576) } }
        guard points.count >= 2 else { return nil }
        return VMUsage(name: "\(vmid)", times: points.map(\.0), cpuCores: points.map(\.1), memoryMiB: points.map(\.2))
    }
}
