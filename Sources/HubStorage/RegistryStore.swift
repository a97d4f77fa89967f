import HubCore

/// Device and module identities. Backends: in-memory (tests, reference), SQLite (embedded),
/// PostgreSQL (later). Every backend passes `RegistryStoreConformance` (HubTestKit).
///
/// The store is dumb on purpose: business rules (etag and generation id minting, key generation,
/// validation) live in HubRegistry; the store guarantees atomic compare-and-swap on `etag` and
/// byte-exact identifiers.
public protocol RegistryStore: Sendable {
    // MARK: devices
    func device(_ id: DeviceID) async throws(StorageError) -> Device?
    /// Inserts a new device. `.duplicate` if one with that id exists.
    func insertDevice(_ device: Device) async throws(StorageError)
    /// Replaces the device with the same id, atomically, if its stored etag equals `expectedEtag`
    /// (`nil` = unconditionally). `.notFound` if absent, `.conflict` on an etag mismatch.
    func replaceDevice(_ device: Device, expectedEtag: String?) async throws(StorageError)
    /// Deletes the device and all its modules if the etag matches (`nil` = any); returns what was
    /// deleted. `.notFound` if absent, `.conflict` on an etag mismatch.
    func deleteDevice(_ id: DeviceID, expectedEtag: String?) async throws(StorageError) -> Device
    /// Devices ordered by id (byte order), starting after `after`, at most `limit`.
    func devices(after: DeviceID?, limit: Int) async throws(StorageError) -> [Device]
    func deviceCounts() async throws(StorageError) -> DeviceCounts

    // MARK: modules
    func module(_ device: DeviceID, _ module: ModuleID) async throws(StorageError) -> Module?
    /// `.notFound` if the device does not exist, `.duplicate` if the module does.
    func insertModule(_ module: Module) async throws(StorageError)
    func replaceModule(_ module: Module, expectedEtag: String?) async throws(StorageError)
    func deleteModule(_ device: DeviceID, _ module: ModuleID, expectedEtag: String?) async throws(StorageError) -> Module
    /// The device's modules ordered by module id; `.notFound` if the device does not exist.
    func modules(of device: DeviceID) async throws(StorageError) -> [Module]

    // MARK: activity
    /// Records a connection state change (and activity time) without touching the etag, as Azure does.
    /// Unknown identities are ignored.
    func recordConnectionState(_ identity: IdentityID, _ state: ConnectionState, at time: Timestamp) async throws(StorageError)

    /// Records many connection state changes at once (the registry's write-behind flush), in order; like
    /// `recordConnectionState` for each, but a backend may apply them in one transaction. The default
    /// implementation calls `recordConnectionState` for each record.
    func recordConnectionStates(_ records: [ConnectionStateRecord]) async throws(StorageError)
}

extension RegistryStore {
    public func recordConnectionStates(_ records: [ConnectionStateRecord]) async throws(StorageError) {
        for record in records {
            try await recordConnectionState(record.identity, record.state, at: record.time)
        }
    }
}

/// One connection state change of a device or module, as written behind by the registry.
public struct ConnectionStateRecord: Hashable, Sendable {
    /// The device or module.
    public var identity: IdentityID
    /// Connected or disconnected.
    public var state: ConnectionState
    /// When the connection state changed (`connectionStateUpdatedTime`).
    public var time: Timestamp
    /// The identity's last activity (`lastActivityTime`): the change itself, or a later message.
    public var lastActivity: Timestamp
    /// Only `lastActivity` is news (a message from a connected identity): stores leave the connection
    /// state and its time as they are.
    public var activityOnly: Bool

    public init(identity: IdentityID, state: ConnectionState, time: Timestamp, lastActivity: Timestamp? = nil, activityOnly: Bool = false) {
        self.identity = identity
        self.state = state
        self.time = time
        self.lastActivity = lastActivity ?? time
        self.activityOnly = activityOnly
    }
}

/// Counts for `GET /statistics/devices`.
public struct DeviceCounts: Hashable, Sendable {
    public var total: Int
    public var enabled: Int
    public var disabled: Int

    public init(total: Int, enabled: Int, disabled: Int) {
        self.total = total
        self.enabled = enabled
        self.disabled = disabled
    }
}

/// The hub's shared access policies.
public protocol AccessPolicyStore: Sendable {
    /// All policies, ordered by name.
    func policies() async throws(StorageError) -> [AccessPolicy]
    func policy(named name: String) async throws(StorageError) -> AccessPolicy?
    /// Inserts or replaces each policy (by name), atomically as one batch.
    func savePolicies(_ policies: [AccessPolicy]) async throws(StorageError)
}

/// Registered certificate authorities.
public protocol CertificateStore: Sendable {
    /// All, ordered by name.
    func certificates() async throws(StorageError) -> [CACertificate]
    func certificate(named name: String) async throws(StorageError) -> CACertificate?
    /// `.duplicate` if the name is taken.
    func insertCertificate(_ certificate: CACertificate) async throws(StorageError)
    /// `.notFound`, `.conflict` as for devices.
    func replaceCertificate(_ certificate: CACertificate, expectedEtag: String?) async throws(StorageError)
    func deleteCertificate(named name: String, expectedEtag: String?) async throws(StorageError)
}

/// Generic MQTT users.
public protocol UserStore: Sendable {
    /// All, ordered by username.
    func users() async throws(StorageError) -> [MQTTUser]
    func user(named username: String) async throws(StorageError) -> MQTTUser?
    func insertUser(_ user: MQTTUser) async throws(StorageError)
    func replaceUser(_ user: MQTTUser, expectedEtag: String?) async throws(StorageError)
    func deleteUser(named username: String, expectedEtag: String?) async throws(StorageError)
}
