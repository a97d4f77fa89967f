import SwiftASN1
import X509

/// The device-specific half of chain validation, run by swift-certificates' `Verifier` next to
/// `RFC5280Policy` (which checks validity at a fixed time, path length and name constraints):
///
/// - every certificate above the leaf asserts basicConstraints `CA:TRUE`, whatever its version
///   (`RFC5280Policy` lets v1 certificates act as CAs; a device hub has no reason to);
/// - the leaf, when it has an extendedKeyUsage extension, allows `clientAuth` (or `anyExtendedKeyUsage`).
struct DeviceChainPolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [
        .X509ExtensionID.basicConstraints,
        .X509ExtensionID.extendedKeyUsage,
    ]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        guard (try? X509DeviceVerifier.allowsClientAuth(chain.leaf)) == true else {
            return .failsToMeetPolicy(reason: "leaf does not allow clientAuth")
        }
        for issuer in chain.dropFirst() where !X509DeviceVerifier.isCertificateAuthority(issuer) {
            return .failsToMeetPolicy(reason: "issuer is not a CA")
        }
        return .meetsPolicy
    }
}
