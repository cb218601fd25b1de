import Foundation
import ProvisioCore
import ProvisioStore
import Testing

@testable import ProvisioContext

/// Whether a request names a well-known application, and which of its components.
@Suite struct ApplicationMatcherTests {
    static func doc(_ id: String, kind: String = "app", matches: [String], extra: String = "") throws -> KnowledgeDocument {
        try KnowledgeDocument.parse(
            """
            ---
            id: \(id)
            title: \(id)
            kind: \(kind)
            matches: [\(matches.joined(separator: ", "))]
            container: {requests: {cpu: 500m, memory: 1Gi}, replicas: 1}
            \(extra)
            load: test
            sources: [{url: "https://example.org"}]
            ---
            Test document.
            """, path: "\(id).md")
    }

    static let documents: [KnowledgeDocument] = try! [
        doc("redis", kind: "cache", matches: ["redis", "valkey"], extra: "bitnamiPreset: nano"),
        doc("rabbitmq", kind: "queue", matches: ["rabbitmq", "amqp"]),
        doc("mongodb", kind: "datastore", matches: ["mongodb", "mongo"]),
        doc("prometheus", matches: ["prometheus"]),
        doc(
            "prometheus-exporters", matches: ["prometheus exporter", "exporter"],
            extra: "components:\n  - {name: postgres-exporter, matches: [postgres, postgresql], container: {requests: {cpu: 10m, memory: 32Mi}}}"),
        doc("kube-state-metrics", matches: ["kube-state-metrics"]),
        doc(
            "argo-cd", matches: ["argo cd", "argocd"],
            extra:
                "components:\n  - {name: repo-server, matches: [repo server, repository server], container: {requests: {cpu: 10m, memory: 64Mi}}}\n  - {name: dex, matches: [dex], container: {requests: {cpu: 10m, memory: 32Mi}}}"
        ),
        doc("sentry", matches: ["sentry"], extra: "components:\n  - {name: relay, matches: [relay], container: {requests: {cpu: 100m, memory: 700Mi}}}"),
        doc("haproxy", matches: ["haproxy", "haproxy load balancer"]),
        doc("haproxy-ingress", matches: ["haproxy ingress", "haproxy ingress controller"]),
        doc("sonarqube", matches: ["sonarqube"]),
        doc("elasticsearch", kind: "datastore", matches: ["elasticsearch"]),
        doc(
            "argo-workflows", matches: ["argo workflows"],
            extra: "components:\n  - {name: server, matches: [argo server, server]}\n  - {name: workflow-controller, matches: [controller]}"),
        doc("cert-manager", matches: ["cert-manager"], extra: "components:\n  - {name: controller, matches: [controller]}"),
        doc("prometheus-operator", matches: ["prometheus operator"]),
        doc("unidentified-datastore", kind: "generic", matches: ["time-series database", "document database"]),
        doc(
            "mastodon", matches: ["mastodon"],
            extra: "components:\n  - {name: streaming, matches: [mastodon streaming, streaming server], container: {requests: {cpu: 250m, memory: 128Mi}}}"),
        doc(
            "vault", matches: ["vault", "hashicorp vault"],
            extra:
                "components:\n  - {name: server, matches: [vault server, server]}\n  - {name: agent-injector, matches: [agent injector, admission webhook], container: {requests: {cpu: 250m, memory: 256Mi}}}"
        ),
        doc("admission-webhook", kind: "archetype", matches: ["admission webhook", "mutating admission webhook"]),
        doc(
            "kafka", kind: "queue", matches: ["kafka"],
            extra: "components:\n  - {name: connect, matches: [connect worker, api server], container: {requests: {cpu: 1, memory: 2Gi}}}"),
        doc("metrics-server", matches: ["metrics-server", "kubernetes metrics server"]),
        doc("keycloak", matches: ["keycloak", "keycloak server"]),
        doc("go-runtime", kind: "runtime", matches: ["go", "golang"]),
        doc("drone", matches: ["drone ci", "drone server"]),
        doc("go-gin", kind: "framework", matches: ["gin"]),
        KnowledgeDocument.parse(
            """
            ---
            id: bitnami-resource-presets
            title: presets
            kind: reference
            matches: [bitnami]
            presets:
              nano: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 150m, memory: 192Mi}}
            load: test
            sources: [{url: "https://example.org"}]
            ---
            Presets.
            """, path: "bitnami-resource-presets.md"),
    ]

    @Test(
        arguments: [
            ("Spring Boot REST service that manages shopping carts stored in MongoDB.", "Spring Boot", nil, nil),
            ("Spring Boot worker that consumes shipping messages from RabbitMQ.", "Spring Boot (AMQP)", nil, nil),
            ("Redis cache used by Argo CD to store rendered manifests.", "Redis", "redis", nil),
            ("Argo CD repository server that clones Git repos and renders manifests.", "Argo CD", "argo-cd", "repo-server"),
            ("Prometheus exporter that connects to a PostgreSQL server and exposes metrics.", "postgres_exporter", "prometheus-exporters", "postgres-exporter"),
            ("Exporter that turns Kubernetes object state into metrics.", "client-go exporter (kube-state-metrics)", "kube-state-metrics", nil),
            ("Operator-managed Prometheus instance that scrapes ServiceMonitors.", nil, "prometheus", nil),
            ("Rust ingestion proxy that receives SDK events and forwards them.", "Relay", "sentry", "relay"),
            ("Go API for orders, 500 QPS, PostgreSQL and Redis behind it.", "gin", nil, nil),
            ("HAProxy-based ingress controller that load-balances HTTP traffic.", "HAProxy", "haproxy-ingress", nil),
            ("HAProxy in front of the MySQL writer.", "HAProxy", "haproxy", nil),
            ("Code-analysis server with an embedded search index.", "SonarQube (embedded Elasticsearch)", "sonarqube", nil),
            ("Node.js WebSocket streaming server that pushes timeline updates.", "Node.js WebSocket server", nil, nil),
            ("Argo Workflows UI and API.", "Server", "argo-workflows", "server"),
            ("Controller that issues and renews TLS certificates.", "controller-runtime", nil, nil),
            ("Time-series database written in Go that stores metrics.", "Go", "unidentified-datastore", nil),
            ("Operator-managed Prometheus instance that scrapes ServiceMonitors.", "Prometheus Operator CR", "prometheus", nil),
            ("Controller that runs Prometheus instances from custom resources.", "Prometheus Operator", "prometheus-operator", nil),
            ("Document database MongoDB holding the catalogue.", nil, "mongodb", nil),
            ("Go API that writes readings to a time-series database.", "Go", nil, nil),
            // A component of an application named later in the description.
            ("Node.js WebSocket streaming server that pushes timeline updates to Mastodon clients.", "Node.js WebSocket server", "mastodon", "streaming"),
            ("Admission webhook that injects Vault Agent sidecars into pods.", "mutating admission webhook", "vault", "agent-injector"),
            ("Admission webhook that injects tracing sidecars into pods.", "mutating admission webhook", "admission-webhook", nil),
            ("Go server that reads its secrets from HashiCorp Vault.", "Go", nil, nil),
            ("Python API server that publishes orders to Kafka.", "FastAPI", nil, nil),
            // A name spelled out across the request, only when nothing is named outright.
            ("Cluster add-on that collects kubelet metrics and serves them to the HPA.", "Kubernetes aggregated API server", "metrics-server", nil),
            ("Go server that exports Kubernetes metrics.", "Go", nil, nil),
            ("Internal API server that keeps settings in Kubernetes ConfigMaps and exposes metrics.", nil, nil, nil),
            ("Internal API server that keeps settings in Kubernetes ConfigMaps and exposes metrics.", "Gin", nil, nil),
            ("Keycloak server behind a Kubernetes metrics gateway.", nil, "keycloak", nil),
            // A framework that is exactly a document's name names it; the bare word in a description does not.
            ("CI server that runs pipelines in containers.", "Drone", "drone", nil),
            ("Go service that plans routes for a delivery drone.", "Go", nil, nil),
            // A framework that names a library of an application: the service only uses it.
            ("Java service that aggregates click events.", "Kafka Streams", nil, nil),
            ("Go worker that charges orders in durable steps.", "Drone SDK", nil, nil),
            ("Python service that indexes invoices.", "MongoDB client (pymongo)", nil, nil),
        ] as [(String, String?, String?, String?)])
    func recognisesTheServiceNotItsDependencies(description: String, framework: String?, app: String?, component: String?) {
        let match = ApplicationMatcher(documents: Self.documents).match(description: description, framework: framework)
        #expect(match?.id == app)
        #expect(match?.component == component)
        if app != nil { #expect(match?.role == "application") }
    }

    @Test func bitnamiPackagingAndUnknownLoadUseThePreset() {
        let m = ApplicationMatcher(documents: Self.documents)
        let explicit = m.match(description: "Redis primary (Bitnami packaging) used as a session store.", framework: nil)
        #expect(explicit?.container?.requests?.memory?.description == "128Mi")
        #expect(explicit?.preset == "bitnami-resource-presets:nano")
        let unknownLoad = m.match(description: "Redis primary used as a session store.", framework: nil, defaultInstall: true)
        #expect(unknownLoad?.container?.requests?.cpu?.description == "100m")
        #expect(unknownLoad?.preset?.contains("no load given") == true)
        let withLoad = m.match(description: "Redis primary used as a session store.", framework: nil, defaultInstall: false)
        #expect(withLoad?.container?.requests?.memory?.description == "1Gi")
        #expect(withLoad?.preset == nil)
    }

    @Test func upstreamAndPresetWithin4xMeetHalfway() throws {
        let upstream = ResourcePair(cpu: CPUQuantity(millicores: 200), memory: MemoryQuantity(parsing: "256Mi"))
        let preset = ResourcePair(cpu: CPUQuantity(millicores: 100), memory: MemoryQuantity(parsing: "2Gi"))
        let mid = try #require(ApplicationMatcher.midpoint(upstream, preset))
        #expect(mid.cpu?.millicores == 141, "√(200 × 100): within 2× of both")
        #expect(mid.memory?.description == "2Gi", "8× apart: the preset, not a midpoint far from both")
        #expect(ApplicationMatcher.midpoint(nil, preset) == preset)
        #expect(ApplicationMatcher.midpoint(upstream, nil) == upstream)
    }

    @Test(arguments: [
        ("Redis cache used by Argo CD", " redis cache"),
        ("Three-node Elasticsearch cluster for full-text search", " three-node elasticsearch cluster"),
        ("Kibana web UI for searching data", " kibana web ui"),
    ])
    func subjectStopsAtTheFirstConnective(description: String, subject: String) {
        #expect(ApplicationMatcher.subject(of: description) == subject)
    }

    /// The real knowledge base: a new document must not take over a service another one describes, nor
    /// turn a custom service into the datastore it uses.
    static let corpus = try! KnowledgeDocument.loadAll(
        from: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/knowledge")

    @Test(
        arguments: [
            ("Grafana dashboards for the platform team, reading Prometheus and Loki.", "Grafana", "grafana", nil),
            ("Argo CD application controller reconciling apps with the cluster.", "Argo CD", "argo-cd", "application-controller"),
            ("Kafka broker holding the order-event topics on persistent volumes.", "Apache Kafka", "kafka", nil),
            ("Harbor job service running replication and garbage collection.", "Harbor", "harbor", "jobservice"),
            (
                "Sidecar-free admission webhook that injects Vault Agent containers into annotated pods.", "mutating admission webhook", "vault",
                "agent-injector"
            ),
            ("Streaming server that pushes new posts to Mastodon clients over WebSockets.", "Node.js", "mastodon", "streaming"),
            ("PostgreSQL instances managed by CloudNativePG for the billing team.", "CloudNativePG", "cloudnative-pg", "instance"),
            ("Workflow engine history service persisting workflow state.", "Temporal", "temporal", "history"),
            ("Spring Boot REST service that keeps invoices in PostgreSQL and publishes events to Kafka.", "Spring Boot", nil, nil),
            ("Go REST API for customer accounts backed by MongoDB and Redis.", "Gin", nil, nil),
            ("Python worker that consumes jobs from RabbitMQ and writes results to S3.", "Celery", nil, nil),
            ("Node.js Express backend that proxies requests to an Elasticsearch cluster.", "Express", nil, nil),
            ("Controller that issues TLS certificates for ingresses.", "controller-runtime", nil, nil),
            ("Ingress gateway of the Istio service mesh that terminates external traffic.", "Envoy", "istio", "ingress-gateway"),
            ("Harbor registry component storing image layers in object storage.", "Docker Distribution", "harbor", "registry"),
            ("CA injector that patches webhook configurations with cert-manager CA bundles.", "controller-runtime", "cert-manager", "cainjector"),
            ("Cluster add-on that collects kubelet resource metrics and serves the metrics API.", "Kubernetes aggregated API server", "metrics-server", nil),
            ("Adapter that serves the custom metrics API from Prometheus queries.", "Kubernetes aggregated API server", nil, nil),
        ] as [(String, String?, String?, String?)])
    func theKnowledgeBaseRecognisesCommonServices(description: String, framework: String?, app: String?, component: String?) {
        let match = ApplicationMatcher(documents: Self.corpus).match(description: description, framework: framework)
        #expect(match?.id == app)
        if app != nil { #expect(match?.component == component) }
    }
}
