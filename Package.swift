// swift-tools-version: 6.1
import PackageDescription

/// Meridian: a self-hosted IoT hub. See README.md and DEVELOPERS.md for the module map.
let package = Package(
    name: "Meridian",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "meridian", targets: ["meridian"]),
        .library(name: "MQTTCodec", targets: ["MQTTCodec"]),
        .library(name: "MQTTBroker", targets: ["MQTTBroker"]),
        // For the FuzzSASToken harness in FuzzTesting/.
        .library(name: "HubCore", targets: ["HubCore"]),
        .library(name: "HubAuth", targets: ["HubAuth"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // swift-configuration support is not used (settings are read by HubServer), so its trait stays off.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // MARK: protocol
        .target(
            name: "MQTTCodec",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "MQTTBroker",
            dependencies: [
                "MQTTCodec",
                "HubCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // MARK: domain and storage
        .target(name: "HubCore"),
        .target(
            name: "HubStorage",
            dependencies: ["HubCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "HubAuth",
            dependencies: [
                "HubCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "HubAccess",
            dependencies: [
                "HubCore", "HubAuth", "HubRegistry", "MQTTBroker", "MQTTCodec",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "HubRegistry",
            dependencies: [
                "HubCore", "HubStorage", "HubAuth",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "HubTwins",
            dependencies: [
                "HubCore", "HubStorage",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "HubMessaging",
            dependencies: [
                "HubCore", "HubStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "HubStreamSQL",
            dependencies: ["HubCore", .product(name: "DequeModule", package: "swift-collections")]
        ),
        .target(
            name: "HubEventLog",
            dependencies: [
                "HubCore", "HubStorage", "HubMessaging",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "HubRouting",
            dependencies: [
                "HubCore", "HubEventLog", "HubMessaging", "HubTwins",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "HubTimeSeries",
            dependencies: ["HubCore", "HubStreamSQL", "HubEventLog", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "HubStreamJobs",
            dependencies: [
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                "HubCore", "HubEventLog", "HubMessaging", "HubRouting", "HubStreamSQL",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "HubStorageSQLite",
            dependencies: [
                "HubCore",
                "HubStorage",
                "MQTTBroker",
                "MQTTCodec",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // MARK: the Azure device protocol over MQTT: telemetry, twins, methods, cloud-to-device delivery
        .target(
            name: "HubDevices",
            dependencies: [
                "HubCore", "HubAuth", "HubRegistry", "HubAccess", "HubTwins", "HubMessaging", "MQTTBroker", "MQTTCodec",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // MARK: HTTP
        .target(
            name: "HubHTTPAPI",
            dependencies: [
                "HubStorage",
                "HubStreamJobs",
                "HubRouting",
                "HubTimeSeries",
                "HubCore", "HubRegistry", "HubAuth", "MQTTBroker", "HubTwins", "HubMessaging", "HubDevices", "HubEventLog",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // MARK: composition and entry points
        .target(
            name: "HubServer",
            dependencies: [
                "HubStreamJobs",
                "HubTimeSeries",
                "HubRouting",
                "HubCore",
                "HubAccess",
                "HubAuth",
                "HubRegistry",
                "HubStorage",
                "MQTTBroker",
                "HubStorageSQLite",
                "HubHTTPAPI",
                "HubTwins",
                "HubMessaging",
                "HubDevices",
                "HubEventLog",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // MARK: load generation (`meridian bench`): an MQTT client built on MQTTCodec
        .target(
            name: "HubBench",
            dependencies: [
                "MQTTCodec",
                "HubCore",
                "HubAuth",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .target(
            name: "HubSimulator",
            dependencies: [
                "MQTTCodec",
                "HubCore",
                "HubAuth",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .target(
            name: "HubCLI",
            dependencies: [
                "HubServer",
                "HubTimeSeries",
                "HubBench",
                "HubSimulator",
                "HubAuth",
                "HubCore",
                "HubStreamSQL",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "meridian", dependencies: ["HubCLI"]),
        // MARK: tests
        .target(
            name: "HubTestKit",
            dependencies: [
                "HubCore",
                "HubStorage",
                "HubEventLog",
                "MQTTCodec",
                "MQTTBroker",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "HubCoreTests", dependencies: ["HubCore"]),
        .testTarget(name: "HubAccessTests", dependencies: ["HubAccess", "HubCore", "HubAuth", "HubRegistry", "MQTTBroker", "HubTestKit"]),
        .testTarget(name: "HubStorageTests", dependencies: ["HubCore", "HubStorage", "HubTestKit"]),
        .testTarget(
            name: "HubAuthTests",
            dependencies: [
                "HubAuth", "HubCore", "HubTestKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "MQTTCodecTests",
            dependencies: [
                "MQTTCodec", "HubTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "MQTTBrokerTests",
            dependencies: [
                "MQTTBroker", "MQTTCodec", "HubTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HubStorageSQLiteTests",
            dependencies: [
                "HubCore", "HubStorage", "HubStorageSQLite", "MQTTBroker", "MQTTCodec", "HubTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "HubHTTPAPITests",
            dependencies: [
                "HubHTTPAPI", "HubCore", "HubRegistry", "HubAuth", "HubStorage", "MQTTBroker", "MQTTCodec", "HubTestKit",
                "HubDevices", "HubMessaging", "HubTwins",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "HubDevicesTests",
            dependencies: [
                "HubDevices", "HubAccess", "HubAuth", "HubCore", "HubRegistry", "HubStorage", "HubTwins", "HubMessaging",
                "MQTTBroker", "MQTTCodec", "HubTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "HubTwinsTests",
            dependencies: [
                "HubTwins", "HubCore", "HubStorage", "HubStorageSQLite", "HubTestKit",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "HubMessagingTests",
            dependencies: [
                "HubMessaging", "HubCore", "HubStorage", "HubStorageSQLite", "HubTestKit",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "HubStreamSQLTests",
            dependencies: ["HubStreamSQL", "HubCore", "HubTestKit"]
        ),
        .testTarget(
            name: "HubRoutingTests",
            dependencies: [
                "HubRouting", "HubEventLog", "HubCore", "HubMessaging", "HubTwins", "HubTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HubTimeSeriesTests",
            dependencies: ["HubTimeSeries", "HubCore", "HubEventLog", "HubTestKit"]
        ),
        .testTarget(
            name: "HubStreamJobsTests",
            dependencies: ["HubStreamJobs", "HubStreamSQL", "HubEventLog", "HubCore", "HubMessaging", "HubTestKit"]
        ),
        .testTarget(
            name: "HubEventLogTests",
            dependencies: [
                "HubEventLog", "HubStorage", "HubCore", "HubMessaging", "HubTestKit",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "HubRegistryTests",
            dependencies: [
                "HubCore", "HubStorage", "HubStorageSQLite", "HubRegistry", "HubAuth", "HubTestKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .testTarget(
            name: "HubServerTests",
            dependencies: [
                "HubServer", "HubCLI", "HubStorage", "HubStorageSQLite", "HubTestKit", "MQTTBroker", "MQTTCodec",
                "HubEventLog", "HubCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "HubSimulatorTests",
            dependencies: ["HubSimulator", "HubCore"]
        ),
        .testTarget(
            name: "HubBenchTests",
            dependencies: [
                "HubBench", "HubCLI", "MQTTCodec", "MQTTBroker", "HubTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
