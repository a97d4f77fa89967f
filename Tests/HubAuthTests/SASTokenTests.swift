import HubTestKit
import HubAuth
import HubCore
import PropertyBased
import Testing

@Suite("SAS tokens")
struct SASTokenTests {
    @Test("the §1.1 device vector parses and verifies")
    func deviceVector() throws {
        let token = try SASToken.parse(Vectors.deviceToken)
        #expect(token.rawResource == "myhub.azure-devices.net%2Fdevices%2Fdev1")
        #expect(token.resource == "myhub.azure-devices.net/devices/dev1")
        #expect(token.signature == "i+YmMcSSZc4KzBi6ejz3l0iL+2sN0CE3q6vSm837h2g=")
        #expect(token.expiry == Vectors.expiry)
        #expect(token.keyName == nil)
        #expect(token.isSigned(by: Vectors.key))
        #expect(!token.isSigned(by: Vectors.otherKey))
    }

    @Test("the §1.1 service vector (unescaped / in sig) parses and verifies")
    func serviceVector() throws {
        let token = try SASToken.parse(Vectors.serviceToken)
        #expect(token.rawResource == "myhub.azure-devices.net")
        #expect(token.resource == "myhub.azure-devices.net")
        #expect(token.signature == "iIzEw6hi6GK79RY5jNXO6QeQkSL/Ax4zTmy44X2G1VY=")
        #expect(token.keyName == "iothubowner")
        #expect(token.isSigned(by: Vectors.key))
    }

    @Test("make reproduces the vectors with Python's quote(safe=\"\")")
    func makeMatchesVectors() {
        #expect(SASToken.make(resourceURI: "myhub.azure-devices.net/devices/dev1", key: Vectors.key, expiry: Vectors.expiry) == Vectors.deviceToken)
        #expect(
            SASToken.make(resourceURI: Vectors.host, key: Vectors.key, expiry: Vectors.expiry, keyName: "iothubowner")
                == "SharedAccessSignature sr=myhub.azure-devices.net&sig=iIzEw6hi6GK79RY5jNXO6QeQkSL%2FAx4zTmy44X2G1VY%3D&se=1700000000&skn=iothubowner"
        )
        #expect(SASToken.make(resourceURI: "localhost:8443", key: Vectors.key, expiry: 1).hasPrefix("SharedAccessSignature sr=localhost%3A8443&"))
        #expect(SASToken.make(resourceURI: "a b~-._é", key: Vectors.key, expiry: 1).hasPrefix("SharedAccessSignature sr=a%20b~-._%C3%A9&"))
    }

    @Test("fields may come in any order", arguments: [
        "sr=myhub.azure-devices.net&sig=iIzEw6hi6GK79RY5jNXO6QeQkSL/Ax4zTmy44X2G1VY%3D&se=1700000000&skn=iothubowner",
        "sig=iIzEw6hi6GK79RY5jNXO6QeQkSL/Ax4zTmy44X2G1VY%3D&se=1700000000&sr=myhub.azure-devices.net&skn=iothubowner",
        "skn=iothubowner&se=1700000000&sig=iIzEw6hi6GK79RY5jNXO6QeQkSL/Ax4zTmy44X2G1VY%3D&sr=myhub.azure-devices.net",
        "se=1700000000&skn=iothubowner&sr=myhub.azure-devices.net&sig=iIzEw6hi6GK79RY5jNXO6QeQkSL%2FAx4zTmy44X2G1VY%3D",
    ])
    func anyOrder(_ body: String) throws {
        let token = try SASToken.parse("SharedAccessSignature " + body)
        #expect(token == (try SASToken.parse(Vectors.serviceToken)))
        #expect(token.isSigned(by: Vectors.key))
    }

    static let sr = "sr=myhub.azure-devices.net%2Fdevices%2Fdev1"
    static let sig = "sig=i%2BYmMcSSZc4KzBi6ejz3l0iL%2B2sN0CE3q6vSm837h2g%3D"
    static let se = "se=1700000000"

    static let malformed: [String] = [
        "",
        "SharedAccessSignature",
        "SharedAccessSignature ",
        "sharedaccesssignature \(sr)&\(sig)&\(se)",
        "SharedAccessSignature  \(sr)&\(sig)&\(se)",
        "Bearer \(sr)&\(sig)&\(se)",
        "SharedAccessSignature \(sig)&\(se)",
        "SharedAccessSignature \(sr)&\(se)",
        "SharedAccessSignature \(sr)&\(sig)",
        "SharedAccessSignature \(sr)&\(sr)&\(sig)&\(se)",
        "SharedAccessSignature \(sr)&\(sig)&\(sig)&\(se)",
        "SharedAccessSignature \(sr)&\(sig)&\(se)&\(se)",
        "SharedAccessSignature \(sr)&\(sig)&\(se)&skn=a&skn=a",
        "SharedAccessSignature \(sr)&\(sig)&se=abc",
        "SharedAccessSignature \(sr)&\(sig)&se=-1",
        "SharedAccessSignature \(sr)&\(sig)&se=+1700000000",
        "SharedAccessSignature \(sr)&\(sig)&se=01700000000",
        "SharedAccessSignature \(sr)&\(sig)&se= 1700000000",
        "SharedAccessSignature \(sr)&\(sig)&se=1700000000 ",
        "SharedAccessSignature \(sr)&\(sig)&se=1.7e9",
        "SharedAccessSignature \(sr)&\(sig)&se=9223372036854775808",
        "SharedAccessSignature \(sr)&\(sig)&se=18446744073709551616",
        "SharedAccessSignature \(sr)&\(sig)&se=99999999999999999999999999",
        "SharedAccessSignature sr=&\(sig)&\(se)",
        "SharedAccessSignature \(sr)&sig=&\(se)",
        "SharedAccessSignature \(sr)&\(sig)&se=",
        "SharedAccessSignature \(sr)&\(sig)&\(se)&skn=",
        "SharedAccessSignature \(sr)&&\(sig)&\(se)",
        "SharedAccessSignature \(sr)&\(sig)&\(se)&",
        "SharedAccessSignature &\(sr)&\(sig)&\(se)",
        "SharedAccessSignature \(sr)&\(sig)&\(se)&skn",
        "SharedAccessSignature \(sr)&\(sig)&\(se)&foo=bar",
        "SharedAccessSignature SR=myhub&\(sig)&\(se)",
        "SharedAccessSignature \(sr)&\(sig)&\(se)&=x",
        "SharedAccessSignature sr=myhub%2&\(sig)&\(se)",
        "SharedAccessSignature sr=myhub%&\(sig)&\(se)",
        "SharedAccessSignature sr=myhub%zz&\(sig)&\(se)",
        "SharedAccessSignature sr=myhub%FF&\(sig)&\(se)",
        "SharedAccessSignature sr=myhub%C3&\(sig)&\(se)",
        "SharedAccessSignature \(sr)&sig=abc%g0&\(se)",
        "SharedAccessSignature \(sr)&\(sig)&\(se)&skn=a%2",
        "SharedAccessSignature sr=\(String(repeating: "a", count: 5000))&\(sig)&\(se)",
    ]

    @Test("malformed tokens are refused with MalformedToken, never a crash", arguments: malformed)
    func refusesMalformed(_ text: String) {
        #expect(throws: SASError(.malformed)) { try SASToken.parse(text) }
    }

    @Test("se at Int64.max and 0 parse")
    func expiryBounds() throws {
        #expect(try SASToken.parse("SharedAccessSignature \(Self.sr)&\(Self.sig)&se=9223372036854775807").expiry == .max)
        #expect(try SASToken.parse("SharedAccessSignature \(Self.sr)&\(Self.sig)&se=0").expiry == 0)
    }

    @Test("+ in sig and sr is not a space; %2B and + decode alike")
    func plusIsNotSpace() throws {
        let raw = try SASToken.parse("SharedAccessSignature sr=a+b%2Bc&sig=i+YmMcSSZc4KzBi6ejz3l0iL+2sN0CE3q6vSm837h2g%3D&se=1700000000")
        #expect(raw.resource == "a+b+c")
        #expect(raw.rawResource == "a+b%2Bc")
        #expect(raw.signature == "i+YmMcSSZc4KzBi6ejz3l0iL+2sN0CE3q6vSm837h2g=")
    }

    @Test("a flipped bit anywhere in sig fails")
    func bitFlips() throws {
        let token = try SASToken.parse(Vectors.deviceToken)
        let mac = Base64.decode(token.signature)!
        for byte in mac.indices {
            for bit in 0..<8 {
                var flipped = mac
                flipped[byte] ^= 1 << bit
                var forged = token
                forged.signature = Base64.encode(flipped)
                #expect(!forged.isSigned(by: Vectors.key), "byte \(byte) bit \(bit)")
            }
        }
    }

    @Test("truncated, over-padded, non-canonical and non-base64 signatures fail", arguments: [
        "i+YmMcSSZc4KzBi6ejz3l0iL+2sN0CE3q6vSm837h2g",
        "i+YmMcSSZc4KzBi6ejz3l0iL+2sN0CE3q6vSm837h2",
        "i+YmMcSSZc4KzBi6ejz3l0iL+2sN0CE3q6vSm837",
        "i+YmMcSSZc4KzBi6ejz3l0iL+2sN0CE3q6vSm837h2g==",
        "i+YmMcSSZc4KzBi6ejz3l0iL+2sN0CE3q6vSm837h2g=AAAA",
        "i+YmMcSSZc4KzBi6ejz3l0iL+2sN0CE3q6vSm837h2h=",
        "i YmMcSSZc4KzBi6ejz3l0iL 2sN0CE3q6vSm837h2g=",
        "i-YmMcSSZc4KzBi6ejz3l0iL_2sN0CE3q6vSm837h2g=",
        "AAAA",
        "",
    ])
    func badSignatures(_ signature: String) throws {
        var token = try SASToken.parse(Vectors.deviceToken)
        token.signature = signature
        #expect(!token.isSigned(by: Vectors.key))
    }

    @Test("URL-encoding variants of sr change the signed string and fail", arguments: [
        "myhub.azure-devices.net%2fdevices%2fdev1",
        "myhub.azure-devices.net/devices/dev1",
        "myhub.azure-devices.net%2Fdevices/dev1",
        "myhub%2Eazure-devices.net%2Fdevices%2Fdev1",
        "MYHUB.azure-devices.net%2Fdevices%2Fdev1",
    ])
    func encodingVariants(_ rawResource: String) throws {
        let text = "SharedAccessSignature sr=\(rawResource)&sig=i%2BYmMcSSZc4KzBi6ejz3l0iL%2B2sN0CE3q6vSm837h2g%3D&se=1700000000"
        let token = try SASToken.parse(text)
        #expect(!token.isSigned(by: Vectors.key))
    }

    @Test("another se fails")
    func otherExpiry() throws {
        var token = try SASToken.parse(Vectors.deviceToken)
        token.expiry += 1
        #expect(!token.isSigned(by: Vectors.key))
    }

    @Test("make → parse round-trips any resource byte-exactly and verifies")
    func roundTrip() async {
        let pieces = ["a", "Z", "0", "/", ":", "%", "&", "=", "+", " ", "?", "#", "$", "~", "é", "K", "\u{212A}", "😀", "\n", "'"]
        let input = Dice.generator { dice in
            (0..<dice.int(1...24)).map { _ in dice.pick(pieces) }.joined()
        }
        await propertyCheck(count: 1_000, input: input) { resource in
            let text = SASToken.make(resourceURI: resource, key: Vectors.key, expiry: 1_800_000_000, keyName: "device")
            let token = try SASToken.parse(text)
            #expect(token.resource.utf8.elementsEqual(resource.utf8))
            #expect(token.rawResource.utf8.allSatisfy { $0 == UInt8(ascii: "%") || $0 < 0x80 && $0 != UInt8(ascii: "&") })
            #expect(token.keyName == "device")
            #expect(token.isSigned(by: Vectors.key))
            #expect(!token.isSigned(by: Vectors.otherKey))
        }
    }

    @Test("descriptions, debug descriptions and dumps of a token never show the signature")
    func redacted() throws {
        let token = try SASToken.parse(Vectors.serviceToken)
        var dumped = ""
        dump(token, to: &dumped)
        for text in [token.description, String(describing: token), String(reflecting: token), "\(token)", dumped] {
            #expect(!text.contains("iIzEw6hi6GK79RY5"), "\(text)")
            #expect(text.contains("<redacted>"))
        }
        #expect(token.description == "SASToken(sr: myhub.azure-devices.net, se: 1700000000, skn: iothubowner, sig: <redacted>)")
    }

    @Test("error descriptions are codes only")
    func errorsCarryCodesOnly() {
        do {
            _ = try SASToken.parse(Vectors.deviceToken + "&sig=x")
            Issue.record("duplicate sig accepted")
        } catch {
            #expect(error.description == "MalformedToken")
            #expect(!"\(error)".contains("i%2BYmMc"))
        }
    }
}
