import HubCore
import Synchronization

/// Records keyed by a byte-exact name, each with an etag, under one lock: the shared core of the small
/// in-memory stores (CA certificates, users). Errors name the store operation that failed.
final class NamedRecordTable<Record: Sendable>: Sendable {
    private let state = Mutex([ExactKey: Record]())
    private let nameOf: @Sendable (Record) -> String
    private let etagOf: @Sendable (Record) -> String
    /// What a record is called in errors ("certificate", "user").
    private let noun: String

    init(noun: String, name: @escaping @Sendable (Record) -> String, etag: @escaping @Sendable (Record) -> String) {
        self.noun = noun
        self.nameOf = name
        self.etagOf = etag
    }

    /// Every record, ordered by name.
    func all() -> [Record] {
        state.withLock { records in records.keys.sorted().map { records[$0]! } }
    }

    func record(named name: String) -> Record? {
        state.withLock { $0[ExactKey(name)] }
    }

    /// Adds `record`; `.duplicate` when its name is taken.
    func insert(_ record: Record, operation: String) throws(StorageError) {
        let key = ExactKey(nameOf(record))
        try state.withLock { (stored) throws(StorageError) in
            guard stored[key] == nil else { throw StorageError(.duplicate, "\(operation): the name is taken") }
            stored[key] = record
        }
    }

    /// Replaces the record of the same name; `.notFound`, or `.conflict` when `expectedEtag` is stale.
    func replace(_ record: Record, expectedEtag: String?, operation: String) throws(StorageError) {
        let key = ExactKey(nameOf(record))
        try state.withLock { (stored) throws(StorageError) in
            guard let current = stored[key] else { throw StorageError(.notFound, "\(operation): no such \(noun)") }
            try InMemoryRegistryStore.check(etagOf(current), expectedEtag, operation)
            stored[key] = record
        }
    }

    /// Removes the named record; `.notFound`, or `.conflict` when `expectedEtag` is stale.
    func delete(named name: String, expectedEtag: String?, operation: String) throws(StorageError) {
        let key = ExactKey(name)
        try state.withLock { (stored) throws(StorageError) in
            guard let current = stored[key] else { throw StorageError(.notFound, "\(operation): no such \(noun)") }
            try InMemoryRegistryStore.check(etagOf(current), expectedEtag, operation)
            stored[key] = nil
        }
    }
}
