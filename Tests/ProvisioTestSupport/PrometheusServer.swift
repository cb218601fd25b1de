public import Foundation

/// A real Prometheus on 127.0.0.1 with backfilled history: OpenMetrics text → `promtool tsdb
/// create-blocks-from openmetrics` → `prometheus` on a temporary data directory. Stopped by PID.
public final class PrometheusServer: @unchecked Sendable {
    public let url: String
    public let directory: String
    let process: Process

    /// Backfills `openMetrics` and starts the server; throws when prometheus or promtool is missing.
    /// With `basicAuth` (user, bcrypt hash, password) every API call needs those credentials.
    public init(openMetrics: String, basicAuth: (user: String, hash: String, password: String)? = nil) throws {
        directory = NSTemporaryDirectory() + "provisio-prom-\(UUID().uuidString.prefix(8))"
        let data = directory + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let file = directory + "/history.om"
        try openMetrics.write(toFile: file, atomically: true, encoding: .utf8)
        // One block per 15 days: the default 2 h blocks re-read the file per block.
        let backfill = try Shell.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=360h", file, data])
        guard backfill.status == 0 else { throw Failure("promtool failed: \(backfill.output.suffix(2000))") }
        try? FileManager.default.removeItem(atPath: file)
        try "global: {}\nscrape_configs: []\n".write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        var extra: [String] = []
        if let auth = basicAuth {
            try "basic_auth_users:\n  \(auth.user): \(auth.hash)\n".write(toFile: directory + "/web.yml", atomically: true, encoding: .utf8)
            extra = ["--web.config.file=\(directory)/web.yml"]
        }
        let credentials = basicAuth.map { ["-u", "\($0.user):\($0.password)"] } ?? []

        for _ in 0..<10 {
            let port = Int.random(in: 20_000..<60_000)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments =
                [
                    "prometheus", "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(data)", "--storage.tsdb.retention.time=3650d",
                    "--web.listen-address=127.0.0.1:\(port)",
                ] + extra
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try p.run()
            let candidate = "http://127.0.0.1:\(port)"
            for _ in 0..<200 {
                if !p.isRunning { break }
                if Self.ready(candidate, credentials) {
                    url = candidate
                    process = p
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
        }
        throw Failure("prometheus did not become ready")
    }

    static func ready(_ url: String, _ credentials: [String]) -> Bool {
        (try? Shell.run(["curl", "-sf", "--max-time", "1"] + credentials + ["\(url)/-/ready"]).status) == 0
    }

    /// Stops the server and removes its data.
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }
}
