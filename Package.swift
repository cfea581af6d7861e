// swift-tools-version: 6.2
// Vigil: a high-availability manager for PostgreSQL, a drop-in replacement for Patroni.
// The module map and the rules for what may import what are in ARCHITECTURE.md (shared/design).
import PackageDescription

let package = Package(
    name: "vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .executable(name: "vigilctl", targets: ["vigilctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Child processes (postgres, etcd, HAProxy) go through swift-subprocess rather than
        // Foundation's Process: it awaits a child's exit without a thread per child, sets the
        // user, group and process group on Linux itself (PostgreSQL must not run as root), and
        // is Sendable-clean under Swift 6's strict concurrency.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        // The domain and the pure HA engine: no I/O, no clocks, Foundation only.
        .target(name: "VigilCore"),
        // The operating system and the network as every room uses them: child processes (one
        // runner), /proc, socket probes, the HTTP clients with their TLS files, PostgreSQL
        // connections with one error describer, and deadlines. Decides nothing.
        .target(name: "VigilSystem", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "VigilConfig", dependencies: [
            "VigilCore",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "VigilDCS", dependencies: [
            "VigilCore", "VigilSystem",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "VigilPostgres", dependencies: [
            "VigilCore", "VigilConfig", "VigilSystem",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "VigilAPI", dependencies: [
            "VigilCore", "VigilConfig",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .target(name: "VigilAgent", dependencies: [
            "VigilCore", "VigilConfig", "VigilDCS", "VigilPostgres", "VigilAPI", "VigilSystem",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "VigilCTL", dependencies: [
            "VigilCore", "VigilConfig", "VigilDCS", "VigilSystem",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .target(name: "VigilLab", dependencies: [
            "VigilCore", "VigilConfig", "VigilDCS", "VigilSystem",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .executableTarget(name: "vigil", dependencies: [
            "VigilAgent", "VigilConfig",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "vigilctl", dependencies: ["VigilCTL", "VigilLab"]),

        // Starts real etcd and PostgreSQL 18 servers for integration tests.
        .target(name: "VigilTestSupport", dependencies: [
            "VigilPostgres", "VigilSystem",
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ], path: "Tests/VigilTestSupport"),

        .testTarget(name: "VigilCoreTests", dependencies: ["VigilCore"]),
        .testTarget(name: "VigilSystemTests", dependencies: ["VigilSystem"]),
        .testTarget(name: "VigilAPITests", dependencies: ["VigilAPI", "VigilCore"]),
        // Real `vigil` agents with real etcd and PostgreSQL 18.
        .testTarget(name: "AgentTests", dependencies: [
            "VigilTestSupport", "VigilConfig", "VigilCore", "VigilPostgres", "VigilLab", "VigilSystem",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Many real agent loops (HALoop) over the in-memory store, under seeded faults.
        .testTarget(name: "SimulationTests", dependencies: [
            "VigilCore", "VigilDCS", "VigilAgent", "VigilAPI", "VigilConfig", "VigilPostgres",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Hostile input for every decoder and for the REST server on a socket: a clear answer,
        // never a trap. Seeded (FUZZ_SEED) and bounded (FUZZ_ITERATIONS) so make test stays quick.
        .testTarget(name: "FuzzTests", dependencies: [
            "VigilCore", "VigilConfig", "VigilDCS", "VigilAPI", "VigilAgent", "VigilTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "VigilDCSTests", dependencies: ["VigilDCS", "VigilTestSupport", "VigilSystem"]),
        .testTarget(name: "VigilPostgresTests", dependencies: [
            "VigilPostgres", "VigilConfig", "VigilTestSupport", "VigilSystem",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "VigilConfigTests", dependencies: ["VigilConfig", "VigilTestSupport"]),
        .testTarget(name: "VigilCTLTests", dependencies: ["VigilTestSupport", "VigilSystem"]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "VigilTestSupport", "VigilSystem",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    ]
)
