import Synchronization

/// A `BrokerPersistence` that keeps everything in memory: the broker's default when no data directory
/// is used (tests), and the reference backend for the conformance suite.
public final class InMemoryBrokerPersistence: BrokerPersistence {
    private struct Contents {
        var sessions: [ByteString: PersistedSession] = [:]
        var sessionOrder: [ByteString] = []
        var retained: [ByteString: PersistedRetainedMessage] = [:]
    }
    private let contents = Mutex(Contents())

    public init() {}

    public func load() async throws -> PersistedBrokerState {
        contents.withLock { c in
            PersistedBrokerState(
                sessions: c.sessionOrder.compactMap { c.sessions[$0] },
                retained: c.retained.keys.sorted { $0.value.utf8.lexicographicallyPrecedes($1.value.utf8) }.compactMap { c.retained[$0] }
            )
        }
    }

    public func write(_ batch: PersistenceBatch) async throws {
        contents.withLock { c in
            for id in batch.deletedSessions.map({ ByteString($0) }) where c.sessions.removeValue(forKey: id) != nil {
                c.sessionOrder.removeAll { $0 == id }
            }
            for s in batch.upsertedSessions {
                let id = ByteString(s.clientID)
                if c.sessions.updateValue(s, forKey: id) == nil { c.sessionOrder.append(id) }
            }
            for t in batch.deletedRetained { c.retained.removeValue(forKey: ByteString(t)) }
            for r in batch.upsertedRetained { c.retained[ByteString(r.publish.topic)] = r }
        }
    }

    public func close() async throws {}
}
