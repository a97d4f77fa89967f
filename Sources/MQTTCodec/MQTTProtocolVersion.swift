/// The MQTT protocol revision a connection speaks, as carried in the CONNECT Protocol Level byte.
public enum MQTTProtocolVersion: UInt8, Sendable, Hashable, CaseIterable, Comparable {
    /// MQTT 3.1 (protocol name `MQIsdp`); served with 3.1.1 semantics.
    case v3_1 = 3
    /// MQTT 3.1.1 (protocol name `MQTT`, level 4).
    case v3_1_1 = 4
    /// MQTT 5.0 (protocol name `MQTT`, level 5).
    case v5 = 5

    /// True for 5.0, the only revision with properties and reason codes everywhere.
    @inlinable public var hasProperties: Bool { self == .v5 }

    /// The protocol name this level must be paired with in CONNECT. [MQTT-3.1.2-1]
    public var protocolName: String { self == .v3_1 ? "MQIsdp" : "MQTT" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
