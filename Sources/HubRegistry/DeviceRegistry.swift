import HubAuth
import HubCore
import HubStorage
import Logging
import Synchronization

/// The identity registry: devices, modules, shared access policies, CA certificates and MQTT users,
/// with Azure's rules (etags, generation ids, generated keys, bulk semantics) over the storage protocols.
///
/// Authentication reads identities on every CONNECT, so the registry keeps a bounded cache of
/// credentials that the broker can consult without suspending (`cachedCredentials`); every write
/// updates the cache and then notifies observers (`observe`), which is how connections whose
/// credentials were revoked are closed within a second.
///
/// Writes are serialised by one FIFO lock held from the store write until the caches are updated
/// and the observers have returned, so observers see changes in commit order and only after the
/// store accepted them. Reads go straight to the store (policies and verified CAs are served from
/// memory). The implementation is split by concern: `DeviceRegistry+Devices`, `+Bulk`, `+Modules`,
/// `+Policies`, `+Certificates`, `+Users`, `+Credentials`, `+ChangeFeed`, `+Activity`.
public final class DeviceRegistry: Sendable {
    /// Limits and behaviour, with defaults.
    public struct Configuration: Sendable, Hashable {
        /// Entries per bulk `POST /devices` (Azure: 100).
        public var maximumBulkEntries = 100
        /// Largest `top` for `GET /devices` (Azure: 1000).
        public var maximumListSize = 1000
        /// Identities whose credentials are cached for authentication.
        public var credentialCacheCapacity = 100_000
        /// MQTT users cached for authentication.
        public var userCacheCapacity = 10_000
        /// How often `connectionStateFlusher` writes the recorded connection states to the store.
        public var connectionStateFlushInterval: Duration = .seconds(1)
        /// Connection state changes held in memory between flushes (one per identity, the latest wins);
        /// beyond this, changes of further identities are dropped until the next flush.
        public var maximumPendingConnectionStates = 100_000
        /// Records per store call when flushing connection states.
        public var connectionStateFlushBatchSize = 500
        /// scrypt cost for MQTT user passwords (`putUser`). The default is OWASP's N = 2^17, r = 8,
        /// p = 1 (reliability plan S10); lower it only in tests. Existing hashes keep the parameters
        /// they were made with.
        public var passwordHashing = PasswordHasher.Parameters()
        public init() {}
    }

    let store: any RegistryStore
    let policyStore: any AccessPolicyStore
    let certificateStore: any CertificateStore
    let userStore: any UserStore
    let configuration: Configuration
    let logger: Logger
    /// Wall-clock time for status, connection and certificate timestamps (injectable for tests).
    let now: @Sendable () -> Timestamp

    /// Serialises writes: store write → cache update → observers.
    let writes = WriteLock()
    /// Credentials and users for authentication.
    let cache: Mutex<CredentialCache>
    /// Every policy by name, loaded by `bootstrap` and kept current by policy writes.
    let policySnapshot = Mutex<[ExactKey: AccessPolicy]>([:])
    /// Verified CA certificates by name.
    let verifiedSnapshot = Mutex<[ExactKey: CACertificate]>([:])
    let observers = Mutex<[@Sendable (RegistryChange) -> Void]>([])
    /// Connection state changes not yet written to the store, latest per identity.
    let pendingConnections = Mutex<[IdentityID: ConnectionStateRecord]>([:])

    public convenience init(
        store: any RegistryStore, policies: any AccessPolicyStore, certificates: any CertificateStore, users: any UserStore,
        configuration: Configuration = .init(), logger: Logger
    ) {
        self.init(
            store: store, policies: policies, certificates: certificates, users: users, configuration: configuration,
            logger: logger, now: { Timestamp.now() })
    }

    /// As the main initialiser, with the wall clock injected (tests).
    public init(
        store: any RegistryStore, policies: any AccessPolicyStore, certificates: any CertificateStore, users: any UserStore,
        configuration: Configuration = .init(), logger: Logger, now: @escaping @Sendable () -> Timestamp
    ) {
        self.store = store
        self.policyStore = policies
        self.certificateStore = certificates
        self.userStore = users
        self.configuration = configuration
        self.logger = logger
        self.now = now
        self.cache = Mutex(
            CredentialCache(credentialCapacity: configuration.credentialCacheCapacity, userCapacity: configuration.userCacheCapacity))
    }

    /// Maps a storage failure to the registry's error, logging the storage detail (safe to log: no
    /// values) where the client never sees it.
    func failure(_ error: StorageError, _ operation: String, notFound: RegistryError, duplicate: RegistryError? = nil) -> RegistryError {
        switch error.code {
        case .notFound, .duplicate, .conflict:
            break
        default:
            logger.error("registry storage failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
        }
        return RegistryError(error, notFound: notFound, duplicate: duplicate)
    }
}
