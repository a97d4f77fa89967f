/// A series' dense number in this store: resolved once from (device, measure, tags) with
/// `TimeSeriesStore.seriesID(device:measure:type:)`, then used for every append (no string hashing per point).
public struct SeriesID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The dense number (0, 1, 2 … in creation order).
    public let rawValue: UInt32

    /// Wraps a number (only ids this store returned are valid in `append`).
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Creation order.
    public static func < (lhs: SeriesID, rhs: SeriesID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `#42`.
    public var description: String { "#\(rawValue)" }
}

/// What a series' values stand for. Every value is stored as a `Double`; the type is recorded per series
/// so readers can render integers (exact up to 2^53) and booleans (0 or 1) as they were sent. A string
/// series stores codes from the store's string dictionary (`TimeSeriesStore.stringValue(_:)`), like a
/// SYMBOL column: results carry the strings.
public enum ValueType: UInt8, Sendable, Hashable, CaseIterable {
    case float = 1
    case integer = 2
    case boolean = 3
    case string = 4

    /// Whether values are numbers (float, integer, boolean), as opposed to dictionary codes.
    public var isNumeric: Bool { self != .string }
}

/// A series' identity: which device, which measure (`velocity`, `position.lat`, `engine.temperature`) and
/// optional tags (`SeriesTags`: `motor=front,side=left`; empty for none).
public struct SeriesKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The device id (1…1024 bytes of UTF-8).
    public var device: String
    /// The measure name (1…1024 bytes of UTF-8).
    public var measure: String
    /// The tags in canonical form (`SeriesTags.canonical`; at most 1024 bytes), empty when the series has none.
    public var tags: String

    /// The key of (device, measure, tags).
    public init(device: String, measure: String, tags: String = "") {
        self.device = device
        self.measure = measure
        self.tags = tags
    }

    /// Byte order of the UTF-8 forms, device first, then measure, then tags: the order results are listed in.
    public static func < (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        if lhs.device != rhs.device { return lhs.device.utf8.lexicographicallyPrecedes(rhs.device.utf8) }
        if lhs.measure != rhs.measure { return lhs.measure.utf8.lexicographicallyPrecedes(rhs.measure.utf8) }
        return lhs.tags.utf8.lexicographicallyPrecedes(rhs.tags.utf8)
    }

    /// `device/measure` or `device/measure{tags}`.
    public var description: String { tags.isEmpty ? "\(device)/\(measure)" : "\(device)/\(measure){\(tags)}" }
}

/// A series as listed by the store.
public struct SeriesInfo: Hashable, Sendable {
    /// The series' id in this store.
    public var id: SeriesID
    /// Device and measure.
    public var key: SeriesKey
    /// What the values stand for (set when the series was created).
    public var type: ValueType

    /// A listing entry.
    public init(id: SeriesID, key: SeriesKey, type: ValueType) {
        self.id = id
        self.key = key
        self.type = type
    }
}
