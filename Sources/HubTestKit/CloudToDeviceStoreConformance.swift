import HubCore
import HubStorage
import Testing

/// A cloud-to-device storage backend prepared for `CloudToDeviceStoreConformance`.
///
/// `open()` gives an empty store the first time; after `close` of the previous one it opens the *same*
/// data again (the restart check). Backends that keep nothing across a close (in-memory) return the
/// same instance each time.
public protocol CloudToDeviceStoreFixture: Sendable {
    /// A short name for test output (`in-memory`, `sqlite`).
    var name: String { get }
    func open() async throws -> OpenedCloudToDeviceStore
    /// Closes whatever is still open and removes whatever the fixture created.
    func tearDown() async throws
}

/// A store and how to close its backend.
public struct OpenedCloudToDeviceStore: Sendable {
    public var store: any CloudToDeviceStore
    public var close: @Sendable () async throws -> Void

    public init(store: any CloudToDeviceStore, close: @escaping @Sendable () async throws -> Void = {}) {
        self.store = store
        self.close = close
    }
}

/// The in-memory backend: the reference the others must match.
public struct InMemoryCloudToDeviceStoreFixture: CloudToDeviceStoreFixture {
    public let name = "in-memory"
    private let store = InMemoryCloudToDeviceStore()

    public init() {}
    public func open() async throws -> OpenedCloudToDeviceStore { OpenedCloudToDeviceStore(store: store) }
    public func tearDown() async throws {}
}

/// The one test suite every `CloudToDeviceStore` backend must pass.
public enum CloudToDeviceStoreConformance {
    public enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case emptyStore
        case everyFieldRoundTrips
        case orderedBySequenceAndID
        case saveReplaces
        case removeIsIdempotent
        case changesApplyInOrder
        case countersPersist
        case awkwardStringsStayExact
        case manyChangesInOneBatch
        case survivesReopen

        public var testDescription: String { rawValue }
    }

    public static func run(_ check: Check, on fixture: some CloudToDeviceStoreFixture) async throws {
        let opened = try await fixture.open()
        do {
            try await run(check, opened, fixture)
        } catch {
            try? await fixture.tearDown()
            throw error
        }
        try await fixture.tearDown()
    }

    // MARK: samples

    /// A message with every property set, awkward values included.
    public static func fullMessage(_ n: Int) -> DeviceMessage {
        DeviceMessage(
            body: Array("body \(n) \u{0}\u{FF}".utf8) + [0, 0xFF], messageID: "m-\(n)", correlationID: "c/\(n)&=%", userID: "",
            contentType: "application/json", contentEncoding: "utf-8", absoluteExpiryTime: Timestamp(rawValue: -5),
            to: "/devices/d\(n)/messages/devicebound", outputName: "out", interfaceID: "urn:x", component: "thermostat1",
            creationTimeUTC: "2024-03-14T09:54:49Z", ack: .full,
            applicationProperties: [.init("b", "2"), .init("a", nil), .init("a", ""), .init("nul", "x\u{0}y")],
            connectionDeviceID: DeviceID(rawValue: "conn"), connectionModuleID: ModuleID(rawValue: "mod"), connectionAuthMethod: .x509,
            connectionAuthGenerationID: "gen", enqueuedTime: Timestamp(rawValue: 1_000), messageSource: .telemetry,
            sequenceNumber: Int64(n), mqttRetain: true)
    }

    public static func entry(
        _ sequenceNumber: Int64, device: String = "dev1", message: DeviceMessage? = nil, state: CloudToDeviceEntry.State = .enqueued
    ) -> CloudToDeviceEntry {
        CloudToDeviceEntry(
            device: DeviceID(rawValue: device)!, sequenceNumber: sequenceNumber,
            message: message ?? DeviceMessage(body: Array("m\(sequenceNumber)".utf8), messageID: "m\(sequenceNumber)"),
            enqueuedTime: Timestamp(rawValue: 1_000 + sequenceNumber), expiryTime: Timestamp(rawValue: 3_601_000 + sequenceNumber),
            deviceGenerationID: sequenceNumber % 2 == 0 ? "g\(sequenceNumber)" : nil, deliveryCount: Int(sequenceNumber % 3), state: state,
            lockToken: state == .enqueued ? nil : "lock-\(sequenceNumber)")
    }

    public static func feedback(_ id: Int64, status: CloudToDeviceFeedback.Status = .success) -> CloudToDeviceFeedback {
        CloudToDeviceFeedback(
            id: id, originalMessageID: "m\(id)", device: DeviceID(rawValue: "dev\(id % 3)")!, status: status,
            enqueuedTime: Timestamp(rawValue: 2_000 + id), deviceGenerationID: id % 2 == 0 ? "g\(id)" : nil)
    }

    // MARK: checks

    private static func run(_ check: Check, _ opened: OpenedCloudToDeviceStore, _ fixture: some CloudToDeviceStoreFixture) async throws {
        let store = opened.store
        switch check {
        case .emptyStore:
            #expect(try await store.load() == CloudToDeviceSnapshot())
            try await store.apply([])
            #expect(try await store.load() == CloudToDeviceSnapshot())

        case .everyFieldRoundTrips:
            let entries = [
                entry(1, message: fullMessage(1), state: .invisible(lockedUntil: Timestamp(rawValue: 61_000))),
                entry(2, message: DeviceMessage()), entry(3, message: DeviceMessage(body: Array(repeating: 0xAB, count: 65_536))),
            ]
            let records = CloudToDeviceFeedback.Status.allCases.enumerated().map { feedback(Int64($0.offset + 1), status: $0.element) }
            try await store.apply(entries.map { .saveMessage($0) } + records.map { .saveFeedback($0) })
            let loaded = try await store.load()
            #expect(loaded.messages == entries)
            #expect(loaded.feedback == records)
            #expect(loaded.messages.first?.message.body == fullMessage(1).body)

        case .orderedBySequenceAndID:
            try await store.apply([.saveMessage(entry(30, device: "b")), .saveMessage(entry(2, device: "a")), .saveMessage(entry(11, device: "b"))])
            try await store.apply([.saveFeedback(feedback(9)), .saveFeedback(feedback(1)), .saveFeedback(feedback(5))])
            let loaded = try await store.load()
            #expect(loaded.messages.map(\.sequenceNumber) == [2, 11, 30])
            #expect(loaded.feedback.map(\.id) == [1, 5, 9])

        case .saveReplaces:
            try await store.apply([.saveMessage(entry(1)), .saveFeedback(feedback(1))])
            var locked = entry(1, state: .invisible(lockedUntil: Timestamp(rawValue: 9_000)))
            locked.deliveryCount = 4
            var changedFeedback = feedback(1, status: .rejected)
            changedFeedback.description = "changed"
            try await store.apply([.saveMessage(locked), .saveFeedback(changedFeedback)])
            #expect(try await store.load().messages == [locked])
            #expect(try await store.load().feedback == [changedFeedback])
            var back = locked
            back.state = .enqueued
            try await store.apply([.saveMessage(back)])
            #expect(try await store.load().messages == [back], "the lock token stays when the lock goes")

        case .removeIsIdempotent:
            try await store.apply([.saveMessage(entry(1)), .saveMessage(entry(2)), .saveFeedback(feedback(1))])
            try await store.apply([.removeMessage(sequenceNumber: 99), .removeFeedback(id: 99)])
            #expect(try await store.load().messages.count == 2)
            try await store.apply([.removeMessage(sequenceNumber: 1), .removeMessage(sequenceNumber: 1), .removeFeedback(id: 1)])
            let loaded = try await store.load()
            #expect(loaded.messages == [entry(2)])
            #expect(loaded.feedback.isEmpty)

        case .changesApplyInOrder:
            try await store.apply([
                .saveMessage(entry(1)), .removeMessage(sequenceNumber: 1),
                .removeMessage(sequenceNumber: 2), .saveMessage(entry(2)),
                .saveMessage(entry(3)), .saveMessage(entry(3, state: .invisible(lockedUntil: Timestamp(rawValue: 5)))),
                .saveFeedback(feedback(1)), .removeFeedback(id: 1), .saveFeedback(feedback(2)),
                .setCounters(CloudToDeviceCounters(nextSequenceNumber: 10, nextFeedbackID: 3)),
                .setCounters(CloudToDeviceCounters(nextSequenceNumber: 11, nextFeedbackID: 4)),
            ])
            let loaded = try await store.load()
            #expect(loaded.messages == [entry(2), entry(3, state: .invisible(lockedUntil: Timestamp(rawValue: 5)))])
            #expect(loaded.feedback == [feedback(2)])
            #expect(loaded.counters == CloudToDeviceCounters(nextSequenceNumber: 11, nextFeedbackID: 4))

        case .countersPersist:
            #expect(try await store.load().counters == CloudToDeviceCounters(nextSequenceNumber: 1, nextFeedbackID: 1))
            try await store.apply([.setCounters(CloudToDeviceCounters(nextSequenceNumber: 42, nextFeedbackID: 7))])
            try await store.apply([.saveMessage(entry(1)), .removeMessage(sequenceNumber: 1)])
            #expect(try await store.load().counters == CloudToDeviceCounters(nextSequenceNumber: 42, nextFeedbackID: 7))

        case .awkwardStringsStayExact:
            let names = ["caf\u{E9}", "cafe\u{301}", "", "nul\u{0}byte", "emoji \u{1F600}", "K", "\u{212A}"]
            var entries: [CloudToDeviceEntry] = []
            for (i, name) in names.enumerated() {
                var message = DeviceMessage(messageID: name, correlationID: name, applicationProperties: [.init(name, name)])
                message.userID = names[(i + 1) % names.count]
                var e = entry(Int64(i + 1), message: message, state: .invisible(lockedUntil: Timestamp(rawValue: 1)))
                e.lockToken = name
                e.deviceGenerationID = name
                entries.append(e)
            }
            var record = feedback(1)
            record.originalMessageID = "cafe\u{301}"
            record.description = "nul\u{0}"
            try await store.apply(entries.map { .saveMessage($0) } + [.saveFeedback(record)])
            let loaded = try await store.load()
            #expect(loaded.messages.count == names.count)
            for (stored, original) in zip(loaded.messages, entries) {
                #expect(stored.message.messageID?.utf8.elementsEqual(original.message.messageID!.utf8) == true)
                #expect(stored.lockToken?.utf8.elementsEqual(original.lockToken!.utf8) == true)
                #expect(stored.deviceGenerationID?.utf8.elementsEqual(original.deviceGenerationID!.utf8) == true)
                #expect(stored.message.applicationProperties.first?.name.utf8.elementsEqual(original.message.applicationProperties[0].name.utf8) == true)
                #expect(stored == original)
            }
            #expect(loaded.feedback.first?.originalMessageID.utf8.elementsEqual("cafe\u{301}".utf8) == true)
            #expect(loaded.feedback.first?.description.utf8.elementsEqual("nul\u{0}".utf8) == true)

        case .manyChangesInOneBatch:
            var changes: [CloudToDeviceChange] = []
            for n in 1...500 {
                changes.append(.saveMessage(entry(Int64(n), device: "dev\(n % 7)")))
                if n % 5 == 0 { changes.append(.removeMessage(sequenceNumber: Int64(n - 1))) }
                changes.append(.setCounters(CloudToDeviceCounters(nextSequenceNumber: Int64(n + 1), nextFeedbackID: 1)))
            }
            try await store.apply(changes)
            let loaded = try await store.load()
            #expect(loaded.messages.count == 400)
            #expect(loaded.counters.nextSequenceNumber == 501)

        case .survivesReopen:
            let entries = [entry(1, message: fullMessage(1)), entry(2, state: .invisible(lockedUntil: Timestamp(rawValue: 77)))]
            try await store.apply(
                entries.map { .saveMessage($0) } + [
                    .saveFeedback(feedback(3, status: .purged)),
                    .setCounters(CloudToDeviceCounters(nextSequenceNumber: 3, nextFeedbackID: 4)),
                ])
            try await opened.close()
            let reopened = try await fixture.open()
            let loaded = try await reopened.store.load()
            #expect(loaded.messages == entries)
            #expect(loaded.feedback == [feedback(3, status: .purged)])
            #expect(loaded.counters == CloudToDeviceCounters(nextSequenceNumber: 3, nextFeedbackID: 4))
            try await reopened.store.apply([.removeMessage(sequenceNumber: 1)])
            #expect(try await reopened.store.load().messages == [entries[1]])
        }
    }
}
