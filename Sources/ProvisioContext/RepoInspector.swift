import Foundation
import ProvisioGit

/// What an application repository says about the service.
public struct RepoFacts: Sendable, Hashable, Codable {
    public var language: String?
    public var languageFrom: String?
    public var framework: String?
    public var frameworkFrom: String?
    /// The final stage's base image in the Dockerfile.
    public var baseImage: String?
    /// The first port the Dockerfile exposes.
    public var exposedPort: Int?
    /// Lines of the `# --- Application Metadata ---` block, by key.
    public var metadata: [String: String] = [:]
    /// Datastores and queues the code depends on, with the file that shows it.
    public var dependencies: [String: String] = [:]
    /// Route patterns found in the code.
    public var endpoints: [String] = []
    /// Worker count from a gunicorn/uvicorn/puma command line.
    public var workers: Int?
    public init() {}
}

/// Reads a repository snapshot the way an SRE would skim it: Dockerfile, build manifests, routes.
public enum RepoInspector {
    static let sourceExtensions: Set<String> = ["go", "js", "mjs", "cjs", "ts", "py", "java", "kt", "cs", "rb", "php", "rs", "ex", "exs", "scala"]
    static let manifests: Set<String> = [
        "dockerfile", "containerfile", "go.mod", "package.json", "requirements.txt", "pyproject.toml", "pipfile", "pom.xml", "build.gradle",
        "build.gradle.kts", "gemfile", "composer.json", "cargo.toml", "mix.exs", "build.sbt",
    ]

    /// Which files a snapshot should read.
    public static func wanted(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent.lowercased()
        if manifests.contains(name) || name.hasPrefix("dockerfile") || name.hasSuffix(".csproj") { return true }
        if path.split(separator: "/").contains(where: { ["test", "tests", "spec", "__tests__", "testdata", "docs", "examples"].contains($0.lowercased()) }) {
            return false
        }
        return sourceExtensions.contains((name as NSString).pathExtension)
    }

    /// Facts from the files of `snapshot`; the files nearest the root win.
    public static func inspect(files: [String: String]) -> RepoFacts {
        var facts = RepoFacts()
        let ordered = files.keys.sorted { a, b in
            let da = a.split(separator: "/").count, db = b.split(separator: "/").count
            return da == db ? a < b : da < db
        }
        func setStack(_ language: String?, _ framework: String?, _ file: String) {
            if let language, facts.language == nil {
                facts.language = language
                facts.languageFrom = file
            }
            if let framework, facts.framework == nil {
                facts.framework = framework
                facts.frameworkFrom = file
            }
        }
        func dep(_ name: String, _ file: String) { if facts.dependencies[name] == nil { facts.dependencies[name] = file } }

        for path in ordered {
            let text = files[path]!
            let name = (path as NSString).lastPathComponent.lowercased()
            let lower = text.lowercased()
            switch name {
            case _ where name.hasPrefix("dockerfile") || name == "containerfile":
                guard facts.baseImage == nil else { continue }
                inspectDockerfile(text, into: &facts)
                if let l = facts.metadata["language"] { setStack(normalizeLanguage(l), nil, path + " header") }
                if let f = facts.metadata["framework"] { setStack(nil, normalizeFramework(f), path + " header") }
            case "go.mod":
                let table = [("gin-gonic/gin", "gin"), ("labstack/echo", "echo"), ("gofiber/fiber", "fiber"), ("go-chi/chi", "chi")]
                setStack("go", table.first { lower.contains($0.0) }?.1, path)
                for (needle, d) in [
                    ("jackc/pgx", "postgresql"), ("lib/pq", "postgresql"), ("go-redis", "redis"), ("redis/go-redis", "redis"), ("mongo-driver", "mongodb"),
                    ("go-sql-driver/mysql", "mysql"), ("segmentio/kafka-go", "kafka"), ("ibm/sarama", "kafka"), ("confluent-kafka-go", "kafka"),
                    ("rabbitmq/amqp091-go", "rabbitmq"), ("streadway/amqp", "rabbitmq"), ("nats-io/nats.go", "nats"),
                ] where lower.contains(needle) { dep(d, path) }
            case "package.json":
                let ts = lower.contains("\"typescript\"")
                let table = [
                    ("\"@nestjs/core\"", "nestjs"), ("\"next\"", "nextjs"), ("\"fastify\"", "fastify"), ("\"express\"", "express"), ("\"koa\"", "koa"),
                ]
                setStack(ts ? "typescript" : "javascript", table.first { lower.contains($0.0) }?.1, path)
                for (needle, d) in [
                    ("\"pg\"", "postgresql"), ("\"postgres\"", "postgresql"), ("\"mongoose\"", "mongodb"), ("\"mongodb\"", "mongodb"), ("\"ioredis\"", "redis"),
                    ("\"redis\"", "redis"), ("\"kafkajs\"", "kafka"), ("\"amqplib\"", "rabbitmq"), ("\"mysql2\"", "mysql"), ("\"nats\"", "nats"),
                ] where lower.contains(needle) { dep(d, path) }
            case "requirements.txt", "pyproject.toml", "pipfile":
                let pkgs = pythonPackages(lower)
                let table = [
                    ("fastapi", "fastapi"), ("django", "django"), ("flask", "flask"), ("celery", "celery"), ("starlette", "starlette"), ("aiohttp", "aiohttp"),
                ]
                setStack("python", table.first { pkgs.contains($0.0) }?.1, path)
                for (needle, d) in [
                    ("psycopg", "postgresql"), ("psycopg2", "postgresql"), ("psycopg2-binary", "postgresql"), ("asyncpg", "postgresql"), ("redis", "redis"),
                    ("pymongo", "mongodb"), ("motor", "mongodb"), ("kafka-python", "kafka"), ("confluent-kafka", "kafka"), ("aiokafka", "kafka"),
                    ("pika", "rabbitmq"), ("aio-pika", "rabbitmq"), ("mysqlclient", "mysql"), ("pymysql", "mysql"), ("elasticsearch", "elasticsearch"),
                ] where pkgs.contains(needle) { dep(d, path) }
            case "pom.xml", "build.gradle", "build.gradle.kts":
                let kotlin = lower.contains("kotlin")
                let table = [("spring-boot", "spring-boot"), ("quarkus", "quarkus"), ("micronaut", "micronaut"), ("io.ktor", "ktor")]
                setStack(kotlin ? "kotlin" : "java", table.first { lower.contains($0.0) }?.1, path)
                for (needle, d) in [
                    ("org.postgresql", "postgresql"), ("<artifactid>postgresql</artifactid>", "postgresql"), ("data-redis", "redis"), ("jedis", "redis"),
                    ("lettuce", "redis"), ("mongodb", "mongodb"), ("kafka", "kafka"), ("amqp", "rabbitmq"), ("mysql", "mysql"),
                ] where lower.contains(needle) { dep(d, path) }
            case "gemfile":
                let table = [("'rails'", "rails"), ("\"rails\"", "rails"), ("sinatra", "sinatra"), ("sidekiq", "sidekiq")]
                setStack("ruby", table.first { lower.contains($0.0) }?.1, path)
                for (needle, d) in [("'pg'", "postgresql"), ("\"pg\"", "postgresql"), ("redis", "redis"), ("mysql2", "mysql"), ("mongoid", "mongodb")]
                where lower.contains(needle) { dep(d, path) }
            case "composer.json":
                setStack("php", lower.contains("laravel/framework") ? "laravel" : lower.contains("symfony/") ? "symfony" : nil, path)
                if lower.contains("predis") || lower.contains("phpredis") { dep("redis", path) }
            case "cargo.toml":
                setStack("rust", lower.contains("axum") ? "axum" : lower.contains("actix-web") ? "actix" : nil, path)
                for (needle, d) in [
                    ("tokio-postgres", "postgresql"), ("postgres", "postgresql"), ("redis", "redis"), ("rdkafka", "kafka"), ("lapin", "rabbitmq"),
                ] where lower.contains(needle) { dep(d, path) }
            case "mix.exs":
                setStack("elixir", lower.contains(":phoenix") ? "phoenix" : nil, path)
                if lower.contains(":postgrex") { dep("postgresql", path) }
            case "build.sbt":
                setStack("scala", lower.contains("akka-http") ? "akka-http" : lower.contains("playframework") ? "play" : nil, path)
            case _ where name.hasSuffix(".csproj"):
                setStack("csharp", lower.contains("microsoft.net.sdk.web") ? "aspnetcore" : nil, path)
                for (needle, d) in [
                    ("npgsql", "postgresql"), ("stackexchange.redis", "redis"), ("mongodb.driver", "mongodb"), ("confluent.kafka", "kafka"),
                    ("rabbitmq.client", "rabbitmq"),
                ] where lower.contains(needle) { dep(d, path) }
            default:
                break
            }
        }
        var endpoints = Set<String>()
        for path in ordered where sourceExtensions.contains((path as NSString).pathExtension.lowercased()) {
            for e in routes(in: files[path]!, path: path) where endpoints.count < 50 { endpoints.insert(e) }
        }
        facts.endpoints = endpoints.sorted()
        return facts
    }

    static func pythonPackages(_ text: String) -> Set<String> {
        var out = Set<String>()
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == "[" || $0 == "\"" || $0 == "'" }) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.hasPrefix("#"), let first = line.first, first.isLetter else { continue }
            let name = line.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
            out.insert(name.replacingOccurrences(of: "_", with: "-"))
        }
        return out
    }

    static func inspectDockerfile(_ text: String, into facts: inout RepoFacts) {
        var inHeader = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.lowercased().hasPrefix("# --- application metadata") {
                inHeader = true
                continue
            }
            if inHeader {
                if line.hasPrefix("# ---") || !line.hasPrefix("#") {
                    inHeader = false
                    if !line.hasPrefix("#") {} else { continue }
                } else {
                    let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                    if let colon = body.firstIndex(of: ":") {
                        let key = body[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                        let value = body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                        if !key.isEmpty && !value.isEmpty && key.count <= 40 && value.count <= 200 { facts.metadata[key] = value }
                    }
                    continue
                }
            }
            let upper = line.uppercased()
            if upper.hasPrefix("FROM ") {
                let parts = line.split(separator: " ").map(String.init).filter { !$0.hasPrefix("--") }
                if parts.count >= 2 { facts.baseImage = parts[1] }
            } else if upper.hasPrefix("EXPOSE "), facts.exposedPort == nil {
                let first = line.dropFirst(7).split(separator: " ").first.map { $0.split(separator: "/").first.map(String.init) ?? "" } ?? ""
                if let p = Int(first), (1...65535).contains(p) { facts.exposedPort = p }
            } else if upper.hasPrefix("CMD") || upper.hasPrefix("ENTRYPOINT") {
                if let r = line.range(of: #"(?:--workers|-w|WEB_CONCURRENCY=)[=\s",]*(\d+)"#, options: .regularExpression) {
                    facts.workers = Int(line[r].filter(\.isNumber))
                }
            }
        }
    }

    static let routePatterns: [(String, Int)] = [
        (#"\.(?:GET|POST|PUT|DELETE|PATCH|Get|Post|Put|Delete|Patch|HandleFunc|Handle)\(\s*"(/[^"]*)""#, 1),  // Go
        (#"\b(?:app|router|r|api|server|fastify)\.(?:get|post|put|delete|patch|all|route)\(\s*['"`](/[^'"`]*)"#, 1),  // Node, Flask-style
        (#"@\w+\.(?:get|post|put|delete|patch|route|api_route)\(\s*["'](/[^"']*)"#, 1),  // FastAPI / Flask
        (#"\b(?:re_)?path\(\s*r?["']\^?([^"']*)["']"#, 1),  // Django
        (#"@(?:Get|Post|Put|Delete|Patch|Request)Mapping\(\s*(?:value\s*=\s*|path\s*=\s*)?\{?\s*"(/?[^"]*)""#, 1),  // Spring
        (#"\bMap(?:Get|Post|Put|Delete|Patch)\(\s*"(/[^"]*)""#, 1),  // ASP.NET minimal APIs
        (#"^\s*(?:get|post|put|patch|delete)\s+['"](/[^'"]*)"#, 1),  // Rails routes
        (#"\.route\(\s*"(/[^"]*)""#, 1),  // axum
    ]

    static func routes(in text: String, path: String) -> [String] {
        var out: [String] = []
        for (pattern, group) in routePatterns {
            guard let re = try? NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines]) else { continue }
            let ns = text as NSString
            for m in re.matches(in: text, range: NSRange(location: 0, length: min(ns.length, 200_000))) {
                guard m.numberOfRanges > group, m.range(at: group).location != NSNotFound else { continue }
                var route = ns.substring(with: m.range(at: group))
                route = route.replacingOccurrences(of: "$", with: "")
                if !route.hasPrefix("/") { route = "/" + route }
                guard route.count <= 120, route.allSatisfy({ !$0.isWhitespace }) else { continue }
                out.append(route)
            }
        }
        return out
    }

    /// Canonical language names: go, java, kotlin, scala, javascript, typescript, python, csharp, ruby, php, rust, elixir.
    public static func normalizeLanguage(_ raw: String) -> String {
        let s = raw.lowercased().trimmingCharacters(in: .whitespaces)
        let table: [String: String] = [
            "golang": "go", "node": "javascript", "nodejs": "javascript", "node.js": "javascript", "js": "javascript",
            "ts": "typescript", "py": "python", "python3": "python", "c#": "csharp", "dotnet": "csharp", ".net": "csharp",
            "cs": "csharp", "asp.net": "csharp", "jvm": "java", "rb": "ruby", "cpp": "c++", "cplusplus": "c++",
        ]
        return table[s] ?? s
    }

    /// Canonical framework names: spring-boot, gin, express, fastapi, django, aspnetcore, rails, ...
    public static func normalizeFramework(_ raw: String) -> String {
        // "gRPC (grpc-java)" → "grpc"; "Django (uWSGI) + Celery" → "django".
        var s = raw.lowercased().replacingOccurrences(of: #"\([^)]*\)"#, with: " ", options: .regularExpression)
        if let cut = s.range(of: #"\s(\+|/|&|and|with)\s"#, options: .regularExpression) { s = String(s[..<cut.lowerBound]) }
        s = s.trimmingCharacters(in: .whitespaces)
        let table: [String: String] = [
            "spring boot": "spring-boot", "springboot": "spring-boot", "spring": "spring-boot", "express.js": "express",
            "expressjs": "express", "nest": "nestjs", "nest.js": "nestjs", "next.js": "nextjs", "next": "nextjs",
            "fast api": "fastapi", "asp.net core": "aspnetcore", "asp.net": "aspnetcore", "aspnet": "aspnetcore",
            "ruby on rails": "rails", "actix-web": "actix", "gin-gonic": "gin", "go-gin": "gin",
        ]
        return table[s] ?? s.replacingOccurrences(of: " ", with: "-")
    }
}
