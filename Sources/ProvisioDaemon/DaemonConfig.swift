public import Foundation
public import ProvisioApply
import ProvisioCore
public import ProvisioGitOps
public import ProvisioHistory
public import ProvisioLLM
import Yams

/// The daemon's configuration: `/etc/provisio/config.yaml`, then environment overrides, then
/// command-line flags. Secrets come from systemd credentials or the environment, never the file.
public struct DaemonConfig: Sendable, Equatable {
    public var repoURL: String
    public var branch = "main"
    public var requestGlob = "**/provision.yaml"
    public var prune = true
    /// Seconds between passes.
    public var interval: Double = 30
    public var httpAddress = "127.0.0.1"
    public var httpPort = 8089
    public var stateDirectory: String
    public var knowledgeDirectory: String
    public var policiesDirectory: String
    public var botName = "provisio"
    public var botEmail = "provisio@localhost"
    /// The webhook's shared secret; nil disables the webhook (every call gets 401).
    public var webhookSecret: String?
    /// Authentication to the GitOps remote.
    public var gitCredentials: GitCredentials?
    /// Where the metrics route reads history; nil: knowledge route only.
    public var prometheus: PrometheusConfig?
    /// The Proxmox VE API, for existing VMs' usage.
    public var proxmox: ProxmoxConfig?
    /// An OpenAI-compatible model for agents 2 and 3; nil: the embedded reasoner alone.
    public var llm: LLMConfig?
    /// Terraform and Ansible for the requests' VMs; nil: a person applies them.
    public var terraform: TerraformConfig?
    public var ansible: AnsibleConfig?

    public init(repoURL: String, stateDirectory: String, knowledgeDirectory: String, policiesDirectory: String) {
        self.repoURL = repoURL
        self.stateDirectory = stateDirectory
        self.knowledgeDirectory = knowledgeDirectory
        self.policiesDirectory = policiesDirectory
    }

    /// Every key of the file, with its meaning (printed by `provisio config check` on a bad key).
    public static let keys: [String: String] = [
        "repo.url": "GitOps repository (https URL, ssh, or a local path); required",
        "repo.branch": "branch to reconcile (default main)",
        "repo.requests": "glob of request files (default **/provision.yaml)",
        "repo.prune": "remove generated files of deleted requests (default true)",
        "interval": "seconds between passes (default 30)",
        "http.address": "address of the HTTP server; loopback only by default (127.0.0.1)",
        "http.port": "port of the HTTP server (default 8089)",
        "stateDir": "state directory (default $STATE_DIRECTORY, else /var/lib/provisio)",
        "knowledge": "knowledge folder (default /usr/share/provisio/knowledge)",
        "policies": "policies folder (default /etc/provisio/policies)",
        "bot.name": "commit author name (default provisio)",
        "bot.email": "commit author email (default provisio@localhost)",
        "webhook.secretFile": "file holding the webhook secret (default: systemd credential webhook-secret, or $PROVISIO_WEBHOOK_SECRET)",
        "repo.username": "user name sent with an https token (default x-access-token; GitLab: oauth2)",
        "repo.tokenFile": "file holding an https token for the remote (default: systemd credential git-token, or $PROVISIO_GIT_TOKEN)",
        "repo.sshKey": "private key for an ssh remote (default: systemd credential git-ssh-key, or $PROVISIO_GIT_SSH_KEY as a path)",
        "repo.knownHosts":
            "OpenSSH known_hosts file the ssh remote's host key must be in (default: trusted on first use, then pinned in the clone under <stateDir>/gitops/)",
    ].merging(PrometheusConfig.keys) { a, _ in a }.merging(ProxmoxConfig.keys) { a, _ in a }.merging(ProvisioningConfig.keys) { a, _ in a }.merging(
        LLMConfig.keys
    ) { a, _ in a }

    /// Loads `path` (when it exists), applies the environment, and checks the result.
    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DaemonConfig {
        var values: [String: String] = [:]
        if let path, FileManager.default.fileExists(atPath: path) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ProvisioError(.configuration, file: path, "cannot read the configuration")
            }
            guard let root = try? Yams.load(yaml: text) else { throw ProvisioError(.configuration, file: path, "not valid YAML") }
            guard let map = root as? [String: Any] else { throw ProvisioError(.configuration, file: path, "expected a mapping of keys") }
            func flatten(_ m: [String: Any], _ prefix: String) throws {
                for (k, v) in m {
                    let key = prefix.isEmpty ? k : "\(prefix).\(k)"
                    if let sub = v as? [String: Any] {
                        try flatten(sub, key)
                    } else {
                        guard keys[key] != nil else {
                            throw ProvisioError(
                                .configuration, file: path, field: key, "unknown key; known keys: \(keys.keys.sorted().joined(separator: ", "))")
                        }
                        values[key] = "\(v)"
                    }
                }
            }
            try flatten(map, "")
        }
        let envMap = [
            "PROVISIO_REPO": "repo.url", "PROVISIO_BRANCH": "repo.branch", "PROVISIO_INTERVAL": "interval", "PROVISIO_HTTP_ADDRESS": "http.address",
            "PROVISIO_HTTP_PORT": "http.port", "PROVISIO_STATE_DIR": "stateDir", "PROVISIO_KNOWLEDGE": "knowledge", "PROVISIO_POLICIES": "policies",
        ]
        for (env, key) in envMap { if let v = environment[env] { values[key] = v } }
        let file = path ?? "environment"
        func fail(_ key: String, _ message: String) -> ProvisioError { ProvisioError(.configuration, file: file, field: key, message) }

        guard let repo = values["repo.url"], !repo.isEmpty else { throw fail("repo.url", "required: the GitOps repository to watch (or pass --repo)") }
        var c = DaemonConfig(
            repoURL: repo, stateDirectory: values["stateDir"] ?? environment["STATE_DIRECTORY"] ?? "/var/lib/provisio",
            knowledgeDirectory: values["knowledge"] ?? "/usr/share/provisio/knowledge", policiesDirectory: values["policies"] ?? "/etc/provisio/policies")
        if let v = values["repo.branch"] { c.branch = v }
        if let v = values["repo.requests"] { c.requestGlob = v }
        if let v = values["repo.prune"] {
            guard let b = Bool(v.lowercased()) else { throw fail("repo.prune", "expected true or false, got '\(v)'") }
            c.prune = b
        }
        if let v = values["interval"] {
            guard let d = Double(v), d >= 1, d <= 86_400 else { throw fail("interval", "expected seconds between 1 and 86400, got '\(v)'") }
            c.interval = d
        }
        if let v = values["http.address"] { c.httpAddress = v }
        if let v = values["http.port"] {
            guard let p = Int(v), (0...65535).contains(p) else { throw fail("http.port", "expected a port number, got '\(v)'") }
            c.httpPort = p
        }
        if let v = values["bot.name"] { c.botName = v }
        if let v = values["bot.email"] { c.botEmail = v }
        // Secrets: a systemd credential, a named file, or the environment — never the config file itself.
        c.webhookSecret = try Secrets.read(
            key: "webhook.secretFile", credential: "webhook-secret", env: "PROVISIO_WEBHOOK_SECRET", values: values, environment: environment, file: file)
        c.gitCredentials = try Self.gitCredentials(values: values, environment: environment, file: file)
        c.prometheus = try PrometheusConfig.load(values: values, environment: environment, file: file)
        c.proxmox = try ProxmoxConfig.load(values: values, environment: environment, file: file)
        c.llm = try LLMConfig.load(values: values, environment: environment, file: file)
        (c.terraform, c.ansible) = try ProvisioningConfig.load(
            values: values, file: file, proxmoxURL: c.proxmox?.url, proxmoxToken: c.proxmox.map { "\($0.tokenId)=\($0.tokenSecret)" },
            proxmoxCAFile: c.proxmox?.tls.caFile)
        if c.webhookSecret?.isEmpty == true { throw fail("webhook.secretFile", "the webhook secret is empty") }
        for (key, dir) in [("knowledge", c.knowledgeDirectory), ("policies", c.policiesDirectory)] where !FileManager.default.fileExists(atPath: dir) {
            throw fail(key, "\(dir) does not exist")
        }
        return c
    }

    /// The remote's credentials: `repo.tokenFile` / credential `git-token` / `$PROVISIO_GIT_TOKEN` for https,
    /// `repo.sshKey` / credential `git-ssh-key` / `$PROVISIO_GIT_SSH_KEY` for ssh; nil when none is given.
    public static func gitCredentials(values: [String: String], environment: [String: String], file: String) throws -> GitCredentials? {
        func fail(_ key: String, _ message: String) -> ProvisioError { ProvisioError(.configuration, file: file, field: key, message) }
        let credentials = environment["CREDENTIALS_DIRECTORY"]
        let token = try Secrets.read(
            key: "repo.tokenFile", credential: "git-token", env: "PROVISIO_GIT_TOKEN", values: values, environment: environment, file: file)
        var key: String?
        if let path = values["repo.sshKey"] ?? credentials.map({ "\($0)/git-ssh-key" }), FileManager.default.fileExists(atPath: path) {
            key = path
        } else if let path = values["repo.sshKey"] {
            throw fail("repo.sshKey", "\(path) does not exist")
        } else if let path = environment["PROVISIO_GIT_SSH_KEY"], !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else { throw fail("repo.sshKey", "$PROVISIO_GIT_SSH_KEY names \(path), which does not exist") }
            key = path
        }
        if token?.isEmpty == true { throw fail("repo.tokenFile", "the token is empty") }
        guard token != nil || key != nil else { return nil }
        var c = GitCredentials(username: values["repo.username"] ?? "x-access-token", token: token, sshKey: key)
        c.sshPublicKey = key.map { "\($0).pub" }.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
        if let known = values["repo.knownHosts"] {
            guard FileManager.default.fileExists(atPath: known) else { throw fail("repo.knownHosts", "\(known) does not exist") }
            c.knownHosts = known
        }
        return c
    }
}
