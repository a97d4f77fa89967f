import HubCore
import HubStorage
import Testing

/// Sample identities and helpers shared by the identity conformance suites and the registry tests.
public enum IdentitySamples {
    /// Device ids with every character SQL treats specially that Azure's id rules allow (`'`, `;`,
    /// `--`, `%`, `_`, parentheses…). `"` is not a legal id character; it appears in `awkwardNames`.
    public static let awkwardDeviceIDs: [DeviceID] = [
        "it's", "a;b", "x--y", "100%", "under_score", "a_c", "a%", "');DROP(TABLE);--", "*", "%_%", "$(x)", "=@!?#,+:.",
    ].map { DeviceID(rawValue: $0)! }

    /// Free-text names (policies, CAs, users) that SQL or Unicode could mangle, including two
    /// canonically equivalent spellings of "é" that must stay two different names, NUL and the empty string.
    public static let awkwardNames: [String] = [
        "it's", "say \"hi\"", "a;b", "x -- y", "100%", "under_score", "back\\slash",
        "'); DROP TABLE registry_mqtt_user; --", "tab\tnew\nline\r", "emoji 🚁📦", "日本語",
        "caf\u{E9}", "cafe\u{301}", "nul\u{0}inside", "\u{FEFF}bom", "right-to-left \u{202E}txet", " padded ", "",
    ]

    public static func id(_ raw: String) -> DeviceID { DeviceID(rawValue: raw)! }
    public static func moduleID(_ raw: String) -> ModuleID { ModuleID(rawValue: raw)! }

    /// A device with every optional field set, SAS keys and the given status.
    public static func device(_ id: DeviceID, etag: String = "e1", status: DeviceStatus = .enabled) -> Device {
        Device(
            id: id, generationID: "638000000000000001", etag: etag, status: status,
            statusReason: status == .disabled ? "maintenance; don't connect" : nil,
            statusUpdatedTime: Timestamp(rawValue: 1_700_000_000_123), authentication: .generatedSAS(),
            connectionState: .disconnected, connectionStateUpdatedTime: nil, lastActivityTime: nil,
            cloudToDeviceMessageCount: 3, isEdgeDevice: false, deviceScope: nil, parentScopes: [])
    }

    /// One device per authentication kind, with optional fields set and unset in turn.
    public static func devicesOfEveryKind() -> [Device] {
        [
            device(id("sas")),
            Device(
                id: id("self-signed"), generationID: "g2", etag: "MQ==", status: .disabled, statusReason: "",
                statusUpdatedTime: nil,
                authentication: .selfSigned(primaryThumbprint: String(repeating: "AB", count: 20), secondaryThumbprint: nil),
                connectionState: .connected, connectionStateUpdatedTime: Timestamp(rawValue: 5),
                lastActivityTime: Timestamp(rawValue: 6), cloudToDeviceMessageCount: 0, isEdgeDevice: true,
                deviceScope: "ms-azure-iot-edge://edge-1", parentScopes: ["ms-azure-iot-edge://p-1", "", "cafe\u{301}"]),
            Device(
                id: id("ca"), generationID: "g3", etag: "", statusReason: nil, authentication: .certificateAuthority,
                deviceScope: ""),
            Device(id: id("none"), generationID: "g4", etag: "x", authentication: .none),
            Device(
                id: id("both-thumbprints"), generationID: "g5", etag: "y",
                authentication: .selfSigned(
                    primaryThumbprint: String(repeating: "0F", count: 32), secondaryThumbprint: "not normalised: kept as given")),
        ]
    }

    public static func module(_ device: DeviceID, _ id: String, etag: String = "m1") -> Module {
        Module(
            deviceID: device, id: moduleID(id), generationID: "mg-\(id)", etag: etag, authentication: .generatedSAS(),
            managedBy: id == "edgeAgent" ? "IotEdge" : nil)
    }

    public static func policy(_ name: String, _ rights: AccessRights = .all) -> AccessPolicy {
        AccessPolicy(name: name, rights: rights, primaryKey: .generate(), secondaryKey: .generate())
    }

    public static func certificate(_ name: String, etag: String = "c1", verified: Bool = false) -> CACertificate {
        CACertificate(
            name: name, pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            thumbprint: String(repeating: "A1", count: 32), subject: "CN=Test CA, O=\"Meridian\"",
            notBefore: Timestamp(rawValue: 1_600_000_000_000), notAfter: Timestamp(rawValue: 1_900_000_000_000),
            isVerified: verified, verificationCode: verified ? nil : "0123ABCD", etag: etag,
            created: Timestamp(rawValue: 10), updated: Timestamp(rawValue: 11))
    }

    public static func user(_ name: String, etag: String = "u1") -> MQTTUser {
        MQTTUser(
            username: name, passwordHash: "$scrypt$ln=17,r=8,p=1$c2FsdA==$aGFzaA==",
            rules: [
                ACLRule(pattern: "sensors/%u/#", actions: .publish),
                ACLRule(pattern: "secret/#", actions: .all, allow: false),
                ACLRule(pattern: "cmd/%c", actions: .subscribe),
                ACLRule(pattern: name, actions: [], allow: true),
            ],
            etag: etag)
    }

    // MARK: byte-exact comparison

    /// Every string of a device as UTF-8 bytes: `==` on `Device` compares strings by canonical
    /// equivalence, so the suites compare these too.
    public static func strings(of d: Device) -> [[UInt8]] {
        var all = [d.id.rawValue, d.generationID, d.etag, d.statusReason ?? "<nil>", d.deviceScope ?? "<nil>"]
        all += d.parentScopes
        all += strings(of: d.authentication)
        return all.map { Array($0.utf8) }
    }

    public static func strings(of m: Module) -> [[UInt8]] {
        ([m.deviceID.rawValue, m.id.rawValue, m.generationID, m.etag, m.managedBy ?? "<nil>"] + strings(of: m.authentication))
            .map { Array($0.utf8) }
    }

    public static func strings(of c: CACertificate) -> [[UInt8]] {
        [c.name, c.pem, c.thumbprint, c.subject, c.verificationCode ?? "<nil>", c.etag].map { Array($0.utf8) }
    }

    public static func strings(of u: MQTTUser) -> [[UInt8]] {
        ([u.username, u.passwordHash, u.etag] + u.rules.map(\.pattern)).map { Array($0.utf8) }
    }

    static func strings(of a: DeviceAuthentication) -> [String] {
        if case .selfSigned(let p, let s) = a { return [p ?? "<nil>", s ?? "<nil>"] }
        return []
    }

    /// True when both lists are equal and every string in them is byte-equal.
    public static func exactlyEqual(_ a: [Device], _ b: [Device]) -> Bool { a == b && a.map(strings(of:)) == b.map(strings(of:)) }
    public static func exactlyEqual(_ a: [Module], _ b: [Module]) -> Bool { a == b && a.map(strings(of:)) == b.map(strings(of:)) }
    public static func exactlyEqual(_ a: [CACertificate], _ b: [CACertificate]) -> Bool {
        a == b && a.map(strings(of:)) == b.map(strings(of:))
    }
    public static func exactlyEqual(_ a: [MQTTUser], _ b: [MQTTUser]) -> Bool { a == b && a.map(strings(of:)) == b.map(strings(of:)) }
    public static func exactlyEqual(_ a: [AccessPolicy], _ b: [AccessPolicy]) -> Bool {
        a == b && a.map { Array($0.name.utf8) } == b.map { Array($0.name.utf8) }
    }

    /// Sorted by the UTF-8 bytes of `key`, the order every store lists in.
    public static func byteOrdered<T>(_ values: [T], by key: (T) -> String) -> [T] {
        values.sorted { Array(key($0).utf8).lexicographicallyPrecedes(Array(key($1).utf8)) }
    }

    /// Expects `body` to throw a `StorageError` with `code`.
    public static func expectStorageError(
        _ code: StorageError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async {
        let error = await #expect(throws: StorageError.self, sourceLocation: sourceLocation) { try await body() }
        #expect(error?.code == code, "expected \(code), got \(error.map { "\($0)" } ?? "nothing")", sourceLocation: sourceLocation)
    }
}
