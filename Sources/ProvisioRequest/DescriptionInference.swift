public import Foundation

/// A value read from free text, with the words it was read from.
public struct Fact<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    /// The value.
    public var value: Value
    /// The words in the text that gave it.
    public var evidence: String
    public init(_ value: Value, _ evidence: String) {
        self.value = value
        self.evidence = evidence
    }
}

/// What a plain-words description says about a service.
public struct DescriptionFacts: Sendable, Hashable, Codable {
    public var expectedQps: Fact<Double>?
    public var peakQps: Fact<Double>?
    public var concurrentUsers: Fact<Int>?
    public var latencyP99Ms: Fact<Double>?
    public var availability: Fact<String>?
    public var zeroDowntime: Fact<Bool>?
    public var stateful: Fact<Bool>?
    public var tier: Fact<String>?
    public var pattern: Fact<String>?
    public var oomToleranceLow: Fact<Bool>?
    public var language: Fact<String>?
    public var framework: Fact<String>?
    public var dependencies: [Fact<String>] = []
    public init() {}
}

/// Reads load, latency, availability, tier, state, datastores and stack out of a description.
///
/// Deliberately rule-based and explainable: each fact keeps the words it came from, so the
/// ContextBundle can show why provisio believes it.
public enum DescriptionInference {
    /// Infers what it can from `text`.
    public static func infer(_ text: String) -> DescriptionFacts {
        var f = DescriptionFacts()
        let t = text.replacingOccurrences(of: "\u{00A0}", with: " ")
        inferLoad(t, into: &f)
        inferLatency(t, into: &f)
        inferAvailability(t, into: &f)
        inferTier(t, into: &f)
        inferState(t, into: &f)
        inferPattern(t, into: &f)
        inferStack(t, into: &f)
        inferDependencies(t, into: &f)
        return f
    }

    // MARK: numbers

    static let number = #"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(k|K|thousand|million|M(?=\s*(?:QPS|RPS|req)))?"#

    static func parseNumber(_ digits: String, _ suffix: String?) -> Double? {
        guard var v = Double(digits.replacingOccurrences(of: ",", with: "")) else { return nil }
        switch suffix?.lowercased() {
        case "k", "thousand": v *= 1000
        case "million", "m": v *= 1_000_000
        default: break
        }
        return v
    }

    struct Hit {
        let range: Range<String.Index>
        let groups: [String?]
        var text: String
    }

    static func matches(_ pattern: String, in text: String, caseInsensitive: Bool = true) -> [Hit] {
        guard let re = try? NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : []) else { return [] }
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).compactMap { m in
            guard let r = Range(m.range, in: text) else { return nil }
            let groups: [String?] = (0..<m.numberOfRanges).map { i in
                let gr = m.range(at: i)
                return gr.location == NSNotFound ? nil : ns.substring(with: gr)
            }
            return Hit(range: r, groups: groups, text: String(text[r]))
        }
    }

    static let peakWords = ["peak", "peaks", "max", "maximum", "burst", "bursts", "spike", "spikes", "up to", "black friday", "busiest", "at most", "sale", "launch day", "holiday", "worst case", "top"]
    static let expectedWords = ["normal", "normally", "average", "avg", "typical", "typically", "steady", "baseline", "usually", "day-to-day", "sustained", "regular", "on a normal day", "most of the day", "everyday", "expected", "daily"]

    /// The clause around a match: from the previous clause break to the next one.
    static func clause(around range: Range<String.Index>, in text: String) -> (before: String, after: String) {
        let breaks: Set<Character> = [";", ",", ".", "(", ")", "\n", ":"]
        var start = range.lowerBound
        var steps = 0
        while start > text.startIndex && steps < 60 {
            let prev = text.index(before: start)
            if breaks.contains(text[prev]) && !(text[prev] == "," && prev > text.startIndex && text[text.index(before: prev)].isNumber) && !(text[prev] == "." && prev > text.startIndex && text[text.index(before: prev)].isNumber) { break }
            start = prev
            steps += 1
        }
        var end = range.upperBound
        steps = 0
        while end < text.endIndex && steps < 40 {
            if breaks.contains(text[end]) { break }
            end = text.index(after: end)
            steps += 1
        }
        return (String(text[start..<range.lowerBound]).lowercased(), String(text[range.upperBound..<end]).lowercased())
    }

    static func mentions(_ words: [String], in s: String) -> Bool {
        words.contains { w in s.range(of: "\\b\(NSRegularExpression.escapedPattern(for: w))\\b", options: .regularExpression) != nil }
    }

    static func inferLoad(_ t: String, into f: inout DescriptionFacts) {
        let unit = #"(qps|rps|tps|req/s|reqs/s|req/sec|requests?\s*/\s*s(?:ec)?|requests?\s+(?:per|a|each)\s+second|requests?\s+per\s+sec|queries\s+per\s+second|transactions\s+per\s+second|calls\s+per\s+second|messages\s+per\s+second|msgs?/s|events\s+per\s+second|rpm|req/min|requests?\s+(?:per|a)\s+minute)"#
        var loads: [(value: Double, hit: Hit, kind: String?)] = []
        for h in matches(number + #"\s*(?:\+\s*)?"# + unit + #"\b"#, in: t) {
            guard let digits = h.groups[1], var v = parseNumber(digits, h.groups[2]) else { continue }
            let u = (h.groups[3] ?? "").lowercased()
            if u.contains("min") || u == "rpm" { v /= 60 }
            let (before, after) = clause(around: h.range, in: t)
            let kind: String? =
                mentions(peakWords, in: before + " " + after) ? "peak"
                : mentions(expectedWords, in: before + " " + after) ? "expected" : nil
            loads.append((v, h, kind))
        }
        // "500 QPS normally and 2000 at the Black Friday peak": a bare number tied to a peak word.
        if !loads.isEmpty {
            let taken = loads.map(\.hit.range)
            let barePeak = [
                number + #"\s+(?:at|during|on|in|for)\s+(?:the\s+|a\s+)?(?:[\w'-]+\s+){0,3}(?:peaks?|spikes?|bursts?|black friday|sales?)\b"#,
                #"(?:peaks?|spikes?|bursts?)\s+(?:of|at|to|around|near|reaching)\s+(?:about\s+|around\s+)?"# + number + #"(?!\s*(?:ms|%|users|concurrent))"#,
                #"up\s+to\s+"# + number + #"(?!\s*(?:ms|%|users|concurrent|replicas|pods|gb|mb|gi|mi|cores))"#,
            ]
            for p in barePeak {
                for h in matches(p, in: t) where !taken.contains(where: { $0.overlaps(h.range) }) {
                    guard let digits = h.groups[1], let v = parseNumber(digits, h.groups[2]), v >= 1 else { continue }
                    loads.append((v, h, "peak"))
                }
            }
        }
        var expected = loads.filter { $0.kind == "expected" }
        var peak = loads.filter { $0.kind == "peak" }
        let unlabeled = loads.filter { $0.kind == nil }
        if unlabeled.count >= 2 {
            let sorted = unlabeled.sorted { $0.value < $1.value }
            if expected.isEmpty { expected.append(sorted.first!) }
            if peak.isEmpty { peak.append(sorted.last!) }
        } else if let one = unlabeled.first {
            if expected.isEmpty, let p = peak.first, one.value > p.value { peak = [one]; expected = [p] }
            else if expected.isEmpty { expected.append(one) } else if peak.isEmpty { peak.append(one) }
        }
        if let e = expected.max(by: { $0.value < $1.value }) { f.expectedQps = Fact(e.value, e.hit.text) }
        if let p = peak.max(by: { $0.value < $1.value }) { f.peakQps = Fact(p.value, p.hit.text) }
        if let e = f.expectedQps, let p = f.peakQps, p.value < e.value { (f.expectedQps, f.peakQps) = (Fact(p.value, p.evidence), Fact(e.value, e.evidence)) }

        for h in matches(number + #"\s+(?:(concurrent|simultaneous|active|online|parallel)\s+)?(?:users|sessions|connections|clients|players|shoppers|visitors)\b"#, in: t) {
            let (before, _) = clause(around: h.range, in: t)
            if mentions(["daily", "monthly", "registered", "total", "per day", "a day", "weekly"], in: before + " " + h.text.lowercased()) { continue }
            guard let digits = h.groups[1], let v = parseNumber(digits, h.groups[2]), v >= 1 else { continue }
            if h.groups[3] == nil && !mentions(["concurrent", "simultaneous", "at once", "at the same time", "online"], in: before + " " + h.text.lowercased()) && !mentions(["users"], in: h.text.lowercased()) { continue }
            if f.concurrentUsers == nil || Int(v) > f.concurrentUsers!.value { f.concurrentUsers = Fact(Int(v), h.text) }
        }
    }

    static func inferLatency(_ t: String, into f: inout DescriptionFacts) {
        let value = #"(\d+(?:\.\d+)?)\s*(ms|msec|milliseconds?|s|sec|secs|seconds?)\b"#
        let patterns = [
            #"\bp(?:99|95|90|50|99\.9)\b[^.;\d]{0,30}?"# + value,
            value + #"\s*(?:at\s+)?(?:p99|p95|p90|99th|95th)"#,
            #"\b(?:latency|response\s+times?|respond(?:s|ing)?|responses|round[- ]trip|answers?)\b[^.;\d]{0,40}?"# + value,
            #"\bsub-?"# + value,
            value + #"\s+(?:latency|response\s+time|budget)"#,
        ]
        for p in patterns {
            if let h = matches(p, in: t).first, let v = Double(h.groups[1] ?? ""), let u = h.groups[2]?.lowercased() {
                let ms = u.hasPrefix("m") ? v : v * 1000
                if ms >= 1 && ms <= 600_000 {
                    f.latencyP99Ms = Fact(ms, h.text.trimmingCharacters(in: .whitespaces))
                    return
                }
            }
        }
    }

    static func inferAvailability(_ t: String, into f: inout DescriptionFacts) {
        if let h = matches(#"\b(9\d(?:\.\d{1,4})?)\s*%"#, in: t).first(where: { clause(around: $0.range, in: t).before.contains("availab") || clause(around: $0.range, in: t).after.contains("availab") || clause(around: $0.range, in: t).after.contains("uptime") || clause(around: $0.range, in: t).before.contains("uptime") || clause(around: $0.range, in: t).before.contains("sla") || ($0.groups[1] ?? "").hasPrefix("99") }),
            let v = h.groups[1]
        {
            f.availability = Fact(v, h.text)
        }
        if let h = matches(#"\b(zero[- ]downtime|no downtime|without (?:any )?downtime|never (?:go )?down|highly[- ]available|high[- ]availability|always[- ]on|24/7|cannot go down|must not go down)\b"#, in: t).first {
            f.zeroDowntime = Fact(true, h.text)
        }
        if let h = matches(#"\b(never (?:be )?oom|no oom|must not (?:be )?oom|cannot (?:afford to )?(?:be )?(?:oom|killed)|must never (?:be )?(?:restarted|killed))"#, in: t).first {
            f.oomToleranceLow = Fact(true, h.text)
        }
    }

    static func inferTier(_ t: String, into f: inout DescriptionFacts) {
        let dev = #"\b(dev(?:elopment)?\s+(?:environment|cluster|namespace|only|instance)|for\s+development|prototype|proof[- ]of[- ]concept|poc|sandbox|experiment(?:al)?|hackathon|demo\s+(?:app|environment)|playground|internal\s+testing)\b"#
        let staging = #"\b(staging|pre-?prod(?:uction)?|uat|qa\s+environment|test\s+environment)\b"#
        let production = #"\b(production|prod|customer[- ]facing|business[- ]critical|mission[- ]critical|revenue[- ]critical|critical|public[- ]facing|live\s+traffic)\b"#
        if let h = matches(dev, in: t).first { f.tier = Fact("dev", h.text) }
        else if let h = matches(staging, in: t).first { f.tier = Fact("staging", h.text) }
        else if let h = matches(production, in: t).first { f.tier = Fact("production", h.text) }
    }

    static func inferState(_ t: String, into f: inout DescriptionFacts) {
        if let h = matches(#"\b(stateless|no local state|keeps no state|holds no state)\b"#, in: t).first { f.stateful = Fact(false, h.text) }
        else if let h = matches(#"\b(stateful|persistent volume|local disk|keeps state|stores files locally|statefulset)\b"#, in: t).first { f.stateful = Fact(true, h.text) }
    }

    static func inferPattern(_ t: String, into f: inout DescriptionFacts) {
        let table: [(String, String)] = [
            ("batch", #"\b(batch|nightly|cron|scheduled jobs?|once a day|every night|overnight runs?)\b"#),
            ("spiky", #"\b(spiky|bursty|bursts?|spikes?|flash sales?|unpredictable|sudden surges?|surges?)\b"#),
            ("diurnal", #"\b(diurnal|daily cycle|business hours|office hours|during the day|daytime|evenings?|lunchtime|morning peaks?|quiet at night|at night)\b"#),
            ("steady", #"\b(steady|constant|flat|uniform|even load|around the clock)\b"#),
        ]
        for (name, p) in table { if let h = matches(p, in: t).first { f.pattern = Fact(name, h.text); return } }
    }

    /// Frameworks first (they imply the language), then languages.
    static let frameworks: [(String, String, String, Bool)] = [
        // (framework, language, pattern, case-sensitive)
        ("spring-boot", "java", #"\bspring[- ]?boot\b|\bspring\b"#, false),
        ("quarkus", "java", #"\bquarkus\b"#, false),
        ("micronaut", "java", #"\bmicronaut\b"#, false),
        ("ktor", "kotlin", #"\bktor\b"#, false),
        ("play", "scala", #"\bplay framework\b"#, false),
        ("akka-http", "scala", #"\bakka\b"#, false),
        ("gin", "go", #"\bgin\b|gin-gonic"#, false),
        ("echo", "go", #"\bEcho\b(?=\s+(?:framework|server|api))|labstack/echo|\bgo/echo\b"#, false),
        ("fiber", "go", #"\bgo(?:lang)?/fiber\b|\bgofiber\b|\bFiber\b"#, true),
        ("nestjs", "typescript", #"\bnest\.?js\b"#, false),
        ("nextjs", "javascript", #"\bnext\.?js\b"#, false),
        ("fastify", "javascript", #"\bfastify\b"#, false),
        ("express", "javascript", #"\bexpress\.js\b|\bexpressjs\b|\bnode(?:\.js)?\s*(?:/|\+|and|with|on)\s*express\b|\bExpress\b"#, false),
        ("fastapi", "python", #"\bfast\s?api\b"#, false),
        ("django", "python", #"\bdjango\b"#, false),
        ("flask", "python", #"\bflask\b"#, false),
        ("celery", "python", #"\bcelery\b"#, false),
        ("aspnetcore", "csharp", #"asp\.net(?:\s*core)?|\baspnet\s?core\b"#, false),
        ("rails", "ruby", #"\brails\b|ruby on rails"#, false),
        ("sidekiq", "ruby", #"\bsidekiq\b"#, false),
        ("laravel", "php", #"\blaravel\b"#, false),
        ("symfony", "php", #"\bsymfony\b"#, false),
        ("axum", "rust", #"\baxum\b"#, false),
        ("actix", "rust", #"\bactix(?:-web)?\b"#, false),
        ("phoenix", "elixir", #"\bphoenix\b"#, false),
    ]

    static let languages: [(String, String, Bool)] = [
        ("go", #"\bgolang\b|\bGo\b(?![- ]?live)|\bgo\s+(?:service|api|microservice|backend|binary|1\.\d+)\b|\bwritten in go\b|\bin go\b(?=[\s,./)]|$)"#, true),
        ("java", #"\bjava\b|\bjvm\b"#, false),
        ("kotlin", #"\bkotlin\b"#, false),
        ("scala", #"\bscala\b"#, false),
        ("typescript", #"\btypescript\b|\bdeno\b"#, false),
        ("javascript", #"\bnode(?:\.?js)?\b|\bjavascript\b|\bbun\b"#, false),
        ("python", #"\bpython\b|\bcpython\b|\bpy3\b"#, false),
        ("csharp", #"\.net\b|\bdotnet\b|\bc#"#, false),
        ("ruby", #"\bruby\b"#, false),
        ("php", #"\bphp\b"#, false),
        ("rust", #"\brust\b"#, false),
        ("elixir", #"\belixir\b|\berlang\b|\bbeam\b"#, false),
    ]

    static func inferStack(_ t: String, into f: inout DescriptionFacts) {
        // "golang" written in any case still counts; "Go" must be capitalised so the verb does not.
        let goLower = matches(#"\bgolang\b|\bgo\s+(?:service|api|microservice|backend)\b|\bwritten in go\b"#, in: t).first
        for (framework, language, p, cs) in frameworks {
            if let h = matches(p, in: t, caseInsensitive: !cs).first {
                f.framework = Fact(framework, h.text)
                f.language = Fact(language, h.text)
                break
            }
        }
        if let lang = f.language?.value, lang == "javascript" || lang == "typescript",
            let ts = matches(#"\btypescript\b"#, in: t).first
        {
            f.language = Fact("typescript", ts.text)
        }
        if f.language == nil {
            if let g = goLower { f.language = Fact("go", g.text); return }
            for (language, p, cs) in languages {
                if let h = matches(p, in: t, caseInsensitive: !cs).first {
                    f.language = Fact(language, h.text)
                    return
                }
            }
        }
    }

    /// Canonical dependency names and the words that name them.
    public static let dependencyNames: [(String, String)] = [
        ("postgresql", #"\bpostgres(?:ql)?\b|\bpsql\b|\bpg\b|\btimescale(?:db)?\b"#),
        ("mysql", #"\bmysql\b"#),
        ("mariadb", #"\bmariadb\b"#),
        ("mongodb", #"\bmongo(?:db)?\b"#),
        ("redis", #"\bredis\b|\bvalkey\b"#),
        ("memcached", #"\bmemcached?\b"#),
        ("elasticsearch", #"\belastic\s?search\b"#),
        ("opensearch", #"\bopensearch\b"#),
        ("cassandra", #"\bcassandra\b|\bscylla(?:db)?\b"#),
        ("kafka", #"\bkafka\b|\bredpanda\b"#),
        ("rabbitmq", #"\brabbit\s?mq\b|\bamqp\b"#),
        ("nats", #"\bnats\b"#),
        ("clickhouse", #"\bclickhouse\b"#),
        ("cockroachdb", #"\bcockroach(?:db)?\b"#),
        ("minio", #"\bminio\b|\bs3\b|\bobject storage\b"#),
        ("influxdb", #"\binflux(?:db)?\b"#),
        ("neo4j", #"\bneo4j\b"#),
        ("etcd", #"\betcd\b"#),
        ("sqs", #"\bsqs\b"#),
        ("dynamodb", #"\bdynamo(?:db)?\b"#),
    ]

    static func inferDependencies(_ t: String, into f: inout DescriptionFacts) {
        var hits: [(String.Index, Fact<String>)] = []
        for (name, p) in dependencyNames {
            if let h = matches(p, in: t).first { hits.append((h.range.lowerBound, Fact(name, h.text))) }
        }
        f.dependencies = hits.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
