public import Foundation
public import Logging
import ProvisioCore
import Subprocess

#if canImport(Glibc)
    import Glibc
#endif

/// One external command (terraform, tofu, ansible-playbook) to run.
public struct Command: Sendable, Hashable {
    /// A name looked up on PATH, or a path.
    public var executable: String
    public var arguments: [String]
    public var workingDirectory: String
    /// Variables passed in addition to the allowlisted ones from provisio's own environment.
    public var environment: [String: String] = [:]
    /// Seconds before the whole process group is stopped (SIGTERM, then SIGKILL).
    public var timeout: Double = 600
    /// Values that must never leave the process: replaced by `***` in captured output and logs.
    public var secrets: [String] = []

    public init(_ executable: String, _ arguments: [String], in workingDirectory: String) {
        self.executable = executable
        self.arguments = arguments
        self.workingDirectory = workingDirectory
    }

    /// The command line a person can paste into a shell (environment values are not shown).
    public var commandLine: String {
        let words = [executable] + arguments
        let line = words.map(Self.quote).joined(separator: " ")
        return "cd \(Self.quote(workingDirectory)) && " + (environment.isEmpty ? "" : environment.keys.sorted().map { "\($0)=…" }.joined(separator: " ") + " ")
            + line
    }

    static func quote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// What a command did.
public struct CommandOutcome: Codable, Sendable, Hashable {
    public var command: String
    /// The exit status; nil when it was killed by a signal.
    public var exitCode: Int32?
    public var signal: Int32?
    public var timedOut: Bool
    public var seconds: Double
    /// Standard output, secrets redacted.
    public var output: String
    /// Standard error, secrets redacted.
    public var errorOutput: String

    public var succeeded: Bool { exitCode == 0 && !timedOut }

    /// The last lines of stderr (else stdout), for a status message.
    public var tail: String {
        let text = errorOutput.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? output : errorOutput
        return text.split(separator: "\n").suffix(5).joined(separator: "\n")
    }
}

/// Every external command goes through here: swift-subprocess (Foundation.Process on Linux starts children
/// with a blocked signal mask and misses exits), a new session so a timeout or shutdown stops the whole
/// process group, an environment allowlist, secrets redacted from what is captured, one lock per
/// working directory, and a log line with the command a person can paste.
public struct CommandRunner: Sendable {
    /// Variables of provisio's own environment a command may see.
    public static let allowlist = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE", "SSH_AUTH_SOCK", "USER"]
    /// Prefixes of variables that configure the tools themselves.
    public static let allowedPrefixes = ["TF_", "ANSIBLE_"]
    public static let outputLimit = 64 << 20

    public let logger: Logger
    let environment: [String: String]

    public init(logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.logger = logger
        self.environment = environment
    }

    /// The environment a command gets: the allowlist, then the command's own variables.
    func environment(for command: Command) -> [String: String] {
        var env = environment.filter { key, _ in Self.allowlist.contains(key) || Self.allowedPrefixes.contains { key.hasPrefix($0) } }
        // Secrets provisio holds never go to a tool through an inherited variable.
        env = env.filter { key, _ in !key.hasPrefix("PROVISIO_") }
        for (k, v) in command.environment { env[k] = v }
        if env["PATH"] == nil { env["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        return env
    }

    /// Runs `command` to completion or its timeout, holding the lock of its working directory.
    public func run(_ command: Command) async throws -> CommandOutcome {
        let lock = try DirectoryLock(directory: command.workingDirectory)
        try await lock.acquire()
        defer { lock.release() }
        logger.info("running", metadata: ["command": "\(redact(command.commandLine, command.secrets))"])
        let clock = ContinuousClock(), start = clock.now
        let env = environment(for: command)
        let timeout = command.timeout

        enum Race: Sendable {
            case finished(ExecutionResult<Void, BytesOutput, BytesOutput>)
            case timedOut
        }
        let race: Race
        do {
            race = try await withThrowingTaskGroup(of: Race.self) { group in
                group.addTask {
                    var options = PlatformOptions()
                    options.createSession = true
                    options.teardownSequence = [
                        .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(3)),
                        .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .milliseconds(500)),
                    ]
                    let executable: Executable = command.executable.contains("/") ? .path(.init(command.executable)) : .name(command.executable)
                    var keys: [Environment.Key: String] = [:]
                    for (k, v) in env { keys[Environment.Key(stringLiteral: k)] = v }
                    let result = try await Subprocess.run(
                        executable, arguments: Arguments(command.arguments), environment: .custom(keys),
                        workingDirectory: .init(command.workingDirectory), platformOptions: options, input: .none,
                        output: .bytes(limit: Self.outputLimit), error: .bytes(limit: Self.outputLimit))
                    return .finished(result)
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                    return .timedOut
                }
                let first = try await group.next()!
                group.cancelAll()
                // The group waits for the run task's teardown (SIGTERM, then SIGKILL to the process group)
                // before it returns, so no child outlives the call.
                return first
            }
        } catch {
            // Shutdown: the subprocess's group was stopped by its teardown; say so as cancellation.
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            let message = redact(String(describing: error), command.secrets)
            throw ProvisioError(.io, "\(command.executable) could not run in \(command.workingDirectory): \(message)")
        }
        let seconds = Double((clock.now - start) / .milliseconds(1)) / 1000
        var outcome = CommandOutcome(
            command: redact(command.commandLine, command.secrets), exitCode: nil, signal: nil, timedOut: false, seconds: seconds, output: "", errorOutput: "")
        switch race {
        case .finished(let r):
            switch r.terminationStatus {
            case .exited(let code): outcome.exitCode = code
            case .signaled(let sig): outcome.signal = sig
            }
            outcome.output = redact(String(decoding: r.standardOutput, as: UTF8.self), command.secrets)
            outcome.errorOutput = redact(String(decoding: r.standardError, as: UTF8.self), command.secrets)
        case .timedOut:
            outcome.timedOut = true
        }
        logger.info(
            "finished",
            metadata: [
                "command": "\(outcome.command)", "exit": "\(outcome.exitCode.map(String.init) ?? "signal \(outcome.signal ?? 0)")",
                "timedOut": "\(outcome.timedOut)", "seconds": "\(Tree.format((seconds * 100).rounded() / 100))",
            ])
        return outcome
    }

    func redact(_ text: String, _ secrets: [String]) -> String {
        var out = text
        for s in secrets where s.count >= 4 { out = out.replacingOccurrences(of: s, with: "***") }
        return Redactor.scrub(out)
    }
}

/// An exclusive lock on a working directory (flock on `.provisio.lock`), so two runs never share one.
final class DirectoryLock: @unchecked Sendable {
    let fd: Int32
    let path: String

    init(directory: String) throws {
        path = (directory as NSString).appendingPathComponent(".provisio.lock")
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ProvisioError(.io, file: path, "cannot open the lock file (does the working directory exist?)") }
    }

    /// Waits for the lock without blocking a thread.
    func acquire() async throws {
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
