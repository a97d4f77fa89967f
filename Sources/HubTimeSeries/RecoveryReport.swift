/// What opening a store found and repaired.
public struct RecoveryReport: Sendable, Hashable {
    /// WAL records read and the points in them applied to the heads (points already in block files skipped).
    public var walRecords = 0
    /// Points replayed into the heads.
    public var replayedPoints = 0
    /// Points skipped because a block file already holds them (or their series is unknown).
    public var skippedPoints = 0
    /// Bytes cut from the end of the WAL (a write interrupted by a crash: only unsynced data).
    public var truncatedWALBytes: Int64 = 0
    /// WAL segments found damaged before their end (the log after the damage was dropped).
    public var damagedWALSegments = 0
    /// Files removed: unfinished temporary files and files a finished compaction had replaced.
    public var removedFiles = 0
}
