/// Limits the decoder enforces on input. Every limit is named and configurable.
public struct MQTTDecoderConfiguration: Sendable, Hashable {
    /// Largest whole packet (fixed header included) accepted, checked from the fixed header *before*
    /// anything is buffered. Default 256 KiB + 1 KiB of headroom for topic and properties, matching
    /// Azure IoT Hub's 256 KiB message limit. Never above 268,435,460 (the protocol maximum).
    public var maximumPacketSize: Int
    /// Cap on User Property pairs in one packet (M36 in the reliability plan).
    public var maximumUserProperties: Int

    public static let defaultMaximumPacketSize = 256 * 1024 + 1024
    public static let protocolMaximumPacketSize = 268_435_455 + 5

    public init(maximumPacketSize: Int = defaultMaximumPacketSize, maximumUserProperties: Int = 64) {
        self.maximumPacketSize = maximumPacketSize
        self.maximumUserProperties = maximumUserProperties
    }
}
