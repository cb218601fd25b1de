import Foundation
import ProvisioStore

/// Finds the documents agent 2 needs: the runtime, the framework, each dependency, and a named
/// application when the service is one. Full-text search ranks; the document's own `matches`
/// and `kind` decide, so a near miss never stands in for the real thing.
struct Retriever {
    let database: ProvisioDatabase
    var enabled = true

    func retrieve(profile: AppProfile, name: String, description: String, framework: String?, warnings: inout [String]) throws -> [RetrievedDocument] {
        var out: [RetrievedDocument] = []
        func pick(_ query: String, role: String, kinds: Set<String>, term: String, language: String? = nil) throws -> Bool {
            let hits = try database.search(query, limit: 12)
            let docs = try hits.compactMap { hit -> (ProvisioDatabase.SearchHit, KnowledgeDocument)? in
                guard kinds.contains(hit.kind), let doc = try document(hit.id) else { return nil }
                return (hit, doc)
            }
            let chosen =
                docs.first { $0.1.matches.contains(term) && (language == nil || $0.1.language == nil || $0.1.language == language) }
                ?? docs.first { d in
                    (d.1.id == term || d.1.id.hasSuffix("-" + term) || d.1.id.hasPrefix(term + "-"))
                        && (language == nil || d.1.language == nil || d.1.language == language)
                }
            guard let (hit, doc) = chosen, !out.contains(where: { $0.id == doc.id }) else { return chosen != nil }
            out.append(
                RetrievedDocument(
                    id: doc.id, title: doc.title, role: role, score: (hit.score * 1000).rounded() / 1000, kind: doc.kind, profile: doc.profile,
                    container: doc.container, vm: doc.vm, load: doc.load, sources: doc.sources.map(\.citation)))
            return true
        }

        // The generic profile is the baseline every more specific document overrides.
        _ = try pick("generic service api http", role: "baseline", kinds: ["generic"], term: "service")
        if !enabled {
            warnings.append("retrieval disabled: sized from the generic baseline only")
            return out
        }
        var runtimeFound = false
        if let language = profile.language?.value {
            // TypeScript runs on Node: look for the JavaScript runtime when no TypeScript one exists.
            runtimeFound = try pick(language, role: "runtime", kinds: ["runtime"], term: language)
            if !runtimeFound, language == "typescript" { runtimeFound = try pick("javascript node", role: "runtime", kinds: ["runtime"], term: "javascript") }
            if !runtimeFound { warnings.append("no runtime profile for '\(language)' in the knowledge base; using the generic profile") }
        }
        if let framework = profile.framework?.value {
            if !(try pick(framework, role: "framework", kinds: ["framework"], term: framework, language: profile.language?.value)),
                !(try frameworkNamedIn(framework, language: profile.language?.value, into: &out))
            {
                warnings.append("no framework profile for '\(framework)'; using the runtime's numbers")
            }
        }
        for dep in profile.dependencies {
            if !(try pick(dep.value, role: "dependency:\(dep.value)", kinds: ["datastore", "cache", "queue", "app"], term: dep.value)) {
                warnings.append("no knowledge of dependency '\(dep.value)'")
            }
        }
        // The service may itself be a well-known application ("Keycloak identity server ...").
        if let app = try ApplicationMatcher(documents: database.allDocumentsCached()).match(
            description: description, framework: framework,
            defaultInstall: profile.peakQps.source == .default && profile.expectedQps.source == .default && profile.tier.source == .default,
            users: profile.concurrentUsers?.value, qps: profile.peakQps.source == .default ? nil : profile.peakQps.value)
        {
            out.removeAll { $0.id == app.id }
            out.insert(app, at: 0)
        }
        return out
    }

    /// A framework written in free form ("Next.js (React, Node.js)", "ASP.NET Core gRPC"): the framework
    /// document whose name occurs in it, the longest name first.
    private func frameworkNamedIn(_ framework: String, language: String?, into out: inout [RetrievedDocument]) throws -> Bool {
        let text = " " + framework.lowercased() + " "
        var best: (KnowledgeDocument, Int)?
        // TypeScript frameworks are documented under the JavaScript they run as.
        let languages: Set<String?> = language == "typescript" ? ["typescript", "javascript"] : [language]
        for doc in try database.allDocumentsCached()
        where doc.kind == "framework" && (language == nil || doc.language == nil || languages.contains(doc.language)) {
            for phrase in doc.matches where phrase.count >= 3 && ApplicationMatcher.find(phrase, in: text) != nil {
                if best == nil || phrase.count > best!.1 { best = (doc, phrase.count) }
            }
        }
        guard let (doc, _) = best, !out.contains(where: { $0.id == doc.id }) else { return false }
        out.append(
            RetrievedDocument(
                id: doc.id, title: doc.title, role: "framework", score: 1, kind: doc.kind, profile: doc.profile, container: doc.container, vm: doc.vm,
                load: doc.load, sources: doc.sources.map(\.citation)))
        return true
    }

    private func document(_ id: String) throws -> KnowledgeDocument? {
        try database.allDocumentsCached().first { $0.id == id }
    }
}
