import HubCore
import HubStorage

extension DeviceRegistry {
    public func module(_ device: DeviceID, _ module: ModuleID) async throws(RegistryError) -> Module {
        let found: Module?
        do throws(StorageError) {
            found = try await store.module(device, module)
        } catch {
            throw failure(error, "reading a module", notFound: Self.moduleNotFound(device, module))
        }
        guard let found else {
            // Say which of the two is missing, as Azure does.
            _ = try await self.device(device)
            throw Self.moduleNotFound(device, module)
        }
        return withPendingConnection(found)
    }

    /// Create or update, with the same etag rules as devices; `.deviceNotFound` if the device is absent.
    /// Creation without If-Match on an existing module is `.moduleAlreadyExists`; an update of a missing
    /// module `.moduleNotFound`. Keys are generated as for devices.
    public func putModule(_ write: ModuleWrite, ifMatch: String?) async throws(RegistryError) -> Module {
        try RegistryValidation.check(write)
        let authentication = try RegistryValidation.authentication(write.authentication)
        let condition = IfMatch(ifMatch)
        let module = try await writes.withLock { () async throws(RegistryError) -> Module in
            let device = try await currentDevice(write.deviceID)
            if condition == .absent {
                let module = Module(
                    deviceID: write.deviceID, id: write.id, generationID: RegistryTokens.generationID(),
                    etag: RegistryTokens.etag(), authentication: authentication, managedBy: write.managedBy)
                do throws(StorageError) {
                    try await store.insertModule(module)
                } catch {
                    throw failure(
                        error, "creating a module", notFound: .deviceNotFound(write.deviceID),
                        duplicate: RegistryError(.moduleAlreadyExists, "module \(write.id) already exists on device \(write.deviceID)"))
                }
                committed(.moduleUpdated(module, previous: nil)) { $0.moduleWritten(module, deviceStatus: device.status) }
                return module
            }
            let current = try await currentModule(write.deviceID, write.id)
            guard condition.matches(current.etag) else { throw .preconditionFailed() }
            var updated = current
            updated.etag = RegistryTokens.etag(differentFrom: current.etag)
            updated.authentication = authentication
            updated.managedBy = write.managedBy
            do throws(StorageError) {
                try await store.replaceModule(updated, expectedEtag: current.etag)
            } catch {
                throw failure(error, "updating a module", notFound: Self.moduleNotFound(write.deviceID, write.id))
            }
            committed(.moduleUpdated(updated, previous: current)) { $0.moduleWritten(updated, deviceStatus: device.status) }
            return updated
        }
        return withPendingConnection(module)
    }

    public func deleteModule(_ device: DeviceID, _ module: ModuleID, ifMatch: String?) async throws(RegistryError) {
        let condition = IfMatch(ifMatch)
        try await writes.withLock { () async throws(RegistryError) in
            let deleted: Module
            do throws(StorageError) {
                deleted = try await store.deleteModule(device, module, expectedEtag: condition.expectedEtag)
            } catch {
                if error.code == .notFound { _ = try await currentDevice(device) }
                throw failure(error, "deleting a module", notFound: Self.moduleNotFound(device, module))
            }
            pendingConnections.withLock { $0[deleted.identity] = nil }
            committed(.moduleDeleted(deleted)) { $0.moduleDeleted(deleted.identity) }
        }
    }

    public func modules(of device: DeviceID) async throws(RegistryError) -> [Module] {
        do throws(StorageError) {
            return try await store.modules(of: device).map(withPendingConnection)
        } catch {
            throw failure(error, "listing modules", notFound: .deviceNotFound(device))
        }
    }

    /// The stored module, or `.moduleNotFound`. With the write lock held.
    private func currentModule(_ device: DeviceID, _ module: ModuleID) async throws(RegistryError) -> Module {
        let found: Module?
        do throws(StorageError) {
            found = try await store.module(device, module)
        } catch {
            throw failure(error, "reading a module", notFound: Self.moduleNotFound(device, module))
        }
        guard let found else { throw Self.moduleNotFound(device, module) }
        return found
    }

    static func moduleNotFound(_ device: DeviceID, _ module: ModuleID) -> RegistryError {
        RegistryError(.moduleNotFound, "module \(module) not found on device \(device)")
    }
}
