import HubCore

/// Checks SAS tokens for a hub: its accepted host names, clock skew and maximum lifetime.
///
/// Checks run from cheapest to dearest, and each failure has its own code: scope (`sr`), then expiry
/// and lifetime, then the policy named by `skn`, and last the HMAC.
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
    ///
    /// - A token without `skn` is a device token: its scope must be exactly the identity (a device token
    ///   is not valid for one of its modules, nor a module token for the device), and it must verify
    ///   with one of `keys`; `keys[0]` is taken to be the primary key.
    /// - A token with `skn` is a policy token: its scope is the hub or exactly the identity (Azure's
    ///   "policy token scoped to one device"), the policy must have DeviceConnect, and it must verify
    ///   with the policy's primary or secondary key.
    /// - Ids in `sr` are compared byte for byte with the identity, after percent-decoding.
    public func validateDeviceToken(
        _ token: SASToken, identity: IdentityID, keys: [SharedAccessKey], policy: (String) -> AccessPolicy?, now: Int64
    ) throws(SASError) -> DeviceTokenGrant {
        switch scope(of: token.resource) {
        case nil:
            throw SASError(.wrongResource)
        case .hub:
            guard token.keyName != nil else { throw SASError(.wrongResource) }
        case .identity(let device, let module):
            guard device.utf8Equals(identity.device.rawValue) else { throw SASError(.wrongResource) }
            switch (module, identity.module) {
            case (nil, nil): break
            case (let presented?, let expected?) where presented.utf8Equals(expected.rawValue): break
            default: throw SASError(.wrongResource)
            }
        }
        try checkExpiry(token.expiry, now: now)
        if let name = token.keyName {
            guard let found = policy(name), found.rights.satisfies(.deviceConnect) else { throw SASError(.unknownPolicy) }
            guard token.isSigned(by: found.primaryKey) || token.isSigned(by: found.secondaryKey) else {
                throw SASError(.invalidSignature)
            }
            return .policy(name: found.name)
        }
        for (index, candidate) in keys.enumerated() where token.isSigned(by: candidate) {
            let isPrimary = index == 0
            return .identityKey(primary: isPrimary)
        }
        throw SASError(.invalidSignature)
    }

    /// Validates a service token (REST `Authorization` header): hub-scoped `sr`, `skn` naming a policy
    /// whose primary or secondary key signed it. Returns the policy (the caller checks its rights).
    ///
    /// A token without `skn` is `.unknownPolicy` (it names no policy).
    public func validateServiceToken(_ token: SASToken, policy: (String) -> AccessPolicy?, now: Int64) throws(SASError) -> AccessPolicy {
        guard case .hub = scope(of: token.resource) else { throw SASError(.wrongResource) }
        try checkExpiry(token.expiry, now: now)
        guard let name = token.keyName, let found = policy(name) else { throw SASError(.unknownPolicy) }
        guard token.isSigned(by: found.primaryKey) || token.isSigned(by: found.secondaryKey) else {
            throw SASError(.invalidSignature)
        }
        return found
    }

    // MARK: - Expiry

    /// `se + skew < now` is expired; `se > now + maximum lifetime` is too long. Sums saturate, so an
    /// `se` near `Int64.max` is "too long", never an overflow trap.
    func checkExpiry(_ expiry: Int64, now: Int64) throws(SASError) {
        if Self.saturatingAdd(expiry, clockSkewSeconds) < now { throw SASError(.expired) }
        if expiry > Self.saturatingAdd(now, maximumLifetimeSeconds) { throw SASError(.lifetimeTooLong) }
    }

    static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard overflow else { return sum }
        return b > 0 ? .max : .min
    }

    // MARK: - Scope

    /// What a decoded `sr` names.
    enum Scope: Equatable {
        /// `{host}`: the whole hub.
        case hub
        /// `{host}/devices/{d}` or `{host}/devices/{d}/modules/{m}` (ids still unchecked).
        case identity(device: Substring, module: Substring?)
    }

    /// The scope of a decoded `sr`, or nil when it names another host or no resource we know.
    ///
    /// Ids cannot contain `/` (Azure's character set), so splitting on `/` is unambiguous; empty ids,
    /// trailing slashes and extra levels are refused.
    func scope(of resource: String) -> Scope? {
        let parts = resource.split(separator: "/", omittingEmptySubsequences: false)
        guard let host = parts.first, acceptsHost(host) else { return nil }
        switch parts.count {
        case 1:
            return .hub
        case 3 where parts[1].utf8Equals("devices") && !parts[2].isEmpty:
            return .identity(device: parts[2], module: nil)
        case 5 where parts[1].utf8Equals("devices") && !parts[2].isEmpty && parts[3].utf8Equals("modules") && !parts[4].isEmpty:
            return .identity(device: parts[2], module: parts[4])
        default:
            return nil
        }
    }

    /// True when `host` is one of `hostNames`, ignoring ASCII case and a `:port` on either side.
    func acceptsHost<S: StringProtocol>(_ host: S) -> Bool {
        let presented = ASCII.lowercased(Self.withoutPort(host))
        guard !presented.isEmpty else { return false }
        return hostNames.contains { ASCII.lowercased(Self.withoutPort($0)).elementsEqual(presented) }
    }

    /// `host:443` → `host`, `[::1]:443` → `[::1]`; a bare IPv6 address (several colons) is left alone.
    static func withoutPort<S: StringProtocol>(_ host: S) -> S.SubSequence {
        let bytes = host.utf8
        func allDigits(_ s: S.SubSequence) -> Bool { !s.isEmpty && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let rest = host[host.index(after: close)...]
            if rest.hasPrefix(":"), allDigits(rest.dropFirst()) { return host[...close] }
            return host[...]
        }
        guard bytes.filter({ $0 == UInt8(ascii: ":") }).count == 1, let colon = host.firstIndex(of: ":") else { return host[...] }
        guard allDigits(host[host.index(after: colon)...]) else { return host[...] }
        return host[..<colon]
    }
}
