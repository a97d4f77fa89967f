import NIOCore

extension MQTTPacket {
    /// Appends the packet's wire bytes for `version` to `buffer`.
    /// Throws `.valueNotEncodable` for values the protocol cannot carry; never traps.
    ///
    /// A CONNECT is written in the format of its own `protocolVersion` (the level byte and the body must
    /// agree), whatever `version` says. Properties are written only for 5.0. On a throw, nothing is left
    /// appended to `buffer`.
    public func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        let remainingLength = bodySize(version: version)
        guard remainingLength <= ByteBuffer.maximumVariableByteInteger else {
            throw .valueNotEncodable("packet larger than 268,435,455 bytes")
        }
        let start = buffer.writerIndex
        buffer.writeInteger(type.rawValue << 4 | fixedHeaderFlags)
        buffer.writeMQTTVariableByteInteger(remainingLength)
        do {
            try writeBody(into: &buffer, version: version)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// The exact number of bytes `encode` writes for `version` (fixed header included), so a sender can
    /// compare against the peer's Maximum Packet Size before encoding.
    public func encodedSize(version: MQTTProtocolVersion) -> Int {
        let remainingLength = bodySize(version: version)
        return 1 + ByteBuffer.mqttVariableByteIntegerSize(remainingLength) + remainingLength
    }

    /// The low nibble of the first byte. [MQTT-2.1.3-1]
    var fixedHeaderFlags: UInt8 {
        switch self {
        case .publish(let p):
            return (p.dup ? 0x08 : 0) | p.qos.rawValue << 1 | (p.retain ? 0x01 : 0)
        case .pubRel, .subscribe, .unsubscribe:
            return 0b0010
        default:
            return 0
        }
    }

    /// The Remaining Length: bytes after the fixed header.
    func bodySize(version: MQTTProtocolVersion) -> Int {
        switch self {
        case .connect(let p): return p.bodySize
        case .connAck(let p): return p.bodySize(version: version)
        case .publish(let p): return p.bodySize(version: version)
        case .pubAck(let p), .pubRec(let p), .pubRel(let p), .pubComp(let p): return p.bodySize(version: version)
        case .subscribe(let p): return p.bodySize(version: version)
        case .subAck(let p): return p.bodySize(version: version)
        case .unsubscribe(let p): return p.bodySize(version: version)
        case .unsubAck(let p): return p.bodySize(version: version)
        case .pingReq, .pingResp: return 0
        case .disconnect(let p): return p.bodySize(version: version)
        case .auth(let p): return p.bodySize(version: version)
        }
    }

    /// Writes everything after the fixed header: exactly `bodySize(version:)` bytes, or throws.
    func writeBody(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        switch self {
        case .connect(let p): try p.writeBody(into: &buffer)
        case .connAck(let p): try p.writeBody(into: &buffer, version: version)
        case .publish(let p): try p.writeBody(into: &buffer, version: version)
        case .pubAck(let p), .pubRec(let p), .pubRel(let p), .pubComp(let p): try p.writeBody(into: &buffer, version: version)
        case .subscribe(let p): try p.writeBody(into: &buffer, version: version)
        case .subAck(let p): try p.writeBody(into: &buffer, version: version)
        case .unsubscribe(let p): try p.writeBody(into: &buffer, version: version)
        case .unsubAck(let p): try p.writeBody(into: &buffer, version: version)
        case .pingReq, .pingResp: break
        case .disconnect(let p): try p.writeBody(into: &buffer, version: version)
        case .auth(let p): try p.writeBody(into: &buffer, version: version)
        }
    }
}
