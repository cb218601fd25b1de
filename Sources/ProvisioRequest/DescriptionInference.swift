import Foundation

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

    /// Compiled patterns: the same few dozen are used for every request, and compiling one costs more
    /// than matching it.
    private final class Compiled: @unchecked Sendable {
        private let lock = NSLock()
        private var cache: [String: NSRegularExpression] = [:]

        func regex(_ pattern: String, caseInsensitive: Bool) -> NSRegularExpression? {
            let key = (caseInsensitive ? "i " : "s ") + pattern
            lock.lock()
            defer { lock.unlock() }
            if let re = cache[key] { return re }
            guard let re = try? NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : []) else { return nil }
            cache[key] = re
            return re
        }
    }
    private static let compiled = Compiled()

    static func matches(_ pattern: String, in text: String, caseInsensitive: Bool = true) -> [Hit] {
        guard let re = compiled.regex(pattern, caseInsensitive: caseInsensitive) else { return [] }
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

    static let peakWords = [
        "peak", "peaks", "max", "maximum", "burst", "bursts", "spike", "spikes", "up to", "black friday", "busiest", "at most", "sale", "launch day", "holiday",
        "worst case", "top",
    ]
    static let expectedWords = [
        "normal", "normally", "average", "avg", "typical", "typically", "steady", "baseline", "usually", "day-to-day", "sustained", "regular",
        "on a normal day", "most of the day", "everyday", "expected", "daily",
    ]

    /// The clause around a match: from the previous clause break to the next one.
    static func clause(around range: Range<String.Index>, in text: String) -> (before: String, after: String) {
        let breaks: Set<Character> = [";", ",", ".", "(", ")", "\n", ":"]
        var start = range.lowerBound
        var steps = 0
        while start > text.startIndex && steps < 60 {
            let prev = text.index(before: start)
            if breaks.contains(text[prev]) && !(text[prev] == "," && prev > text.startIndex && text[text.index(before: prev)].isNumber)
                && !(text[prev] == "." && prev > text.startIndex && text[text.index(before: prev)].isNumber)
            {
                break
            }
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
        words.contains { w in
            compiled.regex("\\b\(NSRegularExpression.escapedPattern(for: w))\\b", caseInsensitive: false)?
                .firstMatch(in: s, range: NSRange(location: 0, length: (s as NSString).length)) != nil
        }
    }

    /// Words that tie a figure to something said just before or after it, cut where a conjunction or
    /// another figure begins, so "500 QPS normally and 2000 at the peak" labels each number on its own.
    static func ownWords(around range: Range<String.Index>, in text: String) -> (before: String, after: String, afterLeadsOn: Bool) {
        var (before, after) = clause(around: range, in: text)
        let conjunction = #"\s(?:and|but|while|whereas|with|then|or)\s"#
        var afterLeadsOn = false
        if let cut = after.range(of: conjunction, options: .regularExpression) { after = String(after[..<cut.lowerBound]) }
        if let digit = after.firstIndex(where: \.isNumber) {
            // Words between this figure and the next one ("300 rps, up to 1200") usually introduce the next.
            after = String(after[..<digit])
            afterLeadsOn = true
        }
        if let cut = matches(conjunction, in: before).last { before = String(before[cut.range.upperBound...]) }
        if let digit = before.lastIndex(where: \.isNumber) { before = String(before[before.index(after: digit)...]) }
        return (before, after, afterLeadsOn)
    }

    static func loadKind(_ words: String) -> String? {
        mentions(peakWords, in: words) ? "peak" : mentions(expectedWords, in: words) ? "expected" : nil
    }

    static func inferLoad(_ t: String, into f: inout DescriptionFacts) {
        // What a rate counts: requests, and the operations people count instead ("45 logins/s", "12k lookups per second").
        let noun =
            #"(?:requests?|reqs?|queries|transactions|calls|messages|msgs?|events|hits|logins|log-ins|sign-ins|ops|operations|lookups|"#
            + #"searches|orders|checkouts|jobs|writes|reads|uploads|downloads)"#
        let per = #"(?:\s+(?:per|a|an|each|every)\s+|\s*/\s*)"#
        let unit = #"(qps|rps|tps|rpm|"# + noun + per + #"(seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|days?))"#
        var loads: [(value: Double, hit: Hit, kind: String?)] = []
        for h in matches(number + #"\s*(?:\+\s*)?"# + unit + #"\b"#, in: t) {
            guard let digits = h.groups[1], var v = parseNumber(digits, h.groups[2]) else { continue }
            let u = (h.groups[3] ?? "").lowercased()
            let time = (h.groups[4] ?? "").lowercased()
            if time.hasPrefix("d") { v /= 86_400 } else if time.hasPrefix("h") { v /= 3600 } else if time.hasPrefix("m") || u == "rpm" { v /= 60 }
            let own = ownWords(around: h.range, in: t)
            let kind = (own.afterLeadsOn ? nil : loadKind(own.after)) ?? loadKind(own.before)
            loads.append((v, h, kind))
        }
        // "500 QPS normally and 2000 at the Black Friday peak": a bare number tied to a peak word.
        if !loads.isEmpty {
            let taken = loads.map(\.hit.range)
            // "up to 8 seconds", "up to four replicas": figures that are not a request rate.
            let notLoad =
                #"(?![\d.,]|\s*(?:ms|milliseconds?|s|secs?|seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|%|x|times|users|concurrent|connections|sessions|replicas|pods|instances|nodes|vms|gb|mb|gi|mi|cores|cpus?)\b)"#
            let barePeak = [
                number + #"\s+(?:at|during|on|in|for)\s+(?:the\s+|a\s+)?(?:[\w'-]+\s+){0,3}(?:peaks?|spikes?|bursts?|black friday|sales?)\b"#,
                #"(?:peaks?|spikes?|bursts?)\s+(?:of|at|to|around|near|reaching)\s+(?:about\s+|around\s+)?"# + number + notLoad,
                #"up\s+to\s+"# + number + notLoad,
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
            if expected.isEmpty, let p = peak.first, one.value > p.value {
                peak = [one]
                expected = [p]
            } else if expected.isEmpty {
                expected.append(one)
            } else if peak.isEmpty {
                peak.append(one)
            }
        }
        if let e = expected.max(by: { $0.value < $1.value }) { f.expectedQps = Fact(e.value, e.hit.text) }
        if let p = peak.max(by: { $0.value < $1.value }) { f.peakQps = Fact(p.value, p.hit.text) }
        if let e = f.expectedQps, let p = f.peakQps, p.value < e.value { (f.expectedQps, f.peakQps) = (Fact(p.value, p.evidence), Fact(e.value, e.evidence)) }

        // "10k concurrent users", "15k concurrent WebSocket connections"; never "200k daily active users".
        let people =
            #"\s+(?:(concurrent|simultaneous|active|online|parallel)\s+)?(?:([\w-]+)\s+)?(users|sessions|connections|clients|players|shoppers|visitors|viewers|conversations|websockets|devices)\b"#
        let notConcurrent = [
            "daily", "monthly", "weekly", "registered", "total", "per day", "a day", "per week", "a week", "per month", "a month", "signed up", "sign-ups",
        ]
        for h in matches(number + people, in: t) {
            let (before, after, _) = ownWords(around: h.range, in: t)
            let own = h.text.lowercased()
            if mentions(notConcurrent, in: before + " " + own + " " + after) { continue }
            guard let digits = h.groups[1], let v = parseNumber(digits, h.groups[2]), v >= 1 else { continue }
            let saysConcurrent =
                h.groups[3] != nil
                || mentions(
                    ["concurrent", "concurrently", "simultaneous", "simultaneously", "at once", "at the same time", "at a time", "online", "open"],
                    in: before + " " + own + " " + after)
            if !saysConcurrent && (h.groups[4] != nil || (h.groups[5] ?? "").lowercased() != "users") { continue }
            if f.concurrentUsers == nil || Int(v) > f.concurrentUsers!.value { f.concurrentUsers = Fact(Int(v), h.text) }
        }
    }

    static func inferLatency(_ t: String, into f: inout DescriptionFacts) {
        let value = #"(\d+(?:\.\d+)?)\s*(ms|msec|milliseconds?|s|sec|secs|seconds?)\b"#
        let patterns = [
            #"\bp(?:99|95|90|50|99\.9)\b[^.;\d]{0,30}?"# + value,
            value + #"\s*(?:at\s+)?(?:p99|p95|p90|99th|95th)"#,
            #"\b\d{2}(?:\.\d+)?\s*%\s+of\s+(?:all\s+)?(?:requests|calls|responses|queries|lookups)\b[^.;\d]{0,40}?"# + value,
            #"\b(?:latency|response\s+times?|respond(?:s|ing)?|responses?|round[- ]trip|answers?)\b[^.;\d]{0,40}?"# + value,
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

    /// Whether the words just before a match deny it: "not business-critical", "non-critical",
    /// "does not need high availability", "no spikes".
    static func negated(_ h: Hit, in text: String) -> Bool {
        let before = text[..<h.range.lowerBound].suffix(40).lowercased()
        return before.range(of: #"(?:\bnot|n't|\bno|\bnever|\bnon)(?:[\s-]+[\w']+){0,3}[\s-]*$"#, options: .regularExpression) != nil
    }

    static func inferAvailability(_ t: String, into f: inout DescriptionFacts) {
        let availability = matches(#"\b(9\d(?:\.\d{1,4})?)\s*%"#, in: t).first { h in
            // "99% of requests finish in 300 ms" is a latency percentile, not an availability target.
            if t[h.range.upperBound...].prefix(6).range(of: #"^\s*of\b"#, options: .regularExpression) != nil { return false }
            let (before, after) = clause(around: h.range, in: t)
            let words = before + " " + after
            return words.contains("availab") || words.contains("uptime") || words.contains("sla") || (h.groups[1] ?? "").hasPrefix("99")
        }
        if let h = availability, let v = h.groups[1] {
            f.availability = Fact(v, h.text)
        } else if let h = matches(#"\b(two|three|four|five|[2-5])\s+nines\b"#, in: t).first {
            let nines = ["two": 2, "three": 3, "four": 4, "five": 5][(h.groups[1] ?? "").lowercased()] ?? Int(h.groups[1] ?? "") ?? 2
            f.availability = Fact("99" + (nines > 2 ? "." + String(repeating: "9", count: nines - 2) : ""), h.text)
        }
        let zeroDowntime =
            #"\b(zero[- ]downtime|no downtime|without (?:any )?downtime|never (?:go )?down|highly[- ]available|high[- ]availability|always[- ]on|24/7|cannot go down|must not go down)\b"#
        if let h = matches(zeroDowntime, in: t).first(where: { !negated($0, in: t) }) {
            f.zeroDowntime = Fact(true, h.text)
        }
        if let h = matches(
            #"\b(never (?:be )?oom|no oom|must not (?:be )?oom|cannot (?:afford to )?(?:be )?(?:oom|killed)|must never (?:be )?(?:restarted|killed))"#, in: t
        ).first {
            f.oomToleranceLow = Fact(true, h.text)
        }
    }

    static func inferTier(_ t: String, into f: inout DescriptionFacts) {
        let dev =
            #"\b(dev(?:elopment)?\s+(?:environment|cluster|namespace|only|instance)|for\s+development|prototype|proof[- ]of[- ]concept|poc|sandbox|experimental|(?:just|only)\s+an\s+experiment|hackathon|demo\s+(?:app|environment)|playground|internal\s+testing)\b"#
        let staging = #"\b(staging|pre-?prod(?:uction)?|uat|qa\s+environment|test\s+environment)\b"#
        let production =
            #"\b(production|prod|customer[- ]facing|business[- ]critical|mission[- ]critical|revenue[- ]critical|critical|high[- ]criticality|public[- ]facing|live\s+traffic)\b(?![- ]like)"#
        // The first tier the text names wins: "Staging copy of the production API" is staging,
        // "Production API, promoted through staging" is production.
        let named = [("dev", dev), ("staging", staging), ("production", production)].compactMap { tier, p in
            matches(p, in: t).first(where: { !negated($0, in: t) }).map { (tier, $0) }
        }
        if let (tier, h) = named.min(by: { $0.1.range.lowerBound < $1.1.range.lowerBound }) { f.tier = Fact(tier, h.text) }
    }

    static func inferState(_ t: String, into f: inout DescriptionFacts) {
        if let h = matches(#"\b(stateless|no local state|keeps no state|holds no state)\b"#, in: t).first {
            f.stateful = Fact(false, h.text)
        } else if let h = matches(#"\b(stateful|persistent volume|local disk|keeps state|stores files locally|statefulset)\b"#, in: t).first {
            f.stateful = Fact(true, h.text)
        }
    }

    static func inferPattern(_ t: String, into f: inout DescriptionFacts) {
        // A service that states a request rate is shaped by its traffic; its nightly refresh or export is a side job.
        let strongBatch =
            #"\b(batch\s+(?:jobs?|processing|pipelines?|workers?|imports?|exports?|runs?)|nightly\s+(?:batch|jobs?|runs?|imports?|exports?|etl|reports?)|cron\s?jobs?|etl\s+(?:jobs?|pipelines?)|scheduled\s+jobs?|runs?\s+(?:nightly|every night|once a day|overnight|hourly))\b"#
        let weakBatch = #"\b(batch|nightly|cron|once a day|every night|overnight)\b"#
        let servesRequests = f.expectedQps != nil || f.peakQps != nil || f.concurrentUsers != nil
        if !servesRequests, let h = matches(strongBatch, in: t).first ?? matches(weakBatch, in: t).first {
            f.pattern = Fact("batch", h.text)
            return
        }
        let table: [(String, String)] = [
            ("spiky", #"\b(spiky|bursty|bursts?|spikes?|flash sales?|unpredictable|sudden surges?|surges?)\b"#),
            (
                "diurnal",
                #"\b(diurnal|daily cycle|business hours|office hours|during the day|daytime|evenings?|lunchtime|morning peaks?|quiet at night|at night)\b"#
            ),
            ("steady", #"\b(steady|constant|flat|uniform|even load|around the clock)\b"#),
        ]
        for (name, p) in table {
            if let h = matches(p, in: t).first(where: { !negated($0, in: t) }) {
                f.pattern = Fact(name, h.text)
                return
            }
        }
        if let h = matches(strongBatch, in: t).first { f.pattern = Fact("batch", h.text) }
    }

    /// Frameworks first (they imply the language), then languages.
    ///
    /// Words that are also ordinary English ("spring sale", "express checkout", "guard rails",
    /// "a fast API", "Phoenix data center") only count next to a stack word.
    static let frameworks: [(String, String, String, Bool)] = [
        // (framework, language, pattern, case-sensitive)
        (
            "spring-boot", "java",
            #"\bspring[- ]?boot\b|\bspring\s+(?:mvc|webflux|cloud|framework|data|batch|security|integration)\b|\b(?:java|kotlin)\s*(?:/|\+|and|with|on|using)\s*spring\b|\bspring\s*(?:/|\+)\s*(?:java|kotlin)\b"#,
            false
        ),
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
        (
            "express", "javascript",
            #"\bexpress\.?js\b|\b(?:node(?:\.?js)?|typescript|javascript|ts|js)\s*(?:/|\+|and|with|on|using)\s*express\b|\bexpress\s*(?:/|\+)\s*(?:node|typescript|mongo)"#,
            false
        ),
        (
            "express", "javascript",
            #"\bExpress\s+(?:framework|server|app|backend|middleware|router)\b|\b(?:in|with|using|on)\s+Express\b(?!\s+(?:checkout|shipping|delivery|lane|pay|payments?|mode))"#,
            true
        ),
        ("fastapi", "python", #"\bfastapi\b"#, false),
        ("fastapi", "python", #"\bFast API\b"#, true),
        ("django", "python", #"\bdjango\b"#, false),
        ("flask", "python", #"\bflask\b"#, false),
        ("celery", "python", #"\bcelery\b"#, false),
        ("aspnetcore", "csharp", #"asp\.net(?:\s*core)?|\baspnet\s?core\b"#, false),
        ("rails", "ruby", #"\bruby on rails\b|(?<!guard )(?<!guard-)\brails\b"#, false),
        ("sidekiq", "ruby", #"\bsidekiq\b"#, false),
        ("laravel", "php", #"\blaravel\b"#, false),
        ("symfony", "php", #"\bsymfony\b"#, false),
        ("axum", "rust", #"\baxum\b"#, false),
        ("actix", "rust", #"\bactix(?:-web)?\b"#, false),
        (
            "phoenix", "elixir",
            #"\bphoenix\s+(?:framework|liveview|live\s?view|channels|app|api|server)\b|\belixir\s*(?:/|\+|and|with|on|using)\s*phoenix\b|\bphoenix\s*(?:/|\+)\s*elixir\b"#,
            false
        ),
    ]

    /// Languages in order of precedence when a text names several.
    static let languages: [(String, String, Bool)] = [
        // "Go" must be capitalised and used as a language ("in Go", "Go service", "Go/Gin", "Go 1.22"),
        // so "Go live", "go-live" and "Go/no-go" do not count.
        (
            "go",
            #"\bGo(?:lang)?\s*(?:/|\+)\s*(?![Nn]o\b)[A-Za-z]|\b(?:in|with|using|on|of)\s+Go\b(?![- ]?live)|\bGo\s+(?:service|api|API|microservice|backend|binary|app|application|server|worker|daemon|program|code|codebase|module|CLI|cli|tool|job|process|\d+\.\d+)\b|\bGo-based\b|\bin go\b(?=[\s,./)]|$)"#,
            true
        ),
        ("java", #"\bjava\b"#, false),
        ("kotlin", #"\bkotlin\b"#, false),
        ("scala", #"\bscala\b"#, false),
        ("typescript", #"\btypescript\b|\bdeno\b"#, false),
        ("javascript", #"\bnode\.?js\b|\bjavascript\b|\bbun\b"#, false),
        // "Node" alone is also a cluster or Proxmox node.
        ("javascript", #"\bNode\s*(?:\d{2}\b|/|\+|service|api|API|backend|app|server|worker|microservice)"#, true),
        ("python", #"\bpython\b|\bcpython\b|\bpy3\b"#, false),
        // ".NET", not the end of a host name such as "acme.net".
        ("csharp", #"(?<![\w.])\.net\b|\bdotnet\b|\bc#"#, false),
        ("ruby", #"\bruby\b"#, false),
        ("php", #"\bphp\b"#, false),
        ("rust", #"\brust\b"#, false),
        ("elixir", #"\belixir\b|\berlang\b|\bbeam\b"#, false),
        // The JVM alone says Java only when no other JVM language is named.
        ("java", #"\bjvm\b"#, false),
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
        // Spring Boot or Akka written in Kotlin or Scala.
        if let lang = f.language?.value, lang == "java" || lang == "scala" {
            for other in ["kotlin", "scala"] where other != lang {
                if let h = matches(#"\b\#(other)\b"#, in: t).first {
                    f.language = Fact(other, h.text)
                    break
                }
            }
        }
        if f.language == nil {
            if let g = goLower {
                f.language = Fact("go", g.text)
                return
            }
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
