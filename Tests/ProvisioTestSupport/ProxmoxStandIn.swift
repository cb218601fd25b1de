public import Foundation

/// The Proxmox VE API's RRD endpoint, played by `Tests/fixtures/proxmox-api-standin.py` on 127.0.0.1
/// (no real Proxmox can run here). It checks the API token header and logs every request.
public final class ProxmoxStandIn: @unchecked Sendable {
    public let url: String
    public let logFile: String
    let process: Process
    let directory: String

    /// `rrd` maps `node/vmid` to RRD points (`[{"time":…,"cpu":…,"maxcpu":…,"mem":…,"maxmem":…}]`); `nodes`,
    /// `status` (by node) and `resources` are the documented JSON of `/nodes`, `/nodes/{node}/status` and `/cluster/resources`.
    public init(
        token: String, rrd: [String: [[String: Double]]] = [:], nodes: [[String: Any]] = [], status: [String: Any] = [:], resources: [[String: Any]] = [],
        certificate: (cert: String, key: String)? = nil
    ) throws {
        let data: [String: Any] = ["rrd": rrd, "nodes": nodes, "status": status, "resources": resources]
        directory = NSTemporaryDirectory() + "provisio-pve-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let dataFile = directory + "/rrd.json"
        try JSONSerialization.data(withJSONObject: data).write(to: URL(fileURLWithPath: dataFile))
        logFile = directory + "/requests.log"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "fixtures/proxmox-api-standin.py"
        ).path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, directory + "/port", token, dataFile, logFile] + (certificate.map { [$0.cert, $0.key] } ?? [])
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        process = p
        for _ in 0..<200 {
            if let port = try? String(contentsOfFile: directory + "/port", encoding: .utf8) {
                url = certificate == nil ? "http://127.0.0.1:\(port)" : "https://localhost:\(port)"
                return
            }
            Thread.sleep(forTimeInterval: 0.025)
        }
        kill(p.processIdentifier, SIGKILL)
        throw PrometheusServer.Failure("the Proxmox API stand-in did not start")
    }

    /// The requests it received, one JSON object per line.
    public var requests: [String] { ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
