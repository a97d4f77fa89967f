import MQTTCodec
import NIOCore

/// libFuzzer entry point for the MQTT frame decoder (reliability plan §2(a), target `FuzzMQTTFrame`).
///
/// The input is decoded as MQTT 3.1.1 and as 5.0, packet after packet, until the decoder returns nil
/// (incomplete) or throws. The oracle traps (so libFuzzer saves the input) when an accepted packet
/// - does not re-encode, or re-encodes to a different number of bytes than `encodedSize` says,
/// - re-encodes to bytes that do not decode to an equal packet, consuming them all, or
/// - re-encodes to bytes whose every strict prefix does not decode to nil.
/// A trap inside the codec itself (overflow, out-of-bounds) is of course a finding too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMQTTFrame(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    for version in [MQTTProtocolVersion.v3_1_1, .v5] {
        var buffer = ByteBuffer(bytes: input)
        while true {
            let packet: MQTTPacket?
            do {
                packet = try MQTTPacketDecoder.decode(from: &buffer, version: version)
            } catch {
                // A refused packet that was consumed in full (M15) leaves the stream in sync: go on.
                if error.packetConsumed { continue }
                break
            }
            guard let packet else { break }
            checkRoundTrip(packet, version: version)
        }
    }
    return 0
}

private func checkRoundTrip(_ packet: MQTTPacket, version: MQTTProtocolVersion) {
    var encoded = ByteBuffer()
    do {
        try packet.encode(into: &encoded, version: version)
    } catch {
        fatalError("accepted \(packet.type) does not re-encode: \(error)")
    }
    guard encoded.readableBytes == packet.encodedSize(version: version) else {
        fatalError("encodedSize \(packet.encodedSize(version: version)) != \(encoded.readableBytes) bytes for \(packet.type)")
    }
    var again = encoded
    let decoded: MQTTPacket?
    do {
        decoded = try MQTTPacketDecoder.decode(from: &again, version: version)
    } catch {
        fatalError("re-encoded \(packet.type) does not decode: \(error)")
    }
    guard decoded == packet, again.readableBytes == 0 else {
        fatalError("re-encoded \(packet.type) decodes to a different value")
    }
    // Every strict prefix is an incomplete packet: nil, nothing consumed. Checked at a few cut points
    // to keep executions fast.
    let count = encoded.readableBytes
    for cut in Set([1, count / 2, count - 1]) where cut > 0 && cut < count {
        var prefix = encoded.getSlice(at: encoded.readerIndex, length: cut)!
        do {
            guard try MQTTPacketDecoder.decode(from: &prefix, version: version) == nil, prefix.readableBytes == cut else {
                fatalError("a \(cut)-byte prefix of \(packet.type) did not wait for more input")
            }
        } catch {
            fatalError("a \(cut)-byte prefix of \(packet.type) threw \(error)")
        }
    }
}
