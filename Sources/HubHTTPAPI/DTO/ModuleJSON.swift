import HubCore
import HubRegistry

/// Azure's `Module` JSON: a device's shape without status or capabilities, plus `moduleId` and
/// `managedBy` (protocol reference §4.4).
enum ModuleJSON {
    static let members: Set<String> = [
        "moduleId", "deviceId", "managedBy", "generationId", "etag", "connectionState", "connectionStateUpdatedTime",
        "lastActivityTime", "cloudToDeviceMessageCount", "authentication",
    ]

    static func encode(_ module: Module) -> JSONValue {
        .object(
            JSONObject([
                "moduleId": .string(module.id.rawValue),
                "managedBy": .optional(module.managedBy),
                "deviceId": .string(module.deviceID.rawValue),
                "generationId": .string(module.generationID),
                "etag": .string(module.etag),
                "connectionState": .string(module.connectionState.rawValue),
                "connectionStateUpdatedTime": .string(Timestamp.azureText(module.connectionStateUpdatedTime)),
                "lastActivityTime": .string(Timestamp.azureText(module.lastActivityTime)),
                "cloudToDeviceMessageCount": .int(module.cloudToDeviceMessageCount),
                "authentication": AuthenticationJSON.encode(module.authentication),
            ]))
    }

    /// The body of `PUT /devices/{id}/modules/{mid}`; the ids in it, when present, must match the path's.
    static func decodeWrite(_ value: JSONValue, device: DeviceID, module: ModuleID) throws(APIError) -> ModuleWrite {
        let reader = try JSONReader(value)
        try reader.allowOnly(members)
        if let bodyDevice = try reader.string("deviceId"), bodyDevice != device.rawValue {
            throw .invalid("deviceId in the body does not match the device id in the path")
        }
        if let bodyModule = try reader.string("moduleId"), bodyModule != module.rawValue {
            throw .invalid("moduleId in the body does not match the module id in the path")
        }
        for key in ["generationId", "etag", "connectionState", "connectionStateUpdatedTime", "lastActivityTime"] {
            try reader.ignored(key, .string)
        }
        try reader.ignored("cloudToDeviceMessageCount", .number)
        return ModuleWrite(
            deviceID: device, id: module,
            authentication: try AuthenticationJSON.decode(try reader.reader("authentication")),
            managedBy: try reader.string("managedBy"))
    }
}
