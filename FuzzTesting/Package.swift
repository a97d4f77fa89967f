// swift-tools-version: 6.1
import PackageDescription

/// libFuzzer harnesses for Meridian (reliability plan §2(a)). Kept out of the root package so that
/// `swift build`/`swift test` never see `-sanitize=fuzzer`. Build and run them with `scripts/fuzz`.
let package = Package(
    name: "FuzzTesting",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named so the product reference below does not depend on the checkout folder's name.
        .package(name: "Meridian", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "FuzzMQTTFrame",
            dependencies: [
                .product(name: "MQTTCodec", package: "Meridian"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "FuzzSASToken",
            dependencies: [
                .product(name: "HubAuth", package: "Meridian"),
                .product(name: "HubCore", package: "Meridian"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
