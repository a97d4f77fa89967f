import Foundation
import HubStorage
import MQTTCodec
import NIOCore

/// The storage encoding of an `MQTTProperties` block (the `properties` BLOB column).
///
/// A small tagged format of our own rather than the codec's v5 PUBLISH encoding, deliberately:
/// - storage must round-trip any `MQTTProperties` value the broker hands over, while the codec's decoder
///   (rightly) enforces wire rules: properties legal in PUBLISH only, repeat rules, the decoder's
///   maximum packet size, 2-byte length limits; a stored message must never become unloadable because a
///   wire rule was tightened;
/// - the on-disk format must not change when the wire codec is refactored;
/// - only the property block is encoded; topic, payload, QoS and flags already have their own columns.
///
/// The format:
///
/// ```
/// format   u8 = 1
/// repeated:
///   id     u8            the MQTT property identifier (0x01 … 0x2A)
///   value  by type:      byte → u8; two-byte → u16; four-byte and variable-byte → u32;
///                        UTF-8 string / binary → u32 length + bytes; user property → string, string
/// ```
/// Integers are big-endian. Order is kept, so a block round-trips exactly, repeats included.
/// An empty block is stored as SQL NULL and never reaches this type.
enum StoredProperties {
    /// The format byte written first; a future format gets a new value.
    static let formatVersion: UInt8 = 1

    static func encode(_ properties: MQTTProperties) -> Data? {
        if properties.isEmpty { return nil }
        var buffer = ByteBuffer()
        buffer.writeInteger(formatVersion)
        for property in properties.elements {
            buffer.writeInteger(property.identifier.rawValue)
            switch property {
            case .payloadFormatIndicator(let v), .requestProblemInformation(let v),
                .requestResponseInformation(let v), .maximumQoS(let v), .retainAvailable(let v),
                .wildcardSubscriptionAvailable(let v), .subscriptionIdentifierAvailable(let v),
                .sharedSubscriptionAvailable(let v):
                buffer.writeInteger(v)
            case .serverKeepAlive(let v), .receiveMaximum(let v), .topicAliasMaximum(let v), .topicAlias(let v):
                buffer.writeInteger(v)
            case .messageExpiryInterval(let v), .subscriptionIdentifier(let v), .sessionExpiryInterval(let v),
                .willDelayInterval(let v), .maximumPacketSize(let v):
                buffer.writeInteger(v)
            case .contentType(let s), .responseTopic(let s), .assignedClientIdentifier(let s),
                .authenticationMethod(let s), .responseInformation(let s), .serverReference(let s),
                .reasonString(let s):
                writeString(s, to: &buffer)
            case .correlationData(let b), .authenticationData(let b):
                buffer.writeInteger(UInt32(b.readableBytes))
                buffer.writeImmutableBuffer(b)
            case .userProperty(let name, let value):
                writeString(name, to: &buffer)
                writeString(value, to: &buffer)
            }
        }
        return Data(buffer.readableBytesView)
    }

    static func decode(_ data: Data) throws(StorageError) -> MQTTProperties {
        var buffer = ByteBuffer(bytes: data)
        guard buffer.readInteger(as: UInt8.self) == formatVersion else {
            throw corrupt("unknown properties format")
        }
        var elements: [MQTTProperty] = []
        while buffer.readableBytes > 0 {
            let raw = buffer.readInteger(as: UInt8.self)!
            guard let id = MQTTPropertyIdentifier(rawValue: raw) else {
                throw corrupt("unknown property identifier \(raw)")
            }
            elements.append(try readValue(id, from: &buffer))
        }
        return MQTTProperties(elements)
    }

    private static func readValue(
        _ id: MQTTPropertyIdentifier,
        from buffer: inout ByteBuffer
    ) throws(StorageError) -> MQTTProperty {
        func u8() throws(StorageError) -> UInt8 {
            guard let v = buffer.readInteger(as: UInt8.self) else { throw corrupt("truncated properties") }
            return v
        }
        func u16() throws(StorageError) -> UInt16 {
            guard let v = buffer.readInteger(as: UInt16.self) else { throw corrupt("truncated properties") }
            return v
        }
        func u32() throws(StorageError) -> UInt32 {
            guard let v = buffer.readInteger(as: UInt32.self) else { throw corrupt("truncated properties") }
            return v
        }
        func bytes() throws(StorageError) -> ByteBuffer {
            let length = Int(try u32())
            guard let slice = buffer.readSlice(length: length) else { throw corrupt("truncated properties") }
            return slice
        }
        func string() throws(StorageError) -> String {
            let slice = try bytes()
            guard let s = String(validating: slice.readableBytesView, as: UTF8.self) else {
                throw corrupt("invalid UTF-8 in properties")
            }
            return s
        }
        switch id {
        case .payloadFormatIndicator: return .payloadFormatIndicator(try u8())
        case .messageExpiryInterval: return .messageExpiryInterval(try u32())
        case .contentType: return .contentType(try string())
        case .responseTopic: return .responseTopic(try string())
        case .correlationData: return .correlationData(try bytes())
        case .subscriptionIdentifier: return .subscriptionIdentifier(try u32())
        case .sessionExpiryInterval: return .sessionExpiryInterval(try u32())
        case .assignedClientIdentifier: return .assignedClientIdentifier(try string())
        case .serverKeepAlive: return .serverKeepAlive(try u16())
        case .authenticationMethod: return .authenticationMethod(try string())
        case .authenticationData: return .authenticationData(try bytes())
        case .requestProblemInformation: return .requestProblemInformation(try u8())
        case .willDelayInterval: return .willDelayInterval(try u32())
        case .requestResponseInformation: return .requestResponseInformation(try u8())
        case .responseInformation: return .responseInformation(try string())
        case .serverReference: return .serverReference(try string())
        case .reasonString: return .reasonString(try string())
        case .receiveMaximum: return .receiveMaximum(try u16())
        case .topicAliasMaximum: return .topicAliasMaximum(try u16())
        case .topicAlias: return .topicAlias(try u16())
        case .maximumQoS: return .maximumQoS(try u8())
        case .retainAvailable: return .retainAvailable(try u8())
        case .userProperty:
            let name = try string()
            return .userProperty(name: name, value: try string())
        case .maximumPacketSize: return .maximumPacketSize(try u32())
        case .wildcardSubscriptionAvailable: return .wildcardSubscriptionAvailable(try u8())
        case .subscriptionIdentifierAvailable: return .subscriptionIdentifierAvailable(try u8())
        case .sharedSubscriptionAvailable: return .sharedSubscriptionAvailable(try u8())
        }
    }

    private static func writeString(_ s: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(s.utf8.count))
        buffer.writeString(s)
    }

    private static func corrupt(_ what: String) -> StorageError {
        StorageError(.corrupt, "stored MQTT properties: \(what)")
    }
}
