import Foundation
public import ProvisioContext
public import ProvisioCore
public import ProvisioPredict
public import ProvisioRefine

/// A tool offered to the model in agent 3: what the model sees, and the call (arguments as JSON text → the observation).
public struct SessionTool: Sendable {
    public var tool: ChatTool
    public var call: @Sendable (String) async throws -> String
    public init(tool: ChatTool, call: @escaping @Sendable (String) async throws -> String) {
        self.tool = tool
        self.call = call
    }
}

/// Agent 3's review by the model: the plan it ended with, the tool calls it made, and which reasoner to credit.
public struct Review: Sendable {
    public var recommendation: Recommendation
    public var rounds: [FinalPlan.Round]
    /// The model's label, or `embedded (fallback: …)` when its answer was not used.
    public var reasoner: String
    public var usedModel: Bool
}

/// Agents 2 and 3 with a language model. Nothing the model says is trusted: every answer is parsed
/// against the schema, every quantity re-read and the plan put through agent 3's checks; an answer that
/// is invalid, out of bounds, late or an error means the embedded reasoner's plan, and the label says why.
public struct LLMReasoner: Sendable {
    public let config: LLMConfig
    let client: ChatClient

    public init(config: LLMConfig) {
        self.config = config
        client = ChatClient(config: config)
    }

    /// How plans by this model are labelled.
    public var label: String { "llm (\(config.model))" }

    /// Agent 2: the model's draft when it passes every check, else `embedded` labelled with the reason.
    public func predict(_ ctx: ContextBundle, embedded: DraftPlan, team: TeamDeployment?, checker: RefineAgent) async -> DraftPlan {
        let bounds = checker.bounds(for: ctx)
        do {
            let a = try await answer(Prompt.predictMessages(ctx, bounds: bounds))
            let rec = try accept(a, vms: embedded.recommendation.vms, ctx: ctx, team: team, checker: checker)
            var steps = ["1. \(a.analysis)"]
            for r in a.reasoning { steps.append("\(steps.count + 1). \(r)") }
            return DraftPlan(
                recommendation: rec, reasoning: steps,
                assumptions: ["sized by the language model \(config.model); the embedded reasoner's plan was computed too: \(embedded.recommendation.summary)"],
                citations: embedded.citations, confidence: min(embedded.confidence, 0.7), reasoner: label,
                plan: embedded.plan + ["ask \(label) with the context, the tier's bounds and two examples; check its answer"])
        } catch {
            var d = embedded
            d.reasoner = "embedded (fallback: \(Self.reason(error)))"
            return d
        }
    }

    /// Agent 3: up to `maxToolRounds` rounds of tool calls, then the final plan, checked like agent 2's.
    public func review(_ ctx: ContextBundle, draft: DraftPlan, team: TeamDeployment?, tools: [SessionTool], checker: RefineAgent) async -> Review {
        var messages = Prompt.reviewMessages(ctx, draft: draft, bounds: checker.bounds(for: ctx), rounds: config.maxToolRounds)
        var rounds: [FinalPlan.Round] = []
        do {
            for round in 0..<config.maxToolRounds {
                // A tool call is short: a model that talks instead is cut off early and asked for the plan.
                let reply = try await client.complete(messages, tools: tools.map(\.tool), maxTokens: min(256, config.maxTokens))
                if reply.toolCalls.isEmpty { break }
                var assistant = ChatMessage(role: "assistant", content: reply.content)
                assistant.toolCalls = Array(reply.toolCalls.prefix(4))
                messages.append(assistant)
                for call in assistant.toolCalls {
                    let observation: String
                    if let t = tools.first(where: { $0.tool.name == call.name }) {
                        do { observation = try await t.call(call.arguments) } catch { observation = "error: \(Redactor.message(of: error))" }
                    } else {
                        observation = "error: there is no tool '\(call.name.prefix(60))'; the tools are \(tools.map(\.tool.name).joined(separator: ", "))"
                    }
                    var m = ChatMessage(role: "tool", content: String(observation.prefix(4000)))
                    m.toolCallID = call.id
                    messages.append(m)
                    let said = String((reply.content ?? "").prefix(200))
                    let thought = label + ": " + (said.isEmpty ? "calls " + call.name : said)
                    let input = Redactor.scrub(String(call.arguments.prefix(600)))
                    rounds.append(
                        FinalPlan.Round(
                            round: round + 1, thought: thought, tool: String(call.name.prefix(60)), input: input, observation: String(observation.prefix(600))))
                }
            }
            messages.append(.user("Answer with the final plan as the JSON object."))
            let a = try await answer(messages)
            let rec = try accept(a, vms: draft.recommendation.vms, ctx: ctx, team: team, checker: checker)
            return Review(recommendation: rec, rounds: rounds, reasoner: label, usedModel: true)
        } catch {
            return Review(recommendation: draft.recommendation, rounds: rounds, reasoner: "embedded (fallback: \(Self.reason(error)))", usedModel: false)
        }
    }

    /// One constrained answer: `json_schema`; on a 4xx (a server that refuses it), once more with `json_object`.
    func answer(_ messages: [ChatMessage]) async throws -> PlanAnswer {
        let reply: ChatReply
        do {
            reply = try await client.complete(messages, format: .jsonSchema(name: "draft_plan", schema: PlanAnswer.schema))
        } catch let e as ChatError where (400..<500).contains(e.status ?? 0) {
            reply = try await client.complete(messages, format: .jsonObject(schema: PlanAnswer.schema))
        }
        if reply.finishReason == "length" { throw AnswerError("the answer was cut off at \(config.maxTokens) tokens") }
        return try PlanAnswer.parse(reply.content ?? "")
    }

    /// The answer as a recommendation, when it passes agent 3's checks (findings about the request itself —
    /// its path or namespace — and about cluster room are the request's, not the answer's).
    func accept(_ a: PlanAnswer, vms: [Recommendation.VMPlan], ctx: ContextBundle, team: TeamDeployment?, checker: RefineAgent) throws -> Recommendation {
        var rec = try a.recommendation(vms: vms)
        if !checker.bounds(for: ctx).cpuLimits { rec.limits.cpu = nil }
        let findings = checker.findings(of: rec, context: ctx, team: team).filter { !$0.rejects && $0.check != "capacity" }
        if !findings.isEmpty {
            throw AnswerError("the model's plan \(rec.summary) fails \(findings.map { "\($0.check): \($0.detail)" }.joined(separator: "; "))")
        }
        return rec
    }

    static func reason(_ error: any Error) -> String {
        let text =
            switch error {
            case let e as AnswerError: e.description
            case let e as ChatError: e.description
            default: Redactor.message(of: error)
            }
        return Redactor.scrub(String(text.prefix(400)))
    }
}

/// Where two plans differ by more than a factor.
public enum Deviation {
    /// "requests.cpu 4 vs 250m (16×)" for each quantity of `a` more than `factor` away from `b`'s.
    public static func compare(_ a: Recommendation, _ b: Recommendation, factor: Double) -> [String] {
        var out: [String] = []
        func check(_ name: String, _ x: Double?, _ y: Double?, _ show: (Double) -> String) {
            guard let x, let y, x > 0, y > 0 else { return }
            let ratio = max(x, y) / min(x, y)
            if ratio > factor + 1e-9 { out.append("\(name) \(show(x)) vs \(show(y)) (\(Tree.format((ratio * 10).rounded() / 10))×)") }
        }
        let n = { (d: Double) in Tree.format(d) }
        check("replicas", Double(a.replicas), Double(b.replicas), n)
        check("hpa.maxReplicas", a.hpa.map { Double($0.maxReplicas) }, b.hpa.map { Double($0.maxReplicas) }, n)
        let cpu = { (d: Double) in CPUQuantity(cores: d).description }
        let mem = { (d: Double) in MemoryQuantity(bytes: Int64(d)).description }
        check("requests.cpu", a.requests.cpu?.cores, b.requests.cpu?.cores, cpu)
        check("limits.cpu", a.limits.cpu?.cores, b.limits.cpu?.cores, cpu)
        check("requests.memory", a.requests.memory.map { Double($0.bytes) }, b.requests.memory.map { Double($0.bytes) }, mem)
        check("limits.memory", a.limits.memory.map { Double($0.bytes) }, b.limits.memory.map { Double($0.bytes) }, mem)
        for vm in a.vms {
            guard let other = b.vms.first(where: { $0.name == vm.name }) else { continue }
            check("vm \(vm.name) cores", Double(vm.cores), Double(other.cores), n)
            check("vm \(vm.name) memory MiB", Double(vm.memoryMiB), Double(other.memoryMiB), n)
        }
        return out
    }
}
