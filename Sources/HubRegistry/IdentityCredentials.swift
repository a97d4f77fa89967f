import HubCore

/// What authentication needs to know about a device or module identity.
public struct IdentityCredentials: Sendable, Hashable {
    public var identity: IdentityID
    public var generationID: String
    /// For a module, its device's status.
    public var status: DeviceStatus
    public var authentication: DeviceAuthentication

    public init(identity: IdentityID, generationID: String, status: DeviceStatus, authentication: DeviceAuthentication) {
        self.identity = identity
        self.generationID = generationID
        self.status = status
        self.authentication = authentication
    }

    /// A device's credentials.
    init(_ device: Device) {
        self.init(
            identity: IdentityID(device: device.id), generationID: device.generationID, status: device.status,
            authentication: device.authentication)
    }

    /// A module's credentials; the status is its device's.
    init(_ module: Module, deviceStatus: DeviceStatus) {
        self.init(
            identity: module.identity, generationID: module.generationID, status: deviceStatus,
            authentication: module.authentication)
    }
}
