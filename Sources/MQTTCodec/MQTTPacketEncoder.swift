import NIOCore

extension MQTTPacket {
    /// Appends the packet's wire bytes for `version` to `buffer`.
    /// Throws `.valueNotEncodable` for values the protocol cannot carry; never traps.
    public func encode(into buffer: inout ByteBuffer, version: MQTTProtocolVersion) throws(MQTTCodecError) {
        fatalError("MQTTCodec: encoder not implemented yet")
    }

    /// The exact number of bytes `encode` writes for `version` (fixed header included), so a sender can
    /// compare against the peer's Maximum Packet Size before encoding.
    public func encodedSize(version: MQTTProtocolVersion) -> Int {
        fatalError("MQTTCodec: encoder not implemented yet")
    }
}
