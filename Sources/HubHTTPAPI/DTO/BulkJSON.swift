import HubCore
import HubRegistry

/// `POST /devices`: an array of Azure's `ExportImportDevice` in, `BulkRegistryOperationResult` out
/// (protocol reference §4.3).
enum BulkJSON {
    static let entryMembers: Set<String> = [
        "id", "moduleId", "eTag", "importMode", "status", "statusReason", "authentication", "twinETag", "tags",
        "properties", "capabilities", "deviceScope", "parentScopes",
    ]

    /// Parses the entries. A malformed entry fails the whole request (400), naming its index; what the
    /// registry refuses per entry comes back in the result instead.
    static func decode(_ value: JSONValue) throws(APIError) -> [BulkOperation] {
        guard case .array(let entries) = value else { throw .invalid("the body must be a JSON array of devices") }
        var operations: [BulkOperation] = []
        operations.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            let reader = try JSONReader(entry, path: "[\(index)]")
            try reader.allowOnly(entryMembers)
            let rawID = try reader.requiredString("id")
            let id: DeviceID
            do {
                id = try DeviceID(validating: rawID)
            } catch {
                throw .invalid("[\(index)].id: \(error)")
            }
            if try reader.string("moduleId") != nil {
                throw .invalid("[\(index)].moduleId: bulk operations on modules are not supported")
            }
            let modeText = try reader.requiredString("importMode")
            guard let mode = BulkOperation.Mode(rawValue: modeText) else {
                throw .invalid("[\(index)].importMode must be one of \(BulkOperation.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            // Twin members are accepted for compatibility and type-checked; twins are applied by the
            // twin service, not by the registry.
            try reader.ignored("twinETag", .string)
            try reader.ignored("tags", .object)
            try reader.ignored("properties", .object)
            let device = try DeviceJSON.decodeFields(reader, id: id)
            operations.append(BulkOperation(mode: mode, device: device, etag: try reader.string("eTag")))
        }
        return operations
    }

    static func encode(_ result: BulkResult) -> JSONValue {
        .object(
            JSONObject([
                "isSuccessful": .bool(result.isSuccessful),
                "errors": .array(
                    result.errors.map { failure in
                        .object(
                            JSONObject([
                                "deviceId": .string(failure.deviceID),
                                "errorCode": .string(failure.error.code.azureName),
                                "errorStatus": .string(failure.error.message),
                                "moduleId": .null,
                                "operation": .string(failure.operation.rawValue),
                            ]))
                    }),
                "warnings": .array([]),
            ]))
    }
}
