import HubCore

/// `UserStore` in memory (reference implementation, unit tests). Usernames are byte-exact keys.
public final class InMemoryUserStore: UserStore {
    private let table = NamedRecordTable<MQTTUser>(noun: "user", name: \.username, etag: \.etag)

    /// An empty store.
    public init() {}

    public func users() async throws(StorageError) -> [MQTTUser] { table.all() }

    public func user(named username: String) async throws(StorageError) -> MQTTUser? { table.record(named: username) }

    public func insertUser(_ user: MQTTUser) async throws(StorageError) {
        try table.insert(user, operation: "insertUser")
    }

    public func replaceUser(_ user: MQTTUser, expectedEtag: String?) async throws(StorageError) {
        try table.replace(user, expectedEtag: expectedEtag, operation: "replaceUser")
    }

    public func deleteUser(named username: String, expectedEtag: String?) async throws(StorageError) {
        try table.delete(named: username, expectedEtag: expectedEtag, operation: "deleteUser")
    }
}
