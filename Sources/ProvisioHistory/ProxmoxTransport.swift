import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ProvisioCore

/// How provisio trusts a Proxmox node's certificate. Proxmox signs its own certificates with a per-cluster CA
/// (`/etc/pve/pve-root-ca.pem`), so the system's CAs alone reject it; give that CA, or pin the certificate's
/// SHA-256 fingerprint (as `pvenode cert info` or the web UI shows it).
public struct ProxmoxTLS: Sendable, Hashable {
    /// A PEM file of CA certificates to trust (instead of the system's).
    public var caFile: String?
    /// The SHA-256 fingerprint of the node's certificate, hex with or without colons.
    public var fingerprint: String?

    public init(caFile: String? = nil, fingerprint: String? = nil) {
        self.caFile = caFile
        self.fingerprint = fingerprint
    }

    /// The fingerprint as 64 lower-case hex digits, or nil when it is not one.
    public static func normalize(_ fingerprint: String) -> String? {
        let hex = fingerprint.lowercased().filter { $0 != ":" && !$0.isWhitespace }
        return hex.count == 64 && hex.allSatisfy(\.isHexDigit) ? hex : nil
    }
}

/// A small HTTP/1.1 GET over SwiftNIO (with NIOSSL for https), for the Proxmox API: URLSession on Linux can
/// neither trust a CA file other than the system's nor pin a certificate, and Proxmox needs one or the other.
enum ProxmoxTransport {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func get(_ url: URL, headers: [(String, String)], tls: ProxmoxTLS, timeout: Double) async throws -> (status: Int, body: [UInt8]) {
        guard let host = url.host, let scheme = url.scheme else { throw Failure(description: "no host in the URL") }
        let secure = scheme == "https"
        let port = url.port ?? (secure ? 443 : 80)
        var context: NIOSSLContext?
        var pinned: String?
        if secure {
            var config = TLSConfiguration.makeClientConfiguration()
            if let ca = tls.caFile { config.trustRoots = .file(ca) }
            if let f = tls.fingerprint {
                guard let hex = ProxmoxTLS.normalize(f) else { throw Failure(description: "proxmox.fingerprint is not a SHA-256 fingerprint (64 hex digits)") }
                pinned = hex
            }
            do { context = try NIOSSLContext(configuration: config) } catch {
                throw Failure(description: "cannot use the TLS settings (\(tls.caFile.map { "CA file \($0)" } ?? "system CAs")): \(error)")
            }
        }
        let promiseBox = PromiseBox()
        let sslContext = context
        let pin = pinned
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(timeout * 1000)))
            .channelInitializer { channel in
                let promise = channel.eventLoop.makePromise(of: (Int, [UInt8]).self)
                promiseBox.set(promise.futureResult)
                do {
                    if let sslContext {
                        let sni = host.first?.isNumber == true || host.contains(":") ? nil : host
                        let handler: NIOSSLClientHandler
                        if let pin {
                            handler = try NIOSSLClientHandler(context: sslContext, serverHostname: sni) { certificates, result in
                                // The pin replaces chain and name checks: exactly this certificate is trusted.
                                let der = (try? certificates.first?.toDERBytes()) ?? []
                                let digest = SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
                                result.succeed(digest == pin ? .certificateVerified : .failed)
                            }
                        } else {
                            handler = try NIOSSLClientHandler(context: sslContext, serverHostname: sni)
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Collector(promise: promise))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    promise.fail(error)
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let channel: any Channel
        do { channel = try await bootstrap.connect(host: host, port: port).get() } catch {
            throw Failure(description: "cannot connect to \(host):\(port): \(error)")
        }
        let timeoutTask = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            channel.close(promise: nil)
        }
        defer { timeoutTask.cancel() }
        var path = url.path.isEmpty ? "/" : url.path
        if let q = url.query { path += "?\(q)" }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        head.headers.add(name: "Connection", value: "close")
        for (k, v) in headers { head.headers.add(name: k, value: v) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        // A failed handshake closes the channel under the write; the collector has the real reason.
        _ = try? await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        guard let future = promiseBox.future else { throw Failure(description: "no connection") }
        do { return try await future.get() } catch let e as NIOSSLError {
            throw Failure(description: "TLS handshake with \(host) failed (\(e)); give proxmox.caFile (the cluster's pve-root-ca.pem) or proxmox.fingerprint")
        } catch let e as BoringSSLError {
            throw Failure(
                description:
                    "TLS handshake with \(host) failed (certificate not trusted: \(e)); give proxmox.caFile (the cluster's pve-root-ca.pem) or proxmox.fingerprint"
            )
        } catch is ChannelError {
            throw Failure(description: "no answer from \(host):\(port) within \(Tree.format(timeout)) s")
        }
    }

    final class PromiseBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: EventLoopFuture<(Int, [UInt8])>?
        func set(_ f: EventLoopFuture<(Int, [UInt8])>) { lock.withLock { value = f } }
        var future: EventLoopFuture<(Int, [UInt8])>? { lock.withLock { value } }
    }

    /// Collects one response; any error or an early close fails it.
    final class Collector: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<(Int, [UInt8])>
        var status = 0
        var body: [UInt8] = []
        var done = false

        init(promise: EventLoopPromise<(Int, [UInt8])>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): status = Int(h.status.code)
            case .body(let b):
                body += b.readableBytesView
                if body.count > 64 << 20 { finish(.failure(Failure(description: "answer larger than 64 MiB")), context) }
            case .end: finish(.success((status, body)), context)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { finish(.failure(error), context) }
        func channelInactive(context: ChannelHandlerContext) { finish(.failure(ChannelError.eof), context) }

        func finish(_ result: Result<(Int, [UInt8]), any Error>, _ context: ChannelHandlerContext) {
            guard !done else { return }
            done = true
            promise.completeWith(result)
            context.close(promise: nil)
        }
    }
}
