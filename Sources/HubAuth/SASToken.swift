import Crypto
import HubCore

#if canImport(FoundationEssentials)
import FoundationEssentials  // [UInt8]: ContiguousBytes for HMAC
#else
import Foundation
#endif

/// A parsed `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]` token (Azure IoT Hub §1.1).
///
/// Parsing is strict, because every field feeds either the signed string or an authorization
/// decision: the four known fields only, each at most once, no empty values, valid `%` escapes, and
/// `se` a canonical non-negative decimal that fits `Int64` (so `String(expiry)` is exactly the `se` text
/// that was signed).
public struct SASToken: Sendable, Hashable {
    /// `sr` exactly as it appears in the token (still percent-encoded): the signed string uses it.
    public var rawResource: String
    /// `sr` percent-decoded (`+` is not a space): decides the token's scope.
    public var resource: String
    /// `sig` percent-decoded: base64 of the HMAC-SHA256.
    public var signature: String
    /// `se`: expiry, seconds since 1970.
    public var expiry: Int64
    /// `skn`: the policy name, for policy tokens.
    public var keyName: String?

    public init(rawResource: String, resource: String, signature: String, expiry: Int64, keyName: String?) {
        self.rawResource = rawResource
        self.resource = resource
        self.signature = signature
        self.expiry = expiry
        self.keyName = keyName
    }

    /// The literal that starts every token (case-sensitive, one space).
    public static let prefix = "SharedAccessSignature "
    /// Longest token accepted, in UTF-8 bytes. A device token for a 128-character device and module id
    /// under a 253-character host name, fully percent-encoded, stays well below it.
    public static let maximumLength = 4096

    /// Parses a token; fields in any order; a missing, duplicated or malformed field is `.malformed`.
    ///
    /// Malformed also covers: a missing prefix, an empty field (`&&`), a field without `=`, an unknown
    /// field name, an empty value, an invalid `%` escape or escapes that do not decode to UTF-8, and an
    /// `se` that is not `0` or a decimal without leading zeros, sign or spaces that fits `Int64`.
    public static func parse(_ token: String) throws(SASError) -> SASToken {
        let bytes = token.utf8
        guard bytes.count <= maximumLength, bytes.starts(with: prefix.utf8) else { throw .malformed }
        let body = bytes.dropFirst(prefix.utf8.count)

        // sr, sig, se, skn: the only fields a token has.
        var fields: [Substring.UTF8View?] = [nil, nil, nil, nil]
        for field in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else { throw .malformed }
            let name = field[field.startIndex..<equals]
            let value = field[field.index(after: equals)...]
            guard !value.isEmpty, let slot = fieldNames.firstIndex(where: { name.elementsEqual($0.utf8) }) else {
                throw .malformed
            }
            guard fields[slot] == nil else { throw .malformed }
            fields[slot] = value
        }
        guard let rawResource = fields[0], let rawSignature = fields[1], let rawExpiry = fields[2] else { throw .malformed }
        guard let expiry = parseExpiry(rawExpiry),
            let resource = PercentEncoding.decode(rawResource),
            let signature = PercentEncoding.decode(rawSignature)
        else { throw .malformed }
        var keyName: String?
        if let rawKeyName = fields[3] {
            guard let decoded = PercentEncoding.decode(rawKeyName), !decoded.isEmpty else { throw .malformed }
            keyName = decoded
        }
        return SASToken(
            rawResource: String(Substring(rawResource)), resource: resource, signature: signature, expiry: expiry,
            keyName: keyName)
    }

    private static let fieldNames = ["sr", "sig", "se", "skn"]

    /// `0`, or `[1-9][0-9]*` up to `Int64.max`; nil for anything else (sign, spaces, leading zeros, overflow).
    static func parseExpiry<Bytes: Collection<UInt8>>(_ text: Bytes) -> Int64? {
        guard let first = text.first, text.count <= 19 else { return nil }
        guard first != UInt8(ascii: "0") || text.count == 1 else { return nil }
        var value: Int64 = 0
        for byte in text {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    /// Builds a token the way the Azure SDKs do: `sr` = `resourceURI` percent-encoded with no safe
    /// characters, `sig` = percent-encoded base64 HMAC-SHA256 of `encoded sr + "\n" + expiry`.
    ///
    /// `skn`, when given, is percent-encoded the same way (policy names are plain in practice, so this
    /// only matters for names containing `&` or `=`). A negative `expiry` makes a token `parse` refuses.
    public static func make(resourceURI: String, key: SharedAccessKey, expiry: Int64, keyName: String? = nil) -> String {
        let sr = PercentEncoding.encode(resourceURI)
        let mac = HMAC<SHA256>.authenticationCode(for: stringToSign(rawResource: sr, expiry: expiry), using: SymmetricKey(data: key.bytes))
        let sig = PercentEncoding.encode(Base64.encode(Array(mac)))
        var token = "\(prefix)sr=\(sr)&sig=\(sig)&se=\(expiry)"
        if let keyName { token += "&skn=\(PercentEncoding.encode(keyName))" }
        return token
    }

    /// True when `signature` is the HMAC of `rawResource + "\n" + expiry` under `key`, compared in
    /// constant time (swift-crypto `HMAC.isValidAuthenticationCode`).
    ///
    /// The signature is base64-decoded first (canonical base64 only; anything else is simply not a
    /// valid signature) and the decoded bytes are compared, so the time taken does not depend on how
    /// many leading characters of a guess were right.
    public func isSigned(by key: SharedAccessKey) -> Bool {
        guard let mac = StrictBase64.decode(signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: Self.stringToSign(rawResource: rawResource, expiry: expiry), using: SymmetricKey(data: key.bytes))
    }

    /// `raw sr + "\n" + se`, as bytes.
    static func stringToSign(rawResource: String, expiry: Int64) -> [UInt8] {
        Array(rawResource.utf8) + [UInt8(ascii: "\n")] + Array(String(expiry).utf8)
    }
}
