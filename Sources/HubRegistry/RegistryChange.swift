import HubCore

/// What changed in the registry, published to observers after the change is committed (the broker
/// uses it to disconnect identities whose credentials or status no longer allow them within 1 s).
public enum RegistryChange: Sendable, Hashable {
    /// Created or updated; `previous` is nil for a creation.
    case deviceUpdated(Device, previous: Device?)
    case deviceDeleted(Device)
    case moduleUpdated(Module, previous: Module?)
    case moduleDeleted(Module)
    /// A shared access policy's keys or rights changed, or it was removed (`current` nil).
    case policyUpdated(name: String, current: AccessPolicy?)
    /// A CA certificate was added, verified, or deleted (`current` nil).
    case certificateUpdated(name: String, current: CACertificate?)
    case userUpdated(username: String, current: MQTTUser?)
}
