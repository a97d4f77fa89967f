import HubCore
import HubStorage
import Testing

@Suite("MasterKeySealer")
struct MasterKeySealerTests {
    let sealer = MasterKeySealer(current: .generate())

    @Test("seal then open gives the plaintext back", arguments: [0, 1, 16, 32, 64, 1000])
    func roundTrip(length: Int) throws {
        let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let sealed = try sealer.seal(plaintext, context: "device/dev1/primary")
        #expect(sealed.count == 1 + 4 + 12 + length + 16)
        #expect(sealed[0] == MasterKeySealer.formatVersion)
        #expect(try sealer.open(sealed, context: "device/dev1/primary") == plaintext)
    }

    @Test("every seal uses a fresh nonce")
    func freshNonce() throws {
        let plaintext = Array(repeating: UInt8(1), count: 32)
        let a = try sealer.seal(plaintext, context: "c")
        let b = try sealer.seal(plaintext, context: "c")
        #expect(a != b)
        #expect(a[5..<17] != b[5..<17])
    }

    @Test("a value sealed for one context does not open in another")
    func wrongContext() throws {
        let sealed = try sealer.seal([1, 2, 3], context: "device/dev1/primary")
        for other in ["device/dev1/secondary", "device/dev2/primary", "", "device/dev1/primary ", "Device/dev1/primary"] {
            #expect(throws: StorageError.self) { try sealer.open(sealed, context: other) }
        }
        // Canonically equivalent contexts are different bytes, so they do not open either.
        let composed = try sealer.seal([9], context: "policy/caf\u{E9}/primary")
        let error = #expect(throws: StorageError.self) { try sealer.open(composed, context: "policy/cafe\u{301}/primary") }
        #expect(error?.code == .corrupt)
    }

    @Test("any changed byte is detected: header, nonce, ciphertext or tag")
    func tampering() throws {
        let sealed = try sealer.seal(Array(repeating: 0xAB, count: 32), context: "c")
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x01
            let error = #expect(throws: StorageError.self) { try sealer.open(tampered, context: "c") }
            #expect(error?.code == .corrupt)
        }
        // Truncated or extended values fail too.
        #expect(throws: StorageError.self) { try sealer.open(Array(sealed.dropLast()), context: "c") }
        #expect(throws: StorageError.self) { try sealer.open(sealed + [0], context: "c") }
        #expect(throws: StorageError.self) { try sealer.open(Array(sealed.prefix(20)), context: "c") }
        #expect(throws: StorageError.self) { try sealer.open([], context: "c") }
    }

    @Test("a value sealed under an unknown key id fails; previous keys still open old values")
    func keyIDs() throws {
        let old = MasterKey.generate()
        let sealedOld = try MasterKeySealer(current: old).seal([42], context: "c")
        #expect(MasterKeySealer.keyID(of: sealedOld) == old.id)
        let error = #expect(throws: StorageError.self) { try sealer.open(sealedOld, context: "c") }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains(old.id) == true, "the message names the missing key id")

        let rotated = MasterKeySealer(current: .generate(), previous: [old, old])
        #expect(rotated.keyIDs.count == 2)
        #expect(try rotated.open(sealedOld, context: "c") == [42])
        #expect(rotated.needsResealing(sealedOld))
        let resealed = try rotated.seal([42], context: "c")
        #expect(!rotated.needsResealing(resealed))
        #expect(throws: StorageError.self) { try MasterKeySealer(current: old).open(resealed, context: "c") }
    }

    @Test("an unknown format version is refused")
    func version() throws {
        var sealed = try sealer.seal([1], context: "c")
        sealed[0] = 2
        let error = #expect(throws: StorageError.self) { try sealer.open(sealed, context: "c") }
        #expect(error?.message.contains("version") == true)
    }
}

@Suite("MasterKey")
struct MasterKeyTests {
    @Test("the id is 8 hex digits derived from the key, the same from any source")
    func ids() throws {
        let key = MasterKey.generate()
        #expect(key.id.count == 8)
        #expect(key.id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(try MasterKey(base64: key.base64).id == key.id)
        #expect(try MasterKey(base64: " \(key.fileLine)\n").id == key.id)
        #expect(MasterKey.generate().id != key.id)
    }

    @Test("descriptions never show the key")
    func redacted() {
        let key = MasterKey.generate()
        #expect(!"\(key)".contains(key.base64))
        #expect(!String(reflecting: key).contains(key.base64))
        #expect("\(key)".contains(key.id))
    }

    @Test("malformed keys are refused without echoing them", arguments: [
        "", "not base64!", "AAAA", String(repeating: "A", count: 44), "00000000:" + String(repeating: "A", count: 43) + "=", "a:b:c",
    ])
    func malformed(text: String) {
        let error = #expect(throws: StorageError.self) { try MasterKey(base64: text) }
        #expect(error?.code == .corrupt)
        if text.count > 4 { #expect(error?.message.contains(text) == false) }
    }
}
