import DequeModule
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HubCore
import HubMessaging
import HubStorage
import Logging
import Synchronization

/// One partition: its segments, its bounded append queue and its writer thread.
///
/// Threading: appends only enqueue (under `condition`); one dedicated writer thread per partition takes
/// batches, does all writes and fsyncs, then publishes the new end of the log under `shared` and runs
/// the batch's completions. A thread rather than a `Task` because it blocks in `pwrite`/`fdatasync`,
/// which must not happen on the cooperative pool. The writer-owned properties below are touched only by
/// that thread (and by `init` before it starts), hence `@unchecked Sendable`.
final class Partition: @unchecked Sendable {
    let number: Int
    let directory: String
    let io: any LogFileIO
    let configuration: EventLog.Configuration
    let now: @Sendable () -> Timestamp
    let logger: Logger

    /// State readers, retention and the writer share.
    struct Shared {
        /// Oldest first; the last is the active segment, which retention never deletes.
        var segments: [Segment]
        var counters = EventLog.Counters()
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID = 0
        var closed = false
    }
    let shared: Mutex<Shared>

    /// One queued append.
    struct Pending {
        var message: DeviceMessage
        var key: String
        var completion: @Sendable (Result<Void, TelemetrySinkError>) -> Void
        var enqueued: ContinuousClock.Instant
    }

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: Deque<Pending> = []
    private var closing = false
    private var finished = false

    // Writer-owned.
    private var fd: Int32
    private var indexFD: Int32
    private var timeIndexFD: Int32
    private var baseOffset: Int64
    private var nextOffset: Int64
    private var size: Int64
    private var firstTime: Int64?
    private var indexEntriesOnDisk: Int64
    private var lastIndexedPosition: Int64?
    private var lastTime: Int64
    private var buffer: [UInt8] = []
    private var batch: [Pending] = []
    private var indexBuffer: [UInt8] = []
    private var timeIndexBuffer: [UInt8] = []
    /// A failed write or fsync left bytes past `size` that must go before the next write.
    private var needsTruncate = false
    /// A background fsync failed: nothing is acknowledged until one succeeds.
    private var syncFailed = false
    /// Batches failed since the last successful commit (0: healthy). The first failure of a streak is
    /// logged as an error and the recovery as a notice, so a full disk shows in the log without one
    /// line per batch.
    private var failedBatchesInARow = 0
    /// `.process` mode: written data not yet fsynced.
    private var unsynced = false
    private var lastSync = ContinuousClock.now
    private var lastCommit = ContinuousClock.now - .seconds(1)

    init(
        number: Int, directory: String, io: any LogFileIO, configuration: EventLog.Configuration,
        now: @escaping @Sendable () -> Timestamp, logger: Logger
    ) throws(EventLogError) {
        self.number = number
        self.directory = directory
        self.io = io
        self.configuration = configuration
        self.now = now
        self.logger = logger
        let recovered = try Partition.recover(
            io: io, directory: directory, indexInterval: configuration.indexIntervalBytes, durability: configuration.durability)
        for note in recovered.repairs { logger.warning("event log partition \(number): \(note)") }
        let active = recovered.segments[recovered.segments.count - 1]
        fd = recovered.fd
        indexFD = recovered.indexFD
        timeIndexFD = recovered.timeIndexFD
        baseOffset = active.baseOffset
        nextOffset = active.nextOffset
        size = active.size
        firstTime = active.firstTime
        indexEntriesOnDisk = Int64(active.index.count)
        lastIndexedPosition = recovered.lastIndexedPosition
        lastTime = recovered.lastTime
        shared = Mutex(Shared(segments: recovered.segments))
        buffer.reserveCapacity(256 * 1024)
        let name = "eventlog-p\(number)"
        let thread = Thread { [self] in
            // Foundation does not name the OS thread on Linux; top, perf and the benchmarks read this.
            Partition.nameCurrentThread(name)
            self.run()
        }
        thread.name = name
        thread.start()
    }

    /// Names the calling OS thread (Linux: `/proc/thread-self/comm`, at most 15 bytes); best effort.
    static func nameCurrentThread(_ name: String) {
        #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        _ = Glibc.close(fd)
        #endif
    }

    // MARK: appending

    func append(_ message: DeviceMessage, key: String, completion: @escaping @Sendable (Result<Void, TelemetrySinkError>) -> Void) {
        condition.lock()
        if closing {
            condition.unlock()
            completion(.failure(TelemetrySinkError(.closed, "the event log is closed")))
            return
        }
        if queue.count >= configuration.maxQueuedAppends {
            condition.unlock()
            shared.withLock { $0.counters.overloaded += 1 }
            completion(.failure(TelemetrySinkError(.overloaded, "event log partition queue is full")))
            return
        }
        queue.append(Pending(message: message, key: key, completion: completion, enqueued: .now))
        if queue.count == 1 || queue.count >= configuration.maxBatchRecords { condition.signal() }
        condition.unlock()
    }

    /// Stops taking appends, lets the writer commit what is queued, fsyncs, and waits for it to stop.
    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
        let waiters = shared.withLock { state in
            state.closed = true
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    private func wait(until instant: ContinuousClock.Instant) {
        let seconds = Double((instant - .now).nanoseconds) / 1e9
        if seconds > 0 { _ = condition.wait(until: Date(timeIntervalSinceNow: seconds)) }
    }

    // MARK: the writer thread

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !closing {
                if unsynced || syncFailed {
                    let due = lastSync + configuration.backgroundSyncInterval
                    if ContinuousClock.now >= due { break }
                    wait(until: due)
                } else {
                    condition.wait()
                }
            }
            if queue.isEmpty {
                let stop = closing
                condition.unlock()
                if unsynced || syncFailed { backgroundSync() }
                if stop { break }
                continue
            }
            // Group commit: wait until the batch is full or `maxBatchDelay` has passed since the last
            // commit. An idle partition thus commits at once; a busy one at most every `maxBatchDelay`.
            let deadline = lastCommit + configuration.maxBatchDelay
            while queue.count < configuration.maxBatchRecords && !closing && ContinuousClock.now < deadline {
                wait(until: deadline)
            }
            batch.removeAll(keepingCapacity: true)
            while batch.count < configuration.maxBatchRecords, let next = queue.popFirst() { batch.append(next) }
            condition.unlock()
            commit()
            lastCommit = .now
        }
        if needsTruncate { try? io.truncate(fd, to: size) }
        io.close(fd)
        io.close(indexFD)
        io.close(timeIndexFD)
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// `.process` mode's periodic fsync (also retried here after a failure).
    private func backgroundSync() {
        do {
            try io.sync(fd)
            unsynced = false
            if syncFailed {
                logger.notice("event log partition \(number): fsync works again")
                if failedBatchesInARow == 0 { shared.withLock { $0.counters.failingPartitions = 0 } }
            }
            syncFailed = false
        } catch {
            if !syncFailed { logger.error("event log partition \(number): background fsync failed, not acknowledging: \(error)") }
            syncFailed = true
            shared.withLock {
                $0.counters.fsyncFailures += 1
                $0.counters.failingPartitions = 1
            }
        }
        lastSync = .now
    }

    private func fail(_ error: EventLogError, isSync: Bool = false) {
        let sinkError = error.code == .diskFull
            ? TelemetrySinkError(.diskFull, "the event log's disk is full")
            : TelemetrySinkError(.unavailable, "the event log cannot write")
        shared.withLock {
            $0.counters.failedAppends += Int64(batch.count)
            if isSync { $0.counters.fsyncFailures += 1 } else { $0.counters.writeFailures += 1 }
            $0.counters.failingPartitions = 1
        }
        if failedBatchesInARow == 0 {
            let reason = error.code == .diskFull ? "disk full" : isSync ? "fsync failed" : "I/O error"
            logger.error("event log partition \(number): cannot write (\(reason)): acknowledging nothing until a write succeeds: \(error)")
        }
        failedBatchesInARow += 1
        logger.debug("event log partition \(number): batch of \(batch.count) failed: \(error)")
        for pending in batch { pending.completion(.failure(sinkError)) }
    }

    /// Writes `batch` with one `pwrite`, makes it durable per the mode, publishes it, then completes it.
    private func commit() {
        // Repair what an earlier failure left before writing anything new.
        if needsTruncate {
            do {
                try io.truncate(fd, to: size)
                needsTruncate = false
            } catch {
                return fail(error)
            }
        }
        if syncFailed {
            backgroundSync()
            if syncFailed { return fail(EventLogError(.io, "fsync failed"), isSync: true) }
        }
        let nowMillis = now().rawValue
        if size >= configuration.segmentMaxBytes
            || firstTime.map({ nowMillis - $0 >= configuration.segmentMaxAge.milliseconds }) ?? false {
            do { try roll() } catch { return fail(error) }
        }

        buffer.removeAll(keepingCapacity: true)
        indexBuffer.removeAll(keepingCapacity: true)
        timeIndexBuffer.removeAll(keepingCapacity: true)
        var newIndex: [IndexEntry] = []
        var newTimes: [IndexEntry] = []
        var offset = nextOffset
        var time = lastTime
        var indexed = lastIndexedPosition
        var batchFirstTime: Int64?
        var rejected: [Int] = []
        for (i, pending) in batch.enumerated() {
            let recordTime = max(time, pending.message.enqueuedTime?.rawValue ?? nowMillis)
            let position = size + Int64(buffer.count)
            var message = pending.message
            message.enqueuedTime = Timestamp(rawValue: recordTime)
            message.sequenceNumber = offset
            let start = buffer.count
            let length = RecordCodec.encode(
                LogEvent(offset: offset, sequenceNumber: offset, enqueuedTime: Timestamp(rawValue: recordTime), partitionKey: pending.key, message: message),
                into: &buffer)
            if length - RecordCodec.headerSize > RecordCodec.maxPayloadLength {
                buffer.removeSubrange(start...)
                rejected.append(i)
                continue
            }
            if indexed.map({ position - $0 >= Int64(configuration.indexIntervalBytes) }) ?? true {
                newIndex.append(IndexEntry(key: offset, value: position))
                newTimes.append(IndexEntry(key: recordTime, value: offset))
                IndexEntry.append(newIndex[newIndex.count - 1], to: &indexBuffer)
                IndexEntry.append(newTimes[newTimes.count - 1], to: &timeIndexBuffer)
                indexed = position
            }
            if batchFirstTime == nil { batchFirstTime = recordTime }
            time = recordTime
            offset += 1
        }

        if !buffer.isEmpty {
            do throws(EventLogError) {
                try io.write(fd, buffer, at: size)
            } catch {
                needsTruncate = true
                if (try? io.truncate(fd, to: size)) != nil { needsTruncate = false }
                return fail(error)
            }
            if configuration.durability == .power {
                do {
                    try io.sync(fd)
                } catch {
                    // fsyncgate: after a failed fsync the written pages' fate is unknown, so the batch is
                    // removed and failed; it was never acknowledged.
                    needsTruncate = true
                    if (try? io.truncate(fd, to: size)) != nil { needsTruncate = false }
                    return fail(error, isSync: true)
                }
                lastSync = .now
            } else {
                unsynced = true
            }
            // Index entries are hints (checked and rebuilt at start-up), so a failure here only costs
            // seek precision; the in-memory index keeps them either way.
            if !indexBuffer.isEmpty {
                let at = indexEntriesOnDisk * Int64(IndexEntry.size)
                do {
                    try io.write(indexFD, indexBuffer, at: at)
                    try io.write(timeIndexFD, timeIndexBuffer, at: at)
                    indexEntriesOnDisk += Int64(newIndex.count)
                } catch {
                    try? io.truncate(indexFD, to: at)
                    try? io.truncate(timeIndexFD, to: at)
                }
            }
        }

        // Publish, then complete.
        let written = Int64(buffer.count)
        size += written
        nextOffset = offset
        lastTime = time
        lastIndexedPosition = indexed
        if firstTime == nil { firstTime = batchFirstTime }
        let accepted = Int64(batch.count - rejected.count)
        let latency = batch.first.map { ContinuousClock.now - $0.enqueued } ?? .zero
        let recovered = failedBatchesInARow > 0 && written > 0
        if recovered {
            logger.notice("event log partition \(number): writing again after \(failedBatchesInARow) failed batches")
            failedBatchesInARow = 0
        }
        let waiters = shared.withLock { state in
            let last = state.segments.count - 1
            state.segments[last].nextOffset = nextOffset
            state.segments[last].size = size
            state.segments[last].firstTime = firstTime
            if batchFirstTime != nil { state.segments[last].maxTime = time }
            state.segments[last].index.append(contentsOf: newIndex)
            state.segments[last].timeIndex.append(contentsOf: newTimes)
            state.counters.appends += accepted
            state.counters.bytes += written
            state.counters.batches += 1
            state.counters.failedAppends += Int64(rejected.count)
            state.counters.lastBatchLatencyNanoseconds = latency.nanoseconds
            if recovered { state.counters.failingPartitions = 0 }
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
        configuration.commitObserver?(latency, Int(accepted))
        var nextRejected = 0
        for (i, pending) in batch.enumerated() {
            if nextRejected < rejected.count && rejected[nextRejected] == i {
                nextRejected += 1
                pending.completion(.failure(TelemetrySinkError(.unavailable, "message too large for the event log")))
            } else {
                pending.completion(.success(()))
            }
        }
    }

    /// Seals the active segment (fsynced in both modes) and starts a new one at `nextOffset`.
    private func roll() throws(EventLogError) {
        if configuration.durability == .process && unsynced {
            do {
                try io.sync(fd)
            } catch {
                shared.withLock { $0.counters.fsyncFailures += 1 }
                throw error
            }
            unsynced = false
            lastSync = .now
        }
        let base = nextOffset
        let paths = ["log", "index", "timeindex"].map { Partition.path(directory, base, $0) }
        var opened: [Int32] = []
        do {
            for path in paths { opened.append(try io.open(path, create: true, readOnly: false)) }
            if configuration.durability == .power { try io.syncDirectory(directory) }
        } catch {
            for fd in opened { io.close(fd) }
            for path in paths { try? io.remove(path) }
            throw error
        }
        io.close(fd)
        io.close(indexFD)
        io.close(timeIndexFD)
        fd = opened[0]
        indexFD = opened[1]
        timeIndexFD = opened[2]
        baseOffset = base
        size = 0
        firstTime = nil
        indexEntriesOnDisk = 0
        lastIndexedPosition = nil
        shared.withLock { $0.segments.append(Segment(baseOffset: base)) }
        logger.debug("event log partition \(number): rolled to segment \(base)")
    }
}
