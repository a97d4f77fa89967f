import HubCore
import HubTestKit
import PropertyBased
import Testing

@testable import HubEventLog

@Suite struct CRC32CTests {
    @Test(arguments: [
        ("123456789", UInt32(0xE306_9283)),
        ("", UInt32(0)),
        ("a", UInt32(0xC1D0_4330)),
    ])
    func knownVectors(input: String, expected: UInt32) {
        #expect(CRC32C.checksum(input.utf8) == expected)
    }

    /// RFC 3720 (iSCSI) B.4 test vectors.
    @Test func iscsiVectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    @Test func continuingEqualsWhole() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for split in [0, 1, 7, 8, 9, 500, 1000] {
            #expect(CRC32C.checksum(bytes[split...], continuing: CRC32C.checksum(bytes[..<split])) == CRC32C.checksum(bytes))
        }
    }
}

@Suite struct RecordCodecTests {
    static func randomEvent(_ dice: inout Dice) -> LogEvent {
        let alphabet = Array("abcXYZ09-_.:é/ ")
        func s(_ d: inout Dice) -> String { d.string(alphabet, length: 0...12) }
        func o(_ d: inout Dice) -> String? { d.bool() ? s(&d) : nil }
        var m = DeviceMessage(body: (0..<dice.int(0...300)).map { _ in UInt8(dice.int(0...255)) })
        m.messageID = o(&dice); m.correlationID = o(&dice); m.userID = o(&dice)
        m.contentType = o(&dice); m.contentEncoding = o(&dice)
        m.absoluteExpiryTime = dice.bool() ? Timestamp(rawValue: Int64(dice.int(0...Int(Int32.max)))) : nil
        m.to = o(&dice); m.outputName = o(&dice); m.interfaceID = o(&dice); m.component = o(&dice); m.creationTimeUTC = o(&dice)
        m.ack = dice.bool() ? dice.pick(DeviceMessage.Ack.allCases) : nil
        m.applicationProperties = (0..<dice.int(0...5)).map { _ in .init(s(&dice), o(&dice)) }
        m.connectionDeviceID = dice.bool() ? DeviceID(rawValue: "dev-\(dice.int(0...999))") : nil
        m.connectionModuleID = dice.bool() ? ModuleID(rawValue: "mod\(dice.int(0...9))") : nil
        m.connectionAuthMethod = dice.bool() ? dice.pick(DeviceMessage.AuthMethod.allCases) : nil
        m.connectionAuthGenerationID = o(&dice)
        m.messageSource = dice.bool() ? .telemetry : nil
        m.mqttRetain = dice.bool()
        let offset = Int64(dice.int(0...1_000_000))
        let time = Timestamp(rawValue: Int64(dice.int(0...Int(Int32.max))))
        m.enqueuedTime = time
        m.sequenceNumber = offset
        return LogEvent(offset: offset, sequenceNumber: offset, enqueuedTime: time, partitionKey: s(&dice), message: m)
    }

    @Test func roundTripsRandomEvents() async {
        let input = Dice.generator { Self.randomEvent(&$0) }
        await propertyCheck(count: 2_000, input: input) { event in
            var buffer: [UInt8] = [9, 9]  // encoding appends to what is there
            let length = RecordCodec.encode(event, into: &buffer)
            #expect(length == buffer.count - 2)
            #expect((try? RecordCodec.decode(Array(buffer.dropFirst(2)))) == event)
        }
    }

    @Test func everyPrefixIsIncompleteAndEveryFlipIsCaught() throws {
        var dice = Dice(rng: SplitMix64(state: 42))
        var buffer: [UInt8] = []
        RecordCodec.encode(Self.randomEvent(&dice), into: &buffer)
        for cut in 0..<buffer.count {
            let frame = Array(buffer[..<cut]).withUnsafeBytes { RecordCodec.frame(in: $0, at: 0) }
            guard case .incomplete = frame else { Issue.record("prefix \(cut): \(frame)"); continue }
        }
        for i in 0..<buffer.count {
            var flipped = buffer
            flipped[i] ^= 0x40
            #expect(throws: EventLogError.self) { try RecordCodec.decode(flipped) }
        }
    }

    @Test func garbageNeverTraps() {
        var dice = Dice(rng: SplitMix64(state: 7))
        for _ in 0..<5_000 {
            var bytes = (0..<dice.int(0...64)).map { _ in UInt8(dice.int(0...255)) }
            if dice.bool(), bytes.count >= 12 { bytes[0] = 0x4D; bytes[1] = 0x4C; bytes[2] = 1 }
            _ = try? RecordCodec.decode(bytes)
        }
    }
}
