import Foundation
import HubCore
import HubMessaging
import HubStorage
import HubTestKit
import Synchronization
import Testing

@testable import HubEventLog

/// A `LogFileIO` whose writes or syncs fail on demand (ENOSPC / EIO without a full disk).
final class FailingIO: LogFileIO {
    let base = POSIXLogFileIO()
    let failWrites = Atomic<Bool>(false)
    let failSyncs = Atomic<Bool>(false)

    func open(_ path: String, create: Bool, readOnly: Bool) throws(EventLogError) -> Int32 { try base.open(path, create: create, readOnly: readOnly) }
    func close(_ fd: Int32) { base.close(fd) }
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at position: Int64) throws(EventLogError) {
        if failWrites.load(ordering: .relaxed) {
            // A partial write first, as a filling disk does.
            try base.write(fd, UnsafeRawBufferPointer(rebasing: bytes.prefix(bytes.count / 2)), at: position)
            throw EventLogError(.diskFull, "write: no space left on device")
        }
        try base.write(fd, bytes, at: position)
    }
    func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws(EventLogError) -> Int { try base.read(fd, into: buffer, at: position) }
    func sync(_ fd: Int32) throws(EventLogError) {
        if failSyncs.load(ordering: .relaxed) { throw EventLogError(.io, "fdatasync: input/output error") }
        try base.sync(fd)
    }
    func truncate(_ fd: Int32, to size: Int64) throws(EventLogError) { try base.truncate(fd, to: size) }
    func size(_ fd: Int32) throws(EventLogError) -> Int64 { try base.size(fd) }
    func syncDirectory(_ path: String) throws(EventLogError) { try base.syncDirectory(path) }
    func makeDirectory(_ path: String) throws(EventLogError) { try base.makeDirectory(path) }
    func list(_ directory: String) throws(EventLogError) -> [String] { try base.list(directory) }
    func remove(_ path: String) throws(EventLogError) { try base.remove(path) }
    func rename(_ from: String, _ to: String) throws(EventLogError) { try base.rename(from, to) }
}

/// A settable wall clock.
final class TestClock: Sendable {
    let millis = Atomic<Int64>(1_700_000_000_000)
    var now: @Sendable () -> Timestamp { { Timestamp(rawValue: self.millis.load(ordering: .relaxed)) } }
    func advance(seconds: Int64) { millis.add(seconds * 1000, ordering: .relaxed) }
}

@Suite struct EventLogTests {
    static func config(_ change: (inout EventLog.Configuration) -> Void = { _ in }) -> EventLog.Configuration {
        var c = EventLog.Configuration()
        c.partitionCount = 1
        c.maxBatchDelay = .milliseconds(1)
        change(&c)
        return c
    }

    static func message(_ i: Int, time: Int64? = nil) -> DeviceMessage {
        DeviceMessage(
            body: Array("payload \(i)".utf8), messageID: "m\(i)", applicationProperties: [.init("i", "\(i)"), .init("flag", nil)],
            connectionDeviceID: DeviceID(rawValue: "dev1"), enqueuedTime: time.map { Timestamp(rawValue: $0) })
    }

    static func appendAll(_ log: EventLog, _ range: Range<Int>, key: String = "dev1", time: ((Int) -> Int64)? = nil) async throws {
        for i in range { try await log.append(message(i, time: time?(i)), partitionKey: key) }
    }

    static func readAll(_ log: EventLog, partition: Int = 0, from: Int64 = 0) throws -> [LogEvent] {
        var events: [LogEvent] = []
        var next = from
        while true {
            let result = try log.read(partition: partition, from: next, limit: 37)
            if result.events.isEmpty { return events }
            events += result.events
            next = result.nextOffset
        }
    }

    static func ids(_ events: [LogEvent]) -> [String] { events.compactMap(\.message.messageID) }

    @Test func appendsReadBackAfterReopen() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var log = try EventLog(directory: dir.path, configuration: Self.config())
        try await Self.appendAll(log, 0..<50)
        log.close()
        log = try EventLog(directory: dir.path, configuration: Self.config())
        defer { log.close() }
        let events = try Self.readAll(log)
        #expect(events.map(\.offset) == Array(0..<50))
        #expect(Self.ids(events) == (0..<50).map { "m\($0)" })
        #expect(events[3].message.applicationProperties == [.init("i", "3"), .init("flag", nil)])
        #expect(events[3].message.sequenceNumber == 3)
        try await Self.appendAll(log, 50..<51)
        #expect(try log.read(partition: 0, from: 50).events.map(\.offset) == [50])
    }

    @Test func partitionsAreStableFNV1a() {
        // FNV-1a 64 of "" is the offset basis; of "a" is 0xAF63DC4C8601EC8C.
        #expect(EventLog.partition(for: "a", count: 1 << 30) == Int(UInt64(0xAF63_DC4C_8601_EC8C) % (1 << 30)))
        #expect(EventLog.partition(for: "device-7", count: 4) == EventLog.partition(for: "device-7", count: 4))
    }

    /// Truncates the last record at every byte; reopening keeps all earlier records and appends
    /// continue at the torn record's offset.
    @Test func tornTailIsTruncatedAtEveryByte() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let segment = dir.path + "/0/" + Segment.fileName(0, "log")
        var log = try EventLog(directory: dir.path, configuration: Self.config { $0.indexIntervalBytes = 64 })
        try await Self.appendAll(log, 0..<20)
        log.close()
        let goodSize = try Data(contentsOf: URL(fileURLWithPath: segment)).count
        log = try EventLog(directory: dir.path, configuration: Self.config { $0.indexIntervalBytes = 64 })
        try await Self.appendAll(log, 20..<21)
        log.close()
        let full = try Data(contentsOf: URL(fileURLWithPath: segment))
        let index = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/0/" + Segment.fileName(0, "index")))
        let timeIndex = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/0/" + Segment.fileName(0, "timeindex")))
        #expect(full.count > goodSize)
        for cut in goodSize..<full.count {
            try full.prefix(cut).write(to: URL(fileURLWithPath: segment))
            try index.write(to: URL(fileURLWithPath: dir.path + "/0/" + Segment.fileName(0, "index")))
            try timeIndex.write(to: URL(fileURLWithPath: dir.path + "/0/" + Segment.fileName(0, "timeindex")))
            let reopened = try EventLog(directory: dir.path, configuration: Self.config { $0.indexIntervalBytes = 64 })
            let events = try Self.readAll(reopened)
            #expect(events.map(\.offset) == Array(0..<20), "cut at \(cut)")
            try await reopened.append(Self.message(99), partitionKey: "dev1")
            #expect(try reopened.read(partition: 0, from: 20).events.map(\.message.messageID) == ["m99"], "cut at \(cut)")
            reopened.close()
        }
    }

    @Test func flippedByteInLastRecordTruncatesThere() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let segment = dir.path + "/0/" + Segment.fileName(0, "log")
        var log = try EventLog(directory: dir.path, configuration: Self.config())
        try await Self.appendAll(log, 0..<10)
        log.close()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: segment))
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: segment))
        log = try EventLog(directory: dir.path, configuration: Self.config())
        defer { log.close() }
        #expect(try Self.readAll(log).map(\.offset) == Array(0..<9))
        try await Self.appendAll(log, 10..<11)
        #expect(Self.ids(try log.read(partition: 0, from: 9).events) == ["m10"])
    }

    @Test func seeksByOffsetAndTimeAcrossSegments() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = Self.config { $0.indexIntervalBytes = 128; $0.segmentMaxBytes = 4096 }
        var log = try EventLog(directory: dir.path, configuration: config)
        try await Self.appendAll(log, 0..<400) { 1_000_000 + Int64($0) * 10 }
        let segments = log.partitions[0].shared.withLock { $0.segments.count }
        #expect(segments > 5)
        log.close()
        log = try EventLog(directory: dir.path, configuration: config)
        defer { log.close() }
        #expect(log.partitions[0].shared.withLock { $0.segments.count } == segments)
        for offset: Int64 in [0, 1, 57, 199, 200, 333, 399] {
            #expect(try log.read(partition: 0, from: offset, limit: 3).events.first?.offset == offset)
        }
        #expect(try log.read(partition: 0, from: 398, limit: 10).events.map(\.offset) == [398, 399])
        #expect(try Self.readAll(log).count == 400)
        #expect(try log.resolve(.enqueuedTime(Timestamp(rawValue: 1_000_000 + 2_345)), partition: 0) == 235)
        #expect(try log.resolve(.enqueuedTime(Timestamp(rawValue: 1_000_000 + 2_340)), partition: 0) == 234)
        #expect(try log.resolve(.enqueuedTime(Timestamp(rawValue: 0)), partition: 0) == 0)
        #expect(try log.resolve(.enqueuedTime(Timestamp(rawValue: 9_999_999)), partition: 0) == 400)
        #expect(try log.resolve(.latest, partition: 0) == 400)
    }

    @Test func corruptIndexIsRebuilt() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = Self.config { $0.indexIntervalBytes = 128 }
        var log = try EventLog(directory: dir.path, configuration: config)
        try await Self.appendAll(log, 0..<100)
        log.close()
        try Data([1, 2, 3, 4, 5]).write(to: URL(fileURLWithPath: dir.path + "/0/" + Segment.fileName(0, "index")))
        log = try EventLog(directory: dir.path, configuration: config)
        defer { log.close() }
        #expect(log.partitions[0].shared.withLock { $0.segments[0].index.count } > 10)
        #expect(try log.read(partition: 0, from: 77, limit: 1).events.first?.offset == 77)
    }

    @Test func retentionByAgeAndBytesAndBehindRetention() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let log = try EventLog(directory: dir.path, configuration: Self.config { $0.segmentMaxBytes = 2048 }, now: clock.now)
        defer { log.close() }
        try await Self.appendAll(log, 0..<100)
        clock.advance(seconds: 86_400 + 1)
        try await Self.appendAll(log, 100..<200)
        let deleted = log.enforceRetention()
        #expect(deleted > 0)
        #expect(log.counters.retentionDeletions == Int64(deleted))
        let (earliest, next) = try log.bounds(partition: 0)
        #expect(earliest > 0 && earliest <= 100)
        #expect(next == 200)
        let result = try log.read(partition: 0, from: 0, limit: 5)
        #expect(result.skipped == EventLog.Skipped(requested: 0, earliest: earliest))
        #expect(result.events.first?.offset == earliest)
        // By bytes: shrink to the active segment at most.
        let budget = Self.config { $0.segmentMaxBytes = 2048; $0.retentionBytes = 3000 }
        log.close()
        let small = try EventLog(directory: dir.path, configuration: budget, now: clock.now)
        defer { small.close() }
        #expect(small.enforceRetention() > 0)
        #expect(small.partitions[0].totalBytes <= 3000 || small.partitions[0].shared.withLock { $0.segments.count } == 1)
        #expect(try small.bounds(partition: 0).next == 200)
    }

    @Test func checkpointsSurviveReopenAndGroupsAreIndependent() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var log = try EventLog(directory: dir.path, configuration: Self.config { $0.partitionCount = 2 })
        try await Self.appendAll(log, 0..<10)
        var groups = try ConsumerGroups(log: log)
        #expect(groups.names == ["$Default"])
        try groups.create("analytics")
        #expect(throws: EventLogError.self) { try groups.create("bad/name") }
        let p = EventLog.partition(for: "dev1", count: 2)
        #expect(try groups.position(group: "$Default", partition: p) == 0)
        try groups.checkpoint(group: "$Default", partition: p, nextOffset: 7)
        try groups.checkpoint(group: "analytics", partition: p, nextOffset: 3)
        log.close()
        log = try EventLog(directory: dir.path, configuration: Self.config { $0.partitionCount = 9 })
        defer { log.close() }
        #expect(log.partitionCount == 2, "the recorded count wins")
        groups = try ConsumerGroups(log: log)
        #expect(groups.names == ["$Default", "analytics"])
        #expect(try groups.checkpoint(group: "$Default", partition: p) == 7)
        #expect(try groups.checkpoint(group: "analytics", partition: p) == 3)
        #expect(try groups.checkpoint(group: "analytics", partition: 1 - p) == nil)
        #expect(try log.read(partition: p, from: groups.position(group: "$Default", partition: p)).events.count == 3)
        #expect(try log.read(partition: p, from: groups.position(group: "analytics", partition: p)).events.count == 7)
        for i in 2..<ConsumerGroups.maxGroups { try groups.create("g\(i)") }
        #expect(throws: EventLogError.self) { try groups.create("one-too-many") }
    }

    @Test func concurrentAppendsAllDurable() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for mode in [DurabilityModeCase.process, .power] {
            let path = dir.appending("\(mode)")
            var log = try EventLog(directory: path, configuration: Self.config { $0.partitionCount = 4; $0.durability = mode.mode; $0.maxBatchDelay = .milliseconds(5) })
            let started = ContinuousClock.now
            let writing = log
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<1000 {
                    group.addTask { try await writing.append(Self.message(i), partitionKey: "dev\(i % 17)") }
                }
                try await group.waitForAll()
            }
            print("1000 appends (\(mode)): \(ContinuousClock.now - started), \(log.counters.batches) batches")
            #expect(log.counters.appends == 1000)
            log.close()
            log = try EventLog(directory: path, configuration: Self.config { $0.partitionCount = 4 })
            var seen = Set<String>()
            for p in 0..<4 {
                let events = try Self.readAll(log, partition: p)
                #expect(events.map(\.offset) == Array(0..<Int64(events.count)))
                for e in events { seen.insert(e.message.messageID!) }
            }
            #expect(seen.count == 1000)
            log.close()
        }
    }

    @Test(arguments: [DurabilityModeCase.process, .power])
    func writeFailuresFailCompletionsThenRecover(mode: DurabilityModeCase) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let io = FailingIO()
        var log = try EventLog(directory: dir.path, configuration: Self.config { $0.durability = mode.mode }, io: io)
        try await Self.appendAll(log, 0..<5)
        io.failWrites.store(true, ordering: .relaxed)
        await #expect(throws: TelemetrySinkError(.diskFull, "the event log's disk is full")) {
            try await log.append(Self.message(5), partitionKey: "dev1")
        }
        #expect(log.counters.writeFailures == 1)
        #expect(log.counters.failingPartitions == 1, "the gauge says the partition is failing now")
        io.failWrites.store(false, ordering: .relaxed)
        if mode == .power {
            io.failSyncs.store(true, ordering: .relaxed)
            await #expect(throws: TelemetrySinkError.self) { try await log.append(Self.message(6), partitionKey: "dev1") }
            #expect(log.counters.fsyncFailures == 1)
            io.failSyncs.store(false, ordering: .relaxed)
        }
        try await Self.appendAll(log, 7..<9)
        #expect(log.counters.failingPartitions == 0, "a successful commit clears it")
        log.close()
        log = try EventLog(directory: dir.path, configuration: Self.config(), io: io)
        defer { log.close() }
        let events = try Self.readAll(log)
        #expect(events.map(\.offset) == Array(0..<7))
        #expect(Self.ids(events) == ["m0", "m1", "m2", "m3", "m4", "m7", "m8"])
    }

    @Test func backgroundFsyncFailureShowsInTheGaugeUntilAWriteSucceeds() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let io = FailingIO()
        let log = try EventLog(
            directory: dir.path, configuration: Self.config { $0.backgroundSyncInterval = .milliseconds(10) }, io: io)
        defer { log.close() }
        io.failSyncs.store(true, ordering: .relaxed)
        try await Self.appendAll(log, 0..<1)  // acknowledged after the write; the background fsync then fails
        for _ in 0..<200 where log.counters.fsyncFailures == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(log.counters.failingPartitions == 1)
        await #expect(throws: TelemetrySinkError.self) { try await log.append(Self.message(1), partitionKey: "dev1") }
        io.failSyncs.store(false, ordering: .relaxed)
        try await Self.appendAll(log, 2..<3)
        #expect(log.counters.failingPartitions == 0)
    }

    @Test func subscriptionTailsLiveAppends() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = try EventLog(directory: dir.path, configuration: Self.config())
        defer { log.close() }
        try await Self.appendAll(log, 0..<3)
        let subscription = try log.subscribe(partition: 0, from: .offset(1), batchSize: 2)
        let reader = Task {
            var seen: [Int64] = []
            for try await item in subscription {
                if case .event(let e) = item { seen.append(e.offset) }
                if seen.count == 6 { break }
            }
            return seen
        }
        try await Self.appendAll(log, 3..<7)
        #expect(try await reader.value == [1, 2, 3, 4, 5, 6])
    }

    @Test func closedLogRefusesAppends() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = try EventLog(directory: dir.path, configuration: Self.config())
        log.close()
        await #expect(throws: TelemetrySinkError.self) { try await log.append(Self.message(0), partitionKey: "dev1") }
    }
}

/// `DurabilityMode` as a test argument.
enum DurabilityModeCase: String, Sendable, CustomTestStringConvertible {
    case process, power
    var mode: DurabilityMode { self == .process ? .process : .power }
    var testDescription: String { rawValue }
}
