public import Foundation
import Logging
import ProvisioCore
public import ProvisioGitOps
import ProvisioPipeline

/// A real bare repository as the remote and a second clone playing the team.
public final class GitFixture: @unchecked Sendable {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    public let dir: String
    public var remote: String { dir + "/remote.git" }
    public var team: String { dir + "/team" }
    public var state: String { dir + "/state" }

    public init() throws {
        dir = NSTemporaryDirectory() + "provisio-gitops-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try git(["init", "-q", "--bare", "-b", "main", remote], in: dir)
        try git(["clone", "-q", remote, team], in: dir)
        try git(["checkout", "-q", "-b", "main"], in: team)
    }

    @discardableResult
    public func git(_ args: [String], in cwd: String) throws -> String {
        let (status, text) = try Shell.run(
            ["git", "-c", "user.name=Team", "-c", "user.email=team@example.com", "-c", "commit.gpgsign=false"] + args, cwd: cwd)
        if status != 0 { throw ProvisioError(.git, "git \(args.joined(separator: " ")) failed: \(text)") }
        return text
    }

    public func write(_ path: String, _ text: String) throws {
        let full = team + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    public func teamCommitAndPush(_ message: String) throws {
        try git(["add", "-A"], in: team)
        try git(["commit", "-q", "-m", message], in: team)
        try git(["push", "-q", "origin", "main"], in: team)
    }

    public func pull() throws { try git(["pull", "-q", "--rebase", "origin", "main"], in: team) }

    /// Subjects of the remote's commits, newest first.
    public func remoteLog() throws -> [String] {
        try git(["--git-dir", remote, "log", "--format=%an|%s", "main"], in: dir).split(separator: "\n").map(String.init)
    }

    public static func request(_ name: String, qps: Int = 300) -> String {
        """
        apiVersion: provisio/v1alpha1
        kind: ProvisionRequest
        metadata:
          name: \(name)
        spec:
          gitRepo: https://github.com/acme/\(name)
          description: Go/Gin API, \(qps) QPS at peak, P99 under 100 ms, production.
          target: {kubernetes: {namespace: shop}}
        """
    }

    /// Serves the remote over git:// with `git daemon`, so pushes run receive-pack and its hooks.
    public func serve() throws -> (url: String, process: Process) {
        for _ in 0..<20 {
            let port = Int.random(in: 20_000..<60_000)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [
                "git", "daemon", "--reuseaddr", "--listen=127.0.0.1", "--port=\(port)", "--base-path=\(dir)", "--export-all", "--enable=receive-pack", dir,
            ]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            // Wait until it accepts connections (or died because the port was taken).
            for _ in 0..<50 {
                if !p.isRunning { break }
                if (try? git(["ls-remote", "git://127.0.0.1:\(port)/remote.git"], in: dir)) != nil { return ("git://127.0.0.1:\(port)/remote.git", p) }
                Thread.sleep(forTimeInterval: 0.05)
            }
            if p.isRunning { p.terminate() }
        }
        throw ProvisioError(.git, "could not start git daemon")
    }

    public func reconciler(url: String? = nil, policies: String? = nil) throws -> Reconciler {
        let config = PipelineConfig(
            stateDirectory: state, knowledgeDirectory: Self.root + "/knowledge", policiesDirectory: policies ?? Self.root + "/policies", offline: true,
            remember: false)
        let pipeline = try Pipeline(config: config, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        return try Reconciler(
            config: ReconcileConfig(repo: url ?? remote, branch: "main"), pipeline: pipeline, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
    }
}

extension GitFixture {
    /// Serves the remote over smart HTTP behind Basic auth (`user`, `token`) with the real `git http-backend`.
    /// Returns the URL and the server process (stop it with `kill`).
    public func serveHTTP(user: String, token: String) throws -> (url: String, process: Process) {
        let script = Self.root + "/Tests/fixtures/git-http-server.py"
        let portFile = dir + "/http.port"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, portFile, dir, user, token]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        for _ in 0..<200 {
            if let port = try? String(contentsOfFile: portFile, encoding: .utf8) { return ("http://127.0.0.1:\(port)/remote.git", p) }
            Thread.sleep(forTimeInterval: 0.025)
        }
        kill(p.processIdentifier, SIGKILL)
        throw ProvisioError(.git, "could not start the git http server")
    }
}

extension GitFixture {
    /// Serves the remote over ssh with a real OpenSSH `sshd` on 127.0.0.1 (its own host key, one authorized client
    /// key, no passwords). Returns the ssh URL, the client's private key, the host's public key and the server process.
    public func serveSSH() throws -> (url: String, key: String, hostKey: String, stop: @Sendable () -> Void) {
        let d = dir + "/ssh"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        for name in ["host", "client"] {
            let r = try Shell.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "\(d)/\(name)"])
            guard r.status == 0 else { throw ProvisioError(.git, "ssh-keygen failed: \(r.output)") }
        }
        try FileManager.default.copyItem(atPath: d + "/client.pub", toPath: d + "/authorized_keys")
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        let user = ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
        for _ in 0..<10 {
            let port = Int.random(in: 20_000..<60_000)
            try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(d)/host
            AuthorizedKeysFile \(d)/authorized_keys
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            StrictModes no
            UsePAM no
            PidFile \(d)/sshd.pid

            """.write(toFile: d + "/sshd_config", atomically: true, encoding: .utf8)
            // sshd detaches itself (it is no child of the tests, which wait for their children's output).
            let started = try Shell.run(["/usr/sbin/sshd", "-f", d + "/sshd_config", "-E", d + "/sshd.log"])
            let stop: @Sendable () -> Void = {
                if let pid = (try? String(contentsOfFile: d + "/sshd.pid", encoding: .utf8)).flatMap({
                    Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
                }) {
                    kill(pid, SIGTERM)
                }
            }
            guard started.status == 0 else { continue }
            for _ in 0..<100 {
                if Self.listening(port) {
                    let hostKey = try String(contentsOfFile: d + "/host.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                    return ("ssh://\(user)@127.0.0.1:\(port)\(remote)", d + "/client", hostKey, stop)
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            stop()
        }
        throw ProvisioError(.git, "could not start sshd")
    }
}

extension GitFixture {
    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func listening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
