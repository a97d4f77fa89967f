import HubCore
import Synchronization

/// `UserStore` in memory (reference implementation, unit tests). Usernames are byte-exact keys.
public final class InMemoryUserStore: UserStore {
    private let state = Mutex([ExactKey: MQTTUser]())

    /// An empty store.
    public init() {}

    public func users() async throws(StorageError) -> [MQTTUser] {
        state.withLock { users in users.keys.sorted().map { users[$0]! } }
    }

    public func user(named username: String) async throws(StorageError) -> MQTTUser? {
        state.withLock { $0[ExactKey(username)] }
    }

    public func insertUser(_ user: MQTTUser) async throws(StorageError) {
        let key = ExactKey(user.username)
        try state.withLock { (stored) throws(StorageError) in
            guard stored[key] == nil else { throw StorageError(.duplicate, "insertUser: the username is taken") }
            stored[key] = user
        }
    }

    public func replaceUser(_ user: MQTTUser, expectedEtag: String?) async throws(StorageError) {
        let key = ExactKey(user.username)
        try state.withLock { (stored) throws(StorageError) in
            guard let current = stored[key] else { throw StorageError(.notFound, "replaceUser: no such user") }
            try InMemoryRegistryStore.check(current.etag, expectedEtag, "replaceUser")
            stored[key] = user
        }
    }

    public func deleteUser(named username: String, expectedEtag: String?) async throws(StorageError) {
        let key = ExactKey(username)
        try state.withLock { (stored) throws(StorageError) in
            guard let current = stored[key] else { throw StorageError(.notFound, "deleteUser: no such user") }
            try InMemoryRegistryStore.check(current.etag, expectedEtag, "deleteUser")
            stored[key] = nil
        }
    }
}
