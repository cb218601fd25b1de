import Foundation
import ProvisioCore
import ProvisioPredict
import Testing

@testable import ProvisioLLM

@Suite struct PlanAnswerTests {
    static let valid =
        #"{"analysis":"a","replicas":3,"requests":{"cpu":"250m","memory":"256Mi"},"limits":{"cpu":"500m","memory":"384Mi"},"autoscale":true,"hpa":{"minReplicas":3,"maxReplicas":6,"targetCPUUtilization":70},"pdbMaxUnavailable":1,"reasoning":["x"]}"#

    @Test func fencesAndWordsAroundTheObjectAreStripped() throws {
        for text in ["```json\n\(Self.valid)\n```", "```\n\(Self.valid)```", "Here is the plan:\n\(Self.valid)\nDone.", "  \(Self.valid)  "] {
            let a = try PlanAnswer.parse(text)
            #expect(a.replicas == 3)
            let r = try a.recommendation(vms: [])
            #expect(r.requests.cpu == CPUQuantity(millicores: 250))
            #expect(r.limits.memory == MemoryQuantity(mebibytes: 384))
            #expect(r.hpa?.maxReplicas == 6)
            #expect(r.pdb?.maxUnavailable == 1)
        }
    }

    @Test func brokenAnswersSayWhatIsWrong() {
        func reason(_ text: String) -> String {
            do {
                _ = try PlanAnswer.parse(text).recommendation(vms: [])
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(reason("") == "the answer is empty")
        #expect(reason("{\"replicas\": 3") == "the answer is not valid JSON")
        #expect(reason(#"{"analysis":"a"}"#).contains("has no 'replicas'"))
        #expect(reason(Self.valid.replacingOccurrences(of: "\"250m\"", with: "\"two cores\"")).contains("requests.cpu 'two cores' is not a CPU quantity"))
        #expect(reason(Self.valid.replacingOccurrences(of: "\"maxReplicas\":6", with: "\"maxReplicas\":2")).contains("below hpa.minReplicas"))
        #expect(reason(Self.valid.replacingOccurrences(of: "\"replicas\":3", with: "\"replicas\":\"3\"")).contains("'replicas' has the wrong type"))
    }

    @Test func theSchemaRequiresEveryFieldAndAllowsNoOthers() {
        guard case .map(let entries) = PlanAnswer.schema else {
            Issue.record("not an object")
            return
        }
        let required = entries.first { $0.key == "required" }?.value
        #expect(required == .list(["analysis", "replicas", "requests", "limits", "autoscale", "hpa", "pdbMaxUnavailable", "reasoning"].map(Tree.string)))
        #expect(entries.contains { $0.key == "additionalProperties" && $0.value == .bool(false) })
    }

    @Test func deviationNamesEveryQuantityMoreThanTheFactorApart() {
        let a = Recommendation(
            replicas: 3, requests: .init(cpu: .init(millicores: 4000), memory: .init(mebibytes: 256)),
            limits: .init(cpu: .init(millicores: 8000), memory: .init(mebibytes: 512)), hpa: nil, pdb: nil, vms: [])
        var b = a
        #expect(Deviation.compare(a, b, factor: 2).isEmpty)
        b.requests.cpu = .init(millicores: 250)
        b.limits.memory = .init(mebibytes: 200)
        b.replicas = 2
        let d = Deviation.compare(a, b, factor: 2)
        #expect(d.count == 2)
        #expect(d[0].hasPrefix("requests.cpu 4 vs 250m (16×)"))
        #expect(d[1].hasPrefix("limits.memory"))
    }

    @Test func configurationNamesTheKey() throws {
        #expect(try LLMConfig.load(values: [:], environment: [:], file: "c.yaml") == nil)
        let c = try #require(try LLMConfig.load(values: ["llm.url": "http://127.0.0.1:8080", "llm.timeout": "5"], environment: [:], file: "c.yaml"))
        #expect(c.endpoint?.absoluteString == "http://127.0.0.1:8080/v1/chat/completions")
        #expect(c.timeout == 5)
        #expect(LLMConfig(url: "https://api.example.com/v1/", model: "m").endpoint?.absoluteString == "https://api.example.com/v1/chat/completions")
        #expect(throws: ProvisioError.self) { try LLMConfig.load(values: ["llm.url": "ftp://x"], environment: [:], file: "c.yaml") }
        do {
            _ = try LLMConfig.load(values: ["llm.url": "http://x", "llm.deviationFactor": "0.5"], environment: [:], file: "c.yaml")
            Issue.record("accepted a deviation factor below 1")
        } catch let e as ProvisioError {
            #expect(e.field == "llm.deviationFactor")
            #expect(e.file == "c.yaml")
        }
    }
}
