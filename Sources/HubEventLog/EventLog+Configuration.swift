import HubStorage

extension EventLog {
    /// Settings of the event log, with their defaults. HubServer maps its configuration file onto this.
    public struct Configuration: Sendable {
        /// Partitions, fixed when the log is created (1…32; default 4). A reopened log keeps the count it
        /// was created with, because changing it would move keys to other partitions.
        public var partitionCount = 4
        /// What a commit survives (see `EventLog` for exactly what each mode does). Default `.process`.
        public var durability: DurabilityMode = .process
        /// The longest a writer waits after its previous commit to gather more appends (default 5 ms).
        public var maxBatchDelay: Duration = .milliseconds(5)
        /// The most appends in one batch (default 512); a full batch is written without waiting.
        public var maxBatchRecords = 512
        /// Appends waiting per partition beyond which `append` fails with `.overloaded` (default 16,384).
        public var maxQueuedAppends = 16_384
        /// A segment is rolled once it holds this many bytes (default 64 MiB).
        public var segmentMaxBytes: Int64 = 64 * 1024 * 1024
        /// A segment is rolled once its first record is this old (default 1 hour), so retention by age
        /// can delete whole segments at about that granularity.
        public var segmentMaxAge: Duration = .seconds(3600)
        /// Bytes between sparse index entries (default 4 KiB).
        public var indexIntervalBytes = 4096
        /// `.process` mode: the longest unsynced data waits for a background fsync (default 1 s).
        public var backgroundSyncInterval: Duration = .seconds(1)
        /// Delete segments whose newest event is older than this (default 1 day, at most 7 days).
        public var retentionAge: Duration = .seconds(86_400)
        /// Delete the oldest segments while the log holds more than this many bytes (nil: no limit).
        public var retentionBytes: Int64?

        /// Called on the writer thread after every committed batch with the batch's commit latency
        /// (enqueue of its first append → durable) and its record count: HubServer feeds the
        /// `meridian_eventlog_commit_latency_seconds` histogram from it. Must be cheap.
        public var commitObserver: (@Sendable (_ latency: Duration, _ records: Int) -> Void)?

        public init() {}

        /// The longest `retentionAge` accepted.
        public static let maxRetentionAge: Duration = .seconds(7 * 86_400)

        func validate() throws(EventLogError) {
            guard (1...32).contains(partitionCount) else { throw EventLogError(.invalidArgument, "partitionCount must be 1…32") }
            guard maxBatchRecords >= 1, maxQueuedAppends >= 1 else { throw EventLogError(.invalidArgument, "batch and queue sizes must be positive") }
            guard segmentMaxBytes >= 1024, indexIntervalBytes >= 64 else { throw EventLogError(.invalidArgument, "segment or index interval too small") }
            guard retentionAge > .zero, retentionAge <= Self.maxRetentionAge else { throw EventLogError(.invalidArgument, "retentionAge must be up to 7 days") }
            guard maxBatchDelay >= .zero, backgroundSyncInterval > .zero, segmentMaxAge > .zero else { throw EventLogError(.invalidArgument, "durations must be positive") }
        }
    }

    /// Running totals for metrics (since the log was opened), and two gauges (the last batch's latency,
    /// the partitions failing now).
    public struct Counters: Sendable, Hashable {
        /// Appends acknowledged as durable.
        public var appends: Int64 = 0
        /// Record bytes written by acknowledged batches.
        public var bytes: Int64 = 0
        /// Batches committed.
        public var batches: Int64 = 0
        /// Enqueue-of-first-append to completion time of the last committed batch, in nanoseconds.
        public var lastBatchLatencyNanoseconds: Int64 = 0
        /// Appends failed because a write, fsync or roll failed.
        public var failedAppends: Int64 = 0
        /// Failed fsyncs (commit, background or roll).
        public var fsyncFailures: Int64 = 0
        /// Failed writes (ENOSPC and other errors).
        public var writeFailures: Int64 = 0
        /// Appends refused because the partition queue was full.
        public var overloaded: Int64 = 0
        /// Segments deleted by retention.
        public var retentionDeletions: Int64 = 0
        /// A gauge, not a total: partitions whose last commit failed (a write, fsync or roll; e.g. the
        /// disk is full). They acknowledge nothing until a commit succeeds, which resets this.
        public var failingPartitions: Int64 = 0

        public init() {}

        static func + (a: Counters, b: Counters) -> Counters {
            var c = Counters()
            c.appends = a.appends + b.appends
            c.bytes = a.bytes + b.bytes
            c.batches = a.batches + b.batches
            c.lastBatchLatencyNanoseconds = max(a.lastBatchLatencyNanoseconds, b.lastBatchLatencyNanoseconds)
            c.failedAppends = a.failedAppends + b.failedAppends
            c.fsyncFailures = a.fsyncFailures + b.fsyncFailures
            c.writeFailures = a.writeFailures + b.writeFailures
            c.overloaded = a.overloaded + b.overloaded
            c.retentionDeletions = a.retentionDeletions + b.retentionDeletions
            c.failingPartitions = a.failingPartitions + b.failingPartitions
            return c
        }
    }
}
