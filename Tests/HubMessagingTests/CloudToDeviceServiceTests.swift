import HubCore
import HubMessaging
import HubStorage
import HubStorageSQLite
import HubTestKit
import Synchronization
import Testing

@Suite("Cloud-to-device service")
struct CloudToDeviceServiceTests {
    /// Collects the devices the ready handler was told about.
    final class ReadyLog: Sendable {
        private let devices = Mutex<[DeviceID]>([])
        var all: [DeviceID] { devices.withLock { $0 } }
        func take() -> [DeviceID] { devices.withLock { d in defer { d = [] }; return d } }
        var handler: CloudToDeviceService.ReadyHandler { { device in self.devices.withLock { $0.append(device) } } }
    }

    /// An in-memory store whose next `apply` (or `load`) can be made to fail.
    final class FlakyStore: CloudToDeviceStore {
        let inner = InMemoryCloudToDeviceStore()
        let failApplies = Mutex(0)
        let failLoads = Mutex(0)

        func load() async throws(StorageError) -> CloudToDeviceSnapshot {
            if failLoads.withLock({ n in defer { n = max(0, n - 1) }; return n > 0 }) {
                throw StorageError(.unavailable, "test: load failed")
            }
            return try await inner.load()
        }

        func apply(_ changes: [CloudToDeviceChange]) async throws(StorageError) {
            if failApplies.withLock({ n in defer { n = max(0, n - 1) }; return n > 0 }) {
                throw StorageError(.diskFull, "test: apply failed")
            }
            try await inner.apply(changes)
        }
    }

    static func message(_ id: String, ack: DeviceMessage.Ack? = nil) -> DeviceMessage {
        DeviceMessage(body: Array(id.utf8), messageID: id, ack: ack)
    }

    @Test("enqueue, deliver and complete; ready handlers hear about enqueues and returned locks")
    func lifecycle() async throws {
        let clock = TestClock()
        let service = try await CloudToDeviceService(store: InMemoryCloudToDeviceStore(), clock: clock.closure)
        let log = ReadyLog()
        let other = ReadyLog()
        service.addReadyHandler(log.handler)
        let otherID = service.addReadyHandler(other.handler)
        service.removeReadyHandler(otherID)

        let entry = try await service.enqueue(Self.message("a"), to: dev("d1"), deviceGenerationID: "g")
        try await service.enqueue(Self.message("b"), to: dev("d1"))
        #expect(entry.sequenceNumber == 1)
        #expect(entry.enqueuedTime == clock.now)
        #expect(log.take() == [dev("d1"), dev("d1")])
        #expect(await service.pendingCount(dev("d1")) == 2)
        #expect(await service.devicesWithMessages() == [dev("d1")])

        let deliveries = try await service.deliver(dev("d1"), limit: 5)
        #expect(deliveries.map(\.message.messageID) == ["a", "b"])
        #expect(deliveries.map(\.lockedUntil) == [at(60), at(60)])
        try await service.complete(dev("d1"), lockToken: deliveries[0].lockToken)

        clock.advance(seconds: 30)
        #expect(try await service.expire() == 0)
        #expect(log.take().isEmpty)
        clock.advance(seconds: 30)
        try await service.expire()
        #expect(log.take() == [dev("d1")], "the lock ran out; the delivery loop is told")
        await expectMessagingError(.lockLost) { try await service.complete(dev("d1"), lockToken: deliveries[1].lockToken) }
        let again = try #require(try await service.nextForDelivery(dev("d1")))
        #expect(again.message.messageID == "b")
        try await service.abandon(dev("d1"), lockToken: again.lockToken)
        #expect(log.take() == [dev("d1")])
        let third = try #require(try await service.nextForDelivery(dev("d1")))
        #expect(third.deliveryCount == 1)
        try await service.reject(dev("d1"), lockToken: third.lockToken)
        #expect(await service.pendingCount(dev("d1")) == 0)
        #expect(try await service.nextForDelivery(dev("d1")) == nil)
        #expect(other.all.isEmpty)
    }

    @Test("queue errors pass through with their Azure codes; purge counts")
    func errors() async throws {
        var configuration = CloudToDeviceService.Configuration()
        configuration.queue.maxQueueDepth = 2
        let service = try await CloudToDeviceService(store: InMemoryCloudToDeviceStore(), configuration: configuration, clock: TestClock().closure)
        try await service.enqueue(Self.message("a"), to: dev("d"))
        try await service.enqueue(Self.message("b"), to: dev("d"))
        await expectMessagingError(.queueFull) { try await service.enqueue(Self.message("c"), to: dev("d")) }
        await expectMessagingError(.messageTooLarge) {
            try await service.enqueue(DeviceMessage(body: Array(repeating: 0, count: 70_000)), to: dev("e"))
        }
        await expectMessagingError(.messageNotFound) { try await service.complete(dev("d"), lockToken: "nope") }
        #expect(try await service.purge(dev("d")) == 2)
        #expect(await service.pendingCount(dev("d")) == 0)
    }

    @Test("feedback through the service: receive, abandon, complete")
    func feedback() async throws {
        let clock = TestClock()
        let service = try await CloudToDeviceService(store: InMemoryCloudToDeviceStore(), clock: clock.closure)
        try await service.enqueue(Self.message("a", ack: .positive), to: dev("d"), deviceGenerationID: "gen")
        let delivery = try #require(try await service.nextForDelivery(dev("d")))
        try await service.complete(dev("d"), lockToken: delivery.lockToken)
        let batch = try #require(try await service.receiveFeedback())
        #expect(batch.records.map(\.status) == [.success])
        #expect(batch.records.first?.deviceGenerationID == "gen")
        #expect(try await service.receiveFeedback() == nil)
        try await service.abandonFeedback(lockToken: batch.lockToken)
        let again = try #require(try await service.receiveFeedback(limit: 10))
        try await service.completeFeedback(lockToken: again.lockToken)
        #expect(try await service.receiveFeedback() == nil)
        await expectMessagingError(.messageNotFound) { try await service.completeFeedback(lockToken: again.lockToken) }
    }

    @Test("a new service on the same SQLite file sees everything pending; locks are released, sequence numbers continue")
    func restart() async throws {
        let fixture = try SQLiteCloudToDeviceStoreFixture()
        defer { fixture.directory.remove() }
        let clock = TestClock()
        var firstLock = ""
        do {
            let database = try fixture.openDatabase()
            let service = try await CloudToDeviceService(store: SQLiteCloudToDeviceStore(database: database), clock: clock.closure)
            try await service.enqueue(Self.message("a", ack: .full), to: dev("d1"), deviceGenerationID: "g1")
            try await service.enqueue(Self.message("b"), to: dev("d1"))
            try await service.enqueue(Self.message("c", ack: .positive), to: dev("d2"))
            firstLock = try #require(try await service.nextForDelivery(dev("d1"))).lockToken
            let c = try #require(try await service.nextForDelivery(dev("d2")))
            try await service.complete(dev("d2"), lockToken: c.lockToken)
            try database.close()
        }
        clock.advance(seconds: 5)
        let database = try fixture.openDatabase()
        defer { try? database.close() }
        let service = try await CloudToDeviceService(store: SQLiteCloudToDeviceStore(database: database), clock: clock.closure)
        #expect(await service.pendingCount(dev("d1")) == 2)
        #expect(await service.pendingCount(dev("d2")) == 0)
        await expectMessagingError(.lockLost) { try await service.complete(dev("d1"), lockToken: firstLock) }
        let deliveries = try await service.deliver(dev("d1"), limit: 10)
        #expect(deliveries.map(\.message.messageID) == ["a", "b"], "the message locked before the restart is delivered again, first")
        #expect(deliveries.map(\.message.body) == [Array("a".utf8), Array("b".utf8)])
        #expect(deliveries[0].message.ack == .full)
        #expect(deliveries[0].enqueuedTime == at(0))
        #expect(try await service.enqueue(Self.message("d"), to: dev("d1")).sequenceNumber == 4)
        let feedback = try #require(try await service.receiveFeedback())
        #expect(feedback.records.map(\.originalMessageID) == ["c"])
        try await service.reject(dev("d1"), lockToken: deliveries[0].lockToken)
        try await service.completeFeedback(lockToken: feedback.lockToken)
        let rejected = try #require(try await service.receiveFeedback())
        #expect(rejected.records.map(\.status) == [.rejected])
        #expect(rejected.records.map(\.id) == [2])
        #expect(rejected.records.first?.deviceGenerationID == "g1")
    }

    @Test("a store failure fails the operation and the state falls back to what was stored")
    func storeFailure() async throws {
        let store = FlakyStore()
        let service = try await CloudToDeviceService(store: store, clock: TestClock().closure)
        let log = ReadyLog()
        service.addReadyHandler(log.handler)
        try await service.enqueue(Self.message("kept"), to: dev("d"))
        let lock = try #require(try await service.nextForDelivery(dev("d"))).lockToken
        _ = log.take()

        store.failApplies.withLock { $0 = 1 }
        let error = await #expect(throws: MessagingError.self) { try await service.enqueue(Self.message("lost"), to: dev("d")) }
        #expect(error?.code == .storage)
        #expect(error?.storageCode == .diskFull)
        #expect(error?.code.httpStatus == 503)
        #expect(await service.pendingCount(dev("d")) == 1, "the failed enqueue did not happen")
        #expect(log.take() == [dev("d")], "after the reload the stored message is ready again")
        await expectMessagingError(.lockLost) { try await service.complete(dev("d"), lockToken: lock) }

        // Reload failing too: the next operation reloads first.
        store.failApplies.withLock { $0 = 1 }
        store.failLoads.withLock { $0 = 1 }
        await expectMessagingError(.storage) { try await service.enqueue(Self.message("lost too"), to: dev("d")) }
        #expect(await service.pendingCount(dev("d")) == 0, "nothing is known until the store answers")
        let delivery = try #require(try await service.nextForDelivery(dev("d")))
        #expect(delivery.message.messageID == "kept")
        let stored = try await store.inner.load().messages
        #expect(stored.map(\.message.messageID) == ["kept"])
    }

    @Test("concurrent operations are serialized: unique sequence numbers, store equals state")
    func concurrency() async throws {
        let store = InMemoryCloudToDeviceStore()
        var configuration = CloudToDeviceService.Configuration()
        configuration.queue.maxQueueDepth = 100
        let service = try await CloudToDeviceService(store: store, configuration: configuration, clock: TestClock().closure)
        let sequenceNumbers = try await withThrowingTaskGroup(of: Int64.self) { group in
            for n in 0..<40 {
                group.addTask {
                    let entry = try await service.enqueue(Self.message("m\(n)"), to: dev("d\(n % 4)"))
                    if n % 3 == 0, let delivery = try await service.nextForDelivery(dev("d\(n % 4)")) {
                        try await service.complete(dev("d\(n % 4)"), lockToken: delivery.lockToken)
                    }
                    return entry.sequenceNumber
                }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(Set(sequenceNumbers).count == 40)
        let snapshot = try await store.load()
        var total = 0
        for n in 0..<4 { total += await service.pendingCount(dev("d\(n)")) }
        #expect(snapshot.messages.count == total)
        #expect(snapshot.counters.nextSequenceNumber == 41)
    }

    @Test("run() sweeps until cancelled")
    func sweeper() async throws {
        let clock = TestClock()
        var configuration = CloudToDeviceService.Configuration()
        configuration.sweepInterval = .milliseconds(5)
        let service = try await CloudToDeviceService(store: InMemoryCloudToDeviceStore(), configuration: configuration, clock: clock.closure)
        let log = ReadyLog()
        service.addReadyHandler(log.handler)
        try await service.enqueue(Self.message("a"), to: dev("d"))
        _ = try await service.nextForDelivery(dev("d"))
        _ = log.take()
        let task = Task { await service.run() }
        clock.advance(seconds: 61)
        for _ in 0..<2000 where log.all.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        #expect(log.all == [dev("d")])
        task.cancel()
        await task.value
    }
}
