import Foundation
import HubEventLog
import Logging

/// The event log of a hub that is not running, for `meridian eventlog dump` and `stats`.
///
/// Opening it takes the data directory's lock (`DataDirectoryLock`) first, because opening the log runs
/// the same recovery as a hub start (a torn tail is truncated, stale indexes are rewritten) and holds
/// the active segments open for writing: doing that beside a running hub would cut records it is
/// writing. So it refuses with `.dataDirectoryInUse` while the hub runs, and a hub started meanwhile
/// refuses in turn until `close()`.
public final class OfflineEventLog {
    let log: EventLog
    private let lock: DataDirectoryLock

    /// The event log's folder inside a data directory.
    public static func directory(inDataDirectory dataDirectory: String) -> String { dataDirectory + "/events" }

    /// Locks `dataDirectory` and opens (recovers) its event log. Repairs recovery makes are logged to
    /// `logger` as warnings. Throws `.dataDirectory` when there is no event log there (nothing is
    /// created), `.dataDirectoryInUse` while another process holds the lock, `.storage` when the log
    /// cannot be opened.
    public static func open(dataDirectory: String, logger: Logger) throws(HubServerError) -> OfflineEventLog {
        let events = directory(inDataDirectory: dataDirectory)
        guard SecureFile.exists(events + "/partitions") else {
            throw HubServerError(.dataDirectory, "no event log in \(dataDirectory) (no \(events)/partitions)")
        }
        let lock = try DataDirectoryLock.acquire(dataDirectory: dataDirectory, purpose: "meridian eventlog")
        do {
            let log = try EventLog(directory: events, logger: logger)
            return OfflineEventLog(log: log, lock: lock)
        } catch {
            lock.release()
            throw HubServerError(.storage, "cannot open the event log: \(error)")
        }
    }

    private init(log: EventLog, lock: DataDirectoryLock) {
        self.log = log
        self.lock = lock
    }

    /// The number of partitions the log was created with.
    public var partitionCount: Int { log.partitionCount }

    /// Writes events as JSON lines (`LogEvent.json(partition:)`, each followed by `\n`) to `write`, in
    /// partition then offset order: every partition, or only `partition`; from offset `from` (in each
    /// partition; default: the earliest retained); at most `limit` events in all. `notice` gets a line
    /// for a start below the earliest retained offset. Returns how many events were written.
    @discardableResult
    public func dump(
        partition: Int? = nil, from: Int64? = nil, limit: Int? = nil, write: ([UInt8]) -> Void, notice: (String) -> Void = { _ in }
    ) throws(HubServerError) -> Int {
        if let partition, !(0..<log.partitionCount).contains(partition) {
            throw HubServerError(.invalidConfiguration, "no partition \(partition) (the log has \(log.partitionCount): 0…\(log.partitionCount - 1))")
        }
        var remaining = limit ?? Int.max
        var written = 0
        var line: [UInt8] = []
        for number in partition.map({ [$0] }) ?? Array(0..<log.partitionCount) {
            var offset = from ?? 0
            while remaining > 0 {
                let result: EventLog.ReadResult
                do {
                    result = try log.read(partition: number, from: offset, limit: min(remaining, 512))
                } catch {
                    throw HubServerError(.storage, "cannot read partition \(number) at offset \(offset): \(error)")
                }
                if let skipped = result.skipped {
                    notice("partition \(number): offset \(skipped.requested) was deleted by retention; starting at \(skipped.earliest)")
                }
                if result.events.isEmpty { break }
                for event in result.events {
                    line = event.json(partition: number)
                    line.append(UInt8(ascii: "\n"))
                    write(line)
                }
                written += result.events.count
                remaining -= result.events.count
                offset = result.nextOffset
            }
        }
        return written
    }

    /// One partition's extent (`EventLog.PartitionStats`, restated so the CLI needs no HubEventLog).
    public struct PartitionStats: Sendable, Hashable {
        public var partition: Int
        /// The first retained offset.
        public var earliest: Int64
        /// The offset the next event gets.
        public var next: Int64
        /// Segment files, the active one included.
        public var segments: Int
        /// Committed record bytes.
        public var bytes: Int64
    }

    /// Each partition's earliest and next offsets, segments and bytes.
    public func stats() throws(HubServerError) -> [PartitionStats] {
        var all: [PartitionStats] = []
        for number in 0..<log.partitionCount {
            do {
                let s = try log.stats(partition: number)
                all.append(PartitionStats(partition: number, earliest: s.earliest, next: s.next, segments: s.segments, bytes: s.bytes))
            } catch {
                throw HubServerError(.storage, "cannot read partition \(number): \(error)")
            }
        }
        return all
    }

    /// Closes the log and releases the lock. Call once.
    public func close() {
        log.close()
        lock.release()
    }
}
