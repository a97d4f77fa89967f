import HubTestKit
import HubCore
import HubMessaging
import HubStorage
import PropertyBased
import Testing

@Suite("Cloud-to-device queue")
struct CloudToDeviceQueueTests {
    typealias Queue = CloudToDeviceQueue

    static func queue(_ configure: (inout Queue.Configuration) -> Void = { _ in }) -> Queue {
        var configuration = Queue.Configuration()
        configure(&configuration)
        return Queue(configuration: configuration, makeToken: CountingTokens().closure)
    }

    static func message(_ id: String? = nil, ack: DeviceMessage.Ack? = nil, body: String = "hi") -> DeviceMessage {
        DeviceMessage(body: Array(body.utf8), messageID: id, ack: ack)
    }

    // MARK: enqueue

    @Test("enqueue stamps id, to, time and sequence number and clears connection fields")
    func enqueueStamps() throws {
        var q = Self.queue()
        var m = Self.message()
        m.connectionDeviceID = dev("spoof")
        m.to = "/elsewhere"
        m.mqttRetain = true
        let first = try q.enqueue(m, to: dev("d1"), deviceGenerationID: "g1", now: at(0))
        let second = try q.enqueue(Self.message("mine"), to: dev("d1"), now: at(1))
        #expect(first.message.messageID == "t1")
        #expect(second.message.messageID == "mine")
        #expect(first.message.to == "/devices/d1/messages/devicebound")
        #expect(first.message.connectionDeviceID == nil)
        #expect(!first.message.mqttRetain)
        #expect(first.message.enqueuedTime == at(0))
        #expect(first.sequenceNumber == 1 && second.sequenceNumber == 2)
        #expect(first.message.sequenceNumber == 1)
        #expect(first.expiryTime == at(3600), "default time to live is one hour")
        #expect(first.deviceGenerationID == "g1")
        #expect(first.state == .enqueued && first.deliveryCount == 0 && first.lockToken == nil)
        #expect(q.pendingCount(dev("d1")) == 2)
        #expect(q.pendingCount(dev("d2")) == 0)
        let effects = q.takeEffects()
        #expect(effects.changes == [
            .saveMessage(first), .setCounters(.init(nextSequenceNumber: 2, nextFeedbackID: 1)),
            .saveMessage(second), .setCounters(.init(nextSequenceNumber: 3, nextFeedbackID: 1)),
        ])
        #expect(effects.readyDevices == [dev("d1")], "each ready device once")
        let v1 = q.takeEffects()
        #expect(v1.isEmpty)
    }

    @Test("the 51st pending message is refused with 403004; expired ones do not count")
    func queueFull() throws {
        var q = Self.queue()
        for n in 0..<50 { try q.enqueue(Self.message("m\(n)"), to: dev("d"), now: at(Double(n))) }
        expectMessagingError(.queueFull) { try q.enqueue(Self.message(), to: dev("d"), now: at(60)) }
        #expect(MessagingError.Code.queueFull.azureErrorCode == 403004 && MessagingError.Code.queueFull.httpStatus == 403)
        try q.enqueue(Self.message(), to: dev("other"), now: at(60))
        let v2 = q.nextForDelivery(dev("d"), now: at(61))
        let delivery = try #require(v2)
        try q.complete(dev("d"), lockToken: delivery.lockToken, now: at(62))
        try q.enqueue(Self.message(), to: dev("d"), now: at(63))
        expectMessagingError(.queueFull) { try q.enqueue(Self.message(), to: dev("d"), now: at(64)) }
        // One hour after the first enqueues, the oldest have expired and make room.
        try q.enqueue(Self.message(), to: dev("d"), now: at(3601))
    }

    @Test("messages over 64 KiB as Azure counts them are refused with 413")
    func oversized() throws {
        var q = Self.queue()
        try q.enqueue(DeviceMessage(body: Array(repeating: 0, count: 65_536)), to: dev("d"), now: at(0))
        expectMessagingError(.messageTooLarge) {
            try q.enqueue(DeviceMessage(body: Array(repeating: 0, count: 65_537)), to: dev("d"), now: at(0))
        }
        expectMessagingError(.messageTooLarge) {
            try q.enqueue(DeviceMessage(body: Array(repeating: 0, count: 65_530), messageID: "1234567"), to: dev("d"), now: at(0))
        }
        #expect(MessagingError.Code.messageTooLarge.httpStatus == 413)
        #expect(q.pendingCount(dev("d")) == 1)
    }

    @Test("per-message expiry must be 1 minute to 48 hours away", arguments: [
        (59.0, false), (60.0, true), (3600.0, true), (48.0 * 3600, true), (48.0 * 3600 + 1, false), (-10.0, false),
    ])
    func expiryRange(_ seconds: Double, _ accepted: Bool) throws {
        var q = Self.queue()
        var m = Self.message()
        m.absoluteExpiryTime = at(100 + seconds)
        if accepted {
            let v3 = try q.enqueue(m, to: dev("d"), now: at(100))
            #expect(v3.expiryTime == at(100 + seconds))
        } else {
            expectMessagingError(.invalidArgument) { try q.enqueue(m, to: dev("d"), now: at(100)) }
        }
    }

    @Test("properties that could not be delivered are refused", arguments: [
        DeviceMessage(applicationProperties: [.init("$.mid", "x")]), DeviceMessage(applicationProperties: [.init("iothub-ack", "full")]),
        DeviceMessage(applicationProperties: [.init("a/b", "x")]), DeviceMessage(applicationProperties: [.init("a b", "x")]),
        DeviceMessage(applicationProperties: [.init("", "x")]), DeviceMessage(applicationProperties: [.init("k", "line\r\nbreak")]),
        DeviceMessage(correlationID: "tab\there"), DeviceMessage(messageID: String(repeating: "m", count: 129)),
        DeviceMessage(applicationProperties: [.init("$.cdid", "x")]),
    ])
    func invalidProperties(_ message: DeviceMessage) {
        var q = Self.queue()
        expectMessagingError(.invalidArgument) { try q.enqueue(message, to: dev("d"), now: at(0)) }
        let v4 = q.takeEffects()
        #expect(v4.isEmpty)
    }

    @Test("awkward but deliverable properties are accepted")
    func awkwardProperties() throws {
        var q = Self.queue()
        let m = DeviceMessage(
            messageID: String(repeating: "m", count: 128), correlationID: "a/b c?d",
            applicationProperties: [.init("!#$%&'*+-.^_`|~", "/&=%+ $?"), .init("bare", nil), .init("empty", "")])
        try q.enqueue(m, to: dev("d"), now: at(0))
    }

    // MARK: delivery

    @Test("delivery is in sequence order, locks, and skips locked messages")
    func deliveryOrder() throws {
        var q = Self.queue()
        for id in ["a", "b", "c"] { try q.enqueue(Self.message(id), to: dev("d"), now: at(0)) }
        _ = q.takeEffects()
        let v5 = q.nextForDelivery(dev("d"), now: at(1))
        let first = try #require(v5)
        #expect(first.message.messageID == "a")
        #expect(first.lockToken == "t1")
        #expect(first.lockedUntil == at(61))
        #expect(first.deliveryCount == 0)
        #expect(first.sequenceNumber == 1)
        let rest = q.deliver(dev("d"), limit: 5, now: at(2))
        #expect(rest.map(\.message.messageID) == ["b", "c"])
        let v6 = q.nextForDelivery(dev("d"), now: at(3))
        #expect(v6 == nil)
        let v7 = q.nextForDelivery(dev("nobody"), now: at(3))
        #expect(v7 == nil)
        let v8 = q.deliver(dev("d"), limit: 0, now: at(3))
        #expect(v8.isEmpty)
        #expect(q.pendingCount(dev("d")) == 3)
        #expect(q.entries(of: dev("d")).map(\.state) == [.invisible(lockedUntil: at(61)), .invisible(lockedUntil: at(62)), .invisible(lockedUntil: at(62))])
        let effects = q.takeEffects()
        #expect(effects.changes.count == 3, "each lock is saved")
        #expect(effects.readyDevices.isEmpty)
    }

    @Test("complete removes the message; its token is then unknown (404)")
    func complete() throws {
        var q = Self.queue()
        try q.enqueue(Self.message("a"), to: dev("d"), now: at(0))
        let v9 = q.nextForDelivery(dev("d"), now: at(1))
        let delivery = try #require(v9)
        expectMessagingError(.messageNotFound) { try q.complete(dev("d"), lockToken: "nope", now: at(2)) }
        expectMessagingError(.messageNotFound) { try q.complete(dev("other"), lockToken: delivery.lockToken, now: at(2)) }
        _ = q.takeEffects()
        try q.complete(dev("d"), lockToken: delivery.lockToken, now: at(2))
        #expect(q.pendingCount(dev("d")) == 0)
        let v10 = q.takeEffects()
        #expect(v10.changes == [.removeMessage(sequenceNumber: 1)])
        expectMessagingError(.messageNotFound) { try q.complete(dev("d"), lockToken: delivery.lockToken, now: at(3)) }
        #expect(MessagingError.Code.messageNotFound.httpStatus == 404)
    }

    @Test("a lock that runs out returns the message (same delivery count); the old token gets 412002")
    func lockExpiry() throws {
        var q = Self.queue()
        try q.enqueue(Self.message("a"), to: dev("d"), now: at(0))
        let v11 = q.nextForDelivery(dev("d"), now: at(0))
        let first = try #require(v11)
        _ = q.takeEffects()
        let v12 = q.expire(now: at(59.999))
        #expect(v12 == 0)
        let v13 = q.takeEffects()
        #expect(v13.isEmpty, "nothing is due before the lock runs out")
        q.expire(now: at(60))
        let effects = q.takeEffects()
        #expect(effects.readyDevices == [dev("d")], "the delivery loop is told the message is back")
        #expect(q.entries(of: dev("d")).first?.state == .enqueued)
        #expect(effects.changes.count == 1)
        expectMessagingError(.lockLost) { try q.complete(dev("d"), lockToken: first.lockToken, now: at(61)) }
        #expect(MessagingError.Code.lockLost.azureErrorCode == 412002)
        expectMessagingError(.lockLost) { try q.abandon(dev("d"), lockToken: first.lockToken, now: at(61)) }
        expectMessagingError(.lockLost) { try q.reject(dev("d"), lockToken: first.lockToken, now: at(61)) }
        let v14 = q.nextForDelivery(dev("d"), now: at(62))
        let second = try #require(v14)
        #expect(second.message.messageID == "a")
        #expect(second.deliveryCount == 0, "a lock timeout does not count as an abandon")
        #expect(second.lockToken != first.lockToken)
        expectMessagingError(.messageNotFound) { try q.complete(dev("d"), lockToken: first.lockToken, now: at(63)) }
        try q.complete(dev("d"), lockToken: second.lockToken, now: at(63))
    }

    @Test("a lock that ran out is noticed without a sweep")
    func lazyLockExpiry() throws {
        var q = Self.queue()
        try q.enqueue(Self.message("a"), to: dev("d"), now: at(0))
        let v15 = q.nextForDelivery(dev("d"), now: at(0))
        let first = try #require(v15)
        expectMessagingError(.lockLost) { try q.complete(dev("d"), lockToken: first.lockToken, now: at(60)) }
        let v16 = q.nextForDelivery(dev("d"), now: at(60))
        #expect(v16?.message.messageID == "a")
    }

    @Test("abandon re-enqueues with one more delivery; after maxDeliveryCount deliveries it is dead-lettered")
    func abandon() throws {
        var q = Self.queue { $0.maxDeliveryCount = 3 }
        try q.enqueue(Self.message("a", ack: .negative), to: dev("d"), now: at(0))
        try q.enqueue(Self.message("b"), to: dev("d"), now: at(0))
        _ = q.takeEffects()
        for expectedCount in 0..<3 {
            let v17 = q.nextForDelivery(dev("d"), now: at(1))
            let delivery = try #require(v17)
            #expect(delivery.message.messageID == "a", "an abandoned message keeps its place at the front")
            #expect(delivery.deliveryCount == expectedCount)
            try q.abandon(dev("d"), lockToken: delivery.lockToken, now: at(2))
            let effects = q.takeEffects()
            #expect(effects.readyDevices == (expectedCount < 2 ? [dev("d")] : []))
            // The lock is gone: lock lost while the message waits again, not found once it is dead-lettered.
            expectMessagingError(expectedCount < 2 ? .lockLost : .messageNotFound) {
                try q.abandon(dev("d"), lockToken: delivery.lockToken, now: at(2))
            }
        }
        #expect(q.entries(of: dev("d")).map(\.message.messageID) == ["b"])
        let v18 = q.receiveFeedback(now: at(3))
        let feedback = try #require(v18)
        #expect(feedback.records.map(\.status) == [.deliveryCountExceeded])
        #expect(feedback.records.first?.originalMessageID == "a")
    }

    @Test("maxDeliveryCount is clamped to 1…100")
    func deliveryCountClamp() {
        #expect(Self.queue { $0.maxDeliveryCount = 0 }.configuration.maxDeliveryCount == 1)
        #expect(Self.queue { $0.maxDeliveryCount = 1000 }.configuration.maxDeliveryCount == 100)
        #expect(Self.queue { $0.defaultTimeToLive = .seconds(1) }.configuration.defaultTimeToLive == .seconds(60))
        #expect(Self.queue { $0.feedbackLockTimeout = .seconds(1000) }.configuration.feedbackLockTimeout == .seconds(300))
    }

    @Test("reject dead-letters the message")
    func reject() throws {
        var q = Self.queue()
        try q.enqueue(Self.message("a", ack: .full), to: dev("d"), now: at(0))
        let v19 = q.nextForDelivery(dev("d"), now: at(1))
        let delivery = try #require(v19)
        try q.reject(dev("d"), lockToken: delivery.lockToken, now: at(2))
        #expect(q.pendingCount(dev("d")) == 0)
        let v20 = q.receiveFeedback(now: at(3))
        #expect(v20?.records.map(\.status) == [.rejected])
    }

    @Test("time to live: enqueued messages expire; a locked one waits for its lock")
    func timeToLive() throws {
        var q = Self.queue()
        var short = Self.message("short", ack: .negative)
        short.absoluteExpiryTime = at(120)
        try q.enqueue(short, to: dev("d"), now: at(0))
        try q.enqueue(Self.message("default", ack: .full), to: dev("d"), now: at(0))
        try q.enqueue(Self.message("locked", ack: .full), to: dev("e"), now: at(0))
        let v21 = q.nextForDelivery(dev("e"), now: at(3599))
        let locked = try #require(v21)
        _ = q.takeEffects()
        let v22 = q.expire(now: at(119))
        #expect(v22 == 0)
        let v23 = q.expire(now: at(120))
        #expect(v23 == 1)
        #expect(q.entries(of: dev("d")).map(\.message.messageID) == ["default"])
        let v24 = q.takeEffects()
        #expect(v24.changes.contains(.removeMessage(sequenceNumber: 1)))
        let v25 = q.expire(now: at(3600))
        #expect(v25 == 1)
        #expect(q.pendingCount(dev("d")) == 0)
        #expect(q.pendingCount(dev("e")) == 1, "locked until 3659")
        try q.complete(dev("e"), lockToken: locked.lockToken, now: at(3650))
        let v26 = q.receiveFeedback(now: at(3700))
        let records = try #require(v26).records
        #expect(records.map(\.status) == [.expired, .expired, .success])
        #expect(records.map(\.originalMessageID) == ["short", "default", "locked"])
        #expect(records.map(\.enqueuedTime) == [at(120), at(3600), at(3650)])
    }

    @Test("a locked message past its time to live expires when the lock runs out")
    func expiryAfterLock() throws {
        var q = Self.queue()
        try q.enqueue(Self.message("a"), to: dev("d"), now: at(0))
        let v27 = q.nextForDelivery(dev("d"), now: at(3590))
        let delivery = try #require(v27)
        _ = q.takeEffects()
        let v28 = q.expire(now: at(3600))
        #expect(v28 == 0)
        let v29 = q.expire(now: at(3650))
        #expect(v29 == 1)
        #expect(q.pendingCount(dev("d")) == 0)
        expectMessagingError(.messageNotFound) { try q.complete(dev("d"), lockToken: delivery.lockToken, now: at(3651)) }
        let v30 = q.takeEffects()
        #expect(v30.readyDevices.isEmpty, "nothing came back to deliver")
    }

    @Test("expired messages are never delivered, even before a sweep")
    func noDeliveryAfterExpiry() throws {
        var q = Self.queue()
        try q.enqueue(Self.message("a"), to: dev("d"), now: at(0))
        let v31 = q.nextForDelivery(dev("d"), now: at(3600))
        #expect(v31 == nil)
        #expect(q.pendingCount(dev("d")) == 0)
    }

    @Test("purge removes every message, locked ones too, and returns the count")
    func purge() throws {
        var q = Self.queue()
        try q.enqueue(Self.message("a", ack: .negative), to: dev("d"), now: at(0))
        try q.enqueue(Self.message("b", ack: .positive), to: dev("d"), now: at(0))
        try q.enqueue(Self.message("c"), to: dev("other"), now: at(0))
        let v32 = q.nextForDelivery(dev("d"), now: at(1))
        let delivery = try #require(v32)
        _ = q.takeEffects()
        let v33 = q.purge(dev("d"), now: at(2))
        #expect(v33 == 2)
        let v34 = q.purge(dev("d"), now: at(2))
        #expect(v34 == 0)
        #expect(q.pendingCount(dev("d")) == 0)
        #expect(q.pendingCount(dev("other")) == 1)
        let changes = q.takeEffects().changes
        #expect(changes.filter { if case .removeMessage = $0 { true } else { false } }.count == 2)
        expectMessagingError(.messageNotFound) { try q.complete(dev("d"), lockToken: delivery.lockToken, now: at(3)) }
        let v35 = q.receiveFeedback(now: at(3))
        #expect(v35?.records.map(\.status) == [.purged])
    }

    // MARK: feedback

    enum Outcome: String, CaseIterable, Sendable {
        case complete, reject, expire, deliveryCountExceeded, purge
    }

    static let feedbackCases: [(DeviceMessage.Ack?, Outcome, CloudToDeviceFeedback.Status?)] = {
        var cases: [(DeviceMessage.Ack?, Outcome, CloudToDeviceFeedback.Status?)] = []
        let negative: [Outcome: CloudToDeviceFeedback.Status] = [
            .reject: .rejected, .expire: .expired, .deliveryCountExceeded: .deliveryCountExceeded, .purge: .purged,
        ]
        for ack in [nil, .noFeedback, .positive, .negative, .full] as [DeviceMessage.Ack?] {
            for outcome in Outcome.allCases {
                let wantsPositive = ack == .positive || ack == .full
                let wantsNegative = ack == .negative || ack == .full
                let status: CloudToDeviceFeedback.Status? =
                    outcome == .complete ? (wantsPositive ? .success : nil) : (wantsNegative ? negative[outcome] : nil)
                cases.append((ack, outcome, status))
            }
        }
        return cases
    }()

    @Test("feedback follows iothub-ack", arguments: feedbackCases)
    func feedbackPerAck(_ ack: DeviceMessage.Ack?, _ outcome: Outcome, _ expected: CloudToDeviceFeedback.Status?) throws {
        var q = Self.queue { $0.maxDeliveryCount = 1 }
        try q.enqueue(Self.message("m", ack: ack), to: dev("d"), deviceGenerationID: "gen-7", now: at(0))
        let v36 = q.nextForDelivery(dev("d"), now: at(1))
        let delivery = try #require(v36)
        switch outcome {
        case .complete: try q.complete(dev("d"), lockToken: delivery.lockToken, now: at(2))
        case .reject: try q.reject(dev("d"), lockToken: delivery.lockToken, now: at(2))
        case .expire: q.expire(now: at(7200))
        case .deliveryCountExceeded: try q.abandon(dev("d"), lockToken: delivery.lockToken, now: at(2))
        case .purge: q.purge(dev("d"), now: at(2))
        }
        #expect(q.pendingCount(dev("d")) == 0)
        let batch = q.receiveFeedback(now: at(7201))
        #expect(batch?.records.map(\.status) == expected.map { [$0] })
        if let record = batch?.records.first {
            #expect(record.originalMessageID == "m")
            #expect(record.device == dev("d"))
            #expect(record.deviceGenerationID == "gen-7")
            #expect(record.description == record.status.defaultDescription)
        }
    }

    @Test("feedback batches: receive locks up to the batch size; complete deletes, abandon returns")
    func feedbackBatches() throws {
        var q = Self.queue { $0.maxFeedbackBatchSize = 2 }
        for n in 0..<3 {
            try q.enqueue(Self.message("m\(n)", ack: .positive), to: dev("d"), now: at(0))
            let v37 = q.nextForDelivery(dev("d"), now: at(0))
            let delivery = try #require(v37)
            try q.complete(dev("d"), lockToken: delivery.lockToken, now: at(Double(n)))
        }
        #expect(q.feedbackCount == 3)
        _ = q.takeEffects()
        let v38 = q.receiveFeedback(now: at(10))
        let first = try #require(v38)
        #expect(first.records.map(\.originalMessageID) == ["m0", "m1"])
        #expect(first.lockedUntil == at(70))
        let v39 = q.receiveFeedback(now: at(10))
        let second = try #require(v39)
        #expect(second.records.map(\.originalMessageID) == ["m2"])
        let v40 = q.receiveFeedback(now: at(10))
        #expect(v40 == nil, "everything is locked")
        let v41 = q.takeEffects()
        #expect(v41.isEmpty, "feedback locks are not persisted")
        try q.abandonFeedback(lockToken: second.lockToken, now: at(11))
        try q.completeFeedback(lockToken: first.lockToken, now: at(11))
        let v42 = q.takeEffects()
        #expect(v42.changes == [.removeFeedback(id: first.records[0].id), .removeFeedback(id: first.records[1].id)])
        expectMessagingError(.messageNotFound) { try q.completeFeedback(lockToken: first.lockToken, now: at(12)) }
        expectMessagingError(.messageNotFound) { try q.abandonFeedback(lockToken: "unknown", now: at(12)) }
        let v43 = q.receiveFeedback(now: at(12), limit: 5)
        let again = try #require(v43)
        #expect(again.records.map(\.originalMessageID) == ["m2"])
        #expect(q.feedbackCount == 1)
    }

    @Test("a feedback lock that runs out: 412002, and the records come back")
    func feedbackLockExpiry() throws {
        var q = Self.queue()
        try q.enqueue(Self.message("m", ack: .positive), to: dev("d"), now: at(0))
        let v44 = q.nextForDelivery(dev("d"), now: at(0))
        try q.complete(dev("d"), lockToken: try #require(v44).lockToken, now: at(0))
        let v45 = q.receiveFeedback(now: at(0))
        let batch = try #require(v45)
        let v46 = q.receiveFeedback(now: at(59))
        #expect(v46 == nil)
        q.expire(now: at(60))
        expectMessagingError(.lockLost) { try q.completeFeedback(lockToken: batch.lockToken, now: at(61)) }
        let v47 = q.receiveFeedback(now: at(61))
        let again = try #require(v47)
        #expect(again.records == batch.records)
        // Long after, the old token is forgotten.
        q.expire(now: at(1000))
        expectMessagingError(.messageNotFound) { try q.completeFeedback(lockToken: batch.lockToken, now: at(1000)) }
    }

    @Test("feedback is dropped after its time to live and beyond the maximum count")
    func feedbackBounds() throws {
        var q = Self.queue { $0.maxFeedbackCount = 2 }
        for n in 0..<3 {
            try q.enqueue(Self.message("m\(n)", ack: .positive), to: dev("d"), now: at(Double(n)))
            let v48 = q.nextForDelivery(dev("d"), now: at(Double(n)))
            let delivery = try #require(v48)
            try q.complete(dev("d"), lockToken: delivery.lockToken, now: at(Double(n)))
        }
        #expect(q.feedbackCount == 2)
        let changes = q.takeEffects().changes
        #expect(changes.contains(.removeFeedback(id: 1)))
        q.expire(now: at(2 * 86_400 + 0.5))
        #expect(q.feedbackCount == 2)
        q.expire(now: at(2 * 86_400 + 1))
        #expect(q.feedbackCount == 1)
        let v49 = q.receiveFeedback(now: at(2 * 86_400 + 1))
        #expect(v49?.records.map(\.originalMessageID) == ["m2"])
        q.expire(now: at(2 * 86_400 + 2))
        #expect(q.feedbackCount == 0, "even a locked record goes when its time is up")
    }

    // MARK: persistence

    @Test("a queue restored from its store: locks are dropped, counters continue, tokens get 412002")
    func restore() async throws {
        let store = InMemoryCloudToDeviceStore()
        var q = Self.queue()
        try q.enqueue(Self.message("a", ack: .full), to: dev("d"), now: at(0))
        try q.enqueue(Self.message("b", ack: .full), to: dev("d"), now: at(0))
        let v50 = q.nextForDelivery(dev("d"), now: at(1))
        let delivery = try #require(v50)
        try q.enqueue(Self.message("c", ack: .positive), to: dev("e"), now: at(0))
        let v51 = q.nextForDelivery(dev("e"), now: at(1))
        try q.complete(dev("e"), lockToken: try #require(v51).lockToken, now: at(2))
        try await store.apply(q.takeEffects().changes)

        var restored = Queue(snapshot: try await store.load(), makeToken: CountingTokens().closure)
        #expect(restored.entries(of: dev("d")).map(\.state) == [.enqueued, .enqueued])
        #expect(restored.entries(of: dev("d")).map(\.message.messageID) == ["a", "b"])
        #expect(restored.feedbackCount == 1)
        #expect(Set(restored.devicesWithMessages) == [dev("d")])
        expectMessagingError(.lockLost) { try restored.complete(dev("d"), lockToken: delivery.lockToken, now: at(3)) }
        let v52 = try restored.enqueue(Self.message(), to: dev("d"), now: at(3))
        #expect(v52.sequenceNumber == 4)
        let v53 = restored.nextForDelivery(dev("d"), now: at(4))
        try restored.complete(dev("d"), lockToken: try #require(v53).lockToken, now: at(4))
        let v54 = restored.receiveFeedback(now: at(5))
        let records = try #require(v54).records
        #expect(records.map(\.id) == [1, 2])
        #expect(records.map(\.status) == [.success, .success])
    }

    /// Random operations; after each, the store fed with the effects holds exactly the queue's state.
    @Test("effects keep a store identical to the queue under random operations")
    func effectsMirrorState() async {
        let input = Dice.generator { dice in (0..<60).map { _ in (dice.int(0...9), dice.int(0...2), dice.int(0...400)) } }
        await propertyCheck(count: 150, input: input) { steps in
            let store = InMemoryCloudToDeviceStore()
            var q = Self.queue { $0.maxQueueDepth = 4; $0.maxDeliveryCount = 2; $0.maxFeedbackCount = 5; $0.maxFeedbackBatchSize = 2 }
            let devices = [dev("a"), dev("b"), dev("c")]
            var now = at(0)
            var tokens: [(DeviceID, String)] = []
            var feedbackTokens: [String] = []
            for (operation, deviceIndex, advance) in steps {
                now = Timestamp(rawValue: now.rawValue + Int64(advance) * 100)
                let device = devices[deviceIndex]
                switch operation {
                case 0, 1:
                    _ = try? q.enqueue(Self.message(ack: [.full, .positive, .negative, nil][advance % 4]), to: device, now: now)
                case 2:
                    tokens += q.deliver(device, limit: 1 + advance % 2, now: now).map { (device, $0.lockToken) }
                case 3, 4, 5:
                    if !tokens.isEmpty {
                        let (d, token) = tokens[advance % tokens.count]
                        switch operation {
                        case 3: try? q.complete(d, lockToken: token, now: now)
                        case 4: try? q.abandon(d, lockToken: token, now: now)
                        default: try? q.reject(d, lockToken: token, now: now)
                        }
                    }
                case 6:
                    now = Timestamp(rawValue: now.rawValue + Int64(advance) * 20_000)
                    q.expire(now: now)
                case 7: q.purge(device, now: now)
                case 8: if let batch = q.receiveFeedback(now: now) { feedbackTokens.append(batch.lockToken) }
                default:
                    if !feedbackTokens.isEmpty {
                        let token = feedbackTokens[advance % feedbackTokens.count]
                        if advance % 2 == 0 { try? q.completeFeedback(lockToken: token, now: now) } else { try? q.abandonFeedback(lockToken: token, now: now) }
                    }
                }
                try await store.apply(q.takeEffects().changes)
                let snapshot = try await store.load()
                let expected = devices.flatMap { q.entries(of: $0) }.sorted { $0.sequenceNumber < $1.sequenceNumber }
                #expect(snapshot.messages == expected)
                #expect(snapshot.feedback.count == q.feedbackCount)
                #expect(devices.allSatisfy { q.pendingCount($0) <= 4 })
            }
        }
    }
}
