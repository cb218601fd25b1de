import Foundation
import ProvisioTestSupport
import Testing

/// `provisio mcp` driven by the official MCP Python client (`pip install mcp`).
@Suite struct MCPTests {
    @Test func theOfficialClientListsAndCallsTheTools() throws {
        let state = Fixture.temporaryDirectory("mcp")
        let (status, output) = try Shell.run(
            [
                "python3", Fixture.root + "/Tests/fixtures/mcp-client.py", CLITests.binary, "mcp", "--state-dir", state, "--offline", "--knowledge",
                Fixture.root + "/knowledge", "--policies", Fixture.root + "/policies",
            ])
        #expect(status == 0, "\(output.suffix(3000))")
        // stderr is mixed in by Shell.run; the report is the last line.
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") })
        let report = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(
            report["tools"] as? [String] == [
                "backtest", "check_plan", "check_policy", "estimate_cost", "plan_request", "query_history", "recall_similar", "search_knowledge",
                "validate_request",
            ])
        let schemas = try #require(report["schemas"] as? [String: [String]])
        #expect(schemas["check_policy"] == ["path", "namespace", "tier", "recommendation"])
        func structured(_ key: String) -> [String: Any]? { (report[key] as? [String: Any])?["structured"] as? [String: Any] }
        let hits = try #require(structured("search")?["hits"] as? [[String: Any]])
        #expect(hits.first?["id"] as? String == "postgresql")
        let bad = try #require(structured("validate_bad"))
        #expect(bad["valid"] as? Bool == false)
        #expect((bad["problems"] as? [[String: Any]])?.first?["field"] as? String == "metadata.name")
        #expect(structured("validate_good")?["valid"] as? Bool == true)
        let final = try #require(structured("plan")?["final"] as? [String: Any])
        #expect(final["status"] as? String == "approved")
        #expect(((final["recommendation"] as? [String: Any])?["replicas"] as? Int ?? 0) >= 2)
        let policy = try #require(structured("policy"))
        #expect(policy["passes"] as? Bool == false)
        #expect((policy["findings"] as? [[String: Any]])?.contains { ($0["detail"] as? String)?.contains("tier maximum 30") == true } == true)
        // check_plan runs agent 3's checks for a request: a CPU limit below the request is a validation finding.
        let checked = try #require(structured("check_plan"))
        #expect(checked["passes"] as? Bool == false)
        #expect(
            (checked["findings"] as? [[String: Any]])?.contains {
                $0["check"] as? String == "validation" && ($0["detail"] as? String)?.contains("CPU limit 250m is below the request 500m") == true
            } == true)
        #expect((structured("cost")?["pods"] as? Double ?? 0) > 0)
        let noHistory = try #require(report["history_without_prometheus"] as? [String: Any])
        #expect(noHistory["isError"] as? Bool == true)
        #expect((noHistory["text"] as? String)?.contains("no Prometheus is configured") == true)
        #expect(((report["bad_args"] as? [String: Any])?["text"] as? String)?.contains("'tier'") == true)
        #expect((report["unknown_tool"] as? String)?.contains("unknown tool 'no_such_tool'") == true)
    }
}
