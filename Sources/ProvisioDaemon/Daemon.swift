import Foundation
public import Hummingbird
public import Logging
import ProvisioApply
import ProvisioCore
import ProvisioGitOps
public import ProvisioPipeline
public import ServiceLifecycle
import Synchronization

/// A one-slot signal: the webhook sets it, the reconcile loop takes it.
public final class PassTrigger: Sendable {
    private let pending = Mutex(false)
    public init() {}
    /// Asks for a pass as soon as possible.
    public func fire() { pending.withLock { $0 = true } }
    /// Takes the request, if there is one.
    func take() -> Bool {
        pending.withLock { p in
            defer { p = false }
            return p
        }
    }
}

/// Runs a pass every `interval`, and at once when the trigger fires.
public struct ReconcileService: Service {
    let config: DaemonConfig
    let pipeline: Pipeline
    let metrics: DaemonMetrics
    let trigger: PassTrigger
    let logger: Logger

    public init(config: DaemonConfig, pipeline: Pipeline, metrics: DaemonMetrics, trigger: PassTrigger, logger: Logger) {
        self.config = config
        self.pipeline = pipeline
        self.metrics = metrics
        self.trigger = trigger
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            // The reconciler holds a libgit2 handle: it lives and dies inside this one task.
            let reconciler = try Reconciler(
                config: {
                    var c = ReconcileConfig(
                        repo: config.repoURL, branch: config.branch, requestGlob: config.requestGlob, prune: config.prune, botName: config.botName,
                        botEmail: config.botEmail)
                    c.credentials = config.gitCredentials
                    return c
                }(), pipeline: pipeline, logger: logger)
            if config.terraform != nil || config.ansible != nil {
                reconciler.provisioner = Provisioner(
                    terraform: config.terraform, ansible: config.ansible, runner: CommandRunner(logger: logger),
                    workRoot: (config.stateDirectory as NSString).appendingPathComponent("terraform"))
            }
            var failures = 0
            while !Task.isCancelled {
                let clock = ContinuousClock()
                let start = clock.now
                do {
                    let result = try await reconciler.reconcileOnce()
                    let d = clock.now - start
                    metrics.pass(
                        outcome: result.commit == nil ? "unchanged" : "pushed", seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18,
                        requests: result.requests.count, retries: result.pushRetries)
                    failures = 0
                } catch is CancellationError {
                    return
                } catch {
                    failures += 1
                    let d = clock.now - start
                    metrics.pass(outcome: "error", seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, requests: 0, retries: 0)
                    metrics.failure(reason: (error as? ProvisioError)?.code.description ?? "other")
                    logger.error(
                        "pass failed", metadata: ["repo": "\(Redactor.scrub(config.repoURL))", "error": "\(Redactor.scrub(String(describing: error)))"])
                }
                // Back off after failures (up to 16 intervals); a webhook still wakes the loop at once.
                let wait = config.interval * Double(1 << min(failures, 4))
                let deadline = clock.now + .milliseconds(Int64(wait * 1000))
                // Idle for a second with no pass asked for: give back the pages the pass used (see IdleMemory).
                var release: ContinuousClock.Instant? = clock.now + .seconds(1)
                while clock.now < deadline && !trigger.take() {
                    if let at = release, clock.now >= at {
                        IdleMemory.release()
                        release = nil
                    }
                    // Shutdown cancels the sleep: leave the loop quietly, no pass is in flight.
                    do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
                }
            }
        }
    }
}

/// The HTTP side: health, readiness, metrics and the push webhook.
public enum DaemonHTTP {
    /// Builds the router.
    public static func router(config: DaemonConfig, metrics: DaemonMetrics, trigger: PassTrigger, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        let verifier = WebhookVerifier(secret: config.webhookSecret)
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            metrics.hasSucceeded
                ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
                : Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "no successful pass yet\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        router.post("/hooks/git") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let body = Array(buffer.readableBytesView)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.rawName] = field.value }
            guard verifier.verify(body: body, headers: headers) else {
                metrics.webhook("unauthorized")
                logger.warning("webhook rejected: bad or missing signature")
                return Response(status: .unauthorized)
            }
            if let branch = WebhookVerifier.pushedBranch(body: body), branch != config.branch {
                metrics.webhook("ignored")
                return Response(status: .accepted, body: .init(byteBuffer: ByteBuffer(string: "ignored: branch \(branch)\n")))
            }
            metrics.webhook("accepted")
            trigger.fire()
            return Response(status: .accepted, body: .init(byteBuffer: ByteBuffer(string: "pass scheduled\n")))
        }
        return router
    }

    /// The whole daemon: reconcile loop and HTTP server in one service group, stopped by SIGTERM or SIGINT.
    public static func serviceGroup(config: DaemonConfig, pipeline: Pipeline, logger: Logger) -> ServiceGroup {
        let metrics = DaemonMetrics()
        let trigger = PassTrigger()
        let notifier = SystemdNotifier()
        let app = Application(
            router: router(config: config, metrics: metrics, trigger: trigger, logger: logger),
            configuration: .init(address: .hostname(config.httpAddress, port: config.httpPort), serverName: "provisio"),
            onServerRunning: { _ in notifier.notify("READY=1\nSTATUS=watching \(Redactor.scrub(config.repoURL))") }, logger: logger)
        let loop = ReconcileService(config: config, pipeline: pipeline, metrics: metrics, trigger: trigger, logger: logger)
        return ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: loop), .init(service: WatchdogService(notifier: notifier, logger: logger))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }
}
