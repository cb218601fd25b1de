// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "provisio",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "provisio", targets: ["provisio"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
    ],
    targets: [
        // Adapters to outside systems.
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CLZMA", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),

        // The flow: core types → request → store → context → predict → refine → render → pipeline.
        .target(name: "ProvisioCore", swiftSettings: swiftSettings),
        .target(
            name: "ProvisioRequest",
            dependencies: ["ProvisioCore", "Yams"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioStore",
            dependencies: ["ProvisioCore", "ProvisioRequest", "Yams", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioGit",
            dependencies: ["ProvisioCore", "CGit2"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioHistory",
            dependencies: [
                "ProvisioCore", "ProvisioRequest", "CLZMA", "Yams", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioContext",
            dependencies: [
                "ProvisioCore", "ProvisioRequest", "ProvisioStore", "ProvisioGit", "ProvisioHistory",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioPredict",
            dependencies: ["ProvisioCore", "ProvisioRequest", "ProvisioContext", "ProvisioHistory"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioRefine",
            dependencies: ["ProvisioCore", "ProvisioRequest", "ProvisioContext", "ProvisioPredict", "ProvisioStore", "ProvisioHistory", "Yams"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioRender",
            dependencies: ["ProvisioCore", "ProvisioRequest", "ProvisioContext", "ProvisioPredict", "ProvisioRefine"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioApply",
            dependencies: [
                "ProvisioCore", "ProvisioRefine", "Yams", .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioLLM",
            dependencies: ["ProvisioCore", "ProvisioContext", "ProvisioPredict", "ProvisioRefine", "ProvisioHistory"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioPipeline",
            dependencies: [
                "ProvisioCore", "ProvisioRequest", "ProvisioStore", "ProvisioContext", "ProvisioPredict",
                "ProvisioRefine", "ProvisioRender", "ProvisioHistory", "ProvisioLLM", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioTools",
            dependencies: [
                "ProvisioCore", "ProvisioRequest", "ProvisioStore", "ProvisioContext", "ProvisioPredict", "ProvisioRefine", "ProvisioHistory",
                "ProvisioPipeline", .product(name: "MCP", package: "swift-sdk"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioGitOps",
            dependencies: [
                "CGit2", "ProvisioCore", "ProvisioRequest", "ProvisioStore", "ProvisioGit", "ProvisioContext", "ProvisioRefine", "ProvisioRender",
                "ProvisioPipeline", "ProvisioApply", "ProvisioPredict", "ProvisioHistory",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioDaemon",
            dependencies: [
                "ProvisioCore", "ProvisioPipeline", "ProvisioGitOps", "ProvisioHistory", "ProvisioApply", "ProvisioLLM", "Yams",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioEval",
            dependencies: [
                "ProvisioCore", "ProvisioRequest", "ProvisioContext", "ProvisioPredict", "ProvisioRefine", "ProvisioPipeline", "Yams",
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "provisio",
            dependencies: [
                "ProvisioCore", "ProvisioRequest", "ProvisioStore", "ProvisioPipeline", "ProvisioRender", "ProvisioEval", "ProvisioGitOps", "ProvisioDaemon",
                "ProvisioHistory", "ProvisioApply", "ProvisioTools", "ProvisioLLM",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "ProvisioRequestTests", dependencies: ["ProvisioRequest", "ProvisioCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProvisioHistoryTests", dependencies: ["ProvisioHistory", "ProvisioCore", "ProvisioTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProvisioApplyTests", dependencies: ["ProvisioApply", "ProvisioRefine", "ProvisioCore", "ProvisioTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProvisioLLMTests",
            dependencies: ["ProvisioLLM", "ProvisioPipeline", "ProvisioRefine", "ProvisioPredict", "ProvisioCore", "ProvisioTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(name: "ProvisioStoreTests", dependencies: ["ProvisioStore", "ProvisioCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProvisioContextTests",
            dependencies: ["ProvisioContext", "ProvisioGit", "ProvisioStore", "ProvisioRequest", "ProvisioCore", "ProvisioTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProvisioPredictTests", dependencies: ["ProvisioPredict", "ProvisioContext", "ProvisioHistory", "ProvisioRequest", "ProvisioCore"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProvisioRefineTests", dependencies: ["ProvisioRefine", "ProvisioPredict", "ProvisioContext", "ProvisioRequest", "ProvisioCore"],
            swiftSettings: swiftSettings),
        .target(
            name: "ProvisioTestSupport",
            dependencies: ["ProvisioGitOps", "ProvisioPipeline", "ProvisioApply", "ProvisioCore", .product(name: "Logging", package: "swift-log")],
            path: "Tests/ProvisioTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProvisioGitOpsTests",
            dependencies: ["ProvisioGitOps", "ProvisioPipeline", "ProvisioStore", "ProvisioCore", "ProvisioApply", "ProvisioTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProvisioDaemonTests",
            dependencies: [
                "ProvisioDaemon", "ProvisioGitOps", "ProvisioPipeline", "ProvisioCore", "ProvisioTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProvisioEvalTests",
            dependencies: ["ProvisioEval", "ProvisioPipeline", "ProvisioCore", "ProvisioTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProvisioPipelineTests",
            dependencies: [
                "ProvisioPipeline", "ProvisioRender", "ProvisioRefine", "ProvisioRequest", "ProvisioCore", "ProvisioContext", "provisio", "ProvisioTestSupport",
                "ProvisioHistory", "ProvisioTools", .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            exclude: ["Golden"],
            swiftSettings: swiftSettings
        ),
    ]
)
