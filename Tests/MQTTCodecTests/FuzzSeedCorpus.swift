import Foundation
import MQTTCodec
import NIOCore
import Testing

/// The generator of `FuzzTesting/Corpus/FuzzMQTTFrame/`: one valid packet of each type in 3.1.1 and 5.0
/// and every CVE trigger of the reliability plan §1.9 as bytes.
///
/// Regenerate with `MERIDIAN_WRITE_FUZZ_SEEDS=1 swift test --filter FuzzSeedCorpus`; without the
/// variable the test checks that the committed corpus still equals what this file generates.
enum FuzzSeeds {
    private typealias W = Wire

    static func connectV5(_ clientID: String) -> [UInt8] {
        W.packet(0x10, W.connectHeader(level: 5, flags: 2) + W.properties([]) + W.string(clientID))
    }

    static func connectV3(_ clientID: String, username: String? = nil) -> [UInt8] {
        W.packet(0x10, W.connectHeader(level: 4, flags: username == nil ? 2 : 0x82) + W.string(clientID) + (username.map(W.string) ?? []))
    }

    static func subscribeV5(_ filters: [String], id: UInt16 = 1) -> [UInt8] {
        W.packet(0x82, W.u16(id) + W.properties([]) + filters.flatMap { W.string($0) + [0x01] })
    }

    static func publishV3(_ topic: String, qos: UInt8 = 0, id: UInt16 = 1, retain: Bool = false) -> [UInt8] {
        W.packet(0x30 | qos << 1 | (retain ? 1 : 0), W.string(topic) + (qos > 0 ? W.u16(id) : []) + Array("x".utf8))
    }

    /// §1.9: every trigger that can be written as bytes on one connection.
    static let cveTriggers: [(String, [UInt8])] = [
        ("cve-2017-7651-connect-declares-256mib", [0x10, 0xFF, 0xFF, 0xFF, 0x7F] + W.connectHeader(level: 4, flags: 2)),
        ("cve-2023-0809-first-packet-not-connect-declares-256mib", [0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x01, 0x61]),
        ("cve-2025-66168-remaining-length-5-bytes", [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x01, 0x61]),
        ("cve-2026-25627-publish-claims-4096-carries-3", [0x30, 0x80, 0x20, 0x00, 0x01, 0x61]),
        ("cve-2026-25627-topic-length-ffff", [0x30, 0x0A, 0xFF, 0xFF] + Array(repeating: 0x61, count: 8)),
        ("cve-2026-21888-connect-property-length-5-bytes",
         W.packet(0x10, W.connectHeader(level: 5, flags: 2) + [0xFF, 0xFF, 0xFF, 0xFF, 0x7F] + W.string("c"))),
        ("cve-2023-3592-will-with-invalid-property",
         W.packet(0x10, W.connectHeader(level: 5, flags: 0x06) + W.properties([]) + W.string("c")
            + W.properties([0x11] + W.u32(60) + [0x23, 0x00, 0x01]) + W.string("w") + W.string("p"))),
        ("cve-2021-34432-empty-topic-v3", connectV3("c") + W.packet(0x30, W.string("") + [0x61])),
        ("cve-2021-34432-empty-topic-v5", connectV5("c") + W.packet(0x30, W.string("") + W.properties([]) + [0x61])),
        ("cve-2017-7653-invalid-utf8-topic", connectV3("c") + W.packet(0x30, W.raw([0x61, 0xED, 0xA0, 0x80]) + [0x61])),
        ("cve-2019-11779-subscribe-65400-slashes", connectV3("c") + W.packet(0x82, W.u16(1) + W.string(String(repeating: "/", count: 65_400)) + [0x00])),
        ("cve-2021-28166-connack-from-client", connectV5("c") + [0x20, 0x03, 0x00, 0x00, 0x00]),
        ("cve-2025-68699-share-without-filter", connectV5("c") + subscribeV5(["$share/ab"]) + W.packet(0x30, W.string("ab") + W.properties([]))),
        ("cve-2024-8376-share-and-normal-on-one-root",
         connectV5("c") + subscribeV5(["$share/g/a/#", "a/#"]) + W.packet(0xA2, W.u16(2) + W.properties([]) + W.string("a/#"))
            + W.packet(0x32, W.string("a/b") + W.u16(3) + W.properties([]) + [0x61]) + [0xE0, 0x00] + connectV5("c")),
        ("cve-2026-22040-takeover-with-subscribe-jitter",
         connectV5("same") + W.packet(0x32, W.string("t") + W.u16(1) + W.properties([])) + subscribeV5(["t"], id: 2)
            + W.packet(0xA2, W.u16(3) + W.properties([]) + W.string("t")) + connectV5("same")),
        ("cve-2023-28366-duplicate-qos2-ids", connectV3("c") + publishV3("t", qos: 2, id: 7) + publishV3("t", qos: 2, id: 7)),
        ("cve-2017-7650-wildcard-client-id-and-user", connectV3("a/+/#", username: "#")),
        ("cve-2018-12543-publish-to-dollar-topic", connectV3("c") + publishV3("$x/y")),
        ("cve-2026-42209-retained-publish", connectV3("c") + publishV3("r/t", qos: 1, retain: true)),
        ("ibm-it28897-connect-reusing-client-id", connectV3("same") + connectV3("same")),
        ("sol-15-puback-as-first-packet", [0x40, 0x02, 0x00, 0x01]),
    ]

    static func all() throws -> [(String, [UInt8])] {
        var seeds: [(String, [UInt8])] = []
        for (name, packet) in SamplePackets.v3 { seeds.append(("v3-" + name, try encodeChecked(packet, version: .v3_1_1))) }
        for (name, packet) in SamplePackets.v5 { seeds.append(("v5-" + name, try encodeChecked(packet, version: .v5))) }
        return seeds + cveTriggers
    }
}

@Suite("Fuzz seed corpus")
struct FuzzSeedCorpusTests {
    @Test("the committed seed corpus equals the generator's output")
    func corpusMatchesGenerator() throws {
        let folder = FuzzRegressionTests.seeds
        let write = ProcessInfo.processInfo.environment["MERIDIAN_WRITE_FUZZ_SEEDS"] != nil
        if write { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        for (name, bytes) in try FuzzSeeds.all() {
            let url = folder.appendingPathComponent(name)
            if write {
                try Data(bytes).write(to: url)
            } else {
                #expect((try? Data(contentsOf: url)) == Data(bytes), "\(name) is stale: regenerate the corpus")
            }
        }
    }
}
