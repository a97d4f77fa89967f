import HubCore

/// The client-controlled fields of a device create/update (`PUT /devices/{id}` body, a bulk entry).
/// Server-controlled fields (generation id, etag, connection state, counters) are never taken from it.
public struct DeviceWrite: Sendable, Hashable {
    public var id: DeviceID
    public var status: DeviceStatus
    public var statusReason: String?
    /// `nil` → SAS with generated keys. For `.sas`, a nil key is generated.
    public var authentication: AuthenticationWrite?
    public var isEdgeDevice: Bool
    public var deviceScope: String?
    public var parentScopes: [String]

    public init(
        id: DeviceID, status: DeviceStatus = .enabled, statusReason: String? = nil, authentication: AuthenticationWrite? = nil,
        isEdgeDevice: Bool = false, deviceScope: String? = nil, parentScopes: [String] = []
    ) {
        self.id = id
        self.status = status
        self.statusReason = statusReason
        self.authentication = authentication
        self.isEdgeDevice = isEdgeDevice
        self.deviceScope = deviceScope
        self.parentScopes = parentScopes
    }
}

/// The client-controlled fields of a module create/update.
public struct ModuleWrite: Sendable, Hashable {
    public var deviceID: DeviceID
    public var id: ModuleID
    public var authentication: AuthenticationWrite?
    public var managedBy: String?

    public init(deviceID: DeviceID, id: ModuleID, authentication: AuthenticationWrite? = nil, managedBy: String? = nil) {
        self.deviceID = deviceID
        self.id = id
        self.authentication = authentication
        self.managedBy = managedBy
    }
}

/// Authentication as a client may send it: SAS keys may be omitted (then generated).
public enum AuthenticationWrite: Sendable, Hashable {
    case sas(primaryKey: SharedAccessKey?, secondaryKey: SharedAccessKey?)
    case selfSigned(primaryThumbprint: String?, secondaryThumbprint: String?)
    case certificateAuthority
    case none
}

/// Which key `regenerateKey` replaces (Azure's `primary`, `secondary`, `swap`).
public enum KeyRegeneration: String, Sendable, Hashable, CaseIterable {
    case primary, secondary, swap
}
