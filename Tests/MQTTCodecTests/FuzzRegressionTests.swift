import Foundation
import MQTTCodec
import NIOCore
import Testing

/// Replays every saved fuzz finding (and the fuzz seed corpus) through the decoder with the fuzz
/// harness's oracle: no trap, and every accepted packet re-encodes to bytes that decode to an equal value.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    /// The repository root, found from this file's path (`Tests/MQTTCodecTests/…`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let regressions = root.appendingPathComponent("Tests/Fixtures/fuzz-regressions")
    static let seeds = root.appendingPathComponent("FuzzTesting/Corpus/FuzzMQTTFrame")

    static func files(in folder: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted()
    }

    /// Decodes as much of `bytes` as possible, checking each accepted packet.
    static func replay(_ bytes: [UInt8], version: MQTTProtocolVersion, sourceLocation: SourceLocation = #_sourceLocation) {
        var buffer = ByteBuffer(bytes: bytes)
        while true {
            let packet: MQTTPacket?
            do {
                packet = try MQTTPacketDecoder.decode(from: &buffer, version: version)
            } catch {
                // A refused packet that was consumed in full leaves the stream in sync: go on.
                if error.packetConsumed { continue }
                return
            }
            guard let packet else { return }
            expectReencodes(packet, version: version, sourceLocation: sourceLocation)
        }
    }

    @Test("the regression folder exists")
    func folderExists() {
        #expect(FileManager.default.fileExists(atPath: Self.regressions.appendingPathComponent("README.md").path))
    }

    @Test("every saved fuzz finding replays cleanly", arguments: files(in: regressions))
    func replayRegression(_ name: String) throws {
        let data = try Data(contentsOf: Self.regressions.appendingPathComponent(name))
        for version in [MQTTProtocolVersion.v3_1_1, .v5] { Self.replay(Array(data), version: version) }
    }

    @Test("every fuzz seed replays cleanly", arguments: files(in: seeds))
    func replaySeed(_ name: String) throws {
        let data = try Data(contentsOf: Self.seeds.appendingPathComponent(name))
        for version in [MQTTProtocolVersion.v3_1_1, .v5] { Self.replay(Array(data), version: version) }
    }
}
