import Foundation
import HubStorage
import MQTTCodec
import NIOCore
import Testing

@testable import HubStorageSQLite

@Suite("Stored MQTT properties")
struct StoredPropertiesTests {
    @Test("no properties are stored as NULL")
    func empty() {
        #expect(StoredProperties.encode([]) == nil)
    }

    @Test("round trip keeps order and repeats")
    func roundTrip() throws {
        let properties: MQTTProperties = [
            .userProperty(name: "a", value: "1"), .subscriptionIdentifier(5), .userProperty(name: "a", value: "2"),
            .correlationData(ByteBuffer(bytes: [0, 1])), .messageExpiryInterval(9), .topicAlias(2),
        ]
        let blob = try #require(StoredProperties.encode(properties))
        #expect(blob.first == StoredProperties.formatVersion)
        #expect(try StoredProperties.decode(blob) == properties)
    }

    @Test("damaged blobs are .corrupt, never a trap", arguments: [
        Data(), Data([0x02]), Data([0x01, 0x00]), Data([0x01, 0x02, 0x00]), Data([0x01, 0x03, 0xFF, 0xFF, 0xFF, 0xFF]),
        Data([0x01, 0x03, 0x00, 0x00, 0x00, 0x02, 0xC3, 0x28]),  // invalid UTF-8
        Data([0x01, 0x26, 0x00, 0x00, 0x00, 0x01, 0x61]),  // user property without value
    ])
    func damaged(_ blob: Data) {
        #expect {
            _ = try StoredProperties.decode(blob)
        } throws: { error in
            (error as? StorageError)?.code == .corrupt
        }
    }
}
