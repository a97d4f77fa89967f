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
    public var totalLength: Int { headerLength + remainingLength }
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
        fatalError("MQTTCodec: decoder not implemented yet")
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
        fatalError("MQTTCodec: decoder not implemented yet")
    }
}
