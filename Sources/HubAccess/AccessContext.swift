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
