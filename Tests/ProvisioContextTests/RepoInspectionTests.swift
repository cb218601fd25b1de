import Foundation
import ProvisioGit
import ProvisioTestSupport
import Testing

@testable import ProvisioContext

/// Inspection against real git repositories made with the git command line.
@Suite struct RepoInspectionTests {
    static func makeRepo(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "provisio-repo-\(UUID().uuidString.prefix(8))"
        for (path, text) in files {
            let full = dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
        for args in [["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init"]] {
            #expect(try Shell.run(["git", "-C", dir] + args).status == 0)
        }
        return dir
    }

    @Test func readsDockerfileHeaderBuildFilesAndRoutes() throws {
        let repo = try Self.makeRepo([
            "Dockerfile": """
            # --- Application Metadata ---
            # name: ledger
            # language: golang
            # framework: gin
            # expected_qps: 750
            # sla_latency_ms: 80
            # criticality: high
            # ---
            FROM golang:1.22 AS build
            FROM gcr.io/distroless/static-debian12
            EXPOSE 9090/tcp
            """,
            "go.mod": "module example.com/ledger\n\nrequire (\n  github.com/gin-gonic/gin v1.10.0\n  github.com/jackc/pgx/v5 v5.6.0\n)\n",
            "cmd/server/main.go": "package main\nfunc main() { r.GET(\"/entries\", list); r.POST(\"/entries/:id\", put) }\n",
            "node_modules/x/index.js": "app.get('/should-not-appear', f)",
        ])
        let cache = RepositoryCache(directory: NSTemporaryDirectory() + "provisio-cache-\(UUID().uuidString.prefix(8))")
        let snapshot = try cache.snapshot(of: "file://" + repo, wanted: RepoInspector.wanted)
        #expect(snapshot.commit.count == 40)
        let facts = RepoInspector.inspect(files: snapshot.files)
        #expect(facts.language == "go")
        #expect(facts.framework == "gin")
        #expect(facts.exposedPort == 9090)
        #expect(facts.baseImage == "gcr.io/distroless/static-debian12")
        #expect(facts.metadata["expected_qps"] == "750")
        #expect(facts.metadata["criticality"] == "high")
        #expect(facts.dependencies["postgresql"] == "go.mod")
        #expect(facts.endpoints == ["/entries", "/entries/:id"])
        // A second snapshot of the same URL replaces the cache cleanly.
        let again = try cache.snapshot(of: "file://" + repo, wanted: RepoInspector.wanted)
        #expect(again.commit == snapshot.commit)
    }

    @Test(
        arguments: [
            (["package.json": #"{"dependencies": {"express": "^4", "mongoose": "^8", "ioredis": "^5"}}"#], "javascript", "express", ["mongodb", "redis"]),
            (
                ["package.json": #"{"dependencies": {"@nestjs/core": "^10", "pg": "^8"}, "devDependencies": {"typescript": "^5"}}"#], "typescript", "nestjs",
                ["postgresql"]
            ),
            (["requirements.txt": "fastapi==0.110\nuvicorn[standard]\nasyncpg\nredis>=5\n"], "python", "fastapi", ["postgresql", "redis"]),
            (["pyproject.toml": "[project]\ndependencies = [\"Django>=5\", \"psycopg[binary]\"]\n"], "python", "django", ["postgresql"]),
            (
                [
                    "pom.xml":
                        "<project><parent><artifactId>spring-boot-starter-parent</artifactId></parent><dependency><groupId>org.postgresql</groupId></dependency></project>"
                ], "java", "spring-boot", ["postgresql"]
            ),
            (["build.gradle.kts": "plugins { kotlin(\"jvm\") }\ndependencies { implementation(\"io.ktor:ktor-server-core\") }"], "kotlin", "ktor", []),
            (["Gemfile": "gem 'rails', '~> 7.1'\ngem 'pg'\ngem 'sidekiq'\n"], "ruby", "rails", ["postgresql"]),
            (["composer.json": #"{"require": {"laravel/framework": "^11", "predis/predis": "^2"}}"#], "php", "laravel", ["redis"]),
            (
                ["Api/Api.csproj": #"<Project Sdk="Microsoft.NET.Sdk.Web"><PackageReference Include="Npgsql" /></Project>"#], "csharp", "aspnetcore",
                ["postgresql"]
            ),
            (["Cargo.toml": "[dependencies]\naxum = \"0.7\"\nredis = \"0.25\"\n"], "rust", "axum", ["redis"]),
        ] as [([String: String], String, String, [String])])
    func recognisesEachStack(files: [String: String], language: String, framework: String, deps: [String]) throws {
        let facts = RepoInspector.inspect(files: files)
        #expect(facts.language == language)
        #expect(facts.framework == framework)
        #expect(facts.dependencies.keys.sorted() == deps)
    }

    @Test func unreachableRepositoryThrowsAGitError() throws {
        let cache = RepositoryCache(directory: NSTemporaryDirectory() + "provisio-cache-\(UUID().uuidString.prefix(8))")
        #expect(throws: (any Error).self) { try cache.snapshot(of: "file:///nonexistent/provisio/repo", wanted: { _ in true }) }
    }

    @Test(arguments: [
        ("https://git.example.com/acme/app", [RepoRewrite(from: "https://git.example.com/", to: "file:///srv/mirror/")], "file:///srv/mirror/acme/app"),
        ("https://github.com/acme/app", [RepoRewrite(from: "https://git.example.com/", to: "x")], "https://github.com/acme/app"),
    ])
    func rewritesRepositoryURLs(url: String, rules: [RepoRewrite], expected: String) {
        #expect(RepoRewrite.apply(rules, to: url) == expected)
    }
}
