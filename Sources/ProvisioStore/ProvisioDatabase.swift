public import Foundation
import GRDB
import ProvisioCore
import Synchronization

/// The one SQLite database under the state directory: the knowledge index, long-term memory of
/// runs, and (later) per-request reconcile state.
public final class ProvisioDatabase: Sendable {
    let queue: DatabaseQueue
    let documentCache = Mutex<[KnowledgeDocument]?>(nil)
    /// Where the database lives.
    public let path: String

    /// Opens (and migrates) the database at `path`, creating its folder.
    public init(path: String) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            var config = Configuration()
            config.busyMode = .timeout(5)
            queue = try DatabaseQueue(path: path, configuration: config)
            try Self.migrator.migrate(queue)
        } catch let error as ProvisioError {
            throw error
        } catch {
            throw ProvisioError(.database, file: path, "cannot open the state database: \(error); check the state directory's permissions")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
            try db.create(table: "knowledge_docs") { t in
                t.primaryKey("id", .text)
                t.column("title", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("language", .text)
                t.column("matches", .text).notNull()
                t.column("body", .text).notNull()
                t.column("json", .text).notNull()
            }
            try db.create(virtualTable: "knowledge_fts", using: FTS5()) { t in
                t.synchronize(withTable: "knowledge_docs")
                t.tokenizer = .porter(wrapping: .unicode61())
                t.column("title")
                t.column("matches")
                t.column("body")
            }
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("createdAt", .double).notNull()
                t.column("requestName", .text).notNull()
                t.column("requestPath", .text).notNull()
                t.column("requestDigest", .text).notNull()
                t.column("language", .text)
                t.column("framework", .text)
                t.column("tier", .text)
                t.column("peakQps", .double)
                t.column("dependencies", .text).notNull()
                t.column("status", .text).notNull()
                t.column("summary", .text).notNull()
                t.column("contextJSON", .text).notNull()
                t.column("draftJSON", .text).notNull()
                t.column("finalJSON", .text).notNull()
            }
            try db.create(index: "runs_by_language", on: "runs", columns: ["language", "framework"])
        }
        m.registerMigration("v2-reconcile") { db in
            try db.create(table: "reconcile_state") { t in
                t.column("repo", .text).notNull()
                t.column("branch", .text).notNull()
                t.column("source", .text).notNull()
                t.column("updatedAt", .double).notNull()
                t.primaryKey(["repo", "branch"])
            }
            try db.create(table: "request_state") { t in
                t.column("repo", .text).notNull()
                t.column("path", .text).notNull()
                t.column("blob", .text).notNull()
                t.column("status", .text).notNull()
                t.column("message", .text).notNull()
                t.column("updatedAt", .double).notNull()
                t.primaryKey(["repo", "path"])
            }
            try db.create(table: "passes") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("repo", .text).notNull()
                t.column("startedAt", .double).notNull()
                t.column("seconds", .double).notNull()
                t.column("source", .text)
                t.column("commitId", .text)
                t.column("requests", .integer).notNull()
                t.column("outcome", .text).notNull()
            }
        }
        m.registerMigration("v3-provisioning") { db in
            try db.create(table: "provisioning_runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("request", .text).notNull()
                t.column("startedAt", .double).notNull()
                t.column("seconds", .double).notNull()
                t.column("state", .text).notNull()
                t.column("message", .text).notNull()
                /// The commands with their exit codes and (redacted) output, as JSON.
                t.column("commands", .text).notNull()
            }
        }
        m.registerMigration("v4-passes-by-source") { db in
            // The next pass looks up the commit pushed on its source (pushedCommit).
            try db.create(index: "passes_by_source", on: "passes", columns: ["repo", "source"])
        }
        return m
    }

    /// Records one request's Terraform/Ansible run (already redacted by the runner).
    public func recordProvisioning(request: String, seconds: Double, state: String, message: String, commandsJSON: String, at date: Date = Date()) throws {
        try wrap("recording the provisioning run") {
            try queue.write { db in
                try db.execute(
                    sql: "INSERT INTO provisioning_runs (request, startedAt, seconds, state, message, commands) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [request, date.timeIntervalSince1970 - seconds, seconds, state, Redactor.scrub(message), Redactor.scrub(commandsJSON)])
            }
        }
    }

    /// The provisioning runs of a request, newest first: (state, message, commands JSON, end time).
    public func provisioningRuns(request: String) throws -> [(state: String, message: String, commands: String, endedAt: Double)] {
        try wrap("reading provisioning runs") {
            try queue.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT state, message, commands, startedAt + seconds AS endedAt FROM provisioning_runs WHERE request = ? ORDER BY id DESC",
                    arguments: [request]
                ).map { (state: $0["state"], message: $0["message"], commands: $0["commands"], endedAt: $0["endedAt"]) }
            }
        }
    }

    func wrap<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ProvisioError { throw error } catch {
            throw ProvisioError(.database, file: path, "\(what) failed: \(error)")
        }
    }

    // MARK: - Knowledge index

    /// Rebuilds the index from `directory` when its files changed since the last build.
    /// Returns true when it rebuilt.
    @discardableResult
    public func refreshKnowledge(from directory: String, force: Bool = false) throws -> Bool {
        let fingerprint = KnowledgeDocument.fingerprint(of: directory)
        let current = try wrap("reading the index state") {
            try queue.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'knowledge.fingerprint'") }
        }
        if !force && current == fingerprint { return false }
        let docs = try KnowledgeDocument.loadAll(from: directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try wrap("rebuilding the knowledge index") {
            try queue.write { db in
                try db.execute(sql: "DELETE FROM knowledge_docs")
                for doc in docs {
                    let json = String(decoding: try encoder.encode(doc), as: UTF8.self)
                    try db.execute(
                        sql: "INSERT INTO knowledge_docs (id, title, kind, language, matches, body, json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        arguments: [doc.id, doc.title, doc.kind, doc.language, doc.matches.joined(separator: " "), doc.body, json])
                }
                try db.execute(
                    sql: "INSERT INTO meta (key, value) VALUES ('knowledge.fingerprint', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    arguments: [fingerprint])
            }
        }
        documentCache.withLock { $0 = nil }
        return true
    }

    /// Every indexed document, sorted by id.
    public func allDocuments() throws -> [KnowledgeDocument] {
        try wrap("reading the knowledge index") {
            try queue.read { db in
                try String.fetchAll(db, sql: "SELECT json FROM knowledge_docs ORDER BY id").map {
                    try JSONDecoder().decode(KnowledgeDocument.self, from: Data($0.utf8))
                }
            }
        }
    }

    /// A ranked full-text hit.
    public struct SearchHit: Sendable, Hashable {
        public var id: String
        public var title: String
        public var kind: String
        /// BM25 relevance, higher is better.
        public var score: Double
    }

    /// BM25 search over title, match terms and body (weights 4, 8, 1); ties broken by id.
    public func search(_ text: String, limit: Int = 8) throws -> [SearchHit] {
        guard let pattern = FTS5Pattern(matchingAnyTokenIn: text) else { return [] }
        return try wrap("searching the knowledge index") {
            try queue.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT d.id, d.title, d.kind, bm25(knowledge_fts, 4.0, 8.0, 1.0) AS rank
                        FROM knowledge_fts JOIN knowledge_docs d ON d.rowid = knowledge_fts.rowid
                        WHERE knowledge_fts MATCH ? ORDER BY d.id = ? DESC, rank, d.id LIMIT ?
                        """, arguments: [pattern, Self.documentID(of: text), limit]
                ).map { row in
                    SearchHit(id: row["id"], title: row["title"], kind: row["kind"], score: -(row["rank"] as Double))
                }
            }
        }
    }

    /// A query that is a document's name ("PostgreSQL", "argo cd") puts that document first.
    static func documentID(of query: String) -> String {
        query.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).joined(separator: "-")
    }

    // MARK: - Memory

    /// What memory keeps of one run.
    public struct RunRecord: Sendable, Hashable {
        public var requestName: String
        public var requestPath: String
        public var requestDigest: String
        public var language: String?
        public var framework: String?
        public var tier: String?
        public var peakQps: Double?
        public var dependencies: [String]
        public var status: String
        /// One line: replicas, requests, limits.
        public var summary: String
        public var contextJSON: String
        public var draftJSON: String
        public var finalJSON: String

        public init(
            requestName: String, requestPath: String, requestDigest: String, language: String?, framework: String?, tier: String?,
            peakQps: Double?, dependencies: [String], status: String, summary: String, contextJSON: String, draftJSON: String,
            finalJSON: String
        ) {
            self.requestName = requestName
            self.requestPath = requestPath
            self.requestDigest = requestDigest
            self.language = language
            self.framework = framework
            self.tier = tier
            self.peakQps = peakQps
            self.dependencies = dependencies
            self.status = status
            self.summary = summary
            self.contextJSON = contextJSON
            self.draftJSON = draftJSON
            self.finalJSON = finalJSON
        }
    }

    /// Stores a run; returns its id.
    @discardableResult
    public func record(_ run: RunRecord, at date: Date = Date()) throws -> Int64 {
        try wrap("recording the run") {
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO runs (createdAt, requestName, requestPath, requestDigest, language, framework, tier, peakQps,
                          dependencies, status, summary, contextJSON, draftJSON, finalJSON)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        date.timeIntervalSince1970, run.requestName, run.requestPath, run.requestDigest, run.language, run.framework,
                        run.tier, run.peakQps, run.dependencies.joined(separator: " "), run.status, run.summary, run.contextJSON,
                        run.draftJSON, run.finalJSON,
                    ])
                return db.lastInsertedRowID
            }
        }
    }

    /// A past deployment like the one being sized.
    public struct SimilarRun: Sendable, Hashable, Codable {
        public var runId: Int64
        public var requestName: String
        public var similarity: Double
        public var summary: String
        public var status: String
    }

    /// Past runs most like the given features (same stack, tier, similar load, shared
    /// dependencies), at most one per request name, excluding `excludingName`.
    public func similarRuns(
        language: String?, framework: String?, tier: String?, peakQps: Double?, dependencies: [String], excludingName: String?,
        limit: Int = 3
    ) throws -> [SimilarRun] {
        let rows = try wrap("reading memory") {
            try queue.read { db in
                try Row.fetchAll(
                    db,
                    // Same language first (indexed), newest first; bounded so recall stays flat as memory grows.
                    sql: """
                        SELECT id, requestName, language, framework, tier, peakQps, dependencies, summary, status FROM runs
                        WHERE language IS ? ORDER BY id DESC LIMIT 300
                        """, arguments: [language])
            }
        }
        var out: [SimilarRun] = []
        var seen = Set<String>()
        for row in rows {
            let name: String = row["requestName"]
            // Only the latest run of each request counts.
            if name == excludingName || !seen.insert(name).inserted { continue }
            var score = 0.0
            if let language, language == row["language"] as String? { score += 0.35 }
            if let framework, framework == row["framework"] as String? { score += 0.25 }
            if let tier, tier == row["tier"] as String? { score += 0.1 }
            if let a = peakQps, let b = row["peakQps"] as Double?, a > 0, b > 0 { score += 0.2 * max(0, 1 - abs(log10(a / b))) }
            let deps = Set((row["dependencies"] as String).split(separator: " ").map(String.init))
            if !dependencies.isEmpty || !deps.isEmpty {
                score += 0.1 * Double(deps.intersection(dependencies).count) / Double(max(1, deps.union(dependencies).count))
            }
            if score >= 0.35 {
                out.append(
                    SimilarRun(runId: row["id"], requestName: name, similarity: (score * 100).rounded() / 100, summary: row["summary"], status: row["status"]))
            }
        }
        return Array(out.sorted { ($0.similarity, $0.runId) > ($1.similarity, $1.runId) }.prefix(limit))
    }

    /// How many runs memory holds.
    public func runCount() throws -> Int {
        try wrap("reading memory") { try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs") ?? 0 } }
    }
}

extension ProvisioDatabase {
    /// Every indexed document; read once per database handle.
    public func allDocumentsCached() throws -> [KnowledgeDocument] {
        if let docs = documentCache.withLock({ $0 }) { return docs }
        let docs = try allDocuments()
        documentCache.withLock { $0 = docs }
        return docs
    }
}

extension ProvisioDatabase {
    /// The source commit the last successful pass reconciled, for a repository and branch.
    public func reconciledSource(repo: String, branch: String) throws -> String? {
        try wrap("reading reconcile state") {
            try queue.read { db in
                try String.fetchOne(db, sql: "SELECT source FROM reconcile_state WHERE repo = ? AND branch = ?", arguments: [repo, branch])
            }
        }
    }

    /// The commit provisio pushed on top of `source`, if a pass did: it holds the same requests as the
    /// source plus the generated files, so the next pass can diff from it and skip its own writes.
    public func pushedCommit(repo: String, source: String) throws -> String? {
        try wrap("reading reconcile state") {
            try queue.read { db in
                try String.fetchOne(
                    db,
                    sql: "SELECT commitId FROM passes WHERE repo = ? AND source = ? AND outcome = 'pushed' AND commitId IS NOT NULL ORDER BY id DESC LIMIT 1",
                    arguments: [repo, source])
            }
        }
    }

    /// What one request's last pass said.
    public struct RequestState: Sendable, Hashable {
        public var path: String
        public var blob: String
        public var status: String
        public var message: String
        public init(path: String, blob: String, status: String, message: String) {
            self.path = path
            self.blob = blob
            self.status = status
            self.message = message
        }
    }

    /// Records a finished pass in one transaction: the new source, each request's state, the pass itself.
    public func recordPass(
        repo: String, branch: String, source: String, commit: String?, requests: [RequestState], seconds: Double, outcome: String,
        at date: Date = Date()
    ) throws {
        try wrap("recording the pass") {
            try queue.write { db in
                let now = date.timeIntervalSince1970
                try db.execute(
                    sql: """
                        INSERT INTO reconcile_state (repo, branch, source, updatedAt) VALUES (?, ?, ?, ?)
                        ON CONFLICT(repo, branch) DO UPDATE SET source = excluded.source, updatedAt = excluded.updatedAt
                        """, arguments: [repo, branch, source, now])
                for r in requests {
                    try db.execute(
                        sql: """
                            INSERT INTO request_state (repo, path, blob, status, message, updatedAt) VALUES (?, ?, ?, ?, ?, ?)
                            ON CONFLICT(repo, path) DO UPDATE SET blob = excluded.blob, status = excluded.status,
                              message = excluded.message, updatedAt = excluded.updatedAt
                            """, arguments: [repo, r.path, r.blob, r.status, r.message, now])
                }
                try db.execute(
                    sql: "INSERT INTO passes (repo, startedAt, seconds, source, commitId, requests, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [repo, now - seconds, seconds, source, commit, requests.count, outcome])
            }
        }
    }

    /// Records a pass that failed before it could finish (nothing else changes).
    public func recordFailedPass(repo: String, seconds: Double, outcome: String, at date: Date = Date()) throws {
        try wrap("recording the pass") {
            try queue.write { db in
                try db.execute(
                    sql: "INSERT INTO passes (repo, startedAt, seconds, source, commitId, requests, outcome) VALUES (?, ?, ?, NULL, NULL, 0, ?)",
                    arguments: [repo, date.timeIntervalSince1970 - seconds, seconds, outcome])
            }
        }
    }

    /// Each request's last recorded state for a repository, sorted by path.
    public func requestStates(repo: String) throws -> [RequestState] {
        try wrap("reading request state") {
            try queue.read { db in
                try Row.fetchAll(db, sql: "SELECT path, blob, status, message FROM request_state WHERE repo = ? ORDER BY path", arguments: [repo]).map {
                    RequestState(path: $0["path"], blob: $0["blob"], status: $0["status"], message: $0["message"])
                }
            }
        }
    }
}
