/// A generic (non-device) MQTT client account: a username, a password stored as a scrypt hash, and
/// topic rules.
public struct MQTTUser: Hashable, Sendable {
    public var username: String
    /// PHC-style scrypt hash string (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`); never the password.
    public var passwordHash: String
    /// Checked in order; the first rule whose pattern matches decides. No match = denied.
    public var rules: [ACLRule]
    public var etag: String

    public init(username: String, passwordHash: String, rules: [ACLRule], etag: String) {
        self.username = username
        self.passwordHash = passwordHash
        self.rules = rules
        self.etag = etag
    }
}

/// One topic rule of a user: a topic filter pattern where `%c` stands for the client identifier and `%u`
/// for the username (each substituted as one whole topic level), the actions it covers, and whether it
/// allows or denies them.
public struct ACLRule: Hashable, Sendable {
    public struct Actions: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let publish = Actions(rawValue: 1)
        public static let subscribe = Actions(rawValue: 2)
        public static let all: Actions = [.publish, .subscribe]
    }

    public var pattern: String
    public var actions: Actions
    public var allow: Bool

    public init(pattern: String, actions: Actions, allow: Bool = true) {
        self.pattern = pattern
        self.actions = actions
        self.allow = allow
    }
}
