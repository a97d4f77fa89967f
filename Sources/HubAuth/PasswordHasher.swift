import Crypto
import HubCore
import _CryptoExtras

/// scrypt password hashing for MQTT users (OWASP: N=2^17, r=8, p=1), PHC-style strings.
///
/// Format: `$scrypt$ln=17,r=8,p=1$<salt>$<hash>`, salt and hash in standard base64 without padding
/// (the PHC string format; padded base64 is accepted too when verifying). The salt is 16 bytes from the
/// system CSPRNG and the hash 32 bytes. At the default parameters one hash or verify takes 128 MiB and
/// about a second of CPU (1.6 s measured in a debug build on a quiet core of the development machine, where
/// OpenSSL's scrypt takes 0.63 s): run it off the event loops, and rate-limit login attempts.
public enum PasswordHasher {
    public struct Parameters: Sendable, Hashable {
        public var logN: Int
        public var r: Int
        public var p: Int
        public init(logN: Int = 17, r: Int = 8, p: Int = 1) {
            self.logN = logN
            self.r = r
            self.p = p
        }

        /// Largest cost `verify` will spend on a stored hash, so a tampered or hostile hash string
        /// cannot make one login allocate gigabytes or run for minutes: N ≤ 2^20, r ≤ 32, p ≤ 16 and
        /// scrypt's memory (128·r·N bytes) ≤ 256 MiB.
        static let maximumLogN = 20
        static let maximumR = 32
        static let maximumP = 16
        static let maximumMemoryBytes = 256 << 20

        /// True when scrypt accepts these parameters and they are within the limits above.
        var isAcceptable: Bool {
            guard (1...Self.maximumLogN).contains(logN), (1...Self.maximumR).contains(r), (1...Self.maximumP).contains(p) else {
                return false
            }
            return 128 * r * (1 << logN) <= Self.maximumMemoryBytes
        }
    }

    /// Salt length `hash` uses.
    public static let saltLength = 16
    /// Derived-key length `hash` uses.
    public static let hashLength = 32

    /// `$scrypt$ln=17,r=8,p=1$<base64 salt>$<base64 hash>` with a random 16-byte salt.
    ///
    /// - Precondition: `parameters` are within the limits `verify` accepts (1 ≤ logN ≤ 20, 1 ≤ r ≤ 32,
    ///   1 ≤ p ≤ 16, 128·r·2^logN ≤ 256 MiB); anything else is a programming error.
    public static func hash(password: String, parameters: Parameters = .init()) -> String {
        precondition(parameters.isAcceptable, "scrypt parameters out of range")
        var rng = SystemRandomNumberGenerator()
        let salt = (0..<saltLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
        guard let derived = derive(password: password, salt: salt, parameters: parameters, length: hashLength) else {
            preconditionFailure("scrypt failed with acceptable parameters")
        }
        let (ln, r, p) = (parameters.logN, parameters.r, parameters.p)
        return "$scrypt$ln=\(ln),r=\(r),p=\(p)$\(unpadded(Base64.encode(salt)))$\(unpadded(Base64.encode(derived)))"
    }

    /// Constant-time check of `password` against a stored hash; false for a malformed hash.
    ///
    /// Malformed: not exactly `$scrypt$ln=…,r=…,p=…$salt$hash`, parameters out of the limits in
    /// `Parameters`, a salt under 8 or over 64 bytes, a hash under 16 or over 64 bytes, bad base64.
    /// The derived key is compared as a `SymmetricKey`, whose `==` is swift-crypto's constant-time
    /// `safeCompare`.
    public static func verify(password: String, hash: String) -> Bool {
        guard let stored = StoredHash(hash),
            let derived = derive(password: password, salt: stored.salt, parameters: stored.parameters, length: stored.hash.count)
        else { return false }
        return SymmetricKey(data: derived) == SymmetricKey(data: stored.hash)  // constant-time: SymmetricKey == is safeCompare
    }

    /// scrypt through swift-crypto's `_CryptoExtras` (BoringSSL's `EVP_PBE_scrypt`); nil if it fails.
    static func derive(password: String, salt: [UInt8], parameters: Parameters, length: Int) -> [UInt8]? {
        guard let key = try? KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: length,
            rounds: 1 << parameters.logN, blockSize: parameters.r, parallelism: parameters.p)
        else { return nil }
        return key.withUnsafeBytes { Array($0) }
    }

    /// A parsed `$scrypt$…` string.
    struct StoredHash {
        var parameters: Parameters
        var salt: [UInt8]
        var hash: [UInt8]

        init?(_ text: String) {
            let fields = text.split(separator: "$", omittingEmptySubsequences: false)
            // "", "scrypt", "ln=…,r=…,p=…", salt, hash
            guard fields.count == 5, fields[0].isEmpty, fields[1].utf8Equals("scrypt") else { return nil }
            let settings = fields[2].split(separator: ",", omittingEmptySubsequences: false)
            guard settings.count == 3 else { return nil }
            var numbers: [Int] = []
            for (setting, name) in zip(settings, ["ln=", "r=", "p="]) {
                guard setting.utf8.starts(with: name.utf8) else { return nil }
                let digits = setting.dropFirst(name.utf8.count)
                guard (1...3).contains(digits.utf8.count), digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(digits) else {
                    return nil
                }
                numbers.append(value)
            }
            let parameters = Parameters(logN: numbers[0], r: numbers[1], p: numbers[2])
            guard parameters.isAcceptable,
                let salt = PasswordHasher.decodeBase64(fields[3]), (8...64).contains(salt.count),
                let hash = PasswordHasher.decodeBase64(fields[4]), (16...64).contains(hash.count)
            else { return nil }
            self.parameters = parameters
            self.salt = salt
            self.hash = hash
        }
    }

    private static func unpadded(_ base64: String) -> String {
        String(base64.utf8.prefix { $0 != UInt8(ascii: "=") })!
    }

    /// Standard base64 with or without padding.
    static func decodeBase64(_ text: Substring) -> [UInt8]? {
        var padded = String(text)
        switch padded.utf8.count % 4 {
        case 0: break
        case 2: padded += "=="
        case 3: padded += "="
        default: return nil
        }
        return StrictBase64.decode(padded)
    }
}
