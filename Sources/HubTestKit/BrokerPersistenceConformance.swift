import MQTTBroker
import MQTTCodec
import NIOCore
import Testing

/// The one test suite every `BrokerPersistence` backend must pass (in-memory, SQLite, later
/// PostgreSQL). Test targets run each `Check` against each backend:
///
/// ```swift
/// @Test(arguments: BrokerPersistenceConformance.Check.allCases)
/// func sqlite(_ check: BrokerPersistenceConformance.Check) async throws {
///     try await BrokerPersistenceConformance.run(check, on: SQLiteFixture())
/// }
/// ```
///
/// Sessions are compared by client ID and retained messages by topic, because `load()` promises no
/// order between them; the order *within* a session (subscriptions, messages, inbound QoS 2 IDs) is
/// part of the contract and compared exactly.
public enum BrokerPersistenceConformance {
    /// One property of the `BrokerPersistence` contract.
    public enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case emptyLoad
        case emptyBatchIsHarmless
        case sessionRoundTrip
        case everySubscriptionOption
        case messagesInEveryState
        case everyPropertyKind
        case binaryPayloads
        case upsertReplacesSessionWholesale
        case upsertTwiceInOneBatchKeepsTheLast
        case deletes
        case deletingAbsentIsNotAnError
        case deleteThenUpsertInOneBatch
        case retainedUpsertAndDelete
        case survivesReopen
        case awkwardStringsRoundTripExactly

        public var testDescription: String { rawValue }
    }

    /// Runs one check on a fresh store of `fixture`, then tears the fixture down.
    public static func run(_ check: Check, on fixture: some BrokerPersistenceFixture) async throws {
        let store = try await fixture.open()
        do {
            try await run(check, store: store, fixture: fixture)
        } catch {
            try? await fixture.tearDown()
            throw error
        }
        try await fixture.tearDown()
    }

    private static func run(
        _ check: Check, store: any BrokerPersistence, fixture: some BrokerPersistenceFixture
    ) async throws {
        var store = store
        switch check {
        case .emptyLoad:
            let state = try await store.load()
            #expect(state.sessions.isEmpty)
            #expect(state.retained.isEmpty)

        case .emptyBatchIsHarmless:
            try await store.write(PersistenceBatch())
            try await expectState(store, sessions: [], retained: [])

        case .sessionRoundTrip:
            let sessions = [
                Sample.richSession("rich"),
                PersistedSession(clientID: "bare", protocolVersion: .v3_1, expiryInterval: 0, lastSeenMillis: 0),
                PersistedSession(
                    clientID: "forever", protocolVersion: .v3_1_1, expiryInterval: .max,
                    lastSeenMillis: .max, pendingInboundQoS2: [1]),
            ]
            try await store.write(PersistenceBatch(upsertedSessions: sessions))
            try await expectState(store, sessions: sessions, retained: [])

        case .everySubscriptionOption:
            var session = PersistedSession(
                clientID: "options", protocolVersion: .v5, expiryInterval: 60, lastSeenMillis: 1)
            session.subscriptions = Sample.everySubscriptionOption()
            try await store.write(PersistenceBatch(upsertedSessions: [session]))
            try await expectState(store, sessions: [session], retained: [])

        case .messagesInEveryState:
            var session = PersistedSession(
                clientID: "states", protocolVersion: .v5, expiryInterval: 60, lastSeenMillis: 1)
            session.messages = Sample.messagesInEveryState()
            session.pendingInboundQoS2 = [65535, 1, 42]
            try await store.write(PersistenceBatch(upsertedSessions: [session]))
            try await expectState(store, sessions: [session], retained: [])

        case .everyPropertyKind:
            let retained = PersistedRetainedMessage(
                publish: MQTTPublish(
                    topic: "props", payload: Sample.bytes([1, 2, 3]), qos: .atLeastOnce, retain: true,
                    properties: Sample.everyPropertyKind()),
                receivedAtMillis: 1_700_000_000_000)
            var session = PersistedSession(
                clientID: "props", protocolVersion: .v5, expiryInterval: 1, lastSeenMillis: 2)
            session.messages = [
                PersistedMessage(publish: retained.publish, state: .queued, receivedAtMillis: 3)
            ]
            try await store.write(PersistenceBatch(upsertedSessions: [session], upsertedRetained: [retained]))
            try await expectState(store, sessions: [session], retained: [retained])

        case .binaryPayloads:
            let payloads: [[UInt8]] = [
                [], [0], Array(0...255), Array(repeating: 0, count: 64), Sample.pseudoRandomBytes(count: 300_000),
            ]
            var session = PersistedSession(
                clientID: "binary", protocolVersion: .v3_1_1, expiryInterval: 10, lastSeenMillis: 5)
            session.messages = payloads.enumerated().map { i, bytes in
                PersistedMessage(
                    publish: MQTTPublish(topic: "bin/\(i)", payload: Sample.bytes(bytes)), state: .queued,
                    receivedAtMillis: Int64(i))
            }
            let retained = payloads.enumerated().map { i, bytes in
                PersistedRetainedMessage(
                    publish: MQTTPublish(topic: "bin/\(i)", payload: Sample.bytes(bytes), retain: true),
                    receivedAtMillis: Int64(i))
            }
            try await store.write(PersistenceBatch(upsertedSessions: [session], upsertedRetained: retained))
            try await expectState(store, sessions: [session], retained: retained)

        case .upsertReplacesSessionWholesale:
            let old = Sample.richSession("s")
            try await store.write(PersistenceBatch(upsertedSessions: [old]))
            var new = PersistedSession(
                clientID: "s", protocolVersion: .v3_1_1, expiryInterval: 5, lastSeenMillis: 99)
            new.subscriptions = [PersistedSubscription(topicFilter: "only/this", options: .init(qos: .atLeastOnce))]
            try await store.write(PersistenceBatch(upsertedSessions: [new]))
            try await expectState(store, sessions: [new], retained: [])
            // And replacing with no children at all leaves none behind.
            let empty = PersistedSession(clientID: "s", protocolVersion: .v5, expiryInterval: 6, lastSeenMillis: 100)
            try await store.write(PersistenceBatch(upsertedSessions: [empty]))
            try await expectState(store, sessions: [empty], retained: [])

        case .upsertTwiceInOneBatchKeepsTheLast:
            let first = Sample.richSession("twice")
            let second = PersistedSession(
                clientID: "twice", protocolVersion: .v5, expiryInterval: 7, lastSeenMillis: 8,
                pendingInboundQoS2: [9])
            try await store.write(PersistenceBatch(upsertedSessions: [first, second]))
            try await expectState(store, sessions: [second], retained: [])

        case .deletes:
            let a = Sample.richSession("a")
            let b = Sample.richSession("b")
            let c = PersistedSession(clientID: "c", protocolVersion: .v5, expiryInterval: 1, lastSeenMillis: 1)
            try await store.write(PersistenceBatch(upsertedSessions: [a, b, c]))
            try await store.write(PersistenceBatch(deletedSessions: ["a", "c"]))
            try await expectState(store, sessions: [b], retained: [])
            // A re-created session starts from nothing: no children of the deleted one come back.
            let bare = PersistedSession(clientID: "a", protocolVersion: .v5, expiryInterval: 2, lastSeenMillis: 2)
            try await store.write(PersistenceBatch(upsertedSessions: [bare]))
            try await expectState(store, sessions: [bare, b], retained: [])
            try await store.write(PersistenceBatch(deletedSessions: ["a", "b"]))
            try await expectState(store, sessions: [], retained: [])

        case .deletingAbsentIsNotAnError:
            let r = Sample.retained("kept", payload: [1])
            try await store.write(PersistenceBatch(upsertedRetained: [r]))
            try await store.write(PersistenceBatch(deletedSessions: ["never-existed"], deletedRetained: ["no/such/topic"]))
            try await expectState(store, sessions: [], retained: [r])

        case .deleteThenUpsertInOneBatch:
            let old = Sample.richSession("x")
            let oldRetained = Sample.retained("t", payload: [1])
            try await store.write(PersistenceBatch(upsertedSessions: [old], upsertedRetained: [oldRetained]))
            let new = PersistedSession(clientID: "x", protocolVersion: .v3_1_1, expiryInterval: 3, lastSeenMillis: 4)
            let newRetained = Sample.retained("t", payload: [2, 2])
            try await store.write(
                PersistenceBatch(
                    upsertedSessions: [new], deletedSessions: ["x"], upsertedRetained: [newRetained],
                    deletedRetained: ["t"]))
            try await expectState(store, sessions: [new], retained: [newRetained])

        case .retainedUpsertAndDelete:
            let a = Sample.retained("a/b", payload: [1])
            let b = Sample.retained("a/c", payload: [2])
            let c = Sample.retained("$SYS/x", payload: [])
            try await store.write(PersistenceBatch(upsertedRetained: [a, b, c]))
            try await expectState(store, sessions: [], retained: [a, b, c])
            var a2 = Sample.retained("a/b", payload: [9, 9, 9])
            a2.publish.qos = .exactlyOnce
            a2.publish.properties = [.contentType("text/plain"), .userProperty(name: "k", value: "v")]
            try await store.write(PersistenceBatch(upsertedRetained: [a2], deletedRetained: ["a/c"]))
            try await expectState(store, sessions: [], retained: [a2, c])

        case .survivesReopen:
            let sessions = [Sample.richSession("r1"), Sample.richSession("r2")]
            let retained = [Sample.retained("keep/me", payload: [0, 1, 2])]
            try await store.write(PersistenceBatch(upsertedSessions: sessions, upsertedRetained: retained))
            try await store.write(PersistenceBatch(deletedSessions: ["r2"]))
            try await store.close()
            store = try await fixture.open()
            try await expectState(store, sessions: [sessions[0]], retained: retained)
            // The reopened store takes writes again.
            try await store.write(PersistenceBatch(deletedRetained: ["keep/me"]))
            try await expectState(store, sessions: [sessions[0]], retained: [])

        case .awkwardStringsRoundTripExactly:
            var sessions: [PersistedSession] = []
            var retained: [PersistedRetainedMessage] = []
            for (i, text) in Sample.awkwardStrings.enumerated() {
                var session = PersistedSession(
                    clientID: text, protocolVersion: .v5, expiryInterval: 1, lastSeenMillis: Int64(i))
                session.subscriptions = [PersistedSubscription(topicFilter: text + "/#", options: .init())]
                session.messages = [
                    PersistedMessage(
                        publish: MQTTPublish(
                            topic: text, payload: Sample.bytes(Array(text.utf8)),
                            properties: [
                                .userProperty(name: text, value: text), .contentType(text), .responseTopic(text),
                            ]),
                        state: .queued, receivedAtMillis: 0)
                ]
                sessions.append(session)
                retained.append(
                    PersistedRetainedMessage(
                        publish: MQTTPublish(topic: text, payload: Sample.bytes([UInt8(i)]), retain: true),
                        receivedAtMillis: Int64(i)))
            }
            try await store.write(PersistenceBatch(upsertedSessions: sessions, upsertedRetained: retained))
            try await store.close()
            store = try await fixture.open()
            let state = try await store.load()
            try expectEqual(state.sessions, sessions, state.retained, retained)
            // Swift's String == is canonical equivalence; the contract is byte-exact storage.
            #expect(
                Set(state.sessions.map { Array($0.clientID.utf8) }) == Set(sessions.map { Array($0.clientID.utf8) }))
            #expect(
                Set(state.retained.map { Array($0.publish.topic.utf8) })
                    == Set(retained.map { Array($0.publish.topic.utf8) }))
            for s in state.sessions {
                for m in s.messages {
                    #expect(Array(m.publish.topic.utf8) == Array(s.clientID.utf8))
                    for case .userProperty(let name, let value) in m.publish.properties.elements {
                        #expect(Array(name.utf8) == Array(s.clientID.utf8))
                        #expect(Array(value.utf8) == Array(s.clientID.utf8))
                    }
                }
                #expect(s.subscriptions.map { Array($0.topicFilter.utf8) } == [Array((s.clientID + "/#").utf8)])
            }
        }
        try await store.close()
    }

    /// Loads and compares with `sessions` (by client ID) and `retained` (by topic).
    private static func expectState(
        _ store: any BrokerPersistence,
        sessions: [PersistedSession],
        retained: [PersistedRetainedMessage],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let state = try await store.load()
        try expectEqual(state.sessions, sessions, state.retained, retained, sourceLocation: sourceLocation)
    }

    private static func expectEqual(
        _ loadedSessions: [PersistedSession], _ expectedSessions: [PersistedSession],
        _ loadedRetained: [PersistedRetainedMessage], _ expectedRetained: [PersistedRetainedMessage],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let bySessionID = { (s: PersistedSession) in Array(s.clientID.utf8) }
        let byTopic = { (r: PersistedRetainedMessage) in Array(r.publish.topic.utf8) }
        let loadedS = loadedSessions.sorted { bySessionID($0).lexicographicallyPrecedes(bySessionID($1)) }
        let expectedS = expectedSessions.sorted { bySessionID($0).lexicographicallyPrecedes(bySessionID($1)) }
        try #require(
            loadedS.map(\.clientID) == expectedS.map(\.clientID), "session IDs differ",
            sourceLocation: sourceLocation)
        for (loaded, expected) in zip(loadedS, expectedS) {
            #expect(loaded.protocolVersion == expected.protocolVersion, sourceLocation: sourceLocation)
            #expect(loaded.expiryInterval == expected.expiryInterval, sourceLocation: sourceLocation)
            #expect(loaded.lastSeenMillis == expected.lastSeenMillis, sourceLocation: sourceLocation)
            #expect(loaded.subscriptions == expected.subscriptions, sourceLocation: sourceLocation)
            #expect(loaded.messages.count == expected.messages.count, sourceLocation: sourceLocation)
            for (l, e) in zip(loaded.messages, expected.messages) {
                #expect(l == e, sourceLocation: sourceLocation)
            }
            #expect(loaded.pendingInboundQoS2 == expected.pendingInboundQoS2, sourceLocation: sourceLocation)
        }
        let loadedR = loadedRetained.sorted { byTopic($0).lexicographicallyPrecedes(byTopic($1)) }
        let expectedR = expectedRetained.sorted { byTopic($0).lexicographicallyPrecedes(byTopic($1)) }
        #expect(loadedR == expectedR, sourceLocation: sourceLocation)
    }
}
