import HubAuth
import HubCore
import Testing

@Suite("SAS validation")
struct SASValidatorTests {
    let validator = SASValidator(hostNames: [Vectors.host, "localhost:8443", "gateway"])
    /// One minute before the vectors expire.
    let now = Vectors.expiry - 60
    let secondary = try! SharedAccessKey(bytes: Array(repeating: 9, count: 32))

    var policies: [String: AccessPolicy] {
        [
            "iothubowner": AccessPolicy(name: "iothubowner", rights: .all, primaryKey: Vectors.otherKey, secondaryKey: Vectors.key),
            "device": AccessPolicy(name: "device", rights: .deviceConnect, primaryKey: Vectors.key, secondaryKey: secondary),
            "service": AccessPolicy(name: "service", rights: .serviceConnect, primaryKey: Vectors.key, secondaryKey: secondary),
            "registryRead": AccessPolicy(name: "registryRead", rights: .registryRead, primaryKey: Vectors.key, secondaryKey: secondary),
        ]
    }

    func validateDevice(_ text: String, _ identity: IdentityID, keys: [SharedAccessKey]? = nil, now: Int64? = nil) throws(SASError) -> SASValidator.DeviceTokenGrant {
        let policies = self.policies
        let token = try SASToken.parse(text)
        return try validator.validateDeviceToken(
            token, identity: identity, keys: keys ?? [Vectors.key, secondary], policy: { policies[$0] }, now: now ?? self.now)
    }

    func validateService(_ text: String, now: Int64? = nil) throws(SASError) -> AccessPolicy {
        let policies = self.policies
        return try validator.validateServiceToken(try SASToken.parse(text), policy: { policies[$0] }, now: now ?? self.now)
    }

    func make(_ resource: String, key: SharedAccessKey = Vectors.key, expiry: Int64 = Vectors.expiry, keyName: String? = nil) -> String {
        SASToken.make(resourceURI: resource, key: key, expiry: expiry, keyName: keyName)
    }

    // MARK: device tokens

    @Test("the §1.1 device vector is accepted for dev1 with its primary or secondary key")
    func deviceVector() throws {
        #expect(try validateDevice(Vectors.deviceToken, device("dev1")) == .identityKey(primary: true))
        #expect(try validateDevice(Vectors.deviceToken, device("dev1"), keys: [secondary, Vectors.key]) == .identityKey(primary: false))
    }

    @Test("no matching key, or no keys at all, is InvalidSignature")
    func noKey() {
        #expect(throws: SASError(.invalidSignature)) { try validateDevice(Vectors.deviceToken, device("dev1"), keys: [secondary]) }
        #expect(throws: SASError(.invalidSignature)) { try validateDevice(Vectors.deviceToken, device("dev1"), keys: []) }
    }

    @Test("module tokens for modules; device and module tokens are not interchangeable")
    func modules() throws {
        let moduleToken = make("\(Vectors.host)/devices/dev1/modules/mod1")
        #expect(try validateDevice(moduleToken, device("dev1", module: "mod1")) == .identityKey(primary: true))
        #expect(throws: SASError(.wrongResource)) { try validateDevice(moduleToken, device("dev1")) }
        #expect(throws: SASError(.wrongResource)) { try validateDevice(Vectors.deviceToken, device("dev1", module: "mod1")) }
        #expect(throws: SASError(.wrongResource)) { try validateDevice(moduleToken, device("dev1", module: "mod2")) }
    }

    @Test("another device, another hub or an unknown resource is WrongResource", arguments: [
        "\(Vectors.host)/devices/dev2",
        "\(Vectors.host)/devices/dev10",
        "\(Vectors.host)/devices/dev",
        "\(Vectors.host)/devices/DEV1",
        "otherhub.azure-devices.net/devices/dev1",
        "myhub.azure-devices.net.evil/devices/dev1",
        "\(Vectors.host)/devices/dev1/",
        "\(Vectors.host)/devices/dev1/modules",
        "\(Vectors.host)/devices/dev1/modules/",
        "\(Vectors.host)/devices/dev1/extra",
        "\(Vectors.host)/devices/",
        "\(Vectors.host)/Devices/dev1",
        "\(Vectors.host)//devices/dev1",
        "\(Vectors.host)/",
        "\(Vectors.host)",
        "/devices/dev1",
        "\(Vectors.host)/registrations/dev1",
    ])
    func wrongResource(_ resource: String) {
        #expect(throws: SASError(.wrongResource)) { try validateDevice(make(resource), device("dev1")) }
    }

    @Test("hosts match ignoring ASCII case and a port on either side", arguments: [
        "MyHub.Azure-Devices.NET/devices/dev1",
        "myhub.azure-devices.net:8883/devices/dev1",
        "localhost:8443/devices/dev1",
        "localhost/devices/dev1",
        "LOCALHOST:1/devices/dev1",
        "gateway:443/devices/dev1",
    ])
    func hostVariants(_ resource: String) throws {
        let text = make(resource)
        #expect(text.contains("%3A") == resource.contains(":"))
        #expect(try validateDevice(text, device("dev1")) == .identityKey(primary: true))
    }

    @Test("a port-like suffix that is not a port does not match", arguments: ["localhost:84x3/devices/dev1", "localhost:/devices/dev1", "gateway:443:1/devices/dev1"])
    func notAPort(_ resource: String) {
        #expect(throws: SASError(.wrongResource)) { try validateDevice(make(resource), device("dev1")) }
    }

    @Test("sig with / and + in every encoding the SDKs use is accepted")
    func signatureCharacters() throws {
        // Find an expiry whose signature has both '/' and '+'.
        var expiry = Vectors.expiry
        var token = try SASToken.parse(make("\(Vectors.host)/devices/dev1", expiry: expiry))
        while !(token.signature.contains("/") && token.signature.contains("+")) {
            expiry += 1
            token = try SASToken.parse(make("\(Vectors.host)/devices/dev1", expiry: expiry))
        }
        let encodings = [
            PercentEncodingOracle.quote(token.signature, safe: ""),  // device SDK
            PercentEncodingOracle.quote(token.signature, safe: "/"),  // azure-iot-hub REST and AMQP
            token.signature,  // raw
        ]
        for sig in encodings {
            let text = "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=\(sig)&se=\(expiry)"
            #expect(try validateDevice(text, device("dev1"), now: expiry - 10) == .identityKey(primary: true), "\(sig)")
        }
    }

    @Test("a URL-encoding variant of sr that decodes to the same resource still fails the signature")
    func encodingVariant() {
        let text = Vectors.deviceToken.replacingOccurrences("%2F", "%2f")
        #expect(throws: SASError(.invalidSignature)) { try validateDevice(text, device("dev1")) }
    }

    @Test("ids are compared byte for byte after decoding: KELVIN SIGN is not K")
    func byteExactIDs() throws {
        #expect(throws: SASError(.wrongResource)) { try validateDevice(make("\(Vectors.host)/devices/dev\u{212A}"), device("devK")) }
        #expect(throws: SASError(.wrongResource)) { try validateDevice(make("\(Vectors.host)/devices/a\u{37E}b"), device("a;b")) }
        #expect(try validateDevice(make("\(Vectors.host)/devices/devK"), device("devK")) == .identityKey(primary: true))
    }

    @Test("ids with Azure's punctuation round-trip", arguments: ["a.b", "$edge", "100%", "a#b+c", "x?y=z", "(a),[b]".filter { $0 != "[" && $0 != "]" }, "o'neil;@!*:-_"])
    func punctuation(_ id: String) throws {
        #expect(try validateDevice(make("\(Vectors.host)/devices/\(id)"), device(id)) == .identityKey(primary: true))
        #expect(try validateDevice(make("\(Vectors.host)/devices/\(id)/modules/\(id)"), device(id, module: id)) == .identityKey(primary: true))
    }

    // MARK: policy tokens for devices

    @Test("a hub-scoped token of a DeviceConnect policy acts for any device")
    func policyForDevice() throws {
        #expect(try validateDevice(Vectors.serviceToken, device("dev1")) == .policy(name: "iothubowner"))
        #expect(try validateDevice(Vectors.serviceToken, device("anything", module: "m")) == .policy(name: "iothubowner"))
        #expect(try validateDevice(make(Vectors.host, keyName: "device"), device("dev9")) == .policy(name: "device"))
        #expect(try validateDevice(make(Vectors.host, key: secondary, keyName: "device"), device("dev9")) == .policy(name: "device"))
        #expect(try validateDevice(make("\(Vectors.host)/devices/dev9", keyName: "device"), device("dev9")) == .policy(name: "device"))
        #expect(throws: SASError(.wrongResource)) { try validateDevice(make("\(Vectors.host)/devices/dev9", keyName: "device"), device("dev1")) }
    }

    @Test("a policy without DeviceConnect, or no such policy, is UnknownPolicy")
    func policyWithoutRight() {
        #expect(throws: SASError(.unknownPolicy)) { try validateDevice(make(Vectors.host, keyName: "service"), device("dev1")) }
        #expect(throws: SASError(.unknownPolicy)) { try validateDevice(make(Vectors.host, keyName: "registryRead"), device("dev1")) }
        #expect(throws: SASError(.unknownPolicy)) { try validateDevice(make(Vectors.host, keyName: "nobody"), device("dev1")) }
    }

    @Test("a policy token signed with another key is InvalidSignature")
    func policyWrongKey() {
        #expect(throws: SASError(.invalidSignature)) { try validateDevice(make(Vectors.host, key: Vectors.otherKey, keyName: "device"), device("dev1")) }
    }

    @Test("a hub-scoped token without skn is not a device token")
    func hubScopeWithoutPolicy() {
        #expect(throws: SASError(.wrongResource)) { try validateDevice(make(Vectors.host), device("dev1")) }
    }

    // MARK: service tokens

    @Test("the §1.1 service vector is accepted with the policy's secondary key")
    func serviceVector() throws {
        #expect(try validateService(Vectors.serviceToken).name == "iothubowner")
        #expect(try validateService(make("localhost:8443", keyName: "service")).name == "service")
        #expect(try validateService(make("localhost:8443", key: secondary, keyName: "registryRead")).rights == .registryRead)
    }

    @Test("service tokens: skn required, hub scope only, right key only")
    func serviceRefusals() {
        #expect(throws: SASError(.unknownPolicy)) { try validateService(make(Vectors.host)) }
        #expect(throws: SASError(.unknownPolicy)) { try validateService(make(Vectors.host, keyName: "nobody")) }
        #expect(throws: SASError(.wrongResource)) { try validateService(make("\(Vectors.host)/devices/dev1", keyName: "service")) }
        #expect(throws: SASError(.wrongResource)) { try validateService(make("otherhub", keyName: "service")) }
        #expect(throws: SASError(.invalidSignature)) { try validateService(make(Vectors.host, key: Vectors.otherKey, keyName: "service")) }
        let flipped = Vectors.serviceToken.replacingOccurrences("iIzEw6", "iIzEw7")
        #expect(throws: SASError(.invalidSignature)) { try validateService(flipped) }
    }

    // MARK: expiry

    @Test("expiry honours the clock skew; lifetime is bounded; no overflow at the extremes")
    func expiry() throws {
        let resource = "\(Vectors.host)/devices/dev1"
        let at: Int64 = 1_800_000_000
        #expect(try validateDevice(make(resource, expiry: at - 300), device("dev1"), now: at) == .identityKey(primary: true))
        #expect(throws: SASError(.expired)) { try validateDevice(make(resource, expiry: at - 301), device("dev1"), now: at) }
        #expect(throws: SASError(.expired)) { try validateDevice(make(resource, expiry: 0), device("dev1"), now: at) }
        let year: Int64 = 365 * 24 * 3600
        #expect(try validateDevice(make(resource, expiry: at + year), device("dev1"), now: at) == .identityKey(primary: true))
        #expect(throws: SASError(.lifetimeTooLong)) { try validateDevice(make(resource, expiry: at + year + 1), device("dev1"), now: at) }
        #expect(throws: SASError(.lifetimeTooLong)) { try validateDevice(make(resource, expiry: .max), device("dev1"), now: at) }
        #expect(try validateDevice(make(resource, expiry: .max), device("dev1"), now: .max) == .identityKey(primary: true))
        #expect(throws: SASError(.lifetimeTooLong)) { try validateDevice(make(resource, expiry: 0), device("dev1"), now: .min) }
        #expect(throws: SASError(.expired)) { try validateService(Vectors.serviceToken, now: Vectors.expiry + 301) }
        #expect(throws: SASError(.lifetimeTooLong)) { try validateService(Vectors.serviceToken, now: Vectors.expiry - year - 1) }
    }

    @Test("with a zero or negative skew the arithmetic still saturates")
    func extremeConfiguration() throws {
        let strict = SASValidator(hostNames: [Vectors.host], clockSkewSeconds: 0, maximumLifetimeSeconds: .max)
        let token = try SASToken.parse(make("\(Vectors.host)/devices/dev1", expiry: .max))
        #expect(try strict.validateDeviceToken(token, identity: device("dev1"), keys: [Vectors.key], policy: { _ in nil }, now: 5) == .identityKey(primary: true))
        // Nonsensical settings refuse (rather than trap on overflow).
        let odd = SASValidator(hostNames: [Vectors.host], clockSkewSeconds: .min, maximumLifetimeSeconds: .min)
        for now in [Int64.min, -1, 0, 1, .max] {
            #expect(throws: SASError.self) {
                try odd.validateDeviceToken(token, identity: device("dev1"), keys: [Vectors.key], policy: { _ in nil }, now: now)
            }
        }
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// An independent `urllib.parse.quote` for building SDK-style encodings in tests.
enum PercentEncodingOracle {
    static func quote(_ text: String, safe: String) -> String {
        let keep = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8).union(safe.utf8)
        return text.utf8.map { keep.contains($0) ? String(UnicodeScalar($0)) : "%" + String($0, radix: 16, uppercase: true).leftPadded() }.joined()
    }
}

extension String {
    fileprivate func leftPadded() -> String { count == 1 ? "0" + self : self }
}
