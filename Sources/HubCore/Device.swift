/// Whether an identity may connect.
public enum DeviceStatus: String, Hashable, Sendable, CaseIterable {
    case enabled, disabled
}

/// Whether an identity has a live connection.
public enum ConnectionState: String, Hashable, Sendable {
    case connected = "Connected"
    case disconnected = "Disconnected"
}

/// A device identity in the registry (Azure's `Device`).
public struct Device: Hashable, Sendable {
    public var id: DeviceID
    /// Assigned at creation; a device deleted and re-created with the same id gets a new one, so
    /// credentials and bindings of the old incarnation never apply to the new one.
    public var generationID: String
    /// Opaque version tag for optimistic concurrency (`If-Match`); changes on every update.
    public var etag: String
    public var status: DeviceStatus
    /// Why the status was set; at most 128 characters.
    public var statusReason: String?
    public var statusUpdatedTime: Timestamp?
    public var authentication: DeviceAuthentication
    public var connectionState: ConnectionState
    public var connectionStateUpdatedTime: Timestamp?
    public var lastActivityTime: Timestamp?
    /// Cloud-to-device messages waiting for the device.
    public var cloudToDeviceMessageCount: Int
    /// `capabilities.iotEdge`.
    public var isEdgeDevice: Bool
    public var deviceScope: String?
    public var parentScopes: [String]

    public init(
        id: DeviceID,
        generationID: String,
        etag: String,
        status: DeviceStatus = .enabled,
        statusReason: String? = nil,
        statusUpdatedTime: Timestamp? = nil,
        authentication: DeviceAuthentication,
        connectionState: ConnectionState = .disconnected,
        connectionStateUpdatedTime: Timestamp? = nil,
        lastActivityTime: Timestamp? = nil,
        cloudToDeviceMessageCount: Int = 0,
        isEdgeDevice: Bool = false,
        deviceScope: String? = nil,
        parentScopes: [String] = []
    ) {
        self.id = id
        self.generationID = generationID
        self.etag = etag
        self.status = status
        self.statusReason = statusReason
        self.statusUpdatedTime = statusUpdatedTime
        self.authentication = authentication
        self.connectionState = connectionState
        self.connectionStateUpdatedTime = connectionStateUpdatedTime
        self.lastActivityTime = lastActivityTime
        self.cloudToDeviceMessageCount = cloudToDeviceMessageCount
        self.isEdgeDevice = isEdgeDevice
        self.deviceScope = deviceScope
        self.parentScopes = parentScopes
    }
}

/// A module identity of a device (Azure's `Module`): its own credentials, no status of its own.
public struct Module: Hashable, Sendable {
    public var deviceID: DeviceID
    public var id: ModuleID
    public var generationID: String
    public var etag: String
    public var authentication: DeviceAuthentication
    /// Who manages it (e.g. `IotEdge` for system modules); free text.
    public var managedBy: String?
    public var connectionState: ConnectionState
    public var connectionStateUpdatedTime: Timestamp?
    public var lastActivityTime: Timestamp?
    public var cloudToDeviceMessageCount: Int

    public init(
        deviceID: DeviceID,
        id: ModuleID,
        generationID: String,
        etag: String,
        authentication: DeviceAuthentication,
        managedBy: String? = nil,
        connectionState: ConnectionState = .disconnected,
        connectionStateUpdatedTime: Timestamp? = nil,
        lastActivityTime: Timestamp? = nil,
        cloudToDeviceMessageCount: Int = 0
    ) {
        self.deviceID = deviceID
        self.id = id
        self.generationID = generationID
        self.etag = etag
        self.authentication = authentication
        self.managedBy = managedBy
        self.connectionState = connectionState
        self.connectionStateUpdatedTime = connectionStateUpdatedTime
        self.lastActivityTime = lastActivityTime
        self.cloudToDeviceMessageCount = cloudToDeviceMessageCount
    }

    public var identity: IdentityID { IdentityID(device: deviceID, module: id) }
}
