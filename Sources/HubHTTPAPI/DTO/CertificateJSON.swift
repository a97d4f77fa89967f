import HubCore

/// CA certificates in the shape of Azure's management-plane `CertificateDescription`:
/// `{"name","etag","properties":{"subject","thumbprint","isVerified","expiry","created","updated",
/// "certificate","verificationCode"?}}`. Times are ISO 8601 (Azure writes RFC 1123 here; see
/// docs/rest-api.md). `verificationCode` appears while the certificate awaits proof of possession.
enum CertificateJSON {
    static func encode(_ certificate: CACertificate) -> JSONValue {
        var properties = JSONObject([
            "subject": .string(certificate.subject),
            "thumbprint": .string(certificate.thumbprint),
            "isVerified": .bool(certificate.isVerified),
            "expiry": .string(Timestamp.azureText(certificate.notAfter)),
            "created": .string(Timestamp.azureText(certificate.created)),
            "updated": .string(Timestamp.azureText(certificate.updated)),
            "certificate": .string(certificate.pem),
        ])
        if let code = certificate.verificationCode, !certificate.isVerified {
            properties["verificationCode"] = .string(code)
        }
        return .object(JSONObject(["name": .string(certificate.name), "etag": .string(certificate.etag), "properties": .object(properties)]))
    }

    /// `{"certificate":"<PEM>"}`: the body of PUT and of verify.
    static func decodePEM(_ value: JSONValue) throws(APIError) -> String {
        let reader = try JSONReader(value)
        try reader.allowOnly(["certificate"])
        let pem = try reader.requiredString("certificate")
        guard pem.contains("-----BEGIN CERTIFICATE-----") else { throw .invalid("certificate must be a PEM certificate") }
        return pem
    }
}
