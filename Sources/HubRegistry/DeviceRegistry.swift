import HubAuth
import HubCore
import HubStorage
import Logging

/// The identity registry: devices, modules, shared access policies, CA certificates and MQTT users,
/// with Azure's rules (etags, generation ids, generated keys, bulk semantics) over the storage protocols.
///
/// Authentication reads identities on every CONNECT, so the registry keeps a bounded cache of
/// credentials that the broker can consult without suspending (`cachedCredentials`); every write
/// updates the cache and then notifies observers (`observe`), which is how connections whose
/// credentials were revoked are closed within a second.
public final class DeviceRegistry: Sendable {
    /// Limits and behaviour, with defaults.
    public struct Configuration: Sendable, Hashable {
        /// Entries per bulk `POST /devices` (Azure: 100).
        public var maximumBulkEntries = 100
        /// Largest `top` for `GET /devices` (Azure: 1000).
        public var maximumListSize = 1000
        /// Identities whose credentials are cached for authentication.
        public var credentialCacheCapacity = 100_000
        public init() {}
    }

    public init(
        store: any RegistryStore, policies: any AccessPolicyStore, certificates: any CertificateStore, users: any UserStore,
        configuration: Configuration = .init(), logger: Logger
    ) {
        fatalError("HubRegistry: not implemented yet")
    }

    /// Creates Azure's default policies (`AccessPolicy.defaults()`) when the hub has none, and loads the
    /// verified CA certificates and policies into memory. `ownerKey` (from `--owner-key` /
    /// `MERIDIAN_OWNER_KEY`) replaces `iothubowner`'s primary key. Call once at start-up.
    public func bootstrap(ownerKey: SharedAccessKey?) async throws(RegistryError) {
        fatalError("HubRegistry: not implemented yet")
    }

    // MARK: - Devices

    public func device(_ id: DeviceID) async throws(RegistryError) -> Device { fatalError("HubRegistry: not implemented yet") }

    /// `PUT /devices/{id}`: without `ifMatch` a create (`.deviceAlreadyExists` if it exists); with it an
    /// update (`.preconditionFailed` on mismatch; `*` or `"*"` matches any; quotes are ignored).
    /// Missing SAS keys are generated; a new etag is minted on every write; generation id on creation.
    public func putDevice(_ write: DeviceWrite, ifMatch: String?) async throws(RegistryError) -> Device {
        fatalError("HubRegistry: not implemented yet")
    }

    /// `DELETE /devices/{id}` (modules go with it).
    public func deleteDevice(_ id: DeviceID, ifMatch: String?) async throws(RegistryError) { fatalError("HubRegistry: not implemented yet") }

    /// `GET /devices?top=` (1…`maximumListSize`, clamped), ordered by id.
    public func devices(top: Int) async throws(RegistryError) -> [Device] { fatalError("HubRegistry: not implemented yet") }

    /// `GET /statistics/devices`.
    public func statistics() async throws(RegistryError) -> DeviceCounts { fatalError("HubRegistry: not implemented yet") }

    /// Replaces the primary or secondary SAS key with a fresh one, or swaps them.
    /// `.invalidArgument` when the device does not use SAS.
    public func regenerateKey(_ id: DeviceID, _ which: KeyRegeneration) async throws(RegistryError) -> Device {
        fatalError("HubRegistry: not implemented yet")
    }

    /// `POST /devices`: up to `maximumBulkEntries` operations, each applied on its own; per-entry failures
    /// are reported, not thrown. `.tooManyDevices` for a larger batch; `.invalidArgument` if an id
    /// appears twice.
    public func bulk(_ operations: [BulkOperation]) async throws(RegistryError) -> BulkResult {
        fatalError("HubRegistry: not implemented yet")
    }

    // MARK: - Modules

    public func module(_ device: DeviceID, _ module: ModuleID) async throws(RegistryError) -> Module {
        fatalError("HubRegistry: not implemented yet")
    }
    /// Create or update, with the same etag rules as devices; `.deviceNotFound` if the device is absent.
    public func putModule(_ write: ModuleWrite, ifMatch: String?) async throws(RegistryError) -> Module {
        fatalError("HubRegistry: not implemented yet")
    }
    public func deleteModule(_ device: DeviceID, _ module: ModuleID, ifMatch: String?) async throws(RegistryError) {
        fatalError("HubRegistry: not implemented yet")
    }
    public func modules(of device: DeviceID) async throws(RegistryError) -> [Module] { fatalError("HubRegistry: not implemented yet") }

    // MARK: - Shared access policies

    public func policies() async throws(RegistryError) -> [AccessPolicy] { fatalError("HubRegistry: not implemented yet") }
    /// From memory after `bootstrap`; used on every service REST call.
    public func policy(named name: String) -> AccessPolicy? { fatalError("HubRegistry: not implemented yet") }
    public func regeneratePolicyKey(_ name: String, _ which: KeyRegeneration) async throws(RegistryError) -> AccessPolicy {
        fatalError("HubRegistry: not implemented yet")
    }

    // MARK: - CA certificates

    /// Registers a CA (PEM of one certificate with basicConstraints CA:TRUE), unverified, with a
    /// verification code. `.invalidArgument` for bad PEM or a non-CA certificate.
    public func addCertificate(name: String, pem: String) async throws(RegistryError) -> CACertificate {
        fatalError("HubRegistry: not implemented yet")
    }
    /// A new verification code (invalidates the previous one).
    public func generateVerificationCode(name: String, ifMatch: String?) async throws(RegistryError) -> CACertificate {
        fatalError("HubRegistry: not implemented yet")
    }
    /// Proof of possession: `proofPEM` must be a certificate with subject CN = the current verification
    /// code, signed by the CA's key and valid now. Marks the CA verified.
    public func verifyCertificate(name: String, proofPEM: String, ifMatch: String?) async throws(RegistryError) -> CACertificate {
        fatalError("HubRegistry: not implemented yet")
    }
    public func certificates() async throws(RegistryError) -> [CACertificate] { fatalError("HubRegistry: not implemented yet") }
    public func certificate(named name: String) async throws(RegistryError) -> CACertificate { fatalError("HubRegistry: not implemented yet") }
    public func deleteCertificate(named name: String, ifMatch: String?) async throws(RegistryError) {
        fatalError("HubRegistry: not implemented yet")
    }
    /// Verified CAs, from memory (used on every X.509 CONNECT).
    public func verifiedCertificates() -> [CACertificate] { fatalError("HubRegistry: not implemented yet") }

    // MARK: - MQTT users

    /// Creates or updates a user; `password` nil keeps the current hash (update only). The password is
    /// hashed with scrypt (`PasswordHasher`) and never stored or logged.
    public func putUser(username: String, password: String?, rules: [ACLRule], ifMatch: String?) async throws(RegistryError) -> MQTTUser {
        fatalError("HubRegistry: not implemented yet")
    }
    public func users() async throws(RegistryError) -> [MQTTUser] { fatalError("HubRegistry: not implemented yet") }
    public func user(named username: String) async throws(RegistryError) -> MQTTUser { fatalError("HubRegistry: not implemented yet") }
    public func deleteUser(named username: String, ifMatch: String?) async throws(RegistryError) {
        fatalError("HubRegistry: not implemented yet")
    }

    // MARK: - Authentication lookups

    /// The credentials of a device or module if they are in the cache; nil on a miss (then use
    /// `credentials(for:)`). Never suspends.
    public func cachedCredentials(for identity: IdentityID) -> IdentityCredentials? { fatalError("HubRegistry: not implemented yet") }

    /// The credentials of a device or module (loading and caching them), or nil when it does not exist.
    public func credentials(for identity: IdentityID) async -> IdentityCredentials? { fatalError("HubRegistry: not implemented yet") }

    /// A user for MQTT username/password authentication (cached like credentials).
    public func cachedUser(named username: String) -> MQTTUser? { fatalError("HubRegistry: not implemented yet") }
    public func loadUser(named username: String) async -> MQTTUser? { fatalError("HubRegistry: not implemented yet") }

    // MARK: - Change feed and activity

    /// Calls `observer` after every committed change, in commit order, on the writer's task.
    public func observe(_ observer: @escaping @Sendable (RegistryChange) -> Void) { fatalError("HubRegistry: not implemented yet") }

    /// Records that an identity connected or disconnected (connection state, last activity). Cheap and
    /// non-blocking for the caller: written behind.
    public func recordConnection(_ identity: IdentityID, connected: Bool) { fatalError("HubRegistry: not implemented yet") }
}

/// What authentication needs to know about a device or module identity.
public struct IdentityCredentials: Sendable, Hashable {
    public var identity: IdentityID
    public var generationID: String
    /// For a module, its device's status.
    public var status: DeviceStatus
    public var authentication: DeviceAuthentication

    public init(identity: IdentityID, generationID: String, status: DeviceStatus, authentication: DeviceAuthentication) {
        self.identity = identity
        self.generationID = generationID
        self.status = status
        self.authentication = authentication
    }
}
