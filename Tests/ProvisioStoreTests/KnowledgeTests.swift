import Foundation
import ProvisioCore
import Testing

@testable import ProvisioStore

@Suite struct KnowledgeTests {
    static let knowledge =
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/knowledge"

    @Test func theCorpusLoadsAndIsBroad() throws {
        let docs = try KnowledgeDocument.loadAll(from: Self.knowledge)
        #expect(docs.count >= 80)
        let named = docs.filter { ["app", "datastore", "cache", "queue"].contains($0.kind) }
        #expect(named.count >= 50)
        for doc in docs {
            #expect(!doc.sources.isEmpty && doc.sources.allSatisfy { $0.url != nil || ($0.repo != nil && $0.path != nil) }, "\(doc.id) needs sources")
            #expect(!doc.body.isEmpty, "\(doc.id) needs an explanation")
            #expect(doc.matches.allSatisfy { $0 == $0.lowercased() })
            if doc.kind == "runtime" { #expect(doc.profile?.cpuMsPerRequest != nil && doc.profile?.baseMemory != nil, "\(doc.id)") }
            if let c = doc.container?.requests, let l = doc.container?.limits {
                if let rc = c.cpu, let lc = l.cpu { #expect(lc >= rc, "\(doc.id): CPU limit below request") }
                if let rm = c.memory, let lm = l.memory { #expect(lm >= rm, "\(doc.id): memory limit below request") }
            }
            if let tiers = doc.vm { #expect(tiers.map(\.upToQps) == tiers.map(\.upToQps).sorted(), "\(doc.id): vm tiers must ascend") }
        }
        // Every runtime the request standard names has a profile.
        for language in ["go", "java", "javascript", "python", "csharp", "ruby", "php", "rust"] {
            #expect(docs.contains { $0.kind == "runtime" && ($0.language == language || $0.matches.contains(language)) }, "no runtime for \(language)")
        }
    }

    static func text(_ front: String) -> String { "---\n\(front)\n---\nBody.\n" }

    @Test(arguments: [
        ("id: x\ntitle: t\nkind: app\nmatches: [x]\nload: l\nsources: [{url: u}]\nprofle: {}", "profle", "unknown field"),
        ("id: y\ntitle: t\nkind: app\nmatches: [x]\nload: l\nsources: [{url: u}]", "id", "must equal the file name"),
        ("id: x\ntitle: t\nkind: gadget\nmatches: [x]\nload: l\nsources: [{url: u}]", "kind", "is not one of"),
        ("id: x\ntitle: t\nkind: app\nmatches: [x]\nload: l\nsources: []", "sources", "at least one source"),
        (
            "id: x\ntitle: t\nkind: app\nmatches: [x]\ncontainer: {requests: {cpu: lots}}\nload: l\nsources: [{url: u}]", "container.requests.cpu",
            "not a CPU quantity"
        ),
        ("id: x\nkind: app\nmatches: [x]\nload: l\nsources: [{url: u}]", "title", "required field is missing"),
    ])
    func badDocumentsNameTheField(front: String, field: String, message: String) {
        do {
            _ = try KnowledgeDocument.parse(Self.text(front), path: "x.md")
            Issue.record("expected an error for \(field)")
        } catch let e as ProvisioError {
            #expect(e.field == field, "\(e)")
            #expect(e.description.contains(message), "\(e)")
            #expect(e.file == "x.md")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func searchRanksTheNamedDocumentFirstAndRecallFindsSimilarRuns() throws {
        let db = try ProvisioDatabase(path: NSTemporaryDirectory() + "provisio-kb-\(UUID().uuidString.prefix(8))/p.sqlite")
        #expect(try db.refreshKnowledge(from: Self.knowledge))
        #expect(try db.refreshKnowledge(from: Self.knowledge) == false)
        #expect(try db.search("redis", limit: 3).first?.id == "redis")
        #expect(try db.search("spring boot", limit: 3).first?.id == "java-spring-boot")
        // Documents that mention PostgreSQL all through (an HA packaging, a pooler) rank below PostgreSQL's own.
        #expect(try db.search("PostgreSQL", limit: 3).first?.id == "postgresql")
        #expect(try db.search("argo cd", limit: 3).first?.id == "argo-cd")
        #expect(try db.search("\"unbalanced ( quotes", limit: 3).count >= 0, "raw MATCH syntax must not throw")
        func run(_ name: String, _ lang: String, _ qps: Double) -> ProvisioDatabase.RunRecord {
            .init(
                requestName: name, requestPath: "apps/\(name)/provision.yaml", requestDigest: "d", language: lang, framework: nil, tier: "production",
                peakQps: qps, dependencies: ["postgresql"], status: "approved", summary: "s", contextJSON: "{}", draftJSON: "{}", finalJSON: "{}")
        }
        try db.record(run("a-go", "go", 1000))
        try db.record(run("b-java", "java", 1000))
        try db.record(run("c-go", "go", 50))
        let similar = try db.similarRuns(language: "go", framework: nil, tier: "production", peakQps: 900, dependencies: ["postgresql"], excludingName: "me")
        #expect(similar.map(\.requestName).prefix(2) == ["a-go", "c-go"])
        #expect(!similar.contains { $0.requestName == "b-java" } || similar.last?.requestName == "b-java")
    }
}
