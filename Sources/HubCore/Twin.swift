/// The device twin (or module twin) of an identity: tags the back end keeps about it, the desired
/// properties the back end wants it to have, and the reported properties it says it has
/// (protocol reference §2.6, §4.3, §4.4).
///
/// A plain value: the merge-patch rules, validation and versioning live in HubTwins, storage in
/// HubStorage. Identity fields that belong to the registry (status, connection state, the device's
/// own etag) are not stored here; the renderers take the `Device` or `Module` for them.
public struct Twin: Hashable, Sendable {
    /// The device the twin belongs to.
    public var deviceID: DeviceID
    /// The module, for a module twin; nil for a device twin.
    public var moduleID: ModuleID?
    /// The twin's own etag for optimistic concurrency of service writes (`If-Match` on
    /// `PATCH/PUT /twins/{id}`); distinct from the device's etag and changes on every twin change.
    public var etag: String
    /// Increments on any change of tags, desired or reported properties.
    public var version: Int64
    /// Back-end-only metadata about the identity (never visible to the device).
    public var tags: JSONObject
    /// What the back end wants the device to be (`properties.desired`).
    public var desired: TwinSection
    /// What the device says it is (`properties.reported`).
    public var reported: TwinSection
    /// The IoT Plug and Play model id the device announced; empty when none.
    public var modelID: String

    public init(
        deviceID: DeviceID,
        moduleID: ModuleID? = nil,
        etag: String,
        version: Int64,
        tags: JSONObject = JSONObject(),
        desired: TwinSection,
        reported: TwinSection,
        modelID: String = ""
    ) {
        self.deviceID = deviceID
        self.moduleID = moduleID
        self.etag = etag
        self.version = version
        self.tags = tags
        self.desired = desired
        self.reported = reported
        self.modelID = modelID
    }

    /// The device or module the twin belongs to.
    public var identity: IdentityID { IdentityID(device: deviceID, module: moduleID) }
}

/// One of a twin's property sections (`properties.desired` or `properties.reported`): the properties,
/// the section's `$version` and its `$metadata`.
public struct TwinSection: Hashable, Sendable {
    /// The properties, without `$version` and `$metadata`.
    public var properties: JSONObject
    /// `$version`: increments on every change of this section (devices use the desired one to tell a
    /// fresh notification from one they already applied).
    public var version: Int64
    /// `$metadata`: when each level and leaf last changed. Its `lastUpdatedVersion`s are set in the
    /// desired section only, as Azure does.
    public var metadata: TwinMetadata

    public init(properties: JSONObject = JSONObject(), version: Int64, metadata: TwinMetadata) {
        self.properties = properties
        self.version = version
        self.metadata = metadata
    }
}

/// The `$metadata` of one property (or of a whole section or object): when it last changed and, in the
/// desired section, at which desired `$version`. Mirrors the object tree it describes: an object-valued
/// property has an entry per member in `members`; a leaf (including an array) has none.
public struct TwinMetadata: Hashable, Sendable {
    /// `$lastUpdated`.
    public var lastUpdated: Timestamp
    /// `$lastUpdatedVersion`: the desired `$version` that last changed this property; nil in the
    /// reported section.
    public var lastUpdatedVersion: Int64?
    /// The metadata of each member, for an object-valued property, keyed like the object.
    public var members: [String: TwinMetadata]

    public init(lastUpdated: Timestamp, lastUpdatedVersion: Int64? = nil, members: [String: TwinMetadata] = [:]) {
        self.lastUpdated = lastUpdated
        self.lastUpdatedVersion = lastUpdatedVersion
        self.members = members
    }
}
