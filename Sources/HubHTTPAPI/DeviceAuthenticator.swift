import HubAuth
import HubCore
import HubRegistry
import Logging

/// Checks the `Authorization: SharedAccessSignature …` header of a device-side HTTPS call against the
/// identity its path names (protocol reference §1, §6), as MQTT CONNECT does (`HubMQTTAuthenticator`):
///
/// - a device token (no `skn`), `sr={host}/devices/{d}[/modules/{m}]` for exactly that identity, signed
///   with its primary or secondary key;
/// - or a policy token (`skn={policy}`) whose policy has DeviceConnect (`device`, `iothubowner`), `sr`
///   the hub or exactly that identity, signed with the policy's key.
///
/// Signatures are compared in constant time (`SASToken.isSigned(by:)`). A token for another identity,
/// an unknown or disabled identity, an identity without SAS keys and a policy without DeviceConnect
/// are all **401** `IotHubUnauthorizedAccess`, as Azure answers; the answer does not say which (an
/// unauthenticated caller cannot tell which identities exist), the debug log does. X.509 devices have
/// no HTTPS credential here (client certificates are MQTT-only), so they use policy tokens.
///
/// Every call is checked afresh from the registry's credential cache, so disabling a device or
/// regenerating a key takes effect on its next request. Tokens are never logged.
struct DeviceAuthenticator: Sendable {
    /// Who called: the identity and what telemetry is stamped with.
    struct Caller: Sendable {
        var identity: IdentityID
        var generationID: String
    }

    let validator: SASValidator
    let registry: DeviceRegistry
    /// Seconds since 1970.
    let now: @Sendable () -> Int64
    let logger: Logger

    /// The header, or 401 when it is missing or longer than any real token: checked before anything
    /// else so that an anonymous request costs nothing.
    static func header(_ authorization: String?) throws(APIError) -> String {
        guard let header = authorization?.trimmingSpaces(), !header.isEmpty else {
            throw APIError(.unauthorizedAccess, "the request has no Authorization header")
        }
        guard header.utf8.count <= ServiceAuthenticator.maximumTokenLength else {
            throw APIError(.unauthorizedAccess, "the Authorization header is not a valid shared access signature")
        }
        return header
    }

    /// The caller, if `header` is a valid token for `identity` and the identity is enabled.
    func authenticate(_ header: String, as identity: IdentityID) async throws(APIError) -> Caller {
        let token: SASToken
        do {
            token = try SASToken.parse(header)
        } catch {
            throw APIError(.unauthorizedAccess, "the Authorization header is not a valid shared access signature")
        }
        guard let credentials = await registry.credentials(for: identity) else { throw refused(identity, "unknown identity") }
        guard credentials.status == .enabled else { throw refused(identity, "identity disabled") }
        var keys: [SharedAccessKey] = []
        if case .sas(let primary, let secondary) = credentials.authentication { keys = [primary, secondary] }
        do {
            _ = try validator.validateDeviceToken(token, identity: identity, keys: keys, policy: registry.policy(named:), now: now())
        } catch {
            // SASError's description is its code (WrongResource, InvalidSignature …): never the token.
            throw refused(identity, "\(error)")
        }
        return Caller(identity: identity, generationID: credentials.generationID)
    }

    /// One answer for every refusal; the reason goes to the debug log with the identity only.
    private func refused(_ identity: IdentityID, _ reason: String) -> APIError {
        logger.debug("device request refused", metadata: ["identity": "\(identity)", "reason": "\(reason)"])
        return APIError(.unauthorizedAccess, "the shared access signature was refused for this identity")
    }
}
