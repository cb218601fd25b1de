import ArgumentParser
import Foundation
import ProvisioCore
import ProvisioPipeline
import ProvisioRequest
import ProvisioStore

/// Measures the agents' time per request and retrieval latency.
struct Benchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the three agents per request (repository clone excluded) and knowledge retrieval.")

    @Argument(help: "provision.yaml files.") var files: [String]
    @Option(help: "Runs per request.") var iterations = 200
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let code = await guarded {
            // Offline: the clone is network and disk work, not the agents' thinking.
            var config = try common.config(remember: false)
            config.offline = true
            let pipeline = try Pipeline(config: config, logger: common.logger())
            func pct(_ v: [Double], _ q: Double) -> Double {
                let s = v.sorted()
                return s[min(s.count - 1, Int((q * Double(s.count)).rounded(.up)) - 1)]
            }
            func ms(_ d: Double) -> String { Tree.format((d * 1_000_000).rounded() / 1000) }
            print("request                                   p50 ms   p99 ms   (stages p50)")
            for file in files {
                let loaded = try RequestLoader().load(path: file)
                var totals: [Double] = []
                var stages: [(String, [Double])] = []
                var route = ""
                for _ in 0..<iterations {
                    let r = try await pipeline.plan(path: file, loaded: loaded)
                    route = r.context.route.name
                    totals.append(r.timings.map(\.1).reduce(0, +))
                    for (name, t) in r.timings {
                        if let i = stages.firstIndex(where: { $0.0 == name }) { stages[i].1.append(t) } else { stages.append((name, [t])) }
                    }
                }
                let name = (file as NSString).deletingLastPathComponent.split(separator: "/").last.map(String.init) ?? file
                print(
                    "\(name.padding(toLength: 40, withPad: " ", startingAt: 0))  \(ms(pct(totals, 0.5)).padding(toLength: 7, withPad: " ", startingAt: 0))  \(ms(pct(totals, 0.99)).padding(toLength: 7, withPad: " ", startingAt: 0))  (\(stages.map { "\($0.0) \(ms(pct($0.1, 0.5)))" }.joined(separator: ", ")))  route \(route)"
                )
            }
            let queries = ["go gin", "java spring boot", "python fastapi", "postgresql", "redis cache", "node express", "kafka", "django gunicorn workers"]
            var lat: [Double] = []
            let clock = ContinuousClock()
            for i in 0..<(iterations * 10) {
                let start = clock.now
                _ = try pipeline.database.search(queries[i % queries.count], limit: 8)
                let d = clock.now - start
                lat.append(Double(d.components.attoseconds) / 1e18 + Double(d.components.seconds))
            }
            print("retrieval (FTS5 bm25, \(lat.count) queries): p50 \(ms(pct(lat, 0.5))) ms, p99 \(ms(pct(lat, 0.99))) ms")
            return 0
        }
        if code != 0 { throw ExitCode(code) }
    }
}
