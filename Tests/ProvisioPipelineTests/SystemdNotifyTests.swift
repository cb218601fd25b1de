import Foundation
import ProvisioTestSupport
import Subprocess
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `provisio run` as systemd runs it with `Type=notify` and `WatchdogSec=`: READY=1 once it serves,
/// WATCHDOG=1 pings, STOPPING=1 on SIGTERM, then a clean exit.
@Suite struct SystemdNotifyTests {
    /// A datagram socket standing in for systemd's notification socket.
    final class NotifySocket: @unchecked Sendable {
        let fd: Int32
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "provisio-notify-\(UUID().uuidString.prefix(8)).sock"
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() { raw[i] = b }
            }
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard ok == 0 else { throw PrometheusServer.Failure("cannot bind \(path)") }
            var timeout = timeval(tv_sec: 1, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        /// The next message, or nil after a second of silence.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
        }
        func close() {
            _ = Glibc.close(fd)
            unlink(path)
        }
    }

    @Test func readyWatchdogAndStoppingAreSentToSystemd() async throws {
        let f = try GitFixture()
        try f.write("apps/orders/provision.yaml", GitFixture.request("orders"))
        try f.teamCommitAndPush("one request")
        let notify = try NotifySocket()
        defer { notify.close() }
        let port = Int.random(in: 20_000..<60_000)
        let result = try await Subprocess.run(
            .path(.init(CLITests.binary)),
            arguments: ["run", "--repo", f.remote, "--state-dir", f.state, "--port", "\(port)"],
            environment: .inherit.updating([
                "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "300000", "PROVISIO_KNOWLEDGE": Fixture.root + "/knowledge",
                "PROVISIO_POLICIES": Fixture.root + "/policies",
            ]),
            input: .none, output: .discarded, error: .discarded
        ) { execution -> [String] in
            var seen: [String] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                guard let m = notify.receive() else { continue }
                seen.append(m)
                if seen.contains(where: { $0.hasPrefix("READY=1") }) && seen.filter({ $0 == "WATCHDOG=1" }).count >= 2 { break }
            }
            try execution.send(signal: .terminate)
            while let m = notify.receive() {
                seen.append(m)
                if m == "STOPPING=1" { break }
            }
            return seen
        }
        let messages = result.closureResult
        let ready = try #require(messages.first { $0.hasPrefix("READY=1") }, "\(messages)")
        #expect(ready.contains("STATUS=watching"))
        #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 2)
        #expect(messages.last == "STOPPING=1", "\(messages)")
        #expect(result.terminationStatus.isSuccess, "\(result.terminationStatus)")
    }
}
