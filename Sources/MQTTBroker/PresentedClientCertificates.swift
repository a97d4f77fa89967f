import NIOCore
import NIOSSL
import Synchronization

/// Keeps the certificate chain a TLS client presented, for the hub's X.509 device authentication at
/// CONNECT, and accepts it at the TLS layer.
///
/// Create one per connection and hand its `callback` to
/// `NIOSSLServerHandler(context:customVerificationCallback:)`. BoringSSL calls it only when the client
/// presented a certificate (clients without one connect as usual), after checking that the client holds
/// the leaf's private key. The chain is *not* validated here: device certificates may be self-signed
/// (thumbprint authentication) or signed by CAs registered in the hub, so the authenticator decides,
/// from `chainDER`, when the client sends CONNECT. Without this callback the context from `ServerTLS`
/// refuses every presented certificate (it has no trust roots).
///
/// The broker installs one per TLS connection and hands the chain to the authenticator in
/// `ConnectRequest.peerCertificateChainDER`.
public final class PresentedClientCertificates: Sendable {
    private let chain = Mutex<[[UInt8]]>([])

    public init() {}

    /// DER bytes of the presented chain, leaf first; empty when the client presented none (or before the
    /// handshake finished).
    public var chainDER: [[UInt8]] { chain.withLock { $0 } }

    /// The verification callback: records the chain and accepts it.
    public var callback: NIOSSLCustomVerificationCallback {
        { [self] certificates, promise in
            let der = certificates.compactMap { try? $0.toDERBytes() }
            guard der.count == certificates.count else {
                promise.succeed(.failed)
                return
            }
            chain.withLock { $0 = der }
            promise.succeed(.certificateVerified)
        }
    }
}
