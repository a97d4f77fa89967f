import Foundation
import HubCore
import HubMessaging
import HubStorage
import HubTestKit
import Synchronization
import Testing

@testable import HubEventLog

/// A `LogFileIO` that counts the bytes read, per kind of file (`log`, `index`, `timeindex`, other).
final class CountingIO: LogFileIO {
    let base = POSIXLogFileIO()
    private let kinds = Mutex<[Int32: String]>([:])
    private let counts = Mutex<[String: Int]>([:])

    /// Bytes read per kind since the last `reset()`.
    var bytesRead: [String: Int] { counts.withLock { $0 } }
    var totalRead: Int { bytesRead.values.reduce(0, +) }
    /// `index 123, log 45, …` in name order.
    var summary: String { bytesRead.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
    func reset() { counts.withLock { $0 = [:] } }

    func open(_ path: String, create: Bool, readOnly: Bool) throws(EventLogError) -> Int32 {
        let fd = try base.open(path, create: create, readOnly: readOnly)
        let ext = path.split(separator: "/").last.flatMap { $0.split(separator: ".").count > 1 ? $0.split(separator: ".").last : nil }
        kinds.withLock { $0[fd] = ext.map(String.init) ?? "other" }
        return fd
    }
    func close(_ fd: Int32) {
        kinds.withLock { _ = $0.removeValue(forKey: fd) }
        base.close(fd)
    }
    func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws(EventLogError) -> Int {
        let n = try base.read(fd, into: buffer, at: position)
        let kind = kinds.withLock { $0[fd] ?? "other" }
        counts.withLock { $0[kind, default: 0] += n }
        return n
    }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at position: Int64) throws(EventLogError) { try base.write(fd, bytes, at: position) }
    func sync(_ fd: Int32) throws(EventLogError) { try base.sync(fd) }
    func truncate(_ fd: Int32, to size: Int64) throws(EventLogError) { try base.truncate(fd, to: size) }
    func size(_ fd: Int32) throws(EventLogError) -> Int64 { try base.size(fd) }
    func syncDirectory(_ path: String) throws(EventLogError) { try base.syncDirectory(path) }
    func makeDirectory(_ path: String) throws(EventLogError) { try base.makeDirectory(path) }
    func list(_ directory: String) throws(EventLogError) -> [String] { try base.list(directory) }
    func remove(_ path: String) throws(EventLogError) { try base.remove(path) }
    func rename(_ from: String, _ to: String) throws(EventLogError) { try base.rename(from, to) }
}

/// Start-up reads each segment's index files and only the records after its last index entry, so its
/// cost follows the number of segments and the tails, not the bytes in the log.
@Suite struct StartupCostTests {
    /// Appends messages with `bodyBytes`-byte bodies over `keys` partition keys until the log holds at
    /// least `bytes` record bytes, `window` appends in flight at a time.
    static func fill(_ log: EventLog, bytes: Int64, bodyBytes: Int, keys: Int = 16, window: Int = 2048) async throws {
        var body = [UInt8](repeating: 0, count: bodyBytes)
        for i in body.indices { body[i] = UInt8(truncatingIfNeeded: i &* 131 &+ 7) }
        var sequence = 0
        while log.counters.bytes < bytes {
            let before = sequence
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in before..<(before + window) {
                    let message = DeviceMessage(
                        body: body, messageID: "m\(i)", applicationProperties: [.init("i", "\(i)")],
                        connectionDeviceID: DeviceID(rawValue: "dev\(i % keys)"))
                    group.addTask { try await log.append(message, partitionKey: "dev\(i % keys)") }
                }
                try await group.waitForAll()
            }
            sequence += window
        }
    }

    /// What recovery may read: every index file whole, plus each segment's bytes after its last index
    /// entry; and the largest such tail.
    static func recoveryBudget(_ directory: String, partitions: Int) throws -> (indexBytes: Int, tails: Int, largestTail: Int64, logBytes: Int64, segments: Int) {
        var indexBytes = 0, tails = 0, segments = 0
        var largestTail: Int64 = 0, logBytes: Int64 = 0
        let files = FileManager.default
        for p in 0..<partitions {
            let dir = "\(directory)/\(p)"
            for name in try files.contentsOfDirectory(atPath: dir) where name.hasSuffix(".log") {
                let stem = String(name.dropLast(4))
                let size = try files.attributesOfItem(atPath: "\(dir)/\(name)")[.size] as! Int
                let index = (try? Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(stem).index"))) ?? Data()
                let times = (try? Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(stem).timeindex"))) ?? Data()
                let entries = IndexEntry.parse(Array(index)) ?? []
                let tail = Int64(size) - (entries.last?.value ?? 0)
                indexBytes += index.count + times.count
                tails += Int(tail)
                largestTail = max(largestTail, tail)
                logBytes += Int64(size)
                segments += 1
            }
        }
        return (indexBytes, tails, largestTail, logBytes, segments)
    }

    @Test func reopeningABigLogReadsOnlyIndexesAndTails() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var config = EventLog.Configuration()
        config.partitionCount = 2
        config.segmentMaxBytes = 8 * 1024 * 1024
        config.maxBatchDelay = .milliseconds(2)
        let io = CountingIO()
        var log = try EventLog(directory: dir.path, configuration: config, io: io)
        let started = ContinuousClock.now
        try await Self.fill(log, bytes: 104 * 1024 * 1024, bodyBytes: 12 * 1024)
        let written = log.counters
        let events = try (0..<2).map { try log.bounds(partition: $0).next }.reduce(0, +)
        log.close()
        let budget = try Self.recoveryBudget(dir.path, partitions: 2)
        #expect(budget.logBytes >= 104 * 1024 * 1024)
        // 104 MiB in 8 MiB segments over two partitions: at least 6 segments whatever the batching and the
        // split of keys between the partitions (a segment rolls after the batch that crosses the limit).
        #expect(budget.segments >= 6, "a multi-segment log")

        io.reset()
        let opening = ContinuousClock.now
        log = try EventLog(directory: dir.path, configuration: config, io: io)
        let openTime = ContinuousClock.now - opening
        let read = io.bytesRead
        print("wrote \(written.bytes) bytes (\(events) events, \(budget.segments) segments) in \(opening - started); "
            + "reopen read \(io.summary) in \(openTime); indexes \(budget.indexBytes) B, tails \(budget.tails) B")
        #expect(try (0..<2).map { try log.bounds(partition: $0).next }.reduce(0, +) == events)
        // Exactly the index files, the tails and the partitions file: nothing proportional to the log.
        #expect((read["index"] ?? 0) + (read["timeindex"] ?? 0) == budget.indexBytes)
        #expect((read["log"] ?? 0) <= budget.tails)
        #expect(budget.largestTail <= Int64(config.indexIntervalBytes + 12 * 1024 + 256), "a tail is at most an index interval plus a record")
        #expect(io.totalRead <= budget.indexBytes + budget.tails + 16)
        #expect(Double(io.totalRead) < Double(budget.logBytes) * 0.01, "under 1% of the log is read")
        // Reads still find everything (the last event of each partition, and one in the middle).
        for p in 0..<2 {
            let next = try log.bounds(partition: p).next
            #expect(try log.read(partition: p, from: next - 1, limit: 5).events.map(\.offset) == [next - 1])
            #expect(try log.read(partition: p, from: next / 2, limit: 1).events.first?.offset == next / 2)
        }
        log.close()
    }

    @Test func aTornTailIsTruncatedAndStillOnlyTheTailIsRead() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var config = EventLog.Configuration()
        config.partitionCount = 1
        config.segmentMaxBytes = 4 * 1024 * 1024
        config.maxBatchDelay = .milliseconds(2)
        let io = CountingIO()
        var log = try EventLog(directory: dir.path, configuration: config, io: io)
        try await Self.fill(log, bytes: 20 * 1024 * 1024, bodyBytes: 10_000, window: 512)
        let next = try log.bounds(partition: 0).next
        log.close()
        // Cut the last record of the active segment in half, as a crash in the middle of a write would.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/0").filter { $0.hasSuffix(".log") }.sorted()
        let active = dir.path + "/0/" + names.last!
        let size = try FileManager.default.attributesOfItem(atPath: active)[.size] as! Int
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: active))
        try handle.truncate(atOffset: UInt64(size - 5_000))
        try handle.close()
        let budget = try Self.recoveryBudget(dir.path, partitions: 1)

        io.reset()
        log = try EventLog(directory: dir.path, configuration: config, io: io)
        defer { log.close() }
        #expect(try log.bounds(partition: 0).next == next - 1, "the torn record is gone")
        let truncated = try FileManager.default.attributesOfItem(atPath: active)[.size] as! Int
        #expect(truncated < size - 5_000 && truncated > size - 30_000, "truncated at the last whole record")
        // The scan from the last index entry finds the torn record and starts once more one entry back.
        let rescan = config.indexIntervalBytes + 2 * 10_300
        #expect((io.bytesRead["log"] ?? 0) <= budget.tails + rescan)
        #expect(io.totalRead <= budget.indexBytes + budget.tails + rescan + 16)
        try await log.append(EventLogTests.message(1), partitionKey: "dev1")
        #expect(try log.read(partition: 0, from: next - 1).events.map(\.message.messageID) == ["m1"])
    }

    /// The 10 GB benchmark behind `bench/eventlog-startup.sh`: with `MERIDIAN_EVENTLOG_STARTUP_BYTES`
    /// set, grows the log in `MERIDIAN_EVENTLOG_STARTUP_DIR` (default /tmp/meridian-eventlog-startup) to
    /// that many record bytes if it is smaller (hub defaults: 4 partitions, 64 MiB segments, 4 KiB index
    /// interval; bodies of `MERIDIAN_EVENTLOG_STARTUP_RECORD_BYTES`, default 1024), then times one open and
    /// prints a `startup:` line. Skipped otherwise.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MERIDIAN_EVENTLOG_STARTUP_BYTES"] != nil))
    func startupBenchmark() async throws {
        let environment = ProcessInfo.processInfo.environment
        let target = Int64(environment["MERIDIAN_EVENTLOG_STARTUP_BYTES"] ?? "") ?? 0
        let directory = environment["MERIDIAN_EVENTLOG_STARTUP_DIR"] ?? "/tmp/meridian-eventlog-startup"
        let bodyBytes = Int(environment["MERIDIAN_EVENTLOG_STARTUP_RECORD_BYTES"] ?? "") ?? 1024
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let io = CountingIO()
        let opening = ContinuousClock.now
        let log = try EventLog(directory: directory, io: io)
        let openTime = ContinuousClock.now - opening
        let stats = try (0..<log.partitionCount).map { try log.stats(partition: $0) }
        let logBytes = stats.reduce(0) { $0 + $1.bytes }
        print("startup: open \(openTime.milliseconds) ms; log \(logBytes) bytes, \(stats.reduce(0) { $0 + $1.next }) events, "
            + "\(stats.reduce(0) { $0 + $1.segments }) segments; read \(io.totalRead) bytes (\(io.summary))")
        if logBytes < target {
            let started = ContinuousClock.now
            try await Self.fill(log, bytes: target - logBytes, bodyBytes: bodyBytes, keys: 64, window: 4096)
            let seconds = Double((ContinuousClock.now - started).milliseconds) / 1000
            print("startup: wrote \(log.counters.bytes) bytes in \(seconds) s (\(Int(Double(log.counters.bytes) / seconds / 1e6)) MB/s)")
        }
        log.close()
    }
}
