import HubCore
import Synchronization

/// `AccessPolicyStore` in memory (reference implementation, unit tests). Names are byte-exact keys.
public final class InMemoryAccessPolicyStore: AccessPolicyStore {
    private let state = Mutex([ExactKey: AccessPolicy]())

    /// An empty store.
    public init() {}

    public func policies() async throws(StorageError) -> [AccessPolicy] {
        state.withLock { policies in policies.keys.sorted().map { policies[$0]! } }
    }

    public func policy(named name: String) async throws(StorageError) -> AccessPolicy? {
        state.withLock { $0[ExactKey(name)] }
    }

    public func savePolicies(_ policies: [AccessPolicy]) async throws(StorageError) {
        state.withLock { stored in
            for policy in policies { stored[ExactKey(policy.name)] = policy }
        }
    }
}
