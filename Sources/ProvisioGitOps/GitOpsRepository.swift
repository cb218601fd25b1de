import CGit2
public import Foundation
import ProvisioCore
import ProvisioGit

/// One path changed between two commits.
public struct TreeChange: Sendable, Hashable {
    public enum Kind: String, Sendable { case added, modified, deleted }
    public var path: String
    public var kind: Kind
    /// The blob id at the new commit (the old one for a deletion).
    public var blob: String
}

/// How a push ended.
public enum PushOutcome: Sendable, Equatable {
    case pushed
    /// Someone pushed first; fetch and redo on the new tip.
    case rejectedNonFastForward
    /// The server refused the update (a pre-receive hook, branch protection).
    case refused(String)
}

/// A bare clone of the team's GitOps repository, read and written through libgit2 without a
/// working tree: changes become blobs, trees and a commit built on the fetched tip, so a
/// crash at any point leaves nothing half-written that the next pass could trip over. Fetch and
/// push go through the git command line (see `transport`).
///
/// Not thread-safe: one instance per reconciler, used from one task at a time.
public final class GitOpsRepository {
    public let url: String
    public let branch: String
    public let directory: String
    /// How to authenticate to the remote (https token, ssh key); nil: none (local paths, public repositories).
    public var credentials: GitCredentials?
    private var repo: OpaquePointer?

    var remoteRef: String { "refs/remotes/origin/\(branch)" }
    var localRef: String { "refs/heads/\(branch)" }

    /// Opens the clone at `directory`, creating it (bare) from `url` if needed.
    public init(url: String, branch: String, directory: String) throws {
        GitLibrary.initialize()
        self.url = url
        self.branch = branch
        self.directory = directory
        if FileManager.default.fileExists(atPath: directory + "/HEAD") {
            guard git_repository_open_bare(&repo, directory) == 0 else { throw Self.error("cannot open \(directory)") }
            var remote: OpaquePointer?
            if git_remote_lookup(&remote, repo, "origin") == 0 {
                git_remote_free(remote)
                git_remote_set_url(repo, "origin", url)
            }
        } else {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard git_repository_init(&repo, directory, 1) == 0 else { throw Self.error("cannot create \(directory)") }
            var remote: OpaquePointer?
            let spec = "+refs/heads/\(branch):refs/remotes/origin/\(branch)"
            guard git_remote_create_with_fetchspec(&remote, repo, "origin", url, spec) == 0 else { throw Self.error("cannot add the remote") }
            git_remote_free(remote)
        }
    }

    deinit { git_repository_free(repo) }

    static func error(_ what: String) -> ProvisioError {
        let detail = git_error_last().flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown error"
        return ProvisioError(.git, "\(what): \(Redactor.scrub(detail))")
    }

    static func hex(_ oid: UnsafePointer<git_oid>) -> String {
        var buffer = [CChar](repeating: 0, count: 41)
        git_oid_tostr(&buffer, 41, oid)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func oid(_ hex: String) throws -> git_oid {
        var oid = git_oid()
        guard git_oid_fromstr(&oid, hex) == 0 else { throw ProvisioError(.git, "'\(hex)' is not a commit id") }
        return oid
    }

    /// Fetches the branch; returns the remote tip's commit id, or nil when the branch does not exist yet.
    @discardableResult
    public func fetch() throws -> String? {
        let r = try transport(["fetch", "--no-tags", "--no-write-fetch-head", url, "+\(localRef):\(remoteRef)"])
        if r.status != 0 {
            if r.stderr.contains("couldn't find remote ref") {
                // An empty remote, or the branch was deleted: there is no tip to build on.
                git_reference_remove(repo, remoteRef)
                return nil
            }
            throw ProvisioError(.git, "cannot fetch \(Redactor.scrub(url)): \(Self.summary(r.stderr))\(hint(r.stderr))")
        }
        return try resolve(remoteRef)
    }

    /// Runs the git command line against this clone, for the two network operations. libgit2 marks every
    /// tree of the remote's tip as uninteresting before it packs a push — a walk of the whole repository
    /// (0.2 s at 10,000 requests) where git needs a few milliseconds; everything else stays in libgit2.
    /// Credentials reach git through its environment, never its arguments: an https token as an
    /// `Authorization` header (`GIT_CONFIG_*`), an ssh key through `GIT_SSH_COMMAND` with host keys checked.
    func transport(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "--git-dir=\(directory)"] + arguments
        let inherited = ProcessInfo.processInfo.environment
        var env: [String: String] = [
            "PATH": inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "HOME": inherited["HOME"] ?? directory, "LANG": "C", "LC_ALL": "C",
            "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false", "SSH_ASKPASS": "/bin/false", "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
        ]
        // gc.autoDetach=false: an automatic repack of the clone finishes inside the pass instead of outliving it
        // while holding git's output open.
        var config: [(String, String)] = [
            ("http.lowSpeedLimit", "1000"), ("http.lowSpeedTime", "60"), ("credential.helper", ""), ("gc.autoDetach", "false"),
        ]
        if let c = credentials, let token = c.token {
            config.append(("http.extraHeader", "Authorization: Basic " + Data("\(c.username):\(token)".utf8).base64EncodedString()))
        }
        for (i, (key, value)) in config.enumerated() {
            env["GIT_CONFIG_KEY_\(i)"] = key
            env["GIT_CONFIG_VALUE_\(i)"] = value
        }
        env["GIT_CONFIG_COUNT"] = "\(config.count)"
        func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var ssh = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"]
        if let key = credentials?.sshKey { ssh += ["-i", quoted(key), "-o", "IdentitiesOnly=yes"] }
        if let known = credentials?.knownHosts {
            ssh += ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + quoted(known)]
        } else {
            // Trust on first use, then pinned: the host key is kept next to the clone.
            ssh += ["-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=" + quoted(directory + "/known_hosts")]
        }
        env["GIT_SSH_COMMAND"] = ssh.joined(separator: " ")
        process.environment = env
        // stdout (short: porcelain lines) through a pipe; stderr (a remote may say a lot) into a file, so
        // neither can fill up and block git while the other is read.
        let out = Pipe()
        let errFile = directory + "/provisio-git-stderr"
        guard FileManager.default.createFile(atPath: errFile, contents: nil), let err = FileHandle(forWritingAtPath: errFile) else {
            throw ProvisioError(.git, "cannot write \(errFile)")
        }
        defer { try? FileManager.default.removeItem(atPath: errFile) }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ProvisioError(.git, "cannot run git (install it: apt-get install git): \(Redactor.message(of: error))")
        }
        try? err.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), Redactor.scrub(stderr))
    }

    /// The lines of git's error output that say what went wrong.
    static func summary(_ stderr: String) -> String {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("hint:") }
        return Redactor.scrub(lines.suffix(3).joined(separator: "; "))
    }

    /// Why authentication failed, for the error (never the secret).
    func hint(_ stderr: String) -> String {
        let auth = ["Authentication failed", "could not read Username", "could not read Password", "Permission denied", "401", "403"]
        guard auth.contains(where: { stderr.contains($0) }) else {
            return stderr.contains("Host key verification failed") ? " (the server's ssh host key is not the known one: check repo.knownHosts)" : ""
        }
        if let c = credentials, c.token != nil || c.sshKey != nil {
            return " (the remote refused the \(c.token != nil ? "token" : "ssh key"); check repo.tokenFile / repo.sshKey)"
        }
        return " (the remote asks for credentials: set repo.tokenFile or repo.sshKey)"
    }

    /// The commit a reference points to, or nil when it does not exist.
    public func resolve(_ ref: String) throws -> String? {
        var oid = git_oid()
        let rc = git_reference_name_to_id(&oid, repo, ref)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        guard rc == 0 else { throw Self.error("cannot resolve \(ref)") }
        return Self.hex(&oid)
    }

    private func tree(of commit: String) throws -> OpaquePointer {
        var oid = try Self.oid(commit)
        var c: OpaquePointer?
        guard git_commit_lookup(&c, repo, &oid) == 0 else { throw Self.error("no commit \(commit)") }
        defer { git_commit_free(c) }
        var t: OpaquePointer?
        guard git_commit_tree(&t, c) == 0, let t else { throw Self.error("no tree for \(commit)") }
        return t
    }

    final class Collector: @unchecked Sendable {
        var items: [(String, String)] = []
    }

    /// Every blob of `tree` as (path relative to the tree, blob id).
    private func blobs(in tree: OpaquePointer) -> [(String, String)] {
        let collector = Collector()
        let payload = Unmanaged.passRetained(collector)
        defer { payload.release() }
        git_tree_walk(
            tree, GIT_TREEWALK_PRE,
            { root, entry, payload in
                guard let entry, let payload, git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return 0 }
                let c = Unmanaged<Collector>.fromOpaque(payload).takeUnretainedValue()
                let path = (root.map { String(cString: $0) } ?? "") + String(cString: git_tree_entry_name(entry))
                c.items.append((path, GitOpsRepository.hex(git_tree_entry_id(entry))))
                return 0
            }, payload.toOpaque())
        return collector.items
    }

    /// Every blob path in a commit (with its blob id) that `include` accepts.
    public func files(at commit: String, include: (String) -> Bool) throws -> [(path: String, blob: String)] {
        let t = try tree(of: commit)
        defer { git_tree_free(t) }
        return blobs(in: t).filter { include($0.0) }.map { (path: $0.0, blob: $0.1) }
    }

    /// Every blob under `folder` in a commit (nothing when the folder does not exist), walking only that subtree.
    public func files(at commit: String, under folder: String) throws -> [(path: String, blob: String)] {
        let root = try tree(of: commit)
        defer { git_tree_free(root) }
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, root, folder) == 0 else { return [] }
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else { return [] }
        var sub: OpaquePointer?
        guard git_tree_lookup(&sub, repo, git_tree_entry_id(entry)) == 0 else { throw Self.error("cannot read \(folder)") }
        defer { git_tree_free(sub) }
        return blobs(in: sub!).map { (path: folder + "/" + $0.0, blob: $0.1) }
    }

    /// Paths that differ between two commits (`from` nil: everything in `to` is added).
    ///
    /// Subtrees with the same id are skipped without being read, so the cost follows the change,
    /// not the size of the repository.
    public func changes(from: String?, to: String) throws -> [TreeChange] {
        guard let from else { return try files(at: to, include: { _ in true }).map { TreeChange(path: $0.path, kind: .added, blob: $0.blob) } }
        let a = try tree(of: from), b = try tree(of: to)
        defer {
            git_tree_free(a)
            git_tree_free(b)
        }
        var out: [TreeChange] = []
        try diff(a, b, prefix: "", into: &out)
        return out
    }

    private struct Entry {
        let name: String
        let id: git_oid
        let isTree: Bool
    }

    private func entries(_ tree: OpaquePointer?) -> [String: Entry] {
        guard let tree else { return [:] }
        var out: [String: Entry] = [:]
        for i in 0..<git_tree_entrycount(tree) {
            guard let e = git_tree_entry_byindex(tree, i) else { continue }
            let type = git_tree_entry_type(e)
            guard type == GIT_OBJECT_BLOB || type == GIT_OBJECT_TREE else { continue }
            let name = String(cString: git_tree_entry_name(e))
            out[name] = Entry(name: name, id: git_tree_entry_id(e).pointee, isTree: type == GIT_OBJECT_TREE)
        }
        return out
    }

    private static func same(_ a: git_oid, _ b: git_oid) -> Bool {
        var x = a, y = b
        return git_oid_equal(&x, &y) != 0
    }

    private func diff(_ a: OpaquePointer?, _ b: OpaquePointer?, prefix: String, into out: inout [TreeChange]) throws {
        let old = entries(a), new = entries(b)
        for name in Set(old.keys).union(new.keys).sorted() {
            let path = prefix + name
            switch (old[name], new[name]) {
            case (let o?, let n?) where o.isTree == n.isTree:
                if Self.same(o.id, n.id) { continue }
                if o.isTree {
                    let ot = try lookup(o.id), nt = try lookup(n.id)
                    defer {
                        git_tree_free(ot)
                        git_tree_free(nt)
                    }
                    try diff(ot, nt, prefix: path + "/", into: &out)
                } else {
                    out.append(TreeChange(path: path, kind: .modified, blob: withUnsafePointer(to: n.id) { Self.hex($0) }))
                }
            case (let o?, let n?):
                // A blob replaced by a folder (or the reverse): a deletion plus an addition.
                try emit(o, path: path, kind: .deleted, into: &out)
                try emit(n, path: path, kind: .added, into: &out)
            case (nil, let n?):
                try emit(n, path: path, kind: .added, into: &out)
            case (let o?, nil):
                try emit(o, path: path, kind: .deleted, into: &out)
            case (nil, nil):
                break
            }
        }
    }

    /// Every blob of an entry (itself, or all under a folder) as one kind of change.
    private func emit(_ entry: Entry, path: String, kind: TreeChange.Kind, into out: inout [TreeChange]) throws {
        guard entry.isTree else {
            out.append(TreeChange(path: path, kind: kind, blob: withUnsafePointer(to: entry.id) { Self.hex($0) }))
            return
        }
        let t = try lookup(entry.id)
        defer { git_tree_free(t) }
        for (sub, blob) in blobs(in: t) { out.append(TreeChange(path: path + "/" + sub, kind: kind, blob: blob)) }
    }

    private func lookup(_ id: git_oid) throws -> OpaquePointer {
        var oid = id
        var t: OpaquePointer?
        guard git_tree_lookup(&t, repo, &oid) == 0, let t else { throw Self.error("cannot read a tree") }
        return t
    }

    /// The bytes of a blob, capped at `limit`.
    public func blob(_ id: String, limit: Int = 1 << 20) throws -> [UInt8] {
        var oid = try Self.oid(id)
        var b: OpaquePointer?
        guard git_blob_lookup(&b, repo, &oid) == 0 else { throw Self.error("no blob \(id)") }
        defer { git_blob_free(b) }
        let size = Int(git_blob_rawsize(b))
        guard size <= limit else { throw ProvisioError(.invalidRequest, "the file is \(size) bytes; the limit is \(limit)") }
        guard size > 0, let raw = git_blob_rawcontent(b) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: size))
    }

    /// The bytes of `path` at `commit`, or nil when it does not exist there.
    public func file(_ path: String, at commit: String) throws -> [UInt8]? {
        let t = try tree(of: commit)
        defer { git_tree_free(t) }
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, t, path) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return nil }
        return try blob(Self.hex(git_tree_entry_id(entry)))
    }

    /// Writes a commit on top of `parent` that sets each path to its contents (nil removes it).
    /// Returns nil when the resulting tree is the parent's: there is nothing to commit.
    public func commit(parent: String, writes: [String: [UInt8]?], message: String, name: String, email: String, date: Date = Date()) throws -> String? {
        let base = try tree(of: parent)
        defer { git_tree_free(base) }
        // Blobs first, then only the trees along the changed paths are rebuilt (treebuilders):
        // the cost follows the change, not the size of the repository.
        var edits: [String: git_oid?] = [:]
        for (path, contents) in writes {
            guard let contents else {
                edits[path] = .some(nil)
                continue
            }
            var blobId = git_oid()
            let written = contents.withUnsafeBytes { git_blob_create_from_buffer(&blobId, repo, $0.baseAddress, contents.count) }
            guard written == 0 else { throw Self.error("cannot write \(path)") }
            edits[path] = blobId
        }
        var treeId = try rewrite(base, edits: edits.map { (Substring($0.key), $0.value) })
        if git_oid_equal(&treeId, git_tree_id(base)) != 0 { return nil }
        var newTree: OpaquePointer?
        guard git_tree_lookup(&newTree, repo, &treeId) == 0 else { throw Self.error("cannot read the new tree") }
        defer { git_tree_free(newTree) }
        var parentId = try Self.oid(parent)
        var parentCommit: OpaquePointer?
        guard git_commit_lookup(&parentCommit, repo, &parentId) == 0 else { throw Self.error("no parent commit") }
        defer { git_commit_free(parentCommit) }
        var signature: UnsafeMutablePointer<git_signature>?
        guard git_signature_new(&signature, name, email, git_time_t(date.timeIntervalSince1970), 0) == 0 else { throw Self.error("bad bot identity") }
        defer { git_signature_free(signature) }
        var commitId = git_oid()
        var parents: [OpaquePointer?] = [parentCommit]
        let rc = parents.withUnsafeMutableBufferPointer { buf in
            git_commit_create(&commitId, repo, nil, signature, signature, "UTF-8", message, newTree, 1, buf.baseAddress)
        }
        guard rc == 0 else { throw Self.error("cannot create the commit") }
        let hex = Self.hex(&commitId)
        // The local branch records the commit until it is pushed.
        var ref: OpaquePointer?
        guard git_reference_create(&ref, repo, localRef, &commitId, 1, "provisio: commit") == 0 else { throw Self.error("cannot update \(localRef)") }
        git_reference_free(ref)
        return hex
    }

    /// Writes `tree` with `edits` applied (a nil blob removes the path); returns the new tree id.
    /// An emptied folder disappears, as in git.
    private func rewrite(_ tree: OpaquePointer?, edits: [(Substring, git_oid?)]) throws -> git_oid {
        var builder: OpaquePointer?
        guard git_treebuilder_new(&builder, repo, tree) == 0 else { throw Self.error("cannot build a tree") }
        defer { git_treebuilder_free(builder) }
        var byFolder: [Substring: [(Substring, git_oid?)]] = [:]
        for (path, blob) in edits {
            if let slash = path.firstIndex(of: "/") {
                byFolder[path[..<slash], default: []].append((path[path.index(after: slash)...], blob))
            } else if var blob {
                guard git_treebuilder_insert(nil, builder, String(path), &blob, GIT_FILEMODE_BLOB) == 0 else { throw Self.error("cannot add \(path)") }
            } else {
                _ = git_treebuilder_remove(builder, String(path))
            }
        }
        for (folder, subEdits) in byFolder {
            var sub: OpaquePointer?
            if let tree, let entry = git_tree_entry_byname(tree, String(folder)), git_tree_entry_type(entry) == GIT_OBJECT_TREE {
                guard git_tree_lookup(&sub, repo, git_tree_entry_id(entry)) == 0 else { throw Self.error("cannot read \(folder)") }
            }
            defer { if let sub { git_tree_free(sub) } }
            // Removals under a folder that does not exist change nothing.
            if sub == nil && subEdits.allSatisfy({ $0.1 == nil }) { continue }
            var subId = try rewrite(sub, edits: subEdits)
            var subTree: OpaquePointer?
            guard git_tree_lookup(&subTree, repo, &subId) == 0 else { throw Self.error("cannot read the new \(folder)") }
            let empty = git_tree_entrycount(subTree) == 0
            git_tree_free(subTree)
            if empty {
                _ = git_treebuilder_remove(builder, String(folder))
            } else {
                guard git_treebuilder_insert(nil, builder, String(folder), &subId, GIT_FILEMODE_TREE) == 0 else { throw Self.error("cannot add \(folder)") }
            }
        }
        var id = git_oid()
        guard git_treebuilder_write(&id, builder) == 0 else { throw Self.error("cannot write a tree") }
        return id
    }

    /// Pushes `commit` to the branch, never forcing.
    public func push(_ commit: String) throws -> PushOutcome {
        var id = try Self.oid(commit)
        var ref: OpaquePointer?
        guard git_reference_create(&ref, repo, localRef, &id, 1, "provisio: push") == 0 else { throw Self.error("cannot update \(localRef)") }
        git_reference_free(ref)
        let r = try transport(["push", "--porcelain", "--no-verify", url, "\(localRef):\(localRef)"])
        // --porcelain: "<flag>\t<from>:<to>\t<summary>"; "!" is a refusal, by the remote's rules or its hooks.
        let line = r.stdout.split(separator: "\n").first { $0.contains("\t\(localRef):\(localRef)\t") }
        if let line, let flag = line.first {
            let summary = line.split(separator: "\t").last.map(String.init) ?? ""
            switch flag {
            case " ", "*", "+", "=":
                var tracking: OpaquePointer?
                guard git_reference_create(&tracking, repo, remoteRef, &id, 1, "provisio: pushed") == 0 else { throw Self.error("cannot update \(remoteRef)") }
                git_reference_free(tracking)
                // libgit2 writes loose objects; a big pass leaves thousands. Repack now, in the pass that made
                // them, rather than in the next pass's fetch (a no-op below git's threshold).
                _ = try? transport(["gc", "--auto", "--quiet"])
                return .pushed
            case "!":
                if summary.contains("remote rejected") {
                    let said = r.stderr.split(separator: "\n").filter { $0.hasPrefix("remote:") }.map { $0.dropFirst(7).trimmingCharacters(in: .whitespaces) }
                    return .refused(Redactor.scrub(([summary] + said.filter { !$0.isEmpty }).joined(separator: "; ")))
                }
                return .rejectedNonFastForward
            default: break
            }
        }
        throw ProvisioError(.git, "push to \(Redactor.scrub(url)) failed: \(Self.summary(r.stderr))\(hint(r.stderr))")
    }
}

/// Credentials for the GitOps remote. Secrets come from systemd credentials or the environment, never the
/// configuration file, and never reach a log line or an error.
public struct GitCredentials: Sendable, Hashable {
    /// HTTPS: the user name sent with the token (GitHub accepts any, GitLab wants `oauth2`, Gitea the account).
    public var username: String
    /// HTTPS: a personal or deploy token, sent as the password.
    public var token: String?
    /// SSH: the private key file, its public key (optional) and passphrase (optional).
    public var sshKey: String?
    public var sshPublicKey: String?
    public var passphrase: String?
    /// SSH: an OpenSSH known_hosts file the server's key must be in; nil: trust on first use, then pinned.
    public var knownHosts: String?

    public init(username: String = "x-access-token", token: String? = nil, sshKey: String? = nil) {
        self.username = username
        self.token = token
        self.sshKey = sshKey
    }
}
