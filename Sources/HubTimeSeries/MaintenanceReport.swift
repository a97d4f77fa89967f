/// What `maintain`, `compact` and `applyRetention` did.
public struct MaintenanceReport: Sendable, Hashable {
    /// Closed raw partitions rewritten as one file (roll-ups moved to the roll-up files).
    public var compactedPartitions = 0
    /// Roll-up partitions whose files were merged into one.
    public var compactedRollupPartitions = 0
    /// Partitions removed whole by retention (raw, roll-up).
    public var droppedPartitions = 0
    /// (Roll-up partitions removed whole.)
    public var droppedRollupPartitions = 0
    /// Files of open partitions merged into larger ones (tiered: `mergeFanIn` files of a level at a time).
    public var mergedFiles = 0
    /// Partitions rewritten without the series whose retention had passed (raw, roll-up).
    public var trimmedPartitions = 0
    /// (Roll-up partitions rewritten without expired series.)
    public var trimmedRollupPartitions = 0

    /// An empty report (nothing done).
    public init() {}
}
