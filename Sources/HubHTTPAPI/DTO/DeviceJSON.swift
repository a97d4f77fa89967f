import HubCore
import HubRegistry

/// Azure's `Device` JSON (protocol reference §4.4) in both directions.
enum DeviceJSON {
    /// Every member Azure's Device model has, so a client that GETs a device, changes it and PUTs it back
    /// (the SDKs' update pattern) is accepted; server-controlled ones are type-checked and ignored.
    static let members: Set<String> = [
        "deviceId", "moduleId", "generationId", "etag", "connectionState", "status", "statusReason",
        "connectionStateUpdatedTime", "statusUpdatedTime", "lastActivityTime", "cloudToDeviceMessageCount",
        "authentication", "capabilities", "deviceScope", "parentScopes",
    ]

    static func encode(_ device: Device) -> JSONValue {
        .object(
            JSONObject([
                "deviceId": .string(device.id.rawValue),
                "moduleId": .null,
                "generationId": .string(device.generationID),
                "etag": .string(device.etag),
                "connectionState": .string(device.connectionState.rawValue),
                "status": .string(device.status.rawValue),
                "statusReason": .optional(device.statusReason),
                "connectionStateUpdatedTime": .string(Timestamp.azureText(device.connectionStateUpdatedTime)),
                "statusUpdatedTime": .string(Timestamp.azureText(device.statusUpdatedTime)),
                "lastActivityTime": .string(Timestamp.azureText(device.lastActivityTime)),
                "cloudToDeviceMessageCount": .int(device.cloudToDeviceMessageCount),
                "authentication": AuthenticationJSON.encode(device.authentication),
                "capabilities": .object(JSONObject(["iotEdge": .bool(device.isEdgeDevice)])),
                "deviceScope": .optional(device.deviceScope),
                "parentScopes": .array(device.parentScopes.map(JSONValue.string)),
            ]))
    }

    /// The body of `PUT /devices/{id}`. `deviceId` may be omitted; when present it must equal the path's.
    static func decodeWrite(_ value: JSONValue, pathID: DeviceID) throws(APIError) -> DeviceWrite {
        let reader = try JSONReader(value)
        try reader.allowOnly(members)
        if let bodyID = try reader.string("deviceId"), bodyID != pathID.rawValue {
            throw .invalid("deviceId in the body does not match the device id in the path")
        }
        if try reader.string("moduleId") != nil {
            throw .invalid("moduleId must be null for a device")
        }
        for key in ["generationId", "etag", "connectionState", "connectionStateUpdatedTime", "statusUpdatedTime", "lastActivityTime"] {
            try reader.ignored(key, .string)
        }
        try reader.ignored("cloudToDeviceMessageCount", .number)
        return try decodeFields(reader, id: pathID)
    }

    /// The members a device create/update and a bulk entry share.
    static func decodeFields(_ reader: JSONReader, id: DeviceID) throws(APIError) -> DeviceWrite {
        var write = DeviceWrite(id: id)
        if let status = try reader.string("status") {
            guard let parsed = DeviceStatus(rawValue: status) else { throw .invalid("status must be enabled or disabled") }
            write.status = parsed
        }
        if let reason = try reader.string("statusReason") {
            guard reason.count <= 128 else { throw .invalid("statusReason is longer than 128 characters") }
            write.statusReason = reason
        }
        write.authentication = try AuthenticationJSON.decode(try reader.reader("authentication"))
        if let capabilities = try reader.reader("capabilities") {
            try capabilities.allowOnly(["iotEdge"])
            write.isEdgeDevice = try capabilities.bool("iotEdge") ?? false
        }
        write.deviceScope = try reader.string("deviceScope")
        write.parentScopes = try reader.stringArray("parentScopes") ?? []
        return write
    }
}
