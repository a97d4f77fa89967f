import NIOCore

/// The fixed header of a packet: first byte and Remaining Length.
public struct MQTTFixedHeader: Sendable, Hashable {
    /// High nibble of the first byte as a packet type, or `nil` for the reserved type 0.
    public var type: MQTTPacketType?
    /// Low nibble of the first byte.
    public var flags: UInt8
    public var remainingLength: Int
    /// 1 + the number of Remaining Length bytes (2 ... 5).
    public var headerLength: Int
    /// Bytes of the whole packet: fixed header plus Remaining Length.
    public var totalLength: Int { headerLength + remainingLength }

    /// Makes a header; `MQTTPacketDecoder.peekFixedHeader` is the usual source of one.
    public init(type: MQTTPacketType?, flags: UInt8, remainingLength: Int, headerLength: Int) {
        self.type = type
        self.flags = flags
        self.remainingLength = remainingLength
        self.headerLength = headerLength
    }
}

/// Decodes packets from a stream of bytes. Pure: no I/O, no allocation based on declared lengths.
public enum MQTTPacketDecoder {
    /// Reads the fixed header without consuming anything. Returns `nil` if more bytes are needed.
    /// Throws `.malformedVariableByteInteger` for a 5-byte or non-minimal Remaining Length, and
    /// `.packetTooLarge` as soon as the declared size exceeds `maximumPacketSize`.
    public static func peekFixedHeader(
        in buffer: ByteBuffer,
        maximumPacketSize: Int
    ) throws(MQTTCodecError) -> MQTTFixedHeader? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        // Remaining Length: at most 4 bytes, minimally encoded. [MQTT-1.5.5-1] (CVE-2025-66168 class)
        guard let (remaining, length) = try buffer.getMQTTVariableByteInteger(at: buffer.readerIndex + 1) else {
            return nil
        }
        let header = MQTTFixedHeader(
            type: MQTTPacketType(rawValue: first >> 4), flags: first & 0x0F,
            remainingLength: remaining, headerLength: 1 + length)
        // Refused from the header alone, before any of the body is waited for or buffered (M2,
        // CVE-2017-7651, CVE-2023-0809).
        guard header.totalLength <= maximumPacketSize else { throw .packetTooLarge }
        return header
    }

    /// Decodes one packet from the front of `buffer`.
    ///
    /// - Returns `nil` (consuming nothing) when the buffer does not yet hold a whole packet.
    /// - On success the packet's bytes are consumed; PUBLISH payloads are slices of `buffer`'s storage.
    /// - `version` is the connection's negotiated version; a CONNECT is decoded according to its own
    ///   protocol level whatever `version` says.
    /// - Throws a typed `MQTTCodecError`; see its `packetConsumed` for whether the stream is in sync.
    public static func decode(
        from buffer: inout ByteBuffer,
        version: MQTTProtocolVersion,
        configuration: MQTTDecoderConfiguration = .init()
    ) throws(MQTTCodecError) -> MQTTPacket? {
        guard let header = try peekFixedHeader(in: buffer, maximumPacketSize: configuration.maximumPacketSize) else {
            return nil
        }
        // Type and flags are checked as soon as they are known, not after the body has arrived.
        let type = try checkTypeAndFlags(header, version: version)
        guard buffer.readableBytes >= header.totalLength,
            var body = buffer.getSlice(at: buffer.readerIndex + header.headerLength, length: header.remainingLength)
        else { return nil }
        do {
            let packet = try decodeBody(type: type, flags: header.flags, body: &body, version: version, configuration: configuration)
            buffer.moveReaderIndex(forwardBy: header.totalLength)
            return packet
        } catch {
            if error.packetConsumed { buffer.moveReaderIndex(forwardBy: header.totalLength) }
            throw error
        }
    }

    /// Rejects the reserved type 0, AUTH before 5.0, and wrong fixed-header flags.
    @inline(__always)
    static func checkTypeAndFlags(_ header: MQTTFixedHeader, version: MQTTProtocolVersion) throws(MQTTCodecError) -> MQTTPacketType {
        guard let type = header.type else { throw .malformed("reserved packet type 0") }
        let flags = header.flags
        switch type {
        case .publish:
            // [MQTT-3.3.1-4] QoS 3 is malformed; [MQTT-3.3.1-2] DUP must be 0 at QoS 0 (M17).
            let qos = (flags >> 1) & 0x03
            guard qos != 3 else { throw .invalidFlags("PUBLISH with QoS 3") }
            guard qos != 0 || flags & 0x08 == 0 else { throw .invalidFlags("PUBLISH with QoS 0 and DUP set") }
        case .pubRel, .subscribe, .unsubscribe:
            // [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1]
            guard flags == 0b0010 else { throw .invalidFlags("fixed-header flags must be 0010") }
        case .auth where !version.hasProperties:
            throw .malformed("reserved packet type 15 in MQTT 3.1.1")
        default:
            // [MQTT-2.1.3-1] reserved flags must be as the table lists them: 0 for every other packet.
            guard flags == 0 else { throw .invalidFlags("fixed-header flags must be 0000") }
        }
        return type
    }

    /// Decodes a packet body whose bytes are all in `body`.
    static func decodeBody(
        type: MQTTPacketType,
        flags: UInt8,
        body: inout ByteBuffer,
        version: MQTTProtocolVersion,
        configuration: MQTTDecoderConfiguration
    ) throws(MQTTCodecError) -> MQTTPacket {
        switch type {
        case .connect: return .connect(try MQTTConnect.decode(from: &body, configuration: configuration))
        case .connAck: return .connAck(try MQTTConnAck.decode(from: &body, version: version, configuration: configuration))
        case .publish:
            return .publish(try MQTTPublish.decode(from: &body, flags: flags, version: version, configuration: configuration))
        case .pubAck: return .pubAck(try MQTTAck.decode(from: &body, context: .pubAck, version: version, configuration: configuration))
        case .pubRec: return .pubRec(try MQTTAck.decode(from: &body, context: .pubRec, version: version, configuration: configuration))
        case .pubRel: return .pubRel(try MQTTAck.decode(from: &body, context: .pubRel, version: version, configuration: configuration))
        case .pubComp:
            return .pubComp(try MQTTAck.decode(from: &body, context: .pubComp, version: version, configuration: configuration))
        case .subscribe:
            return .subscribe(try MQTTSubscribe.decode(from: &body, version: version, configuration: configuration))
        case .subAck: return .subAck(try MQTTSubAck.decode(from: &body, version: version, configuration: configuration))
        case .unsubscribe:
            return .unsubscribe(try MQTTUnsubscribe.decode(from: &body, version: version, configuration: configuration))
        case .unsubAck: return .unsubAck(try MQTTUnsubAck.decode(from: &body, version: version, configuration: configuration))
        case .pingReq:
            try body.expectMQTTEnd()
            return .pingReq
        case .pingResp:
            try body.expectMQTTEnd()
            return .pingResp
        case .disconnect:
            return .disconnect(try MQTTDisconnect.decode(from: &body, version: version, configuration: configuration))
        case .auth: return .auth(try MQTTAuth.decode(from: &body, configuration: configuration))
        }
    }
}
