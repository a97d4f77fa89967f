import HubAuth
import HubCore

/// Checks the `Authorization: SharedAccessSignature …` header of a service REST call against the hub's
/// shared access policies, and the policy's rights against the route's.
///
/// Every call is checked afresh (no session, no cache beyond the registry's in-memory policies), so a
/// regenerated policy key takes effect on the next request.
struct ServiceAuthenticator: Sendable {
    let validator: SASValidator
    /// The policy with that name (`DeviceRegistry.policy(named:)`), from memory.
    let policy: @Sendable (String) -> AccessPolicy?
    /// Seconds since 1970.
    let now: @Sendable () -> Int64

    /// Longest `Authorization` value read; real tokens are about 200 bytes.
    static let maximumTokenLength = 4096

    /// The caller's policy, if its token is valid and its rights satisfy `required`.
    /// 401 `IotHubUnauthorizedAccess` for a missing, malformed, expired or wrongly signed token;
    /// 403 `IotHubUnauthorized` for a valid token whose policy lacks the rights.
    func authorize(_ authorization: String?, required: AccessRights) throws(APIError) -> AccessPolicy {
        guard let header = authorization?.trimmingSpaces(), !header.isEmpty else {
            throw APIError(.unauthorizedAccess, "the request has no Authorization header")
        }
        guard header.utf8.count <= Self.maximumTokenLength else {
            throw APIError(.unauthorizedAccess, "the Authorization header is not a valid shared access signature")
        }
        let caller: AccessPolicy
        do {
            let token = try SASToken.parse(header)
            caller = try validator.validateServiceToken(token, policy: policy, now: now())
        } catch {
            // SASError's description is its code (TokenExpired, InvalidSignature …): never the token.
            throw APIError(.unauthorizedAccess, "the shared access signature was refused (\(error))")
        }
        guard caller.rights.satisfies(required) else {
            throw APIError(.forbidden, "policy \(caller.name) does not have \(required) rights")
        }
        return caller
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
