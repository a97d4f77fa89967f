import HubCore
import HubStorage

/// The registry's authentication caches: device and module credentials (with an index of the cached
/// modules of each device, so a device's status change reaches its modules) and MQTT users.
///
/// `epoch` grows with every change a registry write makes. A loader that read the store notes the
/// epoch before reading and stores its result only if the epoch has not moved, so a slow read can
/// never put back a value a concurrent write has just replaced or evicted.
struct CredentialCache {
    private var credentials: LRUCache<IdentityID, IdentityCredentials>
    private var modulesByDevice: [DeviceID: Set<ModuleID>] = [:]
    private var users: LRUCache<ExactKey, MQTTUser>
    private(set) var epoch: UInt64 = 0

    init(credentialCapacity: Int, userCapacity: Int) {
        credentials = LRUCache(capacity: credentialCapacity)
        users = LRUCache(capacity: userCapacity)
    }

    var credentialCount: Int { credentials.count }

    mutating func credentials(for identity: IdentityID) -> IdentityCredentials? { credentials.value(for: identity) }
    mutating func user(named username: String) -> MQTTUser? { users.value(for: ExactKey(username)) }

    // MARK: loads (epoch-checked)

    /// Caches what a loader read, unless a write happened since it noted `epoch`.
    mutating func storeLoaded(_ value: IdentityCredentials, readAt epoch: UInt64) {
        guard epoch == self.epoch else { return }
        put(value)
    }

    mutating func storeLoaded(_ user: MQTTUser, readAt epoch: UInt64) {
        guard epoch == self.epoch else { return }
        users.set(user, for: ExactKey(user.username))
    }

    // MARK: writes

    /// A device was created or updated: cache its credentials and give its cached modules its status.
    mutating func deviceWritten(_ device: Device) {
        epoch &+= 1
        put(IdentityCredentials(device))
        for module in modulesByDevice[device.id] ?? [] {
            credentials.modify(IdentityID(device: device.id, module: module)) { $0.status = device.status }
        }
    }

    /// A device was deleted: drop it and every cached module of it.
    mutating func deviceDeleted(_ id: DeviceID) {
        epoch &+= 1
        credentials.remove(IdentityID(device: id))
        for module in modulesByDevice.removeValue(forKey: id) ?? [] {
            credentials.remove(IdentityID(device: id, module: module))
        }
    }

    mutating func moduleWritten(_ module: Module, deviceStatus: DeviceStatus) {
        epoch &+= 1
        put(IdentityCredentials(module, deviceStatus: deviceStatus))
    }

    mutating func moduleDeleted(_ identity: IdentityID) {
        epoch &+= 1
        remove(identity)
    }

    mutating func userWritten(_ user: MQTTUser) {
        epoch &+= 1
        users.set(user, for: ExactKey(user.username))
    }

    mutating func userDeleted(_ username: String) {
        epoch &+= 1
        users.remove(ExactKey(username))
    }

    // MARK: private

    private mutating func put(_ value: IdentityCredentials) {
        if let evicted = credentials.set(value, for: value.identity) { unindex(evicted.key) }
        if let module = value.identity.module { modulesByDevice[value.identity.device, default: []].insert(module) }
    }

    private mutating func remove(_ identity: IdentityID) {
        credentials.remove(identity)
        unindex(identity)
    }

    private mutating func unindex(_ identity: IdentityID) {
        guard let module = identity.module else { return }
        modulesByDevice[identity.device]?.remove(module)
        if modulesByDevice[identity.device]?.isEmpty == true { modulesByDevice[identity.device] = nil }
    }
}
