import HubAuth
import HubCore
import Testing

@Suite("Password hashing")
struct PasswordHasherTests {
    /// Small parameters so the suite stays fast; one test runs the default.
    static let fast = PasswordHasher.Parameters(logN: 4, r: 8, p: 1)

    @Test("hash then verify; a wrong password fails; salts differ")
    func roundTrip() {
        let hash = PasswordHasher.hash(password: "correct horse", parameters: Self.fast)
        #expect(hash.hasPrefix("$scrypt$ln=4,r=8,p=1$"))
        let fields = hash.split(separator: "$", omittingEmptySubsequences: false)
        #expect(fields.count == 5)
        #expect(fields[3].count == 22)  // 16 bytes, unpadded base64
        #expect(fields[4].count == 43)  // 32 bytes, unpadded base64
        #expect(PasswordHasher.verify(password: "correct horse", hash: hash))
        #expect(!PasswordHasher.verify(password: "correct horsf", hash: hash))
        #expect(!PasswordHasher.verify(password: "", hash: hash))
        #expect(PasswordHasher.hash(password: "correct horse", parameters: Self.fast) != hash)
        #expect(!hash.contains("correct"))
    }

    @Test("the RFC 7914 §12 vector 3 verifies (N=16384, r=8, p=1, 64-byte output), padded or not")
    func rfc7914() {
        let derived: [UInt8] = [
            0x70, 0x23, 0xbd, 0xcb, 0x3a, 0xfd, 0x73, 0x48, 0x46, 0x1c, 0x06, 0xcd, 0x81, 0xfd, 0x38, 0xeb,
            0xfd, 0xa8, 0xfb, 0xba, 0x90, 0x4f, 0x8e, 0x3e, 0xa9, 0xb5, 0x43, 0xf6, 0x54, 0x5d, 0xa1, 0xf2,
            0xd5, 0x43, 0x29, 0x55, 0x61, 0x3f, 0x0f, 0xcf, 0x62, 0xd4, 0x97, 0x05, 0x24, 0x2a, 0x9a, 0xf9,
            0xe6, 0x1e, 0x85, 0xdc, 0x0d, 0x65, 0x1e, 0x40, 0xdf, 0xcf, 0x01, 0x7b, 0x45, 0x57, 0x58, 0x87,
        ]
        let salt = Base64.encode(Array("SodiumChloride".utf8))
        let padded = "$scrypt$ln=14,r=8,p=1$\(salt)$\(Base64.encode(derived))"
        let unpadded = "$scrypt$ln=14,r=8,p=1$\(salt.filter { $0 != "=" })$\(Base64.encode(derived).filter { $0 != "=" })"
        #expect(padded.contains("="))
        #expect(PasswordHasher.verify(password: "pleaseletmein", hash: padded))
        #expect(PasswordHasher.verify(password: "pleaseletmein", hash: unpadded))
        #expect(!PasswordHasher.verify(password: "pleaseletmeim", hash: unpadded))
    }

    @Test("malformed hashes are false, never a crash", arguments: [
        "",
        "$",
        "$scrypt$",
        "scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=8$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$r=8,ln=4,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=0,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=64,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=99999999999999999999,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=20,r=32,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=0,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=8,p=0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=8,p=-1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=8,p=+1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln= 4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=8,p=1$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$",
        "$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
        "$scrypt$ln=4,r=8,p=1$A$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAA!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$",
        "$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "$scrypt$ln=4,r=8,p=1,x=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$scrypt$ln=4,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\u{0}",
    ])
    func malformed(_ hash: String) {
        #expect(!PasswordHasher.verify(password: "password", hash: hash))
    }

    @Test("the default parameters (N=2^17, r=8, p=1) work; timed")
    func defaultParameters() {
        let clock = ContinuousClock()
        var hash = ""
        let hashing = clock.measure { hash = PasswordHasher.hash(password: "hunter2") }
        var ok = false
        let verifying = clock.measure { ok = PasswordHasher.verify(password: "hunter2", hash: hash) }
        #expect(hash.hasPrefix("$scrypt$ln=17,r=8,p=1$"))
        #expect(ok)
        print("scrypt N=2^17 r=8 p=1: hash \(hashing), verify \(verifying)")
    }
}
