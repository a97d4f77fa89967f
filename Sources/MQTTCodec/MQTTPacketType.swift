/// The 4-bit control packet type in the first byte of the fixed header.
public enum MQTTPacketType: UInt8, Sendable, Hashable, CaseIterable {
    case connect = 1
    case connAck = 2
    case publish = 3
    case pubAck = 4
    case pubRec = 5
    case pubRel = 6
    case pubComp = 7
    case subscribe = 8
    case subAck = 9
    case unsubscribe = 10
    case unsubAck = 11
    case pingReq = 12
    case pingResp = 13
    case disconnect = 14
    /// Only in MQTT 5.0; type 15 is reserved (malformed) in 3.1.1.
    case auth = 15

    /// True for packets only a server may send; a client sending one is a protocol error
    /// (CVE-2021-28166 class: a broker must never process a CONNACK from a client).
    public var isServerToClientOnly: Bool {
        switch self {
        case .connAck, .subAck, .unsubAck, .pingResp: return true
        default: return false
        }
    }
}
