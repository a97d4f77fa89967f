/// Rights a shared access policy grants (Azure's permissions).
public struct AccessRights: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Read the identity registry.
    public static let registryRead = AccessRights(rawValue: 1 << 0)
    /// Create, update and delete identities (implies read).
    public static let registryWrite = AccessRights(rawValue: 1 << 1)
    /// Service-facing operations: twins, methods, queries, jobs, cloud-to-device messages.
    public static let serviceConnect = AccessRights(rawValue: 1 << 2)
    /// Act as any device on the device-facing endpoints.
    public static let deviceConnect = AccessRights(rawValue: 1 << 3)

    public static let all: AccessRights = [.registryRead, .registryWrite, .serviceConnect, .deviceConnect]

    /// Azure's names, in the order its APIs list them.
    public static let names: [(AccessRights, String)] = [
        (.registryRead, "RegistryRead"), (.registryWrite, "RegistryWrite"),
        (.serviceConnect, "ServiceConnect"), (.deviceConnect, "DeviceConnect"),
    ]

    /// True when these rights satisfy `required` (RegistryWrite counts as RegistryRead too).
    public func satisfies(_ required: AccessRights) -> Bool {
        var effective = self
        if effective.contains(.registryWrite) { effective.insert(.registryRead) }
        return effective.isSuperset(of: required)
    }

    /// `RegistryRead, RegistryWrite` style.
    public var description: String {
        Self.names.filter { contains($0.0) }.map(\.1).joined(separator: ", ")
    }

    /// Parses Azure's comma-separated form; nil on an unknown right.
    public init?(names text: String) {
        var rights: AccessRights = []
        for part in text.split(separator: ",") {
            let name = part.trimmingCharacters(in: " ")
            guard let right = Self.names.first(where: { $0.1.lowercased() == name.lowercased() })?.0 else { return nil }
            rights.insert(right)
        }
        self = rights
    }
}

/// A hub-level shared access policy: a named key pair with rights (Azure's `SharedAccessSignatureAuthorizationRule`).
public struct AccessPolicy: Hashable, Sendable {
    public var name: String
    public var rights: AccessRights
    public var primaryKey: SharedAccessKey
    public var secondaryKey: SharedAccessKey

    public init(name: String, rights: AccessRights, primaryKey: SharedAccessKey, secondaryKey: SharedAccessKey) {
        self.name = name
        self.rights = rights
        self.primaryKey = primaryKey
        self.secondaryKey = secondaryKey
    }

    /// The policies a new hub starts with, with fresh keys: Azure's five defaults, plus `deviceConnect`
    /// (the same rights as `device`, under the permission's own name).
    public static func defaults() -> [AccessPolicy] {
        let set: [(String, AccessRights)] = [
            ("iothubowner", .all),
            ("service", .serviceConnect),
            ("device", .deviceConnect),
            ("deviceConnect", .deviceConnect),
            ("registryRead", .registryRead),
            ("registryReadWrite", [.registryRead, .registryWrite]),
        ]
        return set.map { AccessPolicy(name: $0.0, rights: $0.1, primaryKey: .generate(), secondaryKey: .generate()) }
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
