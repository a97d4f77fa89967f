import HubAuth
import HubCore
import MQTTBroker
import MQTTCodec

/// What a device or module connection was accepted with; kept in its `ConnectGrant.context` so a
/// registry change can tell whether it still holds.
struct DeviceSession: Sendable, Hashable {
    enum Credential: Sendable, Hashable {
        /// A SAS token signed with this key of the identity.
        case identityKey(SharedAccessKey)
        /// A hub-scoped SAS token of this policy, signed with this key.
        case policyKey(name: String, key: SharedAccessKey)
        /// A self-signed certificate registered by thumbprint.
        case thumbprint(String)
        /// A certificate chaining to the CA with this SHA-256 thumbprint.
        case certificateAuthority(thumbprint: String)
    }
    var identity: IdentityID
    var generationID: String
    var credential: Credential
}

/// A device or module connection as the protocol layers see it: who, which registration, and how it
/// authenticated (never the secret itself).
public struct DeviceConnection: Sendable, Hashable {
    public var identity: IdentityID
    /// The identity's generation id at connect time (stamped on telemetry).
    public var generationID: String
    /// `sas` (identity key or policy token) or `x509` (thumbprint or CA), as Azure's
    /// `iothub-connection-auth-method` names them.
    public var authenticationType: String
    /// The MQTT client id: `{deviceId}` or `{deviceId}/{moduleId}`.
    public var clientID: String { identity.description }

    public init(identity: IdentityID, generationID: String, authenticationType: String) {
        self.identity = identity
        self.generationID = generationID
        self.authenticationType = authenticationType
    }

    /// The device connection a grant belongs to, or nil for users and anonymous clients.
    public static func of(_ grant: ConnectGrant) -> DeviceConnection? {
        guard let session = grant.context as? DeviceSession else { return nil }
        return session.connection
    }
}

extension DeviceSession {
    var connection: DeviceConnection {
        let type: String
        switch credential {
        case .identityKey, .policyKey: type = "sas"
        case .thumbprint, .certificateAuthority: type = "x509"
        }
        return DeviceConnection(identity: identity, generationID: generationID, authenticationType: type)
    }
}

/// What a generic MQTT user connection was accepted with.
struct UserSession: Sendable, Hashable {
    var username: String
    /// The user record's etag: any change to the user (password, rules, deletion) ends the session.
    var etag: String
}

/// Device and module rights (Azure topics only), as the broker's authorizer.
struct DeviceTopicAuthorizer: TopicAuthorizer {
    let rights: DeviceTopicRights
    func mayPublish(to topic: String) -> Bool { rights.mayPublish(topic) }
    func maySubscribe(to filter: MQTTTopicFilter) -> Bool {
        filter.shareName == nil && rights.maySubscribe(filter.filter)
    }
}

/// A generic user's ACL, as the broker's authorizer.
struct UserTopicAuthorizer: TopicAuthorizer {
    let acl: TopicACL
    func mayPublish(to topic: String) -> Bool { acl.allows(.publish, topic) }
    func maySubscribe(to filter: MQTTTopicFilter) -> Bool { acl.allows(.subscribe, filter.filter) }
}
