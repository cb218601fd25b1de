public import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// systemd's notification protocol (`Type=notify`): READY=1 once the HTTP server listens, WATCHDOG=1 every
/// half `WatchdogSec`, STOPPING=1 on shutdown — datagrams to `$NOTIFY_SOCKET`. Without the variable it does nothing.
public struct SystemdNotifier: Sendable {
    let socketPath: String?
    /// Half the watchdog interval, when systemd asked for pings (`$WATCHDOG_USEC`, for this process).
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let forMe = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forMe, let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 {
            watchdogInterval = .microseconds(Int64(usec / 2))
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends one state line; returns whether it was sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let path = socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let sent = state.utf8CString.withUnsafeBufferPointer { message in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, message.baseAddress, message.count - 1, 0, $0, length) }
            }
        }
        return sent >= 0
    }
}

/// Pings systemd's watchdog while the service group runs; says STOPPING=1 when it ends.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        guard let interval = notifier.watchdogInterval else {
            try? await gracefulShutdown()
            notifier.notify("STOPPING=1")
            return
        }
        logger.info("systemd watchdog on", metadata: ["interval": "\(interval)"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            notifier.notify("WATCHDOG=1")
            try? await Task.sleep(for: interval)
        }
        notifier.notify("STOPPING=1")
    }
}
