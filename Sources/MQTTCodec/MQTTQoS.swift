/// Quality of service of a PUBLISH, a Will or a subscription.
public enum MQTTQoS: UInt8, Sendable, Hashable, CaseIterable, Comparable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
