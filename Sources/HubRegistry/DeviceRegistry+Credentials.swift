import HubCore
import HubStorage

extension DeviceRegistry {
    /// The credentials of a device or module if they are in the cache; nil on a miss (then use
    /// `credentials(for:)`). Never suspends.
    ///
    /// Every registry write updates or evicts the entry before its observers run, so a disabled,
    /// deleted or re-keyed identity is never served stale from here once the write has returned.
    public func cachedCredentials(for identity: IdentityID) -> IdentityCredentials? {
        cache.withLock { $0.credentials(for: identity) }
    }

    /// The credentials of a device or module (loading and caching them), or nil when it does not exist.
    /// A storage failure is logged and answered with nil (authentication then fails closed).
    public func credentials(for identity: IdentityID) async -> IdentityCredentials? {
        if let cached = cachedCredentials(for: identity) { return cached }
        let epoch = cache.withLock { $0.epoch }
        let loaded: IdentityCredentials?
        do throws(StorageError) {
            guard let device = try await store.device(identity.device) else { return nil }
            if let moduleID = identity.module {
                guard let module = try await store.module(identity.device, moduleID) else { return nil }
                loaded = IdentityCredentials(module, deviceStatus: device.status)
            } else {
                loaded = IdentityCredentials(device)
            }
        } catch {
            logger.error("loading credentials failed", metadata: ["identity": "\(identity)", "error": "\(error)"])
            return nil
        }
        if let loaded { cache.withLock { $0.storeLoaded(loaded, readAt: epoch) } }
        return loaded
    }

    /// A user for MQTT username/password authentication (cached like credentials).
    public func cachedUser(named username: String) -> MQTTUser? {
        cache.withLock { $0.user(named: username) }
    }

    /// The user (loading and caching it), or nil when it does not exist or the store fails (logged).
    public func loadUser(named username: String) async -> MQTTUser? {
        if let cached = cachedUser(named: username) { return cached }
        let epoch = cache.withLock { $0.epoch }
        do throws(StorageError) {
            guard let user = try await userStore.user(named: username) else { return nil }
            cache.withLock { $0.storeLoaded(user, readAt: epoch) }
            return user
        } catch {
            logger.error("loading a user failed", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
