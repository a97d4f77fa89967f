import HubCore

/// Twins as the JSON Azure IoT Hub sends: the service's Twin (REST API, query items), the device's
/// twin GET body, and the desired-properties notification (protocol reference §2.6, §4.4).
public enum TwinJSON {
    /// The service Twin of a device (`GET /twins/{id}`, `SELECT * FROM devices` items), members in
    /// §4.4's order: identity fields from `device`, the rest from `twin`, both sections with their
    /// `$metadata` and `$version`.
    public static func serviceTwin(_ twin: Twin, device: Device) -> JSONValue {
        var object = JSONObject()
        object["deviceId"] = .string(twin.deviceID.rawValue)
        object["moduleId"] = .null
        object["etag"] = .string(twin.etag)
        object["deviceEtag"] = .string(device.etag)
        object["status"] = .string(device.status.rawValue)
        object["statusReason"] = .optional(device.statusReason)
        object["statusUpdateTime"] = .string(Timestamp.azureText(device.statusUpdatedTime))
        object["connectionState"] = .string(device.connectionState.rawValue)
        object["lastActivityTime"] = .string(Timestamp.azureText(device.lastActivityTime))
        object["cloudToDeviceMessageCount"] = .int(device.cloudToDeviceMessageCount)
        object["authenticationType"] = .string(device.authentication.type)
        object["x509Thumbprint"] = thumbprints(device.authentication)
        appendDocument(twin, to: &object)
        object["capabilities"] = .object(JSONObject(["iotEdge": .bool(device.isEdgeDevice)]))
        object["deviceScope"] = .optional(device.deviceScope)
        object["parentScopes"] = .array(device.parentScopes.map(JSONValue.string))
        return .object(object)
    }

    /// The service Twin of a module (`GET /twins/{id}/modules/{mid}`, `FROM devices.modules` items): the
    /// device shape with `moduleId` and the module's etag as `deviceEtag`. Modules have no status of
    /// their own; like Azure's module twins they read `enabled`. No `capabilities`, `deviceScope` or
    /// `parentScopes` (device-only).
    public static func serviceTwin(_ twin: Twin, module: Module) -> JSONValue {
        var object = JSONObject()
        object["deviceId"] = .string(twin.deviceID.rawValue)
        object["moduleId"] = .string(module.id.rawValue)
        object["etag"] = .string(twin.etag)
        object["deviceEtag"] = .string(module.etag)
        object["status"] = .string(DeviceStatus.enabled.rawValue)
        object["statusReason"] = .null
        object["statusUpdateTime"] = .string(Timestamp.azureUnsetText)
        object["connectionState"] = .string(module.connectionState.rawValue)
        object["lastActivityTime"] = .string(Timestamp.azureText(module.lastActivityTime))
        object["cloudToDeviceMessageCount"] = .int(module.cloudToDeviceMessageCount)
        object["authenticationType"] = .string(module.authentication.type)
        object["x509Thumbprint"] = thumbprints(module.authentication)
        appendDocument(twin, to: &object)
        return .object(object)
    }

    /// The body of a device's twin GET (`$iothub/twin/res/200/?$rid=…`):
    /// `{"desired":{…,"$version":n},"reported":{…,"$version":m}}` — no tags (devices never see them), no
    /// `$metadata`. The Python SDK reads `desired.$version` after every reconnect, so it is always there.
    public static func deviceTwin(_ twin: Twin) -> JSONValue {
        .object(
            JSONObject([
                "desired": section(twin.desired, metadata: false),
                "reported": section(twin.reported, metadata: false),
            ]))
    }

    /// The body of a desired-properties notification
    /// (`$iothub/twin/PATCH/properties/desired/?$version=n`): the applied patch (or, after a
    /// replacement, the whole desired section) with `"$version": n` inside.
    public static func desiredNotification(_ change: JSONObject, version: Int64) -> JSONValue {
        var body = change
        body["$version"] = nil
        body["$version"] = .number(String(version))
        return .object(body)
    }

    /// A section as the service sees it (`{…,"$metadata":{…},"$version":n}`) or as the device does
    /// (`{…,"$version":n}`).
    public static func section(_ section: TwinSection, metadata: Bool) -> JSONValue {
        var object = section.properties
        if metadata { object["$metadata"] = .object(metadataObject(section.metadata, of: section.properties)) }
        object["$version"] = .number(String(section.version))
        return .object(object)
    }

    /// `modelId`, `version`, `tags` and `properties`, the members the twin itself provides.
    private static func appendDocument(_ twin: Twin, to object: inout JSONObject) {
        object["modelId"] = .string(twin.modelID)
        object["version"] = .number(String(twin.version))
        object["tags"] = .object(twin.tags)
        object["properties"] = .object(
            JSONObject([
                "desired": section(twin.desired, metadata: true),
                "reported": section(twin.reported, metadata: true),
            ]))
    }

    /// `$metadata` for one level: `$lastUpdated`, `$lastUpdatedVersion` (desired only), then an entry per
    /// member in the properties' order. A member whose metadata is missing (never expected) borrows its
    /// parent's, so the mirror stays complete.
    private static func metadataObject(_ metadata: TwinMetadata, of properties: JSONObject) -> JSONObject {
        var object = JSONObject()
        object["$lastUpdated"] = .string(metadata.lastUpdated.iso8601)
        if let version = metadata.lastUpdatedVersion { object["$lastUpdatedVersion"] = .number(String(version)) }
        for (key, value) in properties.members {
            let member = metadata.members[key] ?? TwinMetadata(lastUpdated: metadata.lastUpdated, lastUpdatedVersion: metadata.lastUpdatedVersion)
            if case .object(let child) = value {
                object[key] = .object(metadataObject(member, of: child))
            } else {
                object[key] = .object(metadataObject(member, of: JSONObject()))
            }
        }
        return object
    }

    private static func thumbprints(_ authentication: DeviceAuthentication) -> JSONValue {
        var primary: String?
        var secondary: String?
        if case .selfSigned(let p, let s) = authentication {
            primary = p
            secondary = s
        }
        return .object(JSONObject(["primaryThumbprint": .optional(primary), "secondaryThumbprint": .optional(secondary)]))
    }
}
