import HubCore
import Synchronization

/// `TwinStore` in memory: the reference implementation the conformance suite is written against, and
/// the store of unit tests. Nothing survives the process.
///
/// Every operation is atomic under one lock; twins are kept in a sorted index so scans page in the
/// order SQL's binary collation gives.
public final class InMemoryTwinStore: TwinStore {
    private struct State {
        var twins: [TwinOrderKey: Twin] = [:]
        /// Every key, sorted.
        var order: [TwinOrderKey] = []
    }

    private let state = Mutex(State())

    /// An empty store.
    public init() {}

    public func twin(_ identity: IdentityID) async throws(StorageError) -> Twin? {
        state.withLock { $0.twins[TwinOrderKey(identity)] }
    }

    public func insertTwin(_ twin: Twin) async throws(StorageError) {
        let key = TwinOrderKey(twin.identity)
        try state.withLock { (state) throws(StorageError) in
            guard state.twins[key] == nil else { throw StorageError(.duplicate, "insertTwin: the identity has a twin") }
            state.twins[key] = twin
            state.order.insert(key, at: state.order.insertionIndex(of: key))
        }
    }

    public func replaceTwin(_ twin: Twin, expectedEtag: String?) async throws(StorageError) {
        let key = TwinOrderKey(twin.identity)
        try state.withLock { (state) throws(StorageError) in
            guard let current = state.twins[key] else { throw StorageError(.notFound, "replaceTwin: no such twin") }
            try InMemoryRegistryStore.check(current.etag, expectedEtag, "replaceTwin")
            state.twins[key] = twin
        }
    }

    public func deleteTwins(of identity: IdentityID) async throws(StorageError) -> Int {
        let key = TwinOrderKey(identity)
        return state.withLock { state in
            let doomed =
                identity.module == nil
                ? state.order.filter { $0.device == key.device }
                : state.order.filter { $0 == key }
            for k in doomed { state.twins[k] = nil }
            let gone = Set(doomed)
            state.order.removeAll { gone.contains($0) }
            return doomed.count
        }
    }

    public func twins(after: IdentityID?, limit: Int, scope: TwinScope) async throws(StorageError) -> [Twin] {
        guard limit > 0 else { return [] }
        return state.withLock { state in
            var index = 0
            if let after {
                let key = TwinOrderKey(after)
                index = state.order.insertionIndex(of: key)
                if index < state.order.count && state.order[index] == key { index += 1 }
            }
            var result: [Twin] = []
            while index < state.order.count && result.count < limit {
                if let twin = state.twins[state.order[index]], scope.contains(twin.identity) { result.append(twin) }
                index += 1
            }
            return result
        }
    }
}
