import Foundation
import Logging
import ProvisioContext
import ProvisioPipeline
import ProvisioTestSupport

/// Paths and fixtures shared by the pipeline tests.
enum Fixture {
    /// The package root, found from this file's path.
    static let root: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static var examples: String { root + "/examples" }
    static var golden: String { root + "/Tests/ProvisioPipelineTests/Golden" }

    /// Every example request, sorted.
    static var requests: [String] {
        let apps = examples + "/gitops-repo/apps"
        return ((try? FileManager.default.contentsOfDirectory(atPath: apps)) ?? []).sorted().map { "\(apps)/\($0)/provision.yaml" }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }

    static func temporaryDirectory(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "provisio-test-\(name)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs a command to completion and returns its exit status and output.
    @discardableResult
    static func run(_ args: [String], cwd: String? = nil) throws -> (Int32, String) {
        try Shell.run(args, cwd: cwd)
    }

    /// Real local git repositories made from examples/apps, created once per test process.
    static let appRepos: String = {
        let dir = temporaryDirectory("apps")
        _ = try? run(["bash", examples + "/make-app-repos.sh", dir])
        return dir
    }()

    /// A pipeline with its own fresh state directory, reading the example app repositories.
    static func pipeline(remember: Bool = true, offline: Bool = false) throws -> Pipeline {
        let config = PipelineConfig(
            stateDirectory: temporaryDirectory("state"), knowledgeDirectory: root + "/knowledge", policiesDirectory: root + "/policies",
            rewrites: [RepoRewrite(from: "https://github.com/acme/", to: "file://\(appRepos)/")], offline: offline, remember: remember)
        return try Pipeline(config: config, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }
}
