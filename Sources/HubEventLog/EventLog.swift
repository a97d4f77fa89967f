import HubCore
import HubMessaging
import HubStorage
import Logging

/// The hub's durable, partitioned log of device-to-cloud events (the built-in "events" endpoint).
///
/// **Partitions.** `partitionCount` partitions (default 4), fixed at creation and recorded in
/// `{directory}/partitions`. A message goes to partition `FNV-1a-64(UTF-8 of partitionKey) % count`
/// (see `partition(for:count:)`): stable across processes and versions, unlike Swift's seeded `Hasher`,
/// so one device's events stay in one partition and in order.
///
/// **Group commit.** Each partition has a bounded queue (`maxQueuedAppends`; beyond it `append` fails
/// with `.overloaded`) and one writer thread. The writer takes up to `maxBatchRecords` appends, waiting
/// at most until `maxBatchDelay` after its previous commit for more, encodes them into one reused
/// buffer, writes them with a single `pwrite`, makes them durable per the mode, and only then calls the
/// completions of the batch. Events become visible to readers at the same moment.
///
/// **Durability modes** (`Configuration.durability`):
/// - `.process` (default): a batch is acknowledged once its `pwrite` returned, i.e. the bytes are in
///   the kernel's page cache, which survives `kill -9` and crashes of the hub but not power loss. The
///   writer `fdatasync`s the active segment in the background at most `backgroundSyncInterval` (1 s)
///   after unsynced data was written, when rolling a segment and on `close()`. Directory entries are
///   not fsynced. If a background fsync fails the partition stops acknowledging (every batch fails with
///   `.unavailable`) until a retried fsync succeeds.
/// - `.power`: after the `pwrite`, the segment is `fdatasync`ed before any completion runs; creating or
///   deleting a segment fsyncs the partition directory, and checkpoints fsync file and directory.
///   Index files are never fsynced: they are checked, and rebuilt if needed, at start-up.
///
/// **Failures.** A failed write or commit fsync fails the whole batch (`.diskFull` for ENOSPC/EDQUOT,
/// `.unavailable` otherwise) and truncates the segment back to the last committed byte, so nothing
/// unacknowledged survives to be read; the next batch tries again, so the log recovers by itself once
/// space returns. Nothing is acknowledged that was not written (and, in `.power`, fsynced).
///
/// **Start-up** reads index files and scans only each segment's tail after its last index entry; see
/// `Partition.recover`.
public final class EventLog: TelemetrySink, Sendable {
    /// The settings in force (`partitionCount` as recorded on disk).
    public let configuration: Configuration
    /// The data directory of the log.
    public let directory: String
    let partitions: [Partition]
    let io: any LogFileIO
    let now: @Sendable () -> Timestamp
    let logger: Logger

    /// Opens (creating if needed) the log in `directory` and recovers every partition.
    /// - Parameters:
    ///   - io: the file operations; tests inject failures here.
    ///   - now: the wall clock for enqueued times, segment age and retention.
    public init(
        directory: String, configuration: Configuration = Configuration(), io: any LogFileIO = POSIXLogFileIO(),
        now: @escaping @Sendable () -> Timestamp = { Timestamp.now() }, logger: Logger = Logger(label: "meridian.eventlog")
    ) throws(EventLogError) {
        try configuration.validate()
        var configuration = configuration
        try io.makeDirectory(directory)
        configuration.partitionCount = try Self.recordedPartitionCount(
            io: io, directory: directory, requested: configuration.partitionCount, durability: configuration.durability)
        self.configuration = configuration
        self.directory = directory
        self.io = io
        self.now = now
        self.logger = logger
        var partitions: [Partition] = []
        do throws(EventLogError) {
            for number in 0..<configuration.partitionCount {
                partitions.append(try Partition(
                    number: number, directory: directory + "/\(number)", io: io, configuration: configuration,
                    now: now, logger: logger))
            }
        } catch {
            for partition in partitions { partition.close() }
            throw error
        }
        self.partitions = partitions
    }

    /// The number of partitions.
    public var partitionCount: Int { partitions.count }

    /// The partition for `key`: FNV-1a (64-bit) over its UTF-8 bytes, modulo `count`.
    public static func partition(for key: String, count: Int) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return Int(hash % UInt64(count))
    }

    /// Queues `message` on its partition; `completion` runs on the partition's writer thread once the
    /// batch holding it is durable or has failed (or at once with `.overloaded` / `.closed`).
    public func append(
        _ message: DeviceMessage, partitionKey: String,
        completion: @escaping @Sendable (Result<Void, TelemetrySinkError>) -> Void
    ) {
        partitions[Self.partition(for: partitionKey, count: partitions.count)].append(message, key: partitionKey, completion: completion)
    }

    /// Commits what is queued, fsyncs, stops the writers and fails later appends with `.closed`. Blocks
    /// the caller until the writers have stopped (at most one batch and one fsync per partition).
    public func close() {
        for partition in partitions { partition.close() }
    }

    /// Whether `close()` has run: readers stop streaming.
    public var isClosed: Bool { partitions.contains { $0.shared.withLock { $0.closed } } }

    /// The running totals of all partitions.
    public var counters: Counters {
        partitions.reduce(Counters()) { $0 + $1.shared.withLock { $0.counters } }
    }

    /// The first retained and the next offset to be written, per partition.
    public func bounds(partition: Int) throws(EventLogError) -> (earliest: Int64, next: Int64) {
        let segments = try self.partition(partition).shared.withLock { $0.segments }
        return (segments[0].baseOffset, segments[segments.count - 1].nextOffset)
    }

    func partition(_ number: Int) throws(EventLogError) -> Partition {
        guard partitions.indices.contains(number) else { throw EventLogError(.invalidArgument, "no partition \(number)") }
        return partitions[number]
    }

    /// Reads the recorded partition count, or records `requested` for a new log.
    private static func recordedPartitionCount(
        io: any LogFileIO, directory: String, requested: Int, durability: DurabilityMode
    ) throws(EventLogError) -> Int {
        let path = directory + "/partitions"
        if let bytes = try SegmentScanner.readFile(io, path) {
            let text = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            guard let count = Int(text), (1...32).contains(count) else { throw EventLogError(.corrupt, "unreadable partitions file") }
            return count
        }
        try AtomicFile.write(Array("\(requested)\n".utf8), to: path, io: io)
        return requested
    }
}
