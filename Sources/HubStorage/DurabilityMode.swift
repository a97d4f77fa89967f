/// How hard a storage backend works to keep a committed write.
///
/// The hub acknowledges a message only after it is committed (reliability plan 2.0, the ack rule);
/// this setting decides what "committed" survives. Configured once for the hub with `durability`.
public enum DurabilityMode: String, Sendable, Hashable, CaseIterable {
    /// The default. Survives the process being killed (`kill -9`, a crash) but not necessarily
    /// power loss or a kernel panic. SQLite: WAL journal with `synchronous=NORMAL` (the WAL is
    /// fsynced at checkpoints, not at every commit).
    case process
    /// Survives power loss, if the disk honours fsync. SQLite: WAL journal with `synchronous=FULL`
    /// (the WAL is fsynced at every commit), which costs a sync per group commit.
    case power
}
