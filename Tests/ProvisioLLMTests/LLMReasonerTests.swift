import Foundation
import Logging
import ProvisioCore
import ProvisioLLM
import ProvisioPipeline
import ProvisioPredict
import ProvisioRefine
import ProvisioTestSupport
import Testing

enum LLMFixture {
    static let root: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func pipeline(_ llm: LLMConfig?) throws -> Pipeline {
        let state = NSTemporaryDirectory() + "provisio-llm-state-\(UUID().uuidString.prefix(8))"
        var config = PipelineConfig(
            stateDirectory: state, knowledgeDirectory: root + "/knowledge", policiesDirectory: root + "/policies", offline: true, remember: false)
        config.llm = llm
        return try Pipeline(config: config, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    /// A request in a scratch GitOps repository.
    static func request(_ description: String, extra: String = "  tier: production") throws -> String {
        let dir = NSTemporaryDirectory() + "provisio-llm-repo-\(UUID().uuidString.prefix(8))/apps/orders"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let quoted = "\"" + description.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        try """
        apiVersion: provisio/v1alpha1
        kind: ProvisionRequest
        metadata: {name: orders}
        spec:
          gitRepo: https://git.example.com/shop/orders.git
          description: \(quoted)
        \(extra)

        """.write(toFile: dir + "/provision.yaml", atomically: true, encoding: .utf8)
        return dir + "/provision.yaml"
    }

    static func config(_ url: String, model: String = "test", timeout: Double = 20) -> LLMConfig {
        var c = LLMConfig(url: url, model: model)
        c.timeout = timeout
        return c
    }

    static var hostile: [String] {
        ((try? String(contentsOfFile: root + "/Tests/fixtures/hostile-descriptions.txt", encoding: .utf8)) ?? "").split(separator: "\n")
            .map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
    }

    /// Whatever came out is inside the tier's bounds and passes validation.
    static func expectWithinPolicy(_ r: PlanResult, _ pipeline: Pipeline, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let rec = r.final.recommendation
        let b = pipeline.policy.tiers[r.context.appProfile.tier.value]!
        #expect(rec.replicas <= b.maxReplicas, "\(label): replicas \(rec.replicas)", sourceLocation: sourceLocation)
        #expect((rec.hpa?.maxReplicas ?? 0) <= b.maxReplicas, "\(label): hpa \(rec.summary)", sourceLocation: sourceLocation)
        for q in [rec.requests.cpu, rec.limits.cpu].compactMap({ $0 }) { #expect(q <= b.maxCpu, "\(label): cpu \(q)", sourceLocation: sourceLocation) }
        for q in [rec.requests.memory, rec.limits.memory].compactMap({ $0 }) {
            #expect(q <= b.maxMemory, "\(label): memory \(q)", sourceLocation: sourceLocation)
        }
        if let c = rec.requests.cpu, let l = rec.limits.cpu { #expect(l >= c, "\(label): cpu limit below request", sourceLocation: sourceLocation) }
        if let c = rec.requests.memory, let l = rec.limits.memory {
            #expect(l >= c, "\(label): memory limit below request", sourceLocation: sourceLocation)
        }
    }
}

/// The reasoner against a stand-in that misbehaves on purpose: every failure falls back, with the reason.
@Suite(.serialized) struct LLMFallbackTests {
    let server: ModelServer
    init() throws { server = try ModelServer(standIn: ()) }

    func plan(_ mode: String, timeout: Double = 20, description: String = "Go API for orders, 200 QPS at peak, production") async throws -> PlanResult {
        try await LLMFixture.pipeline(LLMFixture.config(server.url(mode: mode), timeout: timeout)).plan(path: try LLMFixture.request(description))
    }

    @Test func aSaneAnswerIsUsedAndTheToolCallsAreRecorded() async throws {
        defer { server.stop() }
        let r = try await plan("ok")
        #expect(r.draft.reasoner == "llm (test)")
        #expect(r.draft.recommendation.requests.cpu == CPUQuantity(millicores: 200))
        #expect(r.final.reasoner == "llm (test)")
        let call = try #require(r.final.rounds.first { $0.tool == "check_plan" })
        #expect(call.thought.hasPrefix("llm (test)"))
        #expect(call.observation.contains("\"passes\""))
        // The tools offered: the registry's, with the arguments that name the request hidden from the model.
        let requests = server.requests
        let withTools = try #require(requests.first { (($0["body"] as? [String: Any])?["tools"]) != nil })
        let tools = ((withTools["body"] as! [String: Any])["tools"] as! [[String: Any]]).map { $0["function"] as! [String: Any] }
        #expect(tools.map { $0["name"] as! String } == ["check_plan", "check_policy", "estimate_cost", "search_knowledge"])
        let checkPlan = try #require(tools.first { $0["name"] as? String == "check_plan" })
        let props = ((checkPlan["parameters"] as! [String: Any])["properties"] as! [String: Any]).keys.sorted()
        #expect(props == ["recommendation"])
        let checkPolicy = try #require(tools.first { $0["name"] as? String == "check_policy" })
        #expect(((checkPolicy["parameters"] as! [String: Any])["properties"] as! [String: Any]).keys.sorted() == ["recommendation"])
        // The model's attempt to point check_plan at another request was ignored: the call checked this one.
        #expect(!call.observation.contains("passwd"))
        #expect(!call.observation.hasPrefix("error"))
        // The answer was constrained by the schema.
        let first = try #require(requests.first)
        let format = (first["body"] as! [String: Any])["response_format"] as! [String: Any]
        #expect(format["type"] as? String == "json_schema")
        // A tool message went back with the call's id.
        let last = try #require(requests.last?["body"] as? [String: Any])
        let toolMessage = try #require((last["messages"] as! [[String: Any]]).first { $0["role"] as? String == "tool" })
        #expect(toolMessage["tool_call_id"] as? String == "call_1")
    }

    @Test func eachFailureFallsBackWithItsReason() async throws {
        defer { server.stop() }
        let cases: [(String, String)] = [
            ("error500", "HTTP 500"), ("invalid", "not valid JSON"),
        ]
        for (mode, reason) in cases {
            let r = try await plan(mode)
            #expect(r.draft.reasoner.hasPrefix("embedded (fallback: "), "\(mode): \(r.draft.reasoner)")
            #expect(r.draft.reasoner.contains(reason), "\(mode): \(r.draft.reasoner)")
            #expect(r.final.reasoner?.hasPrefix("embedded (fallback: ") == true, "\(mode): \(r.final.reasoner ?? "nil")")
            #expect(r.final.embedded == nil)
            let status = try #require(r.files.first { $0.path.hasSuffix("status.yaml") })
            #expect(status.contents.contains("embedded (fallback: "))
        }
    }

    @Test func fencesAreStrippedAndAServerWithoutJSONSchemaGetsJSONObject() async throws {
        defer { server.stop() }
        let fenced = try await plan("fenced")
        #expect(fenced.draft.reasoner == "llm (test)")
        let before = server.requests.count
        let r = try await plan("noschema")
        #expect(r.draft.reasoner == "llm (test)")
        let formats = server.requests.dropFirst(before).compactMap {
            (($0["body"] as? [String: Any])?["response_format"] as? [String: Any])?["type"] as? String
        }
        #expect(formats.prefix(2) == ["json_schema", "json_object"])
    }

    @Test func aSlowServerFallsBackWithinTheTimeout() async throws {
        defer { server.stop() }
        let r = try await plan("slow", timeout: 1)
        #expect(r.draft.reasoner.contains("no answer within 1 s"), "\(r.draft.reasoner)")
        #expect(r.final.reasoner?.contains("no answer within 1 s") == true)
        // Each agent gave up after its timeout (with room for a loaded machine); the stand-in takes 5 s per answer.
        let model = try #require(r.timings.first { $0.0 == "predict (model)" }?.1)
        let refine = try #require(r.timings.first { $0.0 == "refine" }?.1)
        #expect(model >= 1 && model < 3.5, "agent 2 took \(model) s")
        #expect(refine >= 1 && refine < 3.5, "agent 3 took \(refine) s")
    }

    @Test func aServerThatIsDownFallsBack() async throws {
        server.stop()
        let r = try await LLMFixture.pipeline(LLMFixture.config("http://127.0.0.1:9/v1", timeout: 5)).plan(
            path: try LLMFixture.request("Go API, 100 QPS"))
        #expect(r.draft.reasoner.hasPrefix("embedded (fallback: "))
        #expect(r.draft.reasoner.contains("unreachable"))
        #expect(r.final.status != "rejected")
    }

    @Test func aPlanFarFromTheEmbeddedOneNeedsReviewWithBothShown() async throws {
        defer { server.stop() }
        // A JVM service at 1200 QPS: the embedded reasoner gives it far more than the stand-in's 200m/256Mi.
        let r = try await plan("ok", description: "Product catalog API in Java Spring Boot, 1200 QPS at peak, production")
        #expect(r.draft.reasoner == "llm (test)")
        #expect(r.final.status == "needs-review")
        let reason = try #require(r.final.reasons.first { $0.contains("from the embedded reasoner's") })
        #expect(reason.contains("model: ") && reason.contains("embedded: "))
        let embedded = try #require(r.final.embedded)
        #expect(embedded.requests.memory! > r.final.recommendation.requests.memory!)
        let status = try #require(r.files.first { $0.path.hasSuffix("status.yaml") })
        #expect(status.contents.contains("embedded:"))
    }

    @Test func theAPIKeyIsSentAndNeverWritten() async throws {
        defer { server.stop() }
        let key = "sk-canary-\(UUID().uuidString.prefix(12))"
        var c = LLMFixture.config(server.url(mode: "error500"))
        c.apiKey = key
        let r = try await LLMFixture.pipeline(c).plan(path: try LLMFixture.request("Go API, 100 QPS"))
        #expect(server.requests.allSatisfy { $0["authorization"] as? String == "Bearer \(key)" })
        let everything = r.files.map(\.contents).joined() + String(describing: r.draft) + String(describing: r.final)
        #expect(!everything.contains(key))
    }

    /// A model that does whatever the description says never gets its numbers through.
    @Test func hostileDescriptionsGetNothingAboveThePolicy() async throws {
        defer { server.stop() }
        let descriptions = LLMFixture.hostile
        #expect(descriptions.count >= 20)
        let pipeline = try LLMFixture.pipeline(LLMFixture.config(server.url(mode: "obey")))
        for d in descriptions {
            let r = try await pipeline.plan(path: try LLMFixture.request(d))
            LLMFixture.expectWithinPolicy(r, pipeline, d)
            // The obeying model's plan is out of policy every time: agent 2 and agent 3 fell back.
            #expect(r.draft.reasoner.hasPrefix("embedded (fallback: the model's plan"), "\(d): \(r.draft.reasoner)")
            #expect(r.final.reasoner?.hasPrefix("embedded (fallback: ") == true, "\(d)")
            // Its call to a tool that does not exist was answered with an error, not run.
            #expect(r.final.rounds.contains { $0.tool == "set_status" && $0.observation.hasPrefix("error: there is no tool") })
        }
    }
}

/// A real llama.cpp server.
@Suite(.serialized) struct LlamaServerTests {
    /// The tiny random model answers inside the schema (the grammar holds it there); whatever it says is
    /// checked, and nothing out of policy comes out — for ordinary and hostile descriptions alike.
    @Test func theTinyModelIsHeldToTheSchemaAndThePolicy() async throws {
        let server = try ModelServer(llama: .tiny)
        defer { server.stop() }
        let config = LLMFixture.config(server.url, model: "tiny")
        // The protocol and the grammar: random weights, yet the answer is in the schema (the parts of
        // PlanAnswer's schema without free text, which a random model never ends).
        guard case .map(let entries) = PlanAnswer.schema, case .map(let props)? = entries.first(where: { $0.key == "properties" })?.value else {
            Issue.record("schema")
            return
        }
        let numbers = props.filter { ["replicas", "requests"].contains($0.key) }
        let schema = Tree.object([
            ("type", .string("object")), ("properties", .map(numbers)), ("required", .list([.string("replicas"), .string("requests")])),
            ("additionalProperties", .bool(false)),
        ])
        let reply = try await ChatClient(config: config).complete(
            [.system("Size the service."), .user("A Go API.")], format: .jsonSchema(name: "draft_plan", schema: schema))
        let content = try #require(reply.content)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any])
        let replicas = try #require(object["replicas"] as? Int)
        #expect(replicas >= 1 && replicas <= 100)
        let requests = try #require(object["requests"] as? [String: String])
        #expect(requests["cpu"]?.wholeMatch(of: /[1-9][0-9]{0,5}m/) != nil)
        #expect(requests["memory"]?.wholeMatch(of: /[1-9][0-9]{0,6}Mi/) != nil)

        let pipeline = try LLMFixture.pipeline(config)
        var usedModel = 0
        let hostile = LLMFixture.hostile.enumerated().filter { $0.offset % 4 == 0 }.map(\.element)
        for d in ["Go API for orders, 200 QPS at peak, production"] + hostile {
            let r = try await pipeline.plan(path: try LLMFixture.request(d))
            LLMFixture.expectWithinPolicy(r, pipeline, d)
            #expect(r.draft.reasoner == "llm (tiny)" || r.draft.reasoner.hasPrefix("embedded (fallback: "), "\(r.draft.reasoner)")
            if r.draft.reasoner == "llm (tiny)" { usedModel += 1 }
            #expect(r.final.reasoner != nil)
        }
        // Random weights never size a service sensibly: every answer was caught.
        #expect(usedModel == 0)
    }

    /// SmolLM2-135M-Instruct, a real instruction-tuned model, end to end through `provisio plan`:
    /// its answers are schema-valid but unreliable; what is written is always inside the policy.
    @Test func smolLM2EndToEnd() async throws {
        let server = try ModelServer(llama: .smolLM2)
        defer { server.stop() }
        let pipeline = try LLMFixture.pipeline(LLMFixture.config(server.url, model: "smollm2", timeout: 60))
        let r = try await pipeline.plan(
            path: try LLMFixture.request("Order API in Go (gin), 300 QPS at peak, p99 under 100 ms, production, stateless, uses PostgreSQL"))
        LLMFixture.expectWithinPolicy(r, pipeline, "smollm2")
        #expect(r.draft.reasoner == "llm (smollm2)" || r.draft.reasoner.hasPrefix("embedded (fallback: "))
        let status = try #require(r.files.first { $0.path.hasSuffix("status.yaml") })
        #expect(status.contents.contains("refine: "))
        let deployment = try #require(r.files.first { $0.path.hasSuffix("deployment.yaml") })
        #expect(deployment.contents.contains("resources:"))
    }
}

/// Embedded agent 3 calls the same registry the MCP server serves and a model's tool calls go through.
@Suite struct EmbeddedToolsTests {
    actor Spy: ToolCalling {
        let registry: ToolRegistry
        var calls: [String] = []
        init(_ r: ToolRegistry) { registry = r }
        func call(_ name: String, arguments: Tree) async throws -> Tree {
            calls.append(name)
            return try await registry.call(name, arguments: arguments)
        }
    }

    @Test func targetedRetrievalAndTheCostGoThroughTheRegistry() async throws {
        let pipeline = try LLMFixture.pipeline(nil)
        let path = try LLMFixture.request(
            "Order API in Go, 300 QPS at peak, production, keeps its state in a FoundationDB cluster",
            extra:
                "  tier: production\n  dependencies: [foundationdb-unlisted]\n  target: {kubernetes: {namespace: shop}, proxmox: {node: pve01, vms: [{role: postgresql}]}}"
        )
        let (context, team) = try await pipeline.context(path: path)
        let draft = try await PredictAgent().run(context)
        let spy = Spy(ToolRegistry(pipeline: pipeline))
        var agent = RefineAgent(policy: pipeline.policy, database: pipeline.database)
        agent.tools = spy
        let final = try await agent.run(RefineInput(context: context, draft: draft, team: team))
        let calls = await spy.calls
        #expect(calls.contains("search_knowledge"))
        #expect(calls.last == "estimate_cost")
        // The registry's answer is the agent's own arithmetic, VMs included.
        #expect(final.estimatedMonthlyCost == agent.cost(of: final.recommendation))
        #expect(final.estimatedMonthlyCost.vms > 0)
    }
}
