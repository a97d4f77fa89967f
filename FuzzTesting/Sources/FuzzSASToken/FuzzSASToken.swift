import Crypto
import HubAuth
import HubCore

/// libFuzzer entry point for SAS tokens (reliability plan §2(a), target `FuzzSASToken`).
///
/// Input: token bytes, then optionally a NUL byte and a resource URI (`token \0 resource`).
/// Oracle (a violation traps, so libFuzzer saves the input):
/// - nothing traps in `SASToken.parse`, `isSigned(by:)`, `SASValidator` or `make`;
/// - when the token parses, `isSigned(by: key)` agrees with an independent recomputation under the
///   fixed test key: its own split of the token text, HMAC-SHA256 of the *raw* `sr` + "\n" + raw
///   `se`, base64, compared with its own percent-decoding of `sig` as strings by an OR-of-XORs loop
///   (not swift-crypto's byte compare);
/// - when the resource is not empty, `make(resource)` parses back to that resource byte for byte,
///   is signed according to both `isSigned` and the oracle, and not signed under another key.
///
/// The fixed key is the protocol reference's §1.1 test key, so its vectors are valid seeds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSASToken(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let split = input.firstIndex(of: 0) ?? input.endIndex
    let tokenText = String(decoding: input[..<split], as: UTF8.self)
    let resource = split < input.endIndex ? String(decoding: input[(split + 1)...], as: UTF8.self) : ""

    if let token = try? SASToken.parse(tokenText) {
        let accepted = token.isSigned(by: testKey)
        guard accepted == Oracle.isSigned(tokenText, key: testKey.bytes) else {
            fatalError("isSigned says \(accepted), the independent recomputation disagrees")
        }
        let validator = SASValidator(hostNames: ["myhub.azure-devices.net", "localhost:8443"])
        let identity = IdentityID(device: DeviceID(rawValue: "dev1")!)
        let policy = AccessPolicy(name: "iothubowner", rights: .all, primaryKey: testKey, secondaryKey: otherKey)
        _ = try? validator.validateDeviceToken(token, identity: identity, keys: [testKey], policy: { _ in policy }, now: 1_700_000_000)
        _ = try? validator.validateServiceToken(token, policy: { _ in policy }, now: token.expiry)
    }

    if !resource.isEmpty {
        let made = SASToken.make(resourceURI: resource, key: testKey, expiry: 1_700_000_000, keyName: resource.utf8.count % 2 == 0 ? "device" : nil)
        if made.utf8.count <= SASToken.maximumLength {
            guard let token = try? SASToken.parse(made) else { fatalError("a made token does not parse") }
            guard token.resource.utf8.elementsEqual(resource.utf8) else { fatalError("the resource does not round-trip") }
            guard token.isSigned(by: testKey), Oracle.isSigned(made, key: testKey.bytes) else { fatalError("a made token is not signed") }
            guard !token.isSigned(by: otherKey) else { fatalError("a made token verifies under another key") }
        }
    }
    return 0
}

extension UInt8 {
    /// 0-9, A-F, a-f (`| 0x20` would otherwise fold other bytes onto the digits).
    fileprivate var isASCIIHexCandidate: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}

private let testKey = try! SharedAccessKey(bytes: Array(0...31))
private let otherKey = try! SharedAccessKey(bytes: Array(repeating: 0xA5, count: 32))

/// The independent recomputation, sharing no code with HubAuth's parser or comparison.
enum Oracle {
    static func isSigned(_ text: String, key: [UInt8]) -> Bool {
        let prefix = Array("SharedAccessSignature ".utf8)
        let bytes = Array(text.utf8)
        guard bytes.count >= prefix.count, Array(bytes[0..<prefix.count]) == prefix else { return false }
        var sr: [UInt8]?
        var se: [UInt8]?
        var sig: [UInt8]?
        for field in bytes[prefix.count...].split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            guard let eq = field.firstIndex(of: UInt8(ascii: "=")) else { return false }
            let name = String(decoding: field[field.startIndex..<eq], as: UTF8.self)
            let value = Array(field[(eq + 1)...])
            switch name {
            case "sr": sr = value
            case "se": se = value
            case "sig": sig = value
            default: break
            }
        }
        guard let sr, let se, let sig, let decoded = percentDecode(sig) else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: sr + [0x0A] + se, using: SymmetricKey(data: key))
        let expected = Array(base64(Array(mac)).utf8)
        guard expected.count == decoded.count else { return false }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= expected[index] ^ decoded[index] }
        return difference == 0
    }

    static func percentDecode(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) else { return nil }
                out.append(high * 16 + low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    static func hex(_ c: UInt8) -> UInt8? {
        let digits = Array("0123456789abcdef".utf8)
        let lower = c | 0x20
        guard c.isASCIIHexCandidate, let value = digits.firstIndex(of: lower) else { return nil }
        return UInt8(value)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let n = (UInt32(chunk[0]) << 16) | (UInt32(chunk.count > 1 ? chunk[1] : 0) << 8) | UInt32(chunk.count > 2 ? chunk[2] : 0)
            out.append(alphabet[Int((n >> 18) & 63)])
            out.append(alphabet[Int((n >> 12) & 63)])
            out.append(chunk.count > 1 ? alphabet[Int((n >> 6) & 63)] : "=")
            out.append(chunk.count > 2 ? alphabet[Int(n & 63)] : "=")
            index += 3
        }
        return out
    }
}
