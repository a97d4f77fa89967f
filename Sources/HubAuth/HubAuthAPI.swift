// The public surface of HubAuth. Bodies are filled in by the HubAuth implementation work; the
// signatures and their documented behaviour are the contract other modules are written against.
import HubCore

// MARK: - SAS tokens

/// A parsed `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]` token (Azure IoT Hub §1.1).
public struct SASToken: Sendable, Hashable {
    /// `sr` exactly as it appears in the token (still percent-encoded): the signed string uses it.
    public var rawResource: String
    /// `sr` percent-decoded (`+` is not a space): decides the token's scope.
    public var resource: String
    /// `sig` percent-decoded: base64 of the HMAC-SHA256.
    public var signature: String
    /// `se`: expiry, seconds since 1970.
    public var expiry: Int64
    /// `skn`: the policy name, for policy tokens.
    public var keyName: String?

    public init(rawResource: String, resource: String, signature: String, expiry: Int64, keyName: String?) {
        self.rawResource = rawResource
        self.resource = resource
        self.signature = signature
        self.expiry = expiry
        self.keyName = keyName
    }

    /// Parses a token; fields in any order; a missing, duplicated or malformed field is `.malformed`.
    public static func parse(_ token: String) throws(SASError) -> SASToken { fatalError("HubAuth: not implemented yet") }

    /// Builds a token the way the Azure SDKs do: `sr` = `resourceURI` percent-encoded with no safe
    /// characters, `sig` = percent-encoded base64 HMAC-SHA256 of `encoded sr + "\n" + expiry`.
    public static func make(resourceURI: String, key: SharedAccessKey, expiry: Int64, keyName: String? = nil) -> String {
        fatalError("HubAuth: not implemented yet")
    }

    /// True when `signature` is the HMAC of `rawResource + "\n" + expiry` under `key`, compared in
    /// constant time (swift-crypto `HMAC.isValidAuthenticationCode`).
    public func isSigned(by key: SharedAccessKey) -> Bool { fatalError("HubAuth: not implemented yet") }
}

/// Why a SAS token was refused. Messages never contain the token or its signature.
public struct SASError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// Not a `SharedAccessSignature …` with exactly one each of sr, sig, se (se a decimal Int64).
        case malformed = "MalformedToken"
        /// `se` is in the past beyond the allowed clock skew.
        case expired = "TokenExpired"
        /// `se` is further ahead than the maximum token lifetime.
        case lifetimeTooLong = "TokenLifetimeTooLong"
        /// `sr` names another hub or another identity.
        case wrongResource = "WrongResource"
        /// The signature does not verify with any acceptable key.
        case invalidSignature = "InvalidSignature"
        /// `skn` names no policy, or one without the required right.
        case unknownPolicy = "UnknownPolicy"
    }
    public var code: Code
    public init(_ code: Code) { self.code = code }
    public var description: String { code.rawValue }
}

/// Checks SAS tokens for a hub: its accepted host names, clock skew and maximum lifetime.
public struct SASValidator: Sendable {
    /// Host names a token's `sr` may name (case-insensitive, with or without `:port`).
    public var hostNames: [String]
    /// Allowed clock skew when checking expiry (test plan F9: ±300 s).
    public var clockSkewSeconds: Int64
    /// Tokens expiring further ahead are refused (`TokenLifetimeTooLong`).
    public var maximumLifetimeSeconds: Int64

    public init(hostNames: [String], clockSkewSeconds: Int64 = 300, maximumLifetimeSeconds: Int64 = 365 * 24 * 3600) {
        self.hostNames = hostNames
        self.clockSkewSeconds = clockSkewSeconds
        self.maximumLifetimeSeconds = maximumLifetimeSeconds
    }

    /// How a device/module token was accepted.
    public enum DeviceTokenGrant: Sendable, Hashable {
        /// Signed with the identity's own primary or secondary key.
        case identityKey(primary: Bool)
        /// A hub-scoped token of a policy with DeviceConnect (`sr={host}`, `skn={policy}`).
        case policy(name: String)
    }

    /// Validates a token presented by `identity` (MQTT password, HTTPS `Authorization`):
    /// `sr` must be `{host}/devices/{d}[/modules/{m}]` for that identity (or the hub itself with a
    /// DeviceConnect policy), signed by one of `keys` (the identity's SAS keys; may be empty), unexpired.
    public func validateDeviceToken(
        _ token: SASToken, identity: IdentityID, keys: [SharedAccessKey], policy: (String) -> AccessPolicy?, now: Int64
    ) throws(SASError) -> DeviceTokenGrant {
        fatalError("HubAuth: not implemented yet")
    }

    /// Validates a service token (REST `Authorization` header): hub-scoped `sr`, `skn` naming a policy
    /// whose primary or secondary key signed it. Returns the policy (the caller checks its rights).
    public func validateServiceToken(_ token: SASToken, policy: (String) -> AccessPolicy?, now: Int64) throws(SASError) -> AccessPolicy {
        fatalError("HubAuth: not implemented yet")
    }
}

// MARK: - Connection strings

/// `HostName=…;DeviceId=…;SharedAccessKey=…` and friends (Azure §1.4).
public struct ConnectionString: Sendable, Hashable, CustomStringConvertible {
    public var hostName: String
    public var deviceID: String?
    public var moduleID: String?
    public var sharedAccessKeyName: String?
    public var sharedAccessKey: SharedAccessKey?
    public var sharedAccessSignature: String?
    public var gatewayHostName: String?
    public var x509: Bool

    public init(
        hostName: String, deviceID: String? = nil, moduleID: String? = nil, sharedAccessKeyName: String? = nil,
        sharedAccessKey: SharedAccessKey? = nil, sharedAccessSignature: String? = nil, gatewayHostName: String? = nil, x509: Bool = false
    ) {
        self.hostName = hostName
        self.deviceID = deviceID
        self.moduleID = moduleID
        self.sharedAccessKeyName = sharedAccessKeyName
        self.sharedAccessKey = sharedAccessKey
        self.sharedAccessSignature = sharedAccessSignature
        self.gatewayHostName = gatewayHostName
        self.x509 = x509
    }

    /// Parses `Key=Value;…` (keys case-insensitive, values may contain `=`); `HostName` required.
    public static func parse(_ text: String) throws(ConnectionStringError) -> ConnectionString { fatalError("HubAuth: not implemented yet") }

    /// The connection string text, with the key (this is the one place a key is meant to be printed).
    public var description: String { fatalError("HubAuth: not implemented yet") }
}

public struct ConnectionStringError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - X.509 device authentication

/// Why a client certificate was refused.
public struct X509AuthError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case noCertificate, unparsable, expired, notYetValid, wrongExtendedKeyUsage, subjectMismatch
        case thumbprintMismatch, untrustedChain, notACertificateAuthority
    }
    public var code: Code
    public init(_ code: Code) { self.code = code }
    public var description: String { code.rawValue }
}

/// X.509 checks for devices and CA registration (swift-certificates).
public enum X509DeviceVerifier {
    /// SHA-1 and SHA-256 thumbprints of a DER certificate, upper-case hex.
    public static func thumbprints(der: [UInt8]) -> (sha1: String, sha256: String) { fatalError("HubAuth: not implemented yet") }

    /// `selfSigned` authentication: the leaf (first of `chainDER`) must be currently valid, allow
    /// clientAuth (when it has an EKU extension), and its SHA-1 or SHA-256 thumbprint must equal the
    /// primary or secondary thumbprint. Returns whether the primary matched.
    public static func verifyThumbprint(chainDER: [[UInt8]], primary: String?, secondary: String?, now: Timestamp) throws(X509AuthError) -> Bool {
        fatalError("HubAuth: not implemented yet")
    }

    /// `certificateAuthority` authentication: the presented chain must validate (signatures, validity,
    /// basicConstraints CA:TRUE on every issuer, clientAuth EKU on the leaf if present) up to one of
    /// `trustedCAPEMs`, and the leaf's subject CN must equal `deviceID`. Returns the matching CA's PEM.
    public static func verifyChain(chainDER: [[UInt8]], deviceID: String, trustedCAPEMs: [String], now: Timestamp) async throws(X509AuthError) -> String {
        fatalError("HubAuth: not implemented yet")
    }

    /// Parses a CA certificate PEM for registration: must be one certificate with basicConstraints CA:TRUE.
    public static func inspectCA(pem: String) throws(X509AuthError) -> (subject: String, thumbprintSHA256: String, notBefore: Timestamp, notAfter: Timestamp) {
        fatalError("HubAuth: not implemented yet")
    }

    /// Proof of possession: `proofPEM` has subject CN == `verificationCode`, is currently valid, and is
    /// signed by the key of the CA in `caPEM`.
    public static func verifyProofOfPossession(proofPEM: String, caPEM: String, verificationCode: String, now: Timestamp) throws(X509AuthError) {
        fatalError("HubAuth: not implemented yet")
    }
}

// MARK: - Passwords

/// scrypt password hashing for MQTT users (OWASP: N=2^17, r=8, p=1), PHC-style strings.
public enum PasswordHasher {
    public struct Parameters: Sendable, Hashable {
        public var logN: Int
        public var r: Int
        public var p: Int
        public init(logN: Int = 17, r: Int = 8, p: Int = 1) {
            self.logN = logN
            self.r = r
            self.p = p
        }
    }
    /// `$scrypt$ln=17,r=8,p=1$<base64 salt>$<base64 hash>` with a random 16-byte salt.
    public static func hash(password: String, parameters: Parameters = .init()) -> String { fatalError("HubAuth: not implemented yet") }
    /// Constant-time check of `password` against a stored hash; false for a malformed hash.
    public static func verify(password: String, hash: String) -> Bool { fatalError("HubAuth: not implemented yet") }
}

// MARK: - Topic rights

/// What an MQTT client wants to do with a topic.
public enum TopicAction: Sendable, Hashable {
    case publish
    case subscribe
}

/// A user's ACL rules evaluated for one connection (client id and username substituted).
public struct TopicACL: Sendable {
    public var rules: [ACLRule]
    public var clientID: String
    public var username: String

    public init(rules: [ACLRule], clientID: String, username: String) {
        self.rules = rules
        self.clientID = clientID
        self.username = username
    }

    /// First matching rule decides; no match denies. For `.publish`, `topic` is a topic name matched
    /// against each pattern; for `.subscribe`, `topic` is a filter that must lie within the pattern
    /// (every topic it can match, the pattern matches too). `%c`/`%u` are substituted as whole levels; a
    /// rule needing a substitution never matches when the value contains `/`, `+`, `#` or is empty
    /// (CVE-2017-7650 class).
    public func allows(_ action: TopicAction, _ topic: String) -> Bool { fatalError("HubAuth: not implemented yet") }
}

/// The topics an Azure device or module identity may use (protocol reference §2.2): publish telemetry
/// on its own `devices/{d}[/modules/{m}]/messages/events/…`, twin requests and method responses under
/// `$iothub/…`; subscribe to its own C2D (`…/messages/devicebound/#`), `$iothub/twin/res/#`,
/// `$iothub/twin/PATCH/properties/desired/#` and `$iothub/methods/POST/#`. Nothing else.
public struct DeviceTopicRights: Sendable, Hashable {
    public var identity: IdentityID
    public init(identity: IdentityID) { self.identity = identity }

    public func mayPublish(_ topic: String) -> Bool { fatalError("HubAuth: not implemented yet") }
    /// `filter` without any `$share/` prefix; shared subscriptions are never granted to devices.
    public func maySubscribe(_ filter: String) -> Bool { fatalError("HubAuth: not implemented yet") }
}
