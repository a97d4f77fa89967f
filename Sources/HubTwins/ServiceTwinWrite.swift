import HubCore

/// The writable parts of a service `PATCH` or `PUT /twins/{id}` body, read from Azure's Twin JSON.
///
/// A back end may send back a twin it read (the SDKs' get–modify–update pattern), so the read-only
/// members of the Twin shape are accepted and ignored (`deviceId` and `moduleId` must name this twin
/// when present), as are `$version` and `$metadata` at the top of `properties.desired`. Anything else
/// unknown is refused.
struct ServiceTwinWrite {
    /// New tags (PATCH: a merge patch; PUT: the replacement). nil when the body has none.
    var tags: JSONObject?
    /// Desired properties (PATCH: a merge patch; PUT: the replacement). nil when the body has none.
    var desired: JSONObject?

    /// Members of Azure's Twin model that the service never writes through this API.
    static let readOnlyMembers: Set<String> = [
        "etag", "deviceEtag", "status", "statusReason", "statusUpdateTime", "connectionState", "lastActivityTime",
        "cloudToDeviceMessageCount", "authenticationType", "x509Thumbprint", "modelId", "version", "capabilities",
        "deviceScope", "parentScopes",
    ]

    /// Reads `body` for the twin of `identity`.
    ///
    /// - Parameter isReplacement: PUT. Then `properties.reported` is ignored (a twin read back holds it)
    ///   and a `null` section reads as empty; in a PATCH, reported properties are refused (only devices
    ///   write them) and a `null` section is refused (it would not say what to delete).
    static func parse(_ body: JSONValue, for identity: IdentityID, isReplacement: Bool) throws(TwinError) -> ServiceTwinWrite {
        guard case .object(let object) = body else { throw TwinError(.invalid, "the twin must be a JSON object") }
        var write = ServiceTwinWrite()
        for (key, value) in object.members {
            switch key {
            case "deviceId":
                guard case .string(let id) = value, id.utf8.elementsEqual(identity.device.rawValue.utf8) else {
                    throw TwinError(.invalid, "deviceId in the body does not match the twin's device")
                }
            case "moduleId":
                switch value {
                case .null where identity.module == nil: break
                case .string(let id) where identity.module.map({ id.utf8.elementsEqual($0.rawValue.utf8) }) == true: break
                default: throw TwinError(.invalid, "moduleId in the body does not match the twin's module")
                }
            case "tags":
                write.tags = try section(value, "tags", isReplacement: isReplacement)
            case "properties":
                try parseProperties(value, into: &write, isReplacement: isReplacement)
            default:
                guard readOnlyMembers.contains(key) else { throw TwinError(.invalid, "the twin has an unknown member") }
            }
        }
        return write
    }

    private static func parseProperties(_ value: JSONValue, into write: inout ServiceTwinWrite, isReplacement: Bool) throws(TwinError) {
        let properties: JSONObject
        switch value {
        case .object(let object): properties = object
        case .null where isReplacement: return
        default: throw TwinError(.invalid, "properties must be an object")
        }
        for (key, value) in properties.members {
            switch key {
            case "desired":
                guard var desired = try section(value, "properties.desired", isReplacement: isReplacement) else { continue }
                desired["$version"] = nil
                desired["$metadata"] = nil
                write.desired = desired
            case "reported":
                guard isReplacement else { throw TwinError(.invalid, "properties.reported can only be written by the device") }
            default:
                throw TwinError(.invalid, "properties has an unknown member")
            }
        }
    }

    private static func section(_ value: JSONValue, _ name: String, isReplacement: Bool) throws(TwinError) -> JSONObject? {
        switch value {
        case .object(let object): return object
        case .null where isReplacement: return JSONObject()
        default: throw TwinError(.invalid, "\(name) must be an object")
        }
    }
}
