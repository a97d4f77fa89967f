import HubCore
import HubRegistry
import MQTTBroker

/// Keeps the broker's live connections consistent with the registry and the registry's view of
/// connections up to date:
/// - after a registry change, re-checks the affected connections and closes those whose status,
///   credential or rights no longer allow them (5.0: DISCONNECT 0x98 Administrative action), within
///   the time it takes to hop to their event loops;
/// - records device/module connects and disconnects (connection state, last activity).
public final class RegistryConnectionTracker: BrokerObserver {
    let registry: DeviceRegistry

    public init(registry: DeviceRegistry) {
        self.registry = registry
    }

    /// Subscribes to the registry's change feed; call once the broker exists.
    public func watch(_ broker: MQTTBroker) {
        registry.observe { change in
            Self.apply(change, to: broker)
        }
    }

    static func apply(_ change: RegistryChange, to broker: MQTTBroker) {
        switch change {
        case .deviceUpdated(let device, _):
            broker.revalidateAll { grant in
                guard let s = grant.context as? DeviceSession, s.identity.device == device.id else { return nil }
                if device.status != .enabled { return .administrativeAction }
                guard s.identity.module == nil else { return nil }  // a module's own credentials did not change
                if s.generationID != device.generationID { return .administrativeAction }
                return stillValid(s.credential, device.authentication) ? nil : .administrativeAction
            }
        case .deviceDeleted(let device):
            broker.revalidateAll { grant in
                guard let s = grant.context as? DeviceSession, s.identity.device == device.id else { return nil }
                return .administrativeAction
            }
        case .moduleUpdated(let module, _):
            broker.revalidate(clientID: module.identity.description) { grant in
                guard let s = grant.context as? DeviceSession, s.identity == module.identity else { return nil }
                if s.generationID != module.generationID { return .administrativeAction }
                return stillValid(s.credential, module.authentication) ? nil : .administrativeAction
            }
        case .moduleDeleted(let module):
            broker.revalidate(clientID: module.identity.description) { grant in
                (grant.context as? DeviceSession)?.identity == module.identity ? .administrativeAction : nil
            }
        case .policyUpdated(let name, let current):
            broker.revalidateAll { grant in
                guard let s = grant.context as? DeviceSession, case .policyKey(let used, let key) = s.credential, used == name else { return nil }
                guard let current, current.rights.contains(.deviceConnect),
                    current.primaryKey == key || current.secondaryKey == key
                else { return .administrativeAction }
                return nil
            }
        case .certificateUpdated(_, let current):
            broker.revalidateAll { grant in
                guard let s = grant.context as? DeviceSession, case .certificateAuthority(let thumbprint) = s.credential else { return nil }
                guard let current else {
                    // A CA was removed and the change does not say which: every CA-authenticated session
                    // reconnects and is checked against what remains.
                    return .administrativeAction
                }
                return current.thumbprint == thumbprint && !current.isVerified ? .administrativeAction : nil
            }
        case .userUpdated(let username, let current):
            broker.revalidateAll { grant in
                guard let s = grant.context as? UserSession, s.username == username else { return nil }
                return current?.etag == s.etag ? nil : .administrativeAction
            }
        }
    }

    /// Whether the credential a session connected with is still one of the identity's credentials.
    static func stillValid(_ credential: DeviceSession.Credential, _ authentication: DeviceAuthentication) -> Bool {
        switch (credential, authentication) {
        case (.identityKey(let key), .sas(let primary, let secondary)):
            return key == primary || key == secondary
        case (.thumbprint(let t), .selfSigned(let p, let s)):
            return [p, s].compactMap { $0.flatMap(Thumbprint.normalize) }.contains(t)
        case (.certificateAuthority, .certificateAuthority):
            return true
        case (.policyKey, _):
            return true  // policy tokens do not depend on the identity's own credentials
        default:
            return false
        }
    }

    // MARK: - BrokerObserver

    public func clientConnected(clientID: String, grant: ConnectGrant) {
        if let s = grant.context as? DeviceSession { registry.recordConnection(s.identity, connected: true) }
    }

    public func clientDisconnected(clientID: String, grant: ConnectGrant) {
        if let s = grant.context as? DeviceSession { registry.recordConnection(s.identity, connected: false) }
    }
}
