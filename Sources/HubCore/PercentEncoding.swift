/// RFC 3986 percent-encoding as the Azure SDKs use it, without Foundation.
///
/// Decoding is *percent-decoding only*: `+` stays `+` (it is a space only in HTML forms, and a SAS
/// signature is base64, full of `+`). Encoding matches Python's `urllib.parse.quote(s, safe="")`:
/// the RFC 3986 unreserved characters `A-Z a-z 0-9 - . _ ~` are kept, every other UTF-8 byte becomes
/// `%XX` with upper-case hex. Shared by SAS tokens (HubAuth), property bags (HubMessaging), device
/// usernames (HubAccess) and URL paths (HubHTTPAPI).
public enum PercentEncoding {
    /// Decodes `%XX` escapes; nil when a `%` is not followed by two hex digits or the result is not UTF-8.
    public static func decode<Bytes: Collection<UInt8>>(_ text: Bytes) -> String? {
        guard let bytes = decodeBytes(text) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Decodes `%XX` escapes into raw bytes; nil on a truncated or non-hex escape.
    public static func decodeBytes<Bytes: Collection<UInt8>>(_ text: Bytes) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var index = text.startIndex
        while index != text.endIndex {
            let byte = text[index]
            text.formIndex(after: &index)
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard index != text.endIndex, let high = hexValue(text[index]) else { return nil }
            text.formIndex(after: &index)
            guard index != text.endIndex, let low = hexValue(text[index]) else { return nil }
            text.formIndex(after: &index)
            out.append(high << 4 | low)
        }
        return out
    }

    /// `quote(text, safe="")`: everything but the RFC 3986 unreserved characters becomes `%XX`.
    public static func encode(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        encode(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `text` to `out`, encoded as `encode(_:)` does (for building property bags in place).
    public static func encode(_ text: String, into out: inout [UInt8]) {
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHex[Int(byte >> 4)])
                out.append(upperHex[Int(byte & 0x0F)])
            }
        }
    }

    /// RFC 3986 §2.3 unreserved: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static let upperHex = Array("0123456789ABCDEF".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
