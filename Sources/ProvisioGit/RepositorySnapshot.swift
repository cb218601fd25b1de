import CGit2
public import Foundation
import ProvisioCore

/// The files of one commit of an application repository, read straight from git objects.
///
/// Nothing is checked out: reading blobs from the object database means a hostile repository
/// cannot plant symlinks or huge files on disk; every read is capped.
public struct RepositorySnapshot: Sendable {
    /// The commit id the files come from.
    public let commit: String
    /// Paths of all blobs (up to the entry cap), sorted.
    public let paths: [String]
    /// Contents of the files that were read, by path.
    public let files: [String: String]
    /// Whether the tree had more entries than were listed.
    public let truncated: Bool

    public init(commit: String, paths: [String], files: [String: String], truncated: Bool) {
        self.commit = commit
        self.paths = paths
        self.files = files
        self.truncated = truncated
    }
}

/// Limits for cloning a repository that provisio does not control.
public struct CloneLimits: Sendable {
    /// Largest download accepted.
    public var maxBytes: Int = 200 << 20
    /// Longest a clone may take.
    public var timeout: TimeInterval = 60
    /// Most tree entries listed.
    public var maxEntries: Int = 20_000
    /// Largest file read.
    public var maxFileBytes: Int = 256 << 10
    /// Most files read.
    public var maxFilesRead: Int = 400

    public init() {}
}

/// Clones application repositories into a cache with libgit2 and reads snapshots from them.
public struct RepositoryCache: Sendable {
    /// Folder holding one bare clone per repository URL.
    public let directory: String
    public let limits: CloneLimits

    public init(directory: String, limits: CloneLimits = CloneLimits()) {
        self.directory = directory
        self.limits = limits
        GitLibrary.initialize()
    }

    /// Clones `url` (or refreshes the cached clone) and returns the files `wanted` selects,
    /// read from the default branch's head commit.
    public func snapshot(of url: String, wanted: @Sendable (String) -> Bool) throws -> RepositorySnapshot {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = Self.cacheKey(url)
        let final = (directory as NSString).appendingPathComponent(key)
        let temp = final + ".tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: temp)
        // Always clone fresh into a temporary folder and swap it in, so an interrupted clone never
        // leaves a half-written cache behind.
        try clone(url: url, into: temp)
        try? FileManager.default.removeItem(atPath: final)
        do { try FileManager.default.moveItem(atPath: temp, toPath: final) } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw ProvisioError(.io, file: final, "cannot move the clone into the cache: \(error.localizedDescription)")
        }
        return try read(repositoryAt: final, wanted: wanted)
    }

    static func cacheKey(_ url: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in url.utf8 {
            hash ^= UInt64(b)
            hash = hash &* 0x100_0000_01b3
        }
        let name = url.split(whereSeparator: { $0 == "/" || $0 == ":" }).last.map(String.init) ?? "repo"
        let safe = String(name.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }.prefix(40))
        return "\(safe)-\(String(hash, radix: 16))"
    }

    final class Progress: @unchecked Sendable {
        let started = Date()
        let limits: CloneLimits
        var abortReason: String?
        init(limits: CloneLimits) { self.limits = limits }
    }

    func clone(url: String, into path: String) throws {
        var options = git_clone_options()
        git_clone_options_init(&options, UInt32(GIT_CLONE_OPTIONS_VERSION))
        options.bare = 1
        options.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE.rawValue
        let progress = Progress(limits: limits)
        let payload = Unmanaged.passRetained(progress)
        defer { payload.release() }
        options.fetch_opts.callbacks.payload = payload.toOpaque()
        options.fetch_opts.callbacks.transfer_progress = { stats, payload in
            guard let stats, let payload else { return 0 }
            let p = Unmanaged<Progress>.fromOpaque(payload).takeUnretainedValue()
            if stats.pointee.received_bytes > p.limits.maxBytes {
                p.abortReason = "the repository is larger than \(p.limits.maxBytes >> 20) MiB"
                return -1
            }
            if Date().timeIntervalSince(p.started) > p.limits.timeout {
                p.abortReason = "the clone took longer than \(Int(p.limits.timeout)) s"
                return -1
            }
            return 0
        }
        var repo: OpaquePointer?
        let rc = git_clone(&repo, url, path, &options)
        let message = GitLibrary.lastError()
        if let repo { git_repository_free(repo) }
        if rc != 0 {
            try? FileManager.default.removeItem(atPath: path)
            throw ProvisioError(.git, "cannot clone \(url): \(progress.abortReason ?? message)")
        }
    }

    final class Walk: @unchecked Sendable {
        var entries: [(String, git_oid)] = []
        var truncated = false
        let max: Int
        init(max: Int) { self.max = max }
    }

    /// Reads a snapshot from an existing repository (bare or not).
    public func read(repositoryAt path: String, wanted: (String) -> Bool) throws -> RepositorySnapshot {
        var repo: OpaquePointer?
        guard git_repository_open(&repo, path) == 0, let repo else {
            throw ProvisioError(.git, file: path, "cannot open the repository: \(GitLibrary.lastError())")
        }
        defer { git_repository_free(repo) }
        var commitObject: OpaquePointer?
        guard git_revparse_single(&commitObject, repo, "HEAD^{commit}") == 0, let commitObject else {
            throw ProvisioError(.git, file: path, "the repository has no commits on its default branch")
        }
        defer { git_object_free(commitObject) }
        let commitId = GitLibrary.hex(git_object_id(commitObject))
        var treeObject: OpaquePointer?
        guard git_revparse_single(&treeObject, repo, "HEAD^{tree}") == 0, let treeObject else {
            throw ProvisioError(.git, file: path, "cannot read the head tree: \(GitLibrary.lastError())")
        }
        defer { git_object_free(treeObject) }

        let walk = Walk(max: limits.maxEntries)
        let payload = Unmanaged.passRetained(walk)
        defer { payload.release() }
        git_tree_walk(
            treeObject, GIT_TREEWALK_PRE,
            { root, entry, payload in
                guard let entry, let payload else { return 0 }
                let w = Unmanaged<Walk>.fromOpaque(payload).takeUnretainedValue()
                if git_tree_entry_type(entry) != GIT_OBJECT_BLOB {
                    // Skip vendored and generated trees: they say nothing about the service itself.
                    let name = String(cString: git_tree_entry_name(entry))
                    return ["node_modules", "vendor", ".git", "dist", "build", "target", "__pycache__"].contains(name) ? 1 : 0
                }
                if w.entries.count >= w.max {
                    w.truncated = true
                    return -1
                }
                let dir = root.map { String(cString: $0) } ?? ""
                w.entries.append((dir + String(cString: git_tree_entry_name(entry)), git_tree_entry_id(entry).pointee))
                return 0
            }, payload.toOpaque())

        var files: [String: String] = [:]
        for (filePath, oidValue) in walk.entries where files.count < limits.maxFilesRead && wanted(filePath) {
            var oid = oidValue
            var blob: OpaquePointer?
            guard git_blob_lookup(&blob, repo, &oid) == 0, let blob else { continue }
            defer { git_blob_free(blob) }
            let size = Int(git_blob_rawsize(blob))
            guard size <= limits.maxFileBytes, git_blob_is_binary(blob) == 0, let raw = git_blob_rawcontent(blob) else { continue }
            let buffer = UnsafeRawBufferPointer(start: raw, count: size)
            files[filePath] = String(decoding: buffer, as: UTF8.self)
        }
        return RepositorySnapshot(commit: commitId, paths: walk.entries.map(\.0).sorted(), files: files, truncated: walk.truncated)
    }
}

/// Process-wide libgit2 set-up and error helpers.
public enum GitLibrary {
    private static let once: Void = {
        _ = git_libgit2_init()
        // The object cache defaults to 256 MiB; a pass reads each tree and blob once, so a small cache keeps an idle daemon small.
        _ = provisio_git_set_cache_max_size(16 << 20)
    }()

    /// Initializes libgit2 once per process.
    public static func initialize() { _ = once }

    /// The last libgit2 error on this thread, scrubbed of credentials.
    static func lastError() -> String {
        guard let e = git_error_last(), let m = e.pointee.message else { return "unknown git error" }
        return Redactor.scrub(String(cString: m))
    }

    static func hex(_ oid: UnsafePointer<git_oid>?) -> String {
        guard let oid else { return "" }
        var buffer = [CChar](repeating: 0, count: 41)
        git_oid_tostr(&buffer, 41, oid)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
