/// A certificate authority registered with the hub for `certificateAuthority` device authentication.
///
/// Registration alone does not make it trusted: as in Azure, the owner proves possession of the CA's
/// private key by signing a certificate whose subject CN is `verificationCode`; only then is
/// `isVerified` set and devices chaining to it accepted.
public struct CACertificate: Hashable, Sendable {
    /// Unique name chosen by the operator.
    public var name: String
    /// The certificate, PEM.
    public var pem: String
    /// SHA-256 of the DER, upper-case hex.
    public var thumbprint: String
    public var subject: String
    public var notBefore: Timestamp
    public var notAfter: Timestamp
    public var isVerified: Bool
    /// Random code to put in the proof-of-possession certificate's CN; regenerated on request.
    public var verificationCode: String?
    public var etag: String
    public var created: Timestamp
    public var updated: Timestamp

    public init(
        name: String, pem: String, thumbprint: String, subject: String, notBefore: Timestamp, notAfter: Timestamp,
        isVerified: Bool = false, verificationCode: String? = nil, etag: String, created: Timestamp, updated: Timestamp
    ) {
        self.name = name
        self.pem = pem
        self.thumbprint = thumbprint
        self.subject = subject
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.isVerified = isVerified
        self.verificationCode = verificationCode
        self.etag = etag
        self.created = created
        self.updated = updated
    }
}
