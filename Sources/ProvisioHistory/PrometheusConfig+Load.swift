import Foundation
import ProvisioCore

extension PrometheusConfig {
    /// The configuration keys (under `prometheus.`), with their meaning and default.
    public static let keys: [String: String] = [
        "prometheus.url": "Prometheus-compatible API (Prometheus, Thanos, VictoriaMetrics, Mimir) for the metrics route; unset: knowledge route only",
        "prometheus.tokenFile": "file holding a bearer token (default: systemd credential prometheus-token, or $PROVISIO_PROMETHEUS_TOKEN)",
        "prometheus.username": "basic-auth user (the password from prometheus.passwordFile, credential prometheus-password or $PROVISIO_PROMETHEUS_PASSWORD)",
        "prometheus.passwordFile": "file holding the basic-auth password",
        "prometheus.timeout": "seconds one query may take (default 10); a slower Prometheus means the knowledge route, with a warning",
        "prometheus.window": "history to read, e.g. 14d (default 14d)",
        "prometheus.rateWindow": "range of rate(), at least four scrape intervals (default 5m)",
    ].merging(PrometheusQueries.keys.map { ("prometheus.queries.\($0)", "PromQL for \($0); {{selector}} and {{rate}} are filled in") }) { a, _ in a }

    /// Reads the `prometheus.*` keys, the environment (`PROVISIO_PROMETHEUS_URL`, `…_TOKEN`, `…_USER`,
    /// `…_PASSWORD`) and systemd credentials; nil when no URL is configured.
    public static func load(values: [String: String], environment: [String: String], file: String) throws -> PrometheusConfig? {
        func fail(_ key: String, _ message: String) -> ProvisioError { ProvisioError(.configuration, file: file, field: key, message) }
        guard let url = environment["PROVISIO_PROMETHEUS_URL"] ?? values["prometheus.url"], !url.isEmpty else { return nil }
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw fail("prometheus.url", "'\(Redactor.scrub(url))' is not an http(s) URL")
        }
        var c = PrometheusConfig(url: url)
        func secret(_ key: String, credential: String, env: String) throws -> String? {
            try Secrets.read(key: key, credential: credential, env: env, values: values, environment: environment, file: file)
        }
        c.bearerToken = try secret("prometheus.tokenFile", credential: "prometheus-token", env: "PROVISIO_PROMETHEUS_TOKEN")
        c.username = environment["PROVISIO_PROMETHEUS_USER"] ?? values["prometheus.username"]
        if c.username != nil {
            c.password = try secret("prometheus.passwordFile", credential: "prometheus-password", env: "PROVISIO_PROMETHEUS_PASSWORD")
        }
        if let v = values["prometheus.timeout"] {
            guard let d = Double(v), d > 0, d <= 600 else { throw fail("prometheus.timeout", "expected seconds between 0 and 600, got '\(v)'") }
            c.timeout = d
        }
        if let v = values["prometheus.window"] {
            guard let d = duration(v), d >= 3600, d <= 400 * 86_400 else {
                throw fail("prometheus.window", "expected a duration between 1h and 400d such as 14d, got '\(v)'")
            }
            c.window = d
        }
        if let v = values["prometheus.rateWindow"] {
            guard let d = duration(v), d >= 10, d <= 86_400 else { throw fail("prometheus.rateWindow", "expected a duration such as 5m, got '\(v)'") }
            c.rateWindow = v
        }
        for key in PrometheusQueries.keys {
            if let q = values["prometheus.queries.\(key)"] {
                guard !q.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("prometheus.queries.\(key)", "must not be empty") }
                _ = c.queries.set(key, q)
            }
        }
        return c
    }

    /// Seconds in a Prometheus duration (`90s`, `5m`, `14d`, `2w`) or a plain number of seconds.
    public static func duration(_ s: String) -> Double? {
        if let d = Double(s) { return d }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800), ("y", 31_536_000)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            if let n = Double(s.dropLast(suffix.count)), n > 0 { return n * factor }
        }
        return nil
    }
}
