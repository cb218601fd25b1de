import ProvisioCore
import Testing

@testable import ProvisioRequest

/// A field of ``DescriptionFacts`` that a row can require to stay empty.
enum FactField: String, Sendable, CaseIterable {
    case expectedQps, peakQps, concurrentUsers, latency, availability, zeroDowntime, stateful, tier, pattern, oom, language, framework
}

/// One description and what must (and must not) be read from it.
///
/// A nil expectation means "not checked"; a field listed in `absent` must not be inferred at all.
struct InferenceCase: Sendable, CustomTestStringConvertible {
    var text: String
    var expectedQps: Double?
    var peakQps: Double?
    var concurrentUsers: Int?
    var latency: Double?
    var availability: String?
    var zeroDowntime: Bool?
    var stateful: Bool?
    var tier: String?
    var pattern: String?
    var oom: Bool?
    var language: String?
    var framework: String?
    var dependencies: [String]?
    var absent: Set<FactField>

    init(
        _ text: String, expectedQps: Double? = nil, peakQps: Double? = nil, concurrentUsers: Int? = nil, latency: Double? = nil,
        availability: String? = nil, zeroDowntime: Bool? = nil, stateful: Bool? = nil, tier: String? = nil, pattern: String? = nil,
        oom: Bool? = nil, language: String? = nil, framework: String? = nil, dependencies: [String]? = nil, absent: Set<FactField> = []
    ) {
        self.text = text
        self.expectedQps = expectedQps
        self.peakQps = peakQps
        self.concurrentUsers = concurrentUsers
        self.latency = latency
        self.availability = availability
        self.zeroDowntime = zeroDowntime
        self.stateful = stateful
        self.tier = tier
        self.pattern = pattern
        self.oom = oom
        self.language = language
        self.framework = framework
        self.dependencies = dependencies
        self.absent = absent
    }

    var testDescription: String { text.count > 70 ? String(text.prefix(67)) + "..." : text }
}

let inferenceCases: [InferenceCase] = [
    // The examples shipped with the repository.
    .init(
        "Order API in Go/Gin behind the storefront: it takes new orders from the checkout, lists a customer's orders and serves order details to the account pages. 500 QPS normally and 2000 at the Black Friday peak, P99 under 100 ms, production critical, stateless, PostgreSQL and Redis behind it.",
        expectedQps: 500, peakQps: 2000, latency: 100, stateful: false, tier: "production", language: "go", framework: "gin",
        dependencies: ["postgresql", "redis"], absent: [.concurrentUsers, .availability]),
    .init(
        "Product catalog API in Java Spring Boot that serves product listings and product details to the storefront. 300 QPS expected and 1200 at peak during sales, P99 under 200 ms, production, stateless, with its own PostgreSQL database on a Proxmox VM.",
        expectedQps: 300, peakQps: 1200, latency: 200, stateful: false, tier: "production", language: "java", framework: "spring-boot",
        dependencies: ["postgresql"]),
    .init(
        "Payment API in Node.js/Express that authorises and captures card payments for the checkout. Up to 5000 QPS at peak, P99 under 50 ms, zero downtime: a payment that fails during a deploy is a lost sale. MongoDB holds the payment records and Redis the idempotency keys.",
        peakQps: 5000, latency: 50, zeroDowntime: true, language: "javascript", framework: "express",
        dependencies: ["mongodb", "redis"], absent: [.expectedQps]),
    .init(
        "Supermarket inventory service in Python/Django that keeps shelf and warehouse stock counts in PostgreSQL. Stores push stock updates from their tills all day. Zero downtime, 2000 QPS peak on Saturday mornings, P99 under 200 ms.",
        peakQps: 2000, latency: 200, zeroDowntime: true, language: "python", framework: "django", dependencies: ["postgresql"],
        absent: [.expectedQps]),
    .init(
        "Backend API in Python/FastAPI for the new product launch. About 200 QPS expected after launch and 800 QPS at the launch-day peak, P99 under 150 ms, high criticality. PostgreSQL holds the items and Redis caches the hot pages.",
        expectedQps: 200, peakQps: 800, latency: 150, tier: "production", language: "python", framework: "fastapi",
        dependencies: ["postgresql", "redis"]),
    .init(
        "Recommendation API in Go/Gin, scored against a model that is loaded in memory and refreshed every night. Two replicas at night and up to four in the late afternoon. About 400 QPS on an ordinary day and 1500 QPS at the peak of a sale, P99 under 120 ms.",
        expectedQps: 400, peakQps: 1500, latency: 120, pattern: "diurnal", language: "go", framework: "gin"),

    // Internal tools and admin pages.
    .init(
        "Internal admin dashboard for the support team, Django + Postgres. Roughly 120 requests per minute during office hours; pages should respond within 2 seconds. Not business-critical.",
        expectedQps: 2, latency: 2000, pattern: "diurnal", language: "python", framework: "django", dependencies: ["postgresql"],
        absent: [.tier, .peakQps, .concurrentUsers]),
    .init(
        "Small Flask app the finance team uses to upload CSV exports; maybe 5 users at a time, no SLA, dev environment only.",
        concurrentUsers: 5, tier: "dev", language: "python", framework: "flask", absent: [.expectedQps, .latency, .availability]),
    .init(
        "Internal holiday calendar, does not need high availability, one replica is fine. Flask and SQLite.",
        language: "python", framework: "flask", absent: [.zeroDowntime, .tier, .expectedQps, .peakQps]),
    .init(
        "Non-critical internal wiki search, Node.js and MongoDB, 15 rps, fine to restart anytime.",
        expectedQps: 15, language: "javascript", dependencies: ["mongodb"], absent: [.tier, .framework, .peakQps]),
    .init(
        "Expense approval API in Python with strict guard rails on who can approve what; about 10 rps, internal use.",
        expectedQps: 10, language: "python", absent: [.framework]),

    // Words that look like a stack but are not.
    .init(
        "Go live is planned for next week. Coupon service for the mobile app, ~150 rps, spikes to 600 rps when a push notification goes out.",
        expectedQps: 150, peakQps: 600, pattern: "spiky", absent: [.language, .framework]),
    .init(
        "Shipment tracking API for the carriers. Go/no-go review is on Friday, then it takes live traffic: 80 rps average, 300 rps peak.",
        expectedQps: 80, peakQps: 300, tier: "production", absent: [.language, .framework]),
    .init(
        "Checkout service in Java 21 that handles express checkout and one-click payments. 250 req/s average, 900 req/s on Black Friday, p99 < 150ms, 99.95% availability, zero-downtime deploys.",
        expectedQps: 250, peakQps: 900, latency: 150, availability: "99.95", zeroDowntime: true, language: "java",
        absent: [.framework]),
    .init(
        "Gift card API in Go. Traffic jumps during the spring sale: 100 rps normally, 1,000 rps at peak.",
        expectedQps: 100, peakQps: 1000, language: "go", absent: [.framework]),
    .init(
        "Stock lookup service in Java 17 that gives the tills a fast API for price checks, 600 rps, P99 under 40 ms.",
        expectedQps: 600, latency: 40, language: "java", absent: [.framework]),
    .init(
        "Reporting API in Python that runs on a dedicated node next to the warehouse database (ClickHouse). 20 rps, responses within 5 seconds.",
        expectedQps: 20, latency: 5000, language: "python", dependencies: ["clickhouse"], absent: [.framework]),
    .init(
        "Link shortener served at go.acme.net, written in Rust, 3k rps peak, sub-5ms responses.",
        peakQps: 3000, latency: 5, language: "rust", absent: [.framework, .expectedQps]),
    .init(
        "Shipping rates API in Ruby, hosted in our Phoenix data center, about 200 rps.",
        expectedQps: 200, language: "ruby", absent: [.framework]),

    // Load written the ways people write it.
    .init(
        "Search API for the marketplace in Rust (axum) in front of Elasticsearch. 2k QPS normally, bursts up to 8k QPS when a newsletter goes out, P99 < 80 ms.",
        expectedQps: 2000, peakQps: 8000, latency: 80, pattern: "spiky", language: "rust", framework: "axum",
        dependencies: ["elasticsearch"]),
    .init(
        "Inventory sync API in C# / ASP.NET Core, 2,000 requests per second on average and 6,500 requests per second at peak, 99.9% uptime SLA, Redis cache in front of SQL Server.",
        expectedQps: 2000, peakQps: 6500, availability: "99.9", language: "csharp", framework: "aspnetcore", dependencies: ["redis"]),
    .init(
        "Login service in Java that checks passwords and issues tokens: about 45 logins/s normally, 300 logins/s at the Monday-morning peak.",
        expectedQps: 45, peakQps: 300, language: "java"),
    .init(
        "Feature-flag lookup service in Rust, 12k lookups per second at peak, P99 under 5 ms.",
        peakQps: 12000, latency: 5, language: "rust", absent: [.expectedQps]),
    .init(
        "Ad impression tracker in Go that ingests 1.5 million requests per minute at peak and pushes events to Kafka. Stateless, sub-10ms responses.",
        peakQps: 25000, latency: 10, stateful: false, language: "go", dependencies: ["kafka"], absent: [.expectedQps]),
    .init(
        "Webhook receiver for Stripe events, Ruby on Rails with Sidekiq workers and Redis. Normally 120 requests per minute, Black Friday spikes to 3,000 requests per minute. Respond within 2 seconds or Stripe retries.",
        expectedQps: 2, peakQps: 50, latency: 2000, pattern: "spiky", language: "ruby", framework: "rails", dependencies: ["redis"]),
    .init(
        "Geo lookup API, 350 requests/second on a normal day, Go + Redis, P95 under 25 ms.",
        expectedQps: 350, latency: 25, language: "go", dependencies: ["redis"]),
    .init(
        "Invoice PDF renderer in Kotlin with Ktor. Around 36,000 requests per hour during month-end close, each render may take up to 8 seconds.",
        expectedQps: 10, language: "kotlin", framework: "ktor"),
    .init(
        "Peaks of 1,200 rps at lunchtime, normally around 300 rps. Food ordering API in TypeScript with Express.",
        expectedQps: 300, peakQps: 1200, pattern: "diurnal", language: "typescript", framework: "express"),
    .init(
        "Usually 300 rps but up to 1200 rps during the evening football matches. Live scores API in Go, stateless.",
        expectedQps: 300, peakQps: 1200, stateful: false, language: "go"),

    .init(
        "Payments gateway in Java (Spring Boot 3). Must be highly available (99.99%), p99 latency below 250ms, handles ~800 TPS with bursts to 3,000 TPS on payday.",
        expectedQps: 800, peakQps: 3000, latency: 250, availability: "99.99", zeroDowntime: true, pattern: "spiky", language: "java",
        framework: "spring-boot"),
    .init(
        "Event ticketing API: traffic is usually low (~20 rps) but when tickets go on sale we see 50x spikes, up to 1,000 rps.",
        expectedQps: 20, peakQps: 1000, pattern: "spiky"),
    .init(
        "Kafka consumer that processes 20k events/s from the clickstream topic and writes aggregates to ClickHouse; it's a Go binary.",
        expectedQps: 20000, language: "go", dependencies: ["kafka", "clickhouse"], absent: [.peakQps, .framework]),
    .init(
        "Audit log writer: 864,000 requests per day, three nines is enough, Go service. Latency is not critical; a response under 2s is fine.",
        expectedQps: 10, latency: 2000, availability: "99.9", language: "go", absent: [.tier, .peakQps]),
    .init(
        "Mobile BFF in TypeScript (NestJS) serving the iOS and Android apps; 1,000 rps during the day, near zero at night.",
        expectedQps: 1000, pattern: "diurnal", language: "typescript", framework: "nestjs"),
    .init(
        "Legacy PHP monolith (Symfony) on MariaDB, 150 req/s, sessions stored on local disk so it is stateful.",
        expectedQps: 150, stateful: true, language: "php", framework: "symfony", dependencies: ["mariadb"], absent: [.concurrentUsers]),

    // Users, sessions and connections.
    .init(
        "Chat backend for our community app with 200k daily active users and up to 15k concurrent WebSocket connections at peak. Elixir/Phoenix, Redis for presence, PostgreSQL for history. Stateful: each node keeps the socket sessions.",
        concurrentUsers: 15000, stateful: true, language: "elixir", framework: "phoenix", dependencies: ["redis", "postgresql"],
        absent: [.expectedQps, .peakQps]),
    .init(
        "Analytics dashboard with 50,000 daily active users, around 30 rps, Vue front end served by a Go service.",
        expectedQps: 30, language: "go", absent: [.concurrentUsers]),
    .init(
        "Customer portal with 40,000 registered users and about 5,000 users per day; 60 rps, Laravel on MySQL.",
        expectedQps: 60, language: "php", framework: "laravel", dependencies: ["mysql"], absent: [.concurrentUsers]),
    .init(
        "Multiplayer game lobby server in C# (.NET 8), 10k concurrent users at peak on weekend evenings, P99 under 60 ms. Stateful: sessions live in memory.",
        concurrentUsers: 10000, latency: 60, stateful: true, pattern: "diurnal", language: "csharp", absent: [.framework]),
    .init(
        "Realtime chat backend for customer support (Socket.IO on Node.js), 3,000 simultaneous sessions during business hours, messages stored in MongoDB and fanned out through RabbitMQ.",
        concurrentUsers: 3000, pattern: "diurnal", language: "javascript", dependencies: ["mongodb", "rabbitmq"]),

    .init(
        "Customer support chatbot backend, Python 3.12 with FastAPI; calls an LLM API so answers take several seconds; ~50 concurrent conversations.",
        concurrentUsers: 50, language: "python", framework: "fastapi", absent: [.expectedQps]),

    // ML, batch and background work.
    .init(
        "ML inference service in Python (PyTorch, FastAPI) that scores fraud risk for every card payment. 1,200 requests per second steady, p95 under 300ms, must never be OOM-killed because the model takes 90 s to load. Production, stateless.",
        expectedQps: 1200, latency: 300, stateful: false, tier: "production", pattern: "steady", oom: true, language: "python",
        framework: "fastapi"),
    .init(
        "Nightly batch job that reconciles the day's card settlements against the ledger in MySQL and writes a report to S3. Plain Scala on the JVM, runs for about 40 minutes, no latency target.",
        pattern: "batch", language: "scala", dependencies: ["mysql", "minio"], absent: [.expectedQps, .peakQps, .latency, .tier]),
    .init(
        "Simple cron job that cleans up expired sessions in Redis every hour.",
        pattern: "batch", dependencies: ["redis"], absent: [.concurrentUsers, .expectedQps, .language]),
    .init(
        "Telemetry ingest worker in Java consuming from Kafka at a constant 4k messages per second, no spikes.",
        expectedQps: 4000, pattern: "steady", language: "java", dependencies: ["kafka"]),
    .init(
        "Image thumbnail service in Go, 400 rps. 99% of requests should complete in under 300 ms.",
        expectedQps: 400, latency: 300, language: "go", absent: [.availability]),
    .init(
        "Auth token service, Go microservice, 99.99% availability, p99 under 20ms at 5,000 rps, must not go down.",
        expectedQps: 5000, latency: 20, availability: "99.99", zeroDowntime: true, language: "go"),
    .init(
        "Pricing service written in Kotlin with Spring Boot, reads prices from PostgreSQL and publishes changes to Kafka. 800 rps typical, 3k rps during the spring sale.",
        expectedQps: 800, peakQps: 3000, language: "kotlin", framework: "spring-boot", dependencies: ["postgresql", "kafka"]),

    // Tiers.
    .init(
        "Staging copy of the order service used by QA for regression runs; traffic is a few requests from automated tests, downtime is fine.",
        tier: "staging", absent: [.zeroDowntime, .expectedQps, .peakQps]),
    .init(
        "Proof-of-concept recommendation widget in TypeScript/NestJS, only used in the dev cluster by the team.",
        tier: "dev", language: "typescript", framework: "nestjs"),
    .init(
        "Pre-prod environment for the payments team that mirrors production at a tenth of the traffic: about 50 rps.",
        expectedQps: 50, tier: "staging"),
    .init(
        "Customer-facing loyalty API in production, promoted through staging every Tuesday. 700 rps steady.",
        expectedQps: 700, tier: "production", pattern: "steady"),
    .init(
        "A/B experiment assignment service for the storefront, production, 1k rps, Go.",
        expectedQps: 1000, tier: "production"),
]

@Suite("Description inference")
struct DescriptionInferenceTests {
    @Test("reads the facts a description states, and nothing it does not", arguments: inferenceCases)
    func infers(_ c: InferenceCase) {
        let f = DescriptionInference.infer(c.text)

        if let v = c.expectedQps { #expect(f.expectedQps?.value == v, "expectedQps from '\(f.expectedQps?.evidence ?? "-")'") }
        if let v = c.peakQps { #expect(f.peakQps?.value == v, "peakQps from '\(f.peakQps?.evidence ?? "-")'") }
        if let v = c.concurrentUsers { #expect(f.concurrentUsers?.value == v, "concurrentUsers from '\(f.concurrentUsers?.evidence ?? "-")'") }
        if let v = c.latency { #expect(f.latencyP99Ms?.value == v, "latency from '\(f.latencyP99Ms?.evidence ?? "-")'") }
        if let v = c.availability { #expect(f.availability?.value == v) }
        if let v = c.zeroDowntime { #expect(f.zeroDowntime?.value == v) }
        if let v = c.stateful { #expect(f.stateful?.value == v, "stateful from '\(f.stateful?.evidence ?? "-")'") }
        if let v = c.tier { #expect(f.tier?.value == v, "tier from '\(f.tier?.evidence ?? "-")'") }
        if let v = c.pattern { #expect(f.pattern?.value == v, "pattern from '\(f.pattern?.evidence ?? "-")'") }
        if let v = c.oom { #expect(f.oomToleranceLow?.value == v) }
        if let v = c.language { #expect(f.language?.value == v, "language from '\(f.language?.evidence ?? "-")'") }
        if let v = c.framework { #expect(f.framework?.value == v, "framework from '\(f.framework?.evidence ?? "-")'") }
        if let v = c.dependencies { #expect(f.dependencies.map(\.value) == v) }

        for field in c.absent {
            let found: (value: String, evidence: String)? =
                switch field {
                case .expectedQps: f.expectedQps.map { ("\($0.value)", $0.evidence) }
                case .peakQps: f.peakQps.map { ("\($0.value)", $0.evidence) }
                case .concurrentUsers: f.concurrentUsers.map { ("\($0.value)", $0.evidence) }
                case .latency: f.latencyP99Ms.map { ("\($0.value)", $0.evidence) }
                case .availability: f.availability.map { ($0.value, $0.evidence) }
                case .zeroDowntime: f.zeroDowntime.map { ("\($0.value)", $0.evidence) }
                case .stateful: f.stateful.map { ("\($0.value)", $0.evidence) }
                case .tier: f.tier.map { ($0.value, $0.evidence) }
                case .pattern: f.pattern.map { ($0.value, $0.evidence) }
                case .oom: f.oomToleranceLow.map { ("\($0.value)", $0.evidence) }
                case .language: f.language.map { ($0.value, $0.evidence) }
                case .framework: f.framework.map { ($0.value, $0.evidence) }
                }
            #expect(found == nil, "\(field.rawValue) must not be inferred, got \(found?.value ?? "") from '\(found?.evidence ?? "")'")
        }
    }

    @Test("every fact keeps the words it was read from")
    func evidenceComesFromTheText() throws {
        let text = "Order API in Go/Gin. 500 QPS normally and 2000 at the Black Friday peak, P99 under 100 ms, production, stateless, PostgreSQL."
        let f = DescriptionInference.infer(text)
        let evidence =
            [
                f.expectedQps?.evidence, f.peakQps?.evidence, f.latencyP99Ms?.evidence, f.tier?.evidence, f.stateful?.evidence,
                f.language?.evidence, f.framework?.evidence,
            ] + f.dependencies.map(\.evidence)
        for e in evidence {
            let words = try #require(e)
            #expect(!words.isEmpty)
            #expect(text.contains(words), "evidence '\(words)' is not in the text")
        }
    }

    @Test("an empty or unrelated description yields no facts")
    func emptyDescription() {
        for text in ["", "   ", "TODO: write a description", "Handles the thing for the other team."] {
            let f = DescriptionInference.infer(text)
            #expect(f == DescriptionFacts(), "unexpected facts from '\(text)'")
        }
    }

    @Test("a non-breaking space between number and unit still counts")
    func nonBreakingSpace() {
        let f = DescriptionInference.infer("Around 250\u{00A0}rps, P99 under 90\u{00A0}ms.")
        #expect(f.expectedQps?.value == 250)
        #expect(f.latencyP99Ms?.value == 90)
    }
}
