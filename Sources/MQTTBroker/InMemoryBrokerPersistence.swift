import Synchronization

/// A `BrokerPersistence` that keeps everything in memory: the broker's default when no data directory
/// is used (tests), and the reference backend for the conformance suite.
public final class InMemoryBrokerPersistence: BrokerPersistence {
    private struct Contents {
        var sessions: [String: PersistedSession] = [:]
        var sessionOrder: [String] = []
        var retained: [String: PersistedRetainedMessage] = [:]
    }
    private let contents = Mutex(Contents())

    public init() {}

    public func load() async throws -> PersistedBrokerState {
        contents.withLock { c in
            PersistedBrokerState(
                sessions: c.sessionOrder.compactMap { c.sessions[$0] },
                retained: c.retained.keys.sorted().compactMap { c.retained[$0] }
            )
        }
    }

    public func write(_ batch: PersistenceBatch) async throws {
        contents.withLock { c in
            for id in batch.deletedSessions where c.sessions.removeValue(forKey: id) != nil {
                c.sessionOrder.removeAll { $0 == id }
            }
            for s in batch.upsertedSessions {
                if c.sessions.updateValue(s, forKey: s.clientID) == nil { c.sessionOrder.append(s.clientID) }
            }
            for t in batch.deletedRetained { c.retained.removeValue(forKey: t) }
            for r in batch.upsertedRetained { c.retained[r.publish.topic] = r }
        }
    }

    public func close() async throws {}
}
