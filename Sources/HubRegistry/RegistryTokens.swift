import HubCore

/// The server-minted values of the registry: etags, generation ids and CA verification codes, all
/// from the system CSPRNG.
enum RegistryTokens {
    /// A new etag: base64 of 8 random bytes (`"q83vEjRWeJA="`), like Azure's opaque base64 etags;
    /// never equal to `previous`. Random rather than a counter so an etag a client kept from before a
    /// restart can never match a later version by accident.
    static func etag(differentFrom previous: String? = nil) -> String {
        var rng = SystemRandomNumberGenerator()
        while true {
            let bytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let etag = Base64.encode(bytes)
            if let previous, previous.utf8.elementsEqual(etag.utf8) { continue }
            return etag
        }
    }

    /// A new generation id: 18 random decimal digits, the shape of Azure's (`638000000000000000`).
    static func generationID() -> String {
        var rng = SystemRandomNumberGenerator()
        return String(UInt64.random(in: 100_000_000_000_000_000...999_999_999_999_999_999, using: &rng))
    }

    /// A CA verification code: 16 random bytes as 32 upper-case hex digits.
    static func verificationCode() -> String {
        var rng = SystemRandomNumberGenerator()
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for _ in 0..<16 {
            let b = UInt8.random(in: 0...255, using: &rng)
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
