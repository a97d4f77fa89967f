import Foundation
import HubCore
import HubStorage

/// A `DeviceMessage`'s properties (everything but the body) as one BLOB.
///
/// Format: a version byte (1), then one field per set property: a tag byte and its value. Strings are a
/// big-endian u32 length and UTF-8 bytes, times and numbers big-endian i64, flags one byte; application
/// properties are a u32 count, then per property the name, a presence byte (0 = bare key) and the value.
/// Unset properties are absent, so adding a property later needs only a new tag. Anything short,
/// unknown or malformed decodes to `StorageError.corrupt`.
enum StoredDeviceMessage {
    static let version: UInt8 = 1

    private enum Tag: UInt8 {
        case messageID = 1, correlationID, userID, contentType, contentEncoding, absoluteExpiryTime, to, outputName
        case interfaceID, component, creationTimeUTC, ack, applicationProperties, connectionDeviceID, connectionModuleID
        case connectionAuthMethod, connectionAuthGenerationID, enqueuedTime, messageSource, sequenceNumber, mqttRetain
    }

    static func encode(_ m: DeviceMessage) -> Data {
        var w = Writer()
        w.bytes.append(version)
        w.string(.messageID, m.messageID)
        w.string(.correlationID, m.correlationID)
        w.string(.userID, m.userID)
        w.string(.contentType, m.contentType)
        w.string(.contentEncoding, m.contentEncoding)
        w.int(.absoluteExpiryTime, m.absoluteExpiryTime?.rawValue)
        w.string(.to, m.to)
        w.string(.outputName, m.outputName)
        w.string(.interfaceID, m.interfaceID)
        w.string(.component, m.component)
        w.string(.creationTimeUTC, m.creationTimeUTC)
        w.string(.ack, m.ack?.rawValue)
        if !m.applicationProperties.isEmpty {
            w.bytes.append(Tag.applicationProperties.rawValue)
            w.uint32(UInt32(m.applicationProperties.count))
            for p in m.applicationProperties {
                w.raw(p.name)
                w.bytes.append(p.value == nil ? 0 : 1)
                if let value = p.value { w.raw(value) }
            }
        }
        w.string(.connectionDeviceID, m.connectionDeviceID?.rawValue)
        w.string(.connectionModuleID, m.connectionModuleID?.rawValue)
        w.string(.connectionAuthMethod, m.connectionAuthMethod?.rawValue)
        w.string(.connectionAuthGenerationID, m.connectionAuthGenerationID)
        w.int(.enqueuedTime, m.enqueuedTime?.rawValue)
        w.string(.messageSource, m.messageSource?.rawValue)
        w.int(.sequenceNumber, m.sequenceNumber)
        if m.mqttRetain { w.bytes += [Tag.mqttRetain.rawValue, 1] }
        return Data(w.bytes)
    }

    static func decode(_ data: Data, body: [UInt8], table: String) throws(StorageError) -> DeviceMessage {
        var r = Reader(bytes: Array(data), table: table)
        guard try r.byte() == version else { throw StorageError(.corrupt, "\(table): unknown message format version") }
        var m = DeviceMessage(body: body)
        while !r.atEnd {
            guard let tag = Tag(rawValue: try r.byte()) else { throw StorageError(.corrupt, "\(table): unknown message property tag") }
            switch tag {
            case .messageID: m.messageID = try r.string()
            case .correlationID: m.correlationID = try r.string()
            case .userID: m.userID = try r.string()
            case .contentType: m.contentType = try r.string()
            case .contentEncoding: m.contentEncoding = try r.string()
            case .absoluteExpiryTime: m.absoluteExpiryTime = Timestamp(rawValue: try r.int64())
            case .to: m.to = try r.string()
            case .outputName: m.outputName = try r.string()
            case .interfaceID: m.interfaceID = try r.string()
            case .component: m.component = try r.string()
            case .creationTimeUTC: m.creationTimeUTC = try r.string()
            case .ack: m.ack = try r.value(DeviceMessage.Ack.init(rawValue:))
            case .applicationProperties:
                let count = try r.uint32()
                for _ in 0..<count {
                    let name = try r.string()
                    let present = try r.byte()
                    guard present <= 1 else { throw StorageError(.corrupt, "\(table): invalid property presence flag") }
                    let value: String? = present == 1 ? try r.string() : nil
                    m.applicationProperties.append(DeviceMessage.Property(name, value))
                }
            case .connectionDeviceID: m.connectionDeviceID = try r.value(DeviceID.init(rawValue:))
            case .connectionModuleID: m.connectionModuleID = try r.value(ModuleID.init(rawValue:))
            case .connectionAuthMethod: m.connectionAuthMethod = try r.value(DeviceMessage.AuthMethod.init(rawValue:))
            case .connectionAuthGenerationID: m.connectionAuthGenerationID = try r.string()
            case .enqueuedTime: m.enqueuedTime = Timestamp(rawValue: try r.int64())
            case .messageSource: m.messageSource = DeviceMessage.Source(rawValue: try r.string())
            case .sequenceNumber: m.sequenceNumber = try r.int64()
            case .mqttRetain:
                let flag = try r.byte()
                guard flag <= 1 else { throw StorageError(.corrupt, "\(table): invalid retain flag") }
                m.mqttRetain = flag == 1
            }
        }
        return m
    }

    private struct Writer {
        var bytes: [UInt8] = []

        mutating func uint32(_ v: UInt32) {
            bytes += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
        }

        mutating func raw(_ s: String) {
            uint32(UInt32(s.utf8.count))
            bytes += s.utf8
        }

        mutating func string(_ tag: Tag, _ s: String?) {
            guard let s else { return }
            bytes.append(tag.rawValue)
            raw(s)
        }

        mutating func int(_ tag: Tag, _ v: Int64?) {
            guard let v else { return }
            bytes.append(tag.rawValue)
            let u = UInt64(bitPattern: v)
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((u >> UInt64(shift)) & 0xFF)) }
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        let table: String
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func byte() throws(StorageError) -> UInt8 {
            guard offset < bytes.count else { throw StorageError(.corrupt, "\(table): stored message properties are truncated") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func uint32() throws(StorageError) -> UInt32 {
            var v: UInt32 = 0
            for _ in 0..<4 { v = v << 8 | UInt32(try byte()) }
            return v
        }

        mutating func int64() throws(StorageError) -> Int64 {
            var v: UInt64 = 0
            for _ in 0..<8 { v = v << 8 | UInt64(try byte()) }
            return Int64(bitPattern: v)
        }

        mutating func string() throws(StorageError) -> String {
            let length = Int(try uint32())
            guard length <= bytes.count - offset else { throw StorageError(.corrupt, "\(table): stored message properties are truncated") }
            defer { offset += length }
            guard let s = String(validating: bytes[offset..<(offset + length)], as: UTF8.self) else {
                throw StorageError(.corrupt, "\(table): a stored message property is not UTF-8")
            }
            return s
        }

        /// A string turned into a value by `make`; `.corrupt` when it refuses.
        mutating func value<T>(_ make: (String) -> T?) throws(StorageError) -> T {
            guard let v = make(try string()) else { throw StorageError(.corrupt, "\(table): a stored message property is invalid") }
            return v
        }
    }
}
