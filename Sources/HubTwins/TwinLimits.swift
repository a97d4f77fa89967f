/// The limits Azure IoT Hub puts on twin documents (protocol reference §4.4, §8), each named.
///
/// The defaults are Azure's; a hub could relax them, but devices and back ends written against Azure
/// never need more.
public struct TwinLimits: Sendable, Hashable {
    /// Longest key, in UTF-8 bytes (1 KB).
    public var maximumKeyBytes = 1024
    /// Deepest object nesting below a section's root: `{"one":{"two":…{"ten":{"leaf":1}}}}` is the
    /// deepest allowed (ten objects under the root). Arrays count as a level too.
    public var maximumDepth = 10
    /// Longest string value, in UTF-8 bytes (4 KB).
    public var maximumStringBytes = 4096
    /// The integers a twin may hold: ±2^52, so every one survives a trip through a double.
    public var integerRange: ClosedRange<Int64> = -4_503_599_627_370_496...4_503_599_627_370_495
    /// Size limit of `tags` (8 KiB), computed as `TwinSize` does.
    public var maximumTagsSize = 8 * 1024
    /// Size limit of `properties.desired` (32 KiB), excluding `$version` and `$metadata`.
    public var maximumDesiredSize = 32 * 1024
    /// Size limit of `properties.reported` (32 KiB), excluding `$version` and `$metadata`.
    public var maximumReportedSize = 32 * 1024

    /// Azure IoT Hub's limits.
    public static let azure = TwinLimits()

    public init() {}
}
