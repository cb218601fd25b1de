import Foundation
import ProvisioCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where Prometheus (or Thanos, VictoriaMetrics, Mimir — the same HTTP API) is and how to read it.
public struct PrometheusConfig: Sendable, Hashable {
    /// Base URL, e.g. `http://prometheus.monitoring:9090` (a path prefix is kept: `https://mimir/prometheus`).
    public var url: String
    /// `Authorization: Bearer …`.
    public var bearerToken: String?
    /// Basic auth.
    public var username: String?
    public var password: String?
    /// Seconds one HTTP request may take.
    public var timeout: Double = 10
    /// Seconds of history to read.
    public var window: Double = 14 * 86_400
    /// The range of `rate()`; at least four scrape intervals.
    public var rateWindow = "5m"
    /// The queries; `{{selector}}` and `{{rate}}` are filled in.
    public var queries = PrometheusQueries()

    public init(url: String) { self.url = url }

    /// The address without credentials, for messages.
    public var displayURL: String { Redactor.scrub(url) }
}

/// The PromQL that reads a workload's history. `{{selector}}` is the label matcher for the workload's
/// pods (`namespace="shop", pod=~"order-service-…"`), `{{rate}}` the rate window.
public struct PrometheusQueries: Sendable, Hashable, Codable {
    /// CPU cores per pod and container.
    public var cpu = #"sum by (pod, container) (rate(container_cpu_usage_seconds_total{{{selector}}, container!="", container!="POD"}[{{rate}}]))"#
    /// Working-set bytes per pod and container.
    public var memory = #"sum by (pod, container) (container_memory_working_set_bytes{{{selector}}, container!="", container!="POD"})"#
    /// Throttled periods / all periods, per container.
    public var throttling =
        #"sum by (container) (rate(container_cpu_cfs_throttled_periods_total{{{selector}}, container!=""}[{{rate}}])) / sum by (container) (rate(container_cpu_cfs_periods_total{{{selector}}, container!=""}[{{rate}}]))"#
    /// Restart counters per pod and container.
    public var restarts = #"sum by (pod, container) (kube_pod_container_status_restarts_total{{{selector}}})"#
    /// 1 while a container's last termination was an OOM kill.
    public var oomKilled = #"max by (pod, container) (kube_pod_container_status_last_terminated_reason{{{selector}}, reason="OOMKilled"})"#
    /// Requests per container and resource (kube-state-metrics).
    public var requests = #"max by (container, resource) (kube_pod_container_resource_requests{{{selector}}, resource=~"cpu|memory"})"#
    /// Limits per container and resource.
    public var limits = #"max by (container, resource) (kube_pod_container_resource_limits{{{selector}}, resource=~"cpu|memory"})"#
    /// Requests per second across the workload; nil when no metric is configured.
    public var requestRate: String?

    public init() {}

    /// The documented keys, for configuration.
    public static let keys = ["cpu", "memory", "throttling", "restarts", "oomKilled", "requests", "limits", "requestRate"]

    /// Sets one query by its configuration key.
    public mutating func set(_ key: String, _ value: String) -> Bool {
        switch key {
        case "cpu": cpu = value
        case "memory": memory = value
        case "throttling": throttling = value
        case "restarts": restarts = value
        case "oomKilled": oomKilled = value
        case "requests": requests = value
        case "limits": limits = value
        case "requestRate": requestRate = value
        default: return false
        }
        return true
    }
}

/// One series of a range query.
public struct PrometheusSeries: Sendable, Hashable {
    public var labels: [String: String]
    /// (unix seconds, value); NaN and ±Inf are dropped.
    public var values: [Sample]

    public struct Sample: Sendable, Hashable {
        public var time: Double
        public var value: Double
    }
}

/// A minimal client for the Prometheus HTTP API (`/api/v1/query_range`).
public struct PrometheusClient: Sendable {
    public let config: PrometheusConfig
    let session: URLSession

    public init(config: PrometheusConfig) {
        self.config = config
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = config.timeout
        c.timeoutIntervalForResource = config.timeout
        c.httpMaximumConnectionsPerHost = 8
        session = URLSession(configuration: c)
    }

    /// Runs a range query; the answer is a list of series. Throws `.metrics` errors that never carry credentials.
    public func queryRange(_ query: String, start: Double, end: Double, step: Int) async throws -> [PrometheusSeries] {
        let body: [(String, String)] = [("query", query), ("start", Tree.format(start)), ("end", Tree.format(end)), ("step", "\(step)")]
        let data = try await post("api/v1/query_range", form: body)
        return try Self.decodeMatrix(data, query: query)
    }

    func post(_ path: String, form: [(String, String)]) async throws -> Data {
        let base = config.url.hasSuffix("/") ? config.url : config.url + "/"
        guard let url = URL(string: base + path), let scheme = url.scheme, ["http", "https"].contains(scheme) else {
            throw ProvisioError(.configuration, field: "prometheus.url", "'\(config.displayURL)' is not an http(s) URL")
        }
        var request = URLRequest(url: url, timeoutInterval: config.timeout)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let token = config.bearerToken {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        } else if let user = config.username {
            let raw = Data("\(user):\(config.password ?? "")".utf8).base64EncodedString()
            request.setValue("Basic \(raw)", forHTTPHeaderField: "Authorization")
        }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        request.httpBody = Data(
            form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&").utf8)
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            let reason = (error as? URLError)?.code == .timedOut ? "no answer within \(Tree.format(config.timeout)) s" : "unreachable"
            throw ProvisioError(.metrics, "Prometheus at \(config.displayURL) \(reason): \(Redactor.scrub(error.localizedDescription))")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        if status == 401 || status == 403 {
            throw ProvisioError(.metrics, "Prometheus at \(config.displayURL) refused the credentials (HTTP \(status))")
        }
        if status == 404 {
            throw ProvisioError(.metrics, "no Prometheus API at \(config.displayURL) (HTTP 404 for /\(path)); check prometheus.url")
        }
        if !(200..<300).contains(status) && !(400..<500).contains(status) {
            throw ProvisioError(.metrics, "Prometheus at \(config.displayURL) answered HTTP \(status)")
        }
        return data
    }

    struct Envelope: Decodable {
        var status: String
        var error: String?
        var errorType: String?
        var data: Matrix?
        struct Matrix: Decodable {
            var resultType: String
            var result: [Item]
        }
        struct Item: Decodable {
            var metric: [String: String]
            var values: [Pair]?
        }
        struct Pair: Decodable {
            var time: Double
            var value: String
            init(from decoder: any Decoder) throws {
                var c = try decoder.unkeyedContainer()
                time = try c.decode(Double.self)
                value = try c.decode(String.self)
            }
        }
    }

    static func decodeMatrix(_ data: Data, query: String) throws -> [PrometheusSeries] {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: data)
        } catch {
            throw ProvisioError(.metrics, "the Prometheus API answered something that is not a query result (\(data.count) bytes)")
        }
        guard envelope.status == "success", let matrix = envelope.data else {
            throw ProvisioError(.metrics, "Prometheus rejected the query \(query): \(envelope.errorType ?? "error"): \(envelope.error ?? "no message")")
        }
        guard matrix.resultType == "matrix" else {
            throw ProvisioError(.metrics, "expected a matrix from the range query, got \(matrix.resultType)")
        }
        return matrix.result.map { item in
            PrometheusSeries(
                labels: item.metric,
                values: (item.values ?? []).compactMap { p in
                    guard let v = Double(p.value), v.isFinite else { return nil }
                    return .init(time: p.time, value: v)
                })
        }
    }
}
