import HubCore

/// Base64 decoding that accepts only the canonical encoding of each byte string.
///
/// `HubCore.Base64.decode` ignores the unused low bits of the last character, so `…h2g=` and `…h2h=`
/// decode to the same bytes. A signature is compared as bytes, so this would not let anyone forge one,
/// but it would make signatures malleable and let our answer differ from a string comparison (which is
/// what Azure does and what the fuzz oracle does). Here the unused bits must be zero.
enum StrictBase64 {
    static func decode(_ text: String) -> [UInt8]? {
        guard let bytes = Base64.decode(text) else { return nil }
        let chars = Array(text.utf8)
        guard let last = chars.lastIndex(where: { $0 != UInt8(ascii: "=") }) else { return bytes }
        let padding = chars.count - 1 - last
        guard let value = sextet(chars[last]) else { return nil }
        switch padding {
        case 1: return value & 0x03 == 0 ? bytes : nil
        case 2: return value & 0x0F == 0 ? bytes : nil
        default: return bytes
        }
    }

    private static func sextet(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
