import HubCore
import HubStorage

extension DeviceRegistry {
    public func device(_ id: DeviceID) async throws(RegistryError) -> Device {
        let found: Device?
        do throws(StorageError) {
            found = try await store.device(id)
        } catch {
            throw failure(error, "reading a device", notFound: .deviceNotFound(id))
        }
        guard let found else { throw .deviceNotFound(id) }
        return withPendingConnection(found)
    }

    /// `PUT /devices/{id}`: without `ifMatch` a create (`.deviceAlreadyExists` if it exists); with it an
    /// update (`.preconditionFailed` on mismatch; `*` or `"*"` matches any; quotes are ignored).
    /// Missing SAS keys are generated; a new etag is minted on every write; generation id on creation.
    ///
    /// An update of a device that does not exist is `.deviceNotFound`. As in Azure, an update whose
    /// `authentication` is nil or has nil SAS keys gets freshly generated keys (the old ones stop
    /// working), so callers that mean to keep the keys must send them.
    public func putDevice(_ write: DeviceWrite, ifMatch: String?) async throws(RegistryError) -> Device {
        try RegistryValidation.check(write)
        let authentication = try RegistryValidation.authentication(write.authentication)
        let condition = IfMatch(ifMatch)
        let device = try await writes.withLock { () async throws(RegistryError) -> Device in
            let now = now()
            if condition == .absent {
                let device = Device(
                    id: write.id, generationID: RegistryTokens.generationID(), etag: RegistryTokens.etag(), status: write.status,
                    statusReason: write.statusReason, statusUpdatedTime: now, authentication: authentication,
                    isEdgeDevice: write.isEdgeDevice, deviceScope: write.deviceScope, parentScopes: write.parentScopes)
                do throws(StorageError) {
                    try await store.insertDevice(device)
                } catch {
                    throw failure(
                        error, "creating a device", notFound: .deviceNotFound(write.id),
                        duplicate: RegistryError(.deviceAlreadyExists, "device \(write.id) already exists"))
                }
                committed(.deviceUpdated(device, previous: nil)) { $0.deviceWritten(device) }
                return device
            }
            let current = try await currentDevice(write.id)
            guard condition.matches(current.etag) else { throw .preconditionFailed() }
            var updated = current
            updated.etag = RegistryTokens.etag(differentFrom: current.etag)
            if write.status != current.status || !Self.same(write.statusReason, current.statusReason) {
                updated.statusUpdatedTime = now
            }
            updated.status = write.status
            updated.statusReason = write.statusReason
            updated.authentication = authentication
            updated.isEdgeDevice = write.isEdgeDevice
            updated.deviceScope = write.deviceScope
            updated.parentScopes = write.parentScopes
            try await replace(updated, current: current)
            return updated
        }
        return withPendingConnection(device)
    }

    /// `DELETE /devices/{id}` (modules go with it). Observers see a `.moduleDeleted` for each module,
    /// then the `.deviceDeleted`.
    public func deleteDevice(_ id: DeviceID, ifMatch: String?) async throws(RegistryError) {
        let condition = IfMatch(ifMatch)
        try await writes.withLock { () async throws(RegistryError) in
            let modules: [Module]
            do throws(StorageError) {
                modules = try await store.modules(of: id)
            } catch {
                throw failure(error, "listing a device's modules", notFound: .deviceNotFound(id))
            }
            let deleted: Device
            do throws(StorageError) {
                deleted = try await store.deleteDevice(id, expectedEtag: condition.expectedEtag)
            } catch {
                throw failure(error, "deleting a device", notFound: .deviceNotFound(id))
            }
            pendingConnections.withLock { pending in
                pending[IdentityID(device: id)] = nil
                for m in modules { pending[m.identity] = nil }
            }
            cache.withLock { $0.deviceDeleted(id) }
            for module in modules { notify(.moduleDeleted(module)) }
            notify(.deviceDeleted(deleted))
            logger.debug("device deleted", metadata: ["device": "\(id)"])
        }
    }

    /// Up to `limit` devices after `after` (nil: from the start), ordered by id bytes: a scan page for
    /// queries over the whole registry.
    public func devices(after: DeviceID?, limit: Int) async throws(RegistryError) -> [Device] {
        do throws(StorageError) {
            return try await store.devices(after: after, limit: max(limit, 1)).map(withPendingConnection)
        } catch {
            throw failure(error, "listing devices", notFound: RegistryError(.unavailable, "the device list is unavailable"))
        }
    }

    /// `GET /devices?top=` (1…`maximumListSize`, clamped), ordered by id.
    public func devices(top: Int) async throws(RegistryError) -> [Device] {
        let limit = min(max(top, 1), max(configuration.maximumListSize, 1))
        do throws(StorageError) {
            return try await store.devices(after: nil, limit: limit).map(withPendingConnection)
        } catch {
            throw failure(error, "listing devices", notFound: RegistryError(.unavailable, "the device list is unavailable"))
        }
    }

    /// `GET /statistics/devices`.
    public func statistics() async throws(RegistryError) -> DeviceCounts {
        do throws(StorageError) {
            return try await store.deviceCounts()
        } catch {
            throw failure(error, "counting devices", notFound: RegistryError(.unavailable, "device statistics are unavailable"))
        }
    }

    /// Replaces the primary or secondary SAS key with a fresh one, or swaps them.
    /// `.invalidArgument` when the device does not use SAS.
    public func regenerateKey(_ id: DeviceID, _ which: KeyRegeneration) async throws(RegistryError) -> Device {
        let device = try await writes.withLock { () async throws(RegistryError) -> Device in
            let current = try await currentDevice(id)
            guard case .sas(let primary, let secondary) = current.authentication else {
                throw .invalid("device \(id) does not use SAS authentication")
            }
            var updated = current
            updated.authentication = RegistryValidation.regenerate(primary: primary, secondary: secondary, which)
            updated.etag = RegistryTokens.etag(differentFrom: current.etag)
            try await replace(updated, current: current)
            logger.debug("device key regenerated", metadata: ["device": "\(id)", "key": "\(which.rawValue)"])
            return updated
        }
        return withPendingConnection(device)
    }

    // MARK: helpers (called with the write lock held)

    /// The stored device, or `.deviceNotFound`.
    func currentDevice(_ id: DeviceID) async throws(RegistryError) -> Device {
        let found: Device?
        do throws(StorageError) {
            found = try await store.device(id)
        } catch {
            throw failure(error, "reading a device", notFound: .deviceNotFound(id))
        }
        guard let found else { throw .deviceNotFound(id) }
        return found
    }

    /// Writes `updated` if the stored etag is still `current`'s, then updates the cache and notifies.
    private func replace(_ updated: Device, current: Device) async throws(RegistryError) {
        do throws(StorageError) {
            try await store.replaceDevice(updated, expectedEtag: current.etag)
        } catch {
            throw failure(error, "updating a device", notFound: .deviceNotFound(updated.id))
        }
        committed(.deviceUpdated(updated, previous: current)) { $0.deviceWritten(updated) }
    }

    static func same(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let a?, let b?): a.utf8.elementsEqual(b.utf8)
        default: false
        }
    }
}
