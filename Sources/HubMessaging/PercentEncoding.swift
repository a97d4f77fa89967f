/// RFC 3986 percent-encoding for property bags, without Foundation.
///
/// Decoding is percent-decoding only: `+` stays `+` (it means a space only in HTML forms; the Azure SDKs
/// encode a space as `%20`, protocol reference trap 3). Encoding keeps the RFC 3986 unreserved
/// characters `A-Z a-z 0-9 - . _ ~` and turns every other byte into `%XX` with upper-case hex, as
/// Python's `urllib.parse.quote(s, safe="")` and the real hub do — in particular every `/`, which the
/// Python SDK would otherwise take for a topic level (trap 4).
///
/// HubAuth has the same rules for SAS tokens; HubMessaging keeps its own copy rather than depend on
/// HubAuth (and its crypto) for twenty lines.
enum PercentEncoding {
    /// Decodes `%XX` escapes into raw bytes; nil on a truncated or non-hex escape.
    static func decode(_ text: Substring.UTF8View) -> [UInt8]? {
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

    /// Appends `text` to `out` with everything but the RFC 3986 unreserved characters as `%XX`.
    static func encode(_ text: String, into out: inout [UInt8]) {
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
    static func isUnreserved(_ byte: UInt8) -> Bool {
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
