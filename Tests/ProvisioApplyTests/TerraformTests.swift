import Foundation
import Logging
import ProvisioCore
import ProvisioTestSupport
import Testing

@testable import ProvisioApply

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let terraform = root + "/Tests/fixtures/terraform-standin.py"
    static let runner = CommandRunner(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })

    static func directory(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "provisio-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func tfvars(_ vms: [String: Int], in dir: String) throws {
        let map = vms.map { "\"\($0.key)\": {\"cores\": \($0.value), \"memory_mib\": 4096, \"node\": \"pve01\"}" }.joined(separator: ", ")
        try "{\"vms\": {\(map)}}".write(toFile: dir + "/orders.auto.tfvars.json", atomically: true, encoding: .utf8)
    }

    static func driver(_ dir: String, env: [String: String] = [:], attempts: Int = 1, timeout: Double = 60) -> TerraformDriver {
        var c = TerraformConfig(workingDirectory: dir)
        c.binary = terraform
        c.attempts = attempts
        c.backoff = 0.05
        c.timeout = timeout
        c.environment = env.merging(["TF_STANDIN_LOG": dir + "/calls.log"]) { a, _ in a }
        return TerraformDriver(config: c, runner: runner)
    }

    /// Whether `pid` still runs (a zombie waiting to be reaped does not).
    static func running(_ pid: Int32) async -> Bool {
        for _ in 0..<20 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first.map(String.init) ?? ""
            if stat.isEmpty || state == "Z" || state == "X" { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return true
    }

    static func calls(_ dir: String) -> [[String]] {
        ((try? String(contentsOfFile: dir + "/calls.log", encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["argv"] as? [String]
        }
    }
}

@Suite struct CommandRunnerTests {
    @Test func onlyAllowlistedVariablesReachACommandAndSecretsAreRedacted() async throws {
        let dir = try Fixtures.directory("runner")
        let runner = CommandRunner(
            logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() },
            environment: ["PATH": "/usr/bin:/bin", "PROVISIO_PROMETHEUS_TOKEN": "leak-me", "AWS_SECRET_ACCESS_KEY": "leak-me-too", "TF_LOG": "WARN"])
        var c = Command("sh", ["-c", "env; echo token=$TF_VAR_proxmox_api_token; echo oops >&2"], in: dir)
        c.environment = ["TF_VAR_proxmox_api_token": "provisio@pve!t=canary-secret-123"]
        c.secrets = ["canary-secret-123"]
        let o = try await runner.run(c)
        #expect(o.succeeded)
        #expect(o.output.contains("TF_LOG=WARN"))
        #expect(!o.output.contains("leak-me"))
        #expect(!o.output.contains("canary-secret-123"))
        #expect(o.output.contains("token=***"))
        #expect(o.errorOutput.contains("oops"))
        #expect(o.command.hasPrefix("cd \(dir) && TF_VAR_proxmox_api_token=… sh -c "))
    }

    @Test func aTimeoutStopsTheWholeProcessGroup() async throws {
        let dir = try Fixtures.directory("timeout")
        var c = Command("sh", ["-c", "sleep 300 & echo $! > child.pid; wait"], in: dir)
        c.timeout = 1
        let clock = ContinuousClock(), start = clock.now
        let o = try await Fixtures.runner.run(c)
        #expect(o.timedOut)
        #expect(!o.succeeded)
        #expect(clock.now - start < .seconds(60), "returns instead of waiting for the 300 s sleep")
        let pid = try #require(Int32((try String(contentsOfFile: dir + "/child.pid", encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await !Fixtures.running(pid), "the grandchild was stopped too")
    }

    @Test func cancellingTheCallerStopsTheCommandAndItsChildren() async throws {
        let dir = try Fixtures.directory("cancel")
        var c = Command("sh", ["-c", "sleep 300 & echo $! > child.pid; wait"], in: dir)
        c.timeout = 600
        let task = Task { try await Fixtures.runner.run(c) }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: dir + "/child.pid") { try await Task.sleep(for: .milliseconds(50)) }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        let pid = try #require(Int32((try String(contentsOfFile: dir + "/child.pid", encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await !Fixtures.running(pid), "shutdown stops the whole process group")
    }

    @Test func commandLinesArePasteable() {
        var c = Command("terraform", ["plan", "-out=provisio.tfplan", "it's"], in: "/var/lib/provisio/tf")
        c.environment = ["TF_VAR_x": "secret"]
        #expect(c.commandLine == #"cd /var/lib/provisio/tf && TF_VAR_x=… terraform plan -out=provisio.tfplan 'it'\''s'"#)
    }
}

@Suite struct TerraformTests {
    @Test func planOnlyWhenTheRequestDoesNotSayAuto() async throws {
        let dir = try Fixtures.directory("tf-plan")
        try Fixtures.tfvars(["orders-db": 4], in: dir)
        let (plan, outcomes) = try await Fixtures.driver(dir).plan()
        #expect(plan.add == 1 && plan.destroy == 0)
        #expect(plan.resources.first?.address == #"proxmox_virtual_environment_vm.vm["orders-db"]"#)
        #expect(outcomes.map { $0.command.contains("plan") }.contains(true))
        let decision = ApplyGate.decide(requested: "plan", autoApply: true, allowDestroy: false, plan: plan)
        #expect(!decision.apply)
        #expect(Fixtures.calls(dir).map(\.first) == ["init", "plan", "show"])
        #expect(Fixtures.calls(dir)[1].contains("-detailed-exitcode"))
    }

    @Test func autoWithNoDestroysAppliesTheSavedPlanAndThenHasNothingToDo() async throws {
        let dir = try Fixtures.directory("tf-auto")
        try Fixtures.tfvars(["orders-db": 4], in: dir)
        let driver = Fixtures.driver(dir)
        let (plan, _) = try await driver.plan()
        let decision = ApplyGate.decide(requested: "auto", autoApply: true, allowDestroy: false, plan: plan)
        #expect(decision.apply, "\(decision.reason)")
        let applied = try await driver.apply()
        #expect(applied.succeeded, "\(applied.tail)")
        #expect(Fixtures.calls(dir).last == ["apply", "-input=false", "-no-color", "provisio.tfplan"])
        let (again, _) = try await driver.plan()
        #expect(!again.hasChanges)
        #expect(!ApplyGate.decide(requested: "auto", autoApply: true, allowDestroy: false, plan: again).apply)
    }

    @Test func autoWithADestroyIsRefusedUnlessThePolicyAllowsIt() async throws {
        let dir = try Fixtures.directory("tf-destroy")
        try Fixtures.tfvars(["orders-db": 4, "orders-cache": 2], in: dir)
        let driver = Fixtures.driver(dir)
        _ = try await driver.plan()
        _ = try await driver.apply()
        try Fixtures.tfvars(["orders-db": 8], in: dir)  // the cache VM is gone from the request
        let (plan, _) = try await driver.plan()
        #expect(plan.destroy == 1 && plan.change == 1)
        let refused = ApplyGate.decide(requested: "auto", autoApply: true, allowDestroy: false, plan: plan)
        #expect(!refused.apply)
        #expect(refused.reason.contains(#"vm["orders-cache"]"#))
        #expect(ApplyGate.decide(requested: "auto", autoApply: true, allowDestroy: true, plan: plan).apply)
        #expect(!ApplyGate.decide(requested: "auto", autoApply: false, allowDestroy: true, plan: plan).apply)
    }

    @Test func aFailingPlanIsRetriedWithBackoffAndReported() async throws {
        let dir = try Fixtures.directory("tf-fail")
        try Fixtures.tfvars(["orders-db": 4], in: dir)
        await #expect {
            _ = try await Fixtures.driver(dir, env: ["TF_STANDIN_FAIL": "plan"], attempts: 3).plan()
        } throws: { error in
            guard let f = error as? TerraformDriver.Failure else { return false }
            return f.step == "plan" && f.outcomes.count == 3 && f.message.contains("HTTP 596")
        }
        #expect(Fixtures.calls(dir).filter { $0.first == "plan" }.count == 3)
    }

    @Test func aHangingPlanTimesOutAndItsChildrenDie() async throws {
        let dir = try Fixtures.directory("tf-hang")
        try Fixtures.tfvars(["orders-db": 4], in: dir)
        await #expect {
            _ = try await Fixtures.driver(dir, env: ["TF_STANDIN_SLEEP": "120"], attempts: 1, timeout: 6).plan()
        } throws: { error in
            (error as? TerraformDriver.Failure)?.message.contains("timed out") == true
        }
        let pid = try #require(Int32((try String(contentsOfFile: dir + "/calls.log.child", encoding: .utf8)).trimmingCharacters(in: .whitespaces)))
        #expect(await !Fixtures.running(pid), "terraform's child process was stopped with it")
    }

    @Test func showJSONActionsAreCounted() throws {
        let json = """
            {"format_version":"1.2","resource_changes":[
              {"address":"a","change":{"actions":["create"]}},
              {"address":"b","change":{"actions":["delete","create"]}},
              {"address":"c","change":{"actions":["no-op"]}},
              {"address":"d","change":{"actions":["update"]}},
              {"address":"e","change":{"actions":["delete"]}}]}
            """
        let s = try PlanSummary.parse(showJSON: Data(json.utf8))
        #expect(s.line == "2 to add, 1 to change, 2 to destroy")
        #expect(s.resources.map(\.action) == ["create", "replace", "update", "delete"])
    }
}
