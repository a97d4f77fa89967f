import HubCore
import HubStorage

extension DeviceRegistry {
    /// `POST /devices`: up to `maximumBulkEntries` operations, each applied on its own; per-entry failures
    /// are reported, not thrown. `.tooManyDevices` for a larger batch; `.invalidArgument` if an id
    /// appears twice.
    ///
    /// Entries run in order, each with the rules of the single-device call it stands for:
    /// `create` = `putDevice` without If-Match, `update` = `putDevice` with `*` (the device must exist),
    /// `updateIfMatchETag` = `putDevice` with the entry's `eTag`, `delete` = `deleteDevice` with `*`,
    /// `deleteIfMatchETag` = `deleteDevice` with the entry's `eTag` (an entry without one is
    /// `.invalidArgument`).
    public func bulk(_ operations: [BulkOperation]) async throws(RegistryError) -> BulkResult {
        guard operations.count <= configuration.maximumBulkEntries else {
            throw RegistryError(.tooManyDevices, "a bulk request may hold at most \(configuration.maximumBulkEntries) devices")
        }
        var seen = Set<ExactKey>()
        for operation in operations where !seen.insert(ExactKey(operation.device.id.rawValue)).inserted {
            throw .invalid("device \(operation.device.id) appears more than once in the request")
        }
        var failures: [BulkResult.Failure] = []
        for operation in operations {
            do throws(RegistryError) {
                try await apply(operation)
            } catch {
                failures.append(BulkResult.Failure(deviceID: operation.device.id.rawValue, operation: operation.mode, error: error))
            }
        }
        return BulkResult(errors: failures)
    }

    private func apply(_ operation: BulkOperation) async throws(RegistryError) {
        let id = operation.device.id
        switch operation.mode {
        case .create:
            _ = try await putDevice(operation.device, ifMatch: nil)
        case .update:
            _ = try await putDevice(operation.device, ifMatch: "*")
        case .updateIfMatchETag:
            _ = try await putDevice(operation.device, ifMatch: try requiredEtag(operation))
        case .delete:
            try await deleteDevice(id, ifMatch: "*")
        case .deleteIfMatchETag:
            try await deleteDevice(id, ifMatch: try requiredEtag(operation))
        case .updateTwin, .updateTwinIfMatchETag:
            // Twins are not implemented yet (a later issue): these modes are accepted as no-ops on the
            // twin. The device must exist, as Azure requires; the twin etag of `updateTwinIfMatchETag`
            // cannot be checked until twins exist, so it is ignored.
            _ = try await device(id)
        }
    }

    private func requiredEtag(_ operation: BulkOperation) throws(RegistryError) -> String {
        guard let etag = operation.etag, !etag.isEmpty else {
            throw .invalid("importMode \(operation.mode.rawValue) needs an eTag")
        }
        return etag
    }
}
