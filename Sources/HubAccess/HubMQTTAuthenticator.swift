import Crypto
import HubAuth
import HubCore
import HubRegistry
import Logging
import MQTTBroker
import MQTTCodec
import NIOCore
import Synchronization

/// Decides every MQTT CONNECT for the hub:
/// - **Azure devices and modules**: username `{host}/{id}/?api-version=…` naming the client id;
///   password = SAS token (device/module key, or a hub policy with DeviceConnect), or no password and a
///   TLS client certificate (registered thumbprint, or chain to a verified CA with CN = device id).
///   Rights: the identity's own Azure topics; QoS ≤ 1; closed when the token expires.
/// - **MQTT users**: username + password checked against the scrypt hash; rights from their ACL rules.
/// - **Anonymous** clients only with `allow-anonymous`.
///
/// Decisions from cached registry data are made without leaving the event loop; anything that needs
/// storage, a scrypt run or certificate-chain validation happens on a task.
public final class HubMQTTAuthenticator: BrokerAuthenticator {
    let registry: DeviceRegistry
    let validator: SASValidator
    let allowAnonymous: Bool
    let logger: Logger
    /// Recently verified user passwords: username → (keyed digest of the password, user etag). Lets a
    /// reconnect skip scrypt; any change to the user invalidates the entry (etag).
    private let verifiedPasswords = Mutex<[String: (digest: [UInt8], etag: String)]>([:])
    private let digestKey = SymmetricKey(size: .bits256)
    private static let verifiedPasswordCapacity = 100_000
    /// Gives each accepted device or module connection its protocol layer (the Azure device protocol).
    let deviceInterceptor: (@Sendable (DeviceConnection) -> (any PublishInterceptor)?)?

    public init(
        registry: DeviceRegistry, hostNames: [String], allowAnonymous: Bool, logger: Logger,
        deviceInterceptor: (@Sendable (DeviceConnection) -> (any PublishInterceptor)?)? = nil
    ) {
        self.registry = registry
        self.validator = SASValidator(hostNames: hostNames)
        self.allowAnonymous = allowAnonymous
        self.logger = logger
        self.deviceInterceptor = deviceInterceptor
    }

    /// What kind of client a CONNECT is from.
    enum Kind {
        case device(IdentityID, AzureDeviceUsername)
        /// The username looked like a device's but did not name the client id (or a valid identity).
        case deviceMismatch
        case user(String)
        case anonymous
    }

    func classify(_ request: ConnectRequest) -> Kind {
        guard let username = request.username else { return .anonymous }
        if let parsed = AzureDeviceUsername(username, clientID: request.clientID) {
            guard let identity = parsed.identityID else { return .deviceMismatch }
            return .device(identity, parsed)
        }
        if username.contains("/") { return .deviceMismatch }
        return .user(username)
    }

    // MARK: - BrokerAuthenticator

    public func decideImmediately(_ request: ConnectRequest) -> ConnectDecision? {
        switch classify(request) {
        case .anonymous:
            return anonymous(request)
        case .deviceMismatch:
            return refuse(.clientIdentifierNotValid, request, "username does not name the client id")
        case .device(let identity, _):
            guard let credentials = registry.cachedCredentials(for: identity) else { return nil }
            if request.password == nil, !request.peerCertificateChainDER.isEmpty,
                case .certificateAuthority = credentials.authentication
            {
                return nil  // chain validation runs off the event loop
            }
            return decideDevice(request, identity, credentials)
        case .user(let username):
            guard let user = registry.cachedUser(named: username), let password = request.password else { return nil }
            let digest = passwordDigest(password)
            let known = verifiedPasswords.withLock { $0[username] }
            guard let known, known.etag == user.etag, Self.constantTimeEqual(known.digest, digest) else { return nil }  // scrypt needed
            return acceptUser(user, request)
        }
    }

    public func authenticate(_ request: ConnectRequest) async -> ConnectDecision {
        switch classify(request) {
        case .anonymous:
            return anonymous(request)
        case .deviceMismatch:
            return refuse(.clientIdentifierNotValid, request, "username does not name the client id")
        case .device(let identity, _):
            guard let credentials = await registry.credentials(for: identity) else {
                return refuse(.notAuthorized, request, "unknown identity")
            }
            if request.password == nil, case .certificateAuthority = credentials.authentication {
                return await decideCertificateAuthority(request, identity, credentials)
            }
            return decideDevice(request, identity, credentials)
        case .user(let username):
            guard let user = await registry.loadUser(named: username), let password = request.password else {
                return refuse(.badUserNameOrPassword, request, "unknown user or no password")
            }
            let text = String(decoding: password.readableBytesView, as: UTF8.self)
            guard PasswordHasher.verify(password: text, hash: user.passwordHash) else {
                return refuse(.badUserNameOrPassword, request, "wrong password")
            }
            verifiedPasswords.withLock { cache in
                if cache.count >= Self.verifiedPasswordCapacity { cache.removeAll(keepingCapacity: true) }
                cache[username] = (passwordDigest(password), user.etag)
            }
            return acceptUser(user, request)
        }
    }

    // MARK: - Devices

    /// SAS tokens and registered thumbprints: decided from the credentials alone.
    func decideDevice(_ request: ConnectRequest, _ identity: IdentityID, _ credentials: IdentityCredentials) -> ConnectDecision {
        guard credentials.status == .enabled else { return refuse(.notAuthorized, request, "identity disabled") }
        let now = Timestamp.now()
        if let password = request.password {
            let text = String(decoding: password.readableBytesView, as: UTF8.self)
            let token: SASToken
            do {
                token = try SASToken.parse(text)
            } catch {
                return refuse(.badUserNameOrPassword, request, "malformed SAS token")
            }
            var keys: [SharedAccessKey] = []
            if case .sas(let primary, let secondary) = credentials.authentication { keys = [primary, secondary] }
            let grant: SASValidator.DeviceTokenGrant
            do {
                grant = try validator.validateDeviceToken(token, identity: identity, keys: keys, policy: registry.policy(named:), now: now.secondsSince1970)
            } catch {
                return refuse(.notAuthorized, request, "SAS token refused: \(error)")
            }
            let credential: DeviceSession.Credential
            switch grant {
            case .identityKey(let primary): credential = .identityKey(primary ? keys[0] : keys[1])
            case .policy(let name):
                guard let policy = registry.policy(named: name) else { return refuse(.notAuthorized, request, "policy gone") }
                credential = .policyKey(name: name, key: token.isSigned(by: policy.primaryKey) ? policy.primaryKey : policy.secondaryKey)
            }
            let remaining = max(0, token.expiry - now.secondsSince1970)
            return acceptDevice(identity, credentials, credential, validFor: .seconds(remaining))
        }
        guard !request.peerCertificateChainDER.isEmpty else { return refuse(.notAuthorized, request, "no credential") }
        guard case .selfSigned(let primary, let secondary) = credentials.authentication else {
            return refuse(.notAuthorized, request, "certificate not accepted for this identity")
        }
        do {
            let usedPrimary = try X509DeviceVerifier.verifyThumbprint(
                chainDER: request.peerCertificateChainDER, primary: primary, secondary: secondary, now: now)
            let thumbprint = (usedPrimary ? primary : secondary).flatMap(Thumbprint.normalize) ?? ""
            return acceptDevice(identity, credentials, .thumbprint(thumbprint), validFor: nil)
        } catch {
            return refuse(.notAuthorized, request, "client certificate refused: \(error)")
        }
    }

    func decideCertificateAuthority(_ request: ConnectRequest, _ identity: IdentityID, _ credentials: IdentityCredentials) async -> ConnectDecision {
        guard credentials.status == .enabled else { return refuse(.notAuthorized, request, "identity disabled") }
        guard identity.module == nil else { return refuse(.notAuthorized, request, "CA authentication is for devices") }
        let cas = registry.verifiedCertificates()
        do {
            let caPEM = try await X509DeviceVerifier.verifyChain(
                chainDER: request.peerCertificateChainDER, deviceID: identity.device.rawValue,
                trustedCAPEMs: cas.map(\.pem), now: .now())
            let thumbprint = cas.first { $0.pem == caPEM }?.thumbprint ?? ""
            return acceptDevice(identity, credentials, .certificateAuthority(thumbprint: thumbprint), validFor: nil)
        } catch {
            return refuse(.notAuthorized, request, "client certificate refused: \(error)")
        }
    }

    private func acceptDevice(
        _ identity: IdentityID, _ credentials: IdentityCredentials, _ credential: DeviceSession.Credential, validFor: Duration?
    ) -> ConnectDecision {
        let session = DeviceSession(identity: identity, generationID: credentials.generationID, credential: credential)
        return .accept(ConnectGrant(
            authorizer: DeviceTopicAuthorizer(rights: DeviceTopicRights(identity: identity)),
            maximumQoS: .atLeastOnce,  // Azure: QoS 2 closes the connection
            validFor: validFor,
            principal: identity.module == nil ? "device \(identity)" : "module \(identity)",
            context: session,
            interceptor: deviceInterceptor?(session.connection)))
    }

    // MARK: - Users and anonymous clients

    private func acceptUser(_ user: MQTTUser, _ request: ConnectRequest) -> ConnectDecision {
        // A '/' in the client id would let `%c` in a pattern span levels (CVE-2017-7650 class).
        guard !request.clientID.contains("/") else { return refuse(.clientIdentifierNotValid, request, "client id contains '/'") }
        return .accept(ConnectGrant(
            authorizer: UserTopicAuthorizer(acl: TopicACL(rules: user.rules, clientID: request.clientID, username: user.username)),
            maximumQoS: .exactlyOnce, validFor: nil, principal: "user \(user.username)",
            context: UserSession(username: user.username, etag: user.etag)))
    }

    private func anonymous(_ request: ConnectRequest) -> ConnectDecision {
        // `{device}/{module}` client ids are for module identities only (the broker lets them through
        // for that reason).
        guard !request.clientID.contains("/") else { return refuse(.clientIdentifierNotValid, request, "client id contains '/'") }
        return allowAnonymous ? .accept(authorizer: AllowAllAuthorizer(), maximumQoS: .exactlyOnce) : .reject(.notAuthorized)
    }


    private func refuse(_ code: MQTTReasonCode, _ request: ConnectRequest, _ why: String) -> ConnectDecision {
        // No credentials in the log: the reason is a fixed phrase, the client id is the only input echoed.
        logger.info("connection refused", metadata: ["client": "\(request.clientID)", "reason": "\(why)"])
        return .reject(code)
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    private func passwordDigest(_ password: ByteBuffer) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(password.readableBytesView), using: digestKey))
    }
}
