import Crypto
import HubCore

/// The key that encrypts device, module and policy keys at rest (reliability plan S10): 32 random
/// bytes for AES-GCM-256.
///
/// Where it comes from is the server's choice: `--master-key` / `MERIDIAN_MASTER_KEY` (parsed with
/// `init(base64:)`), or else `<data-dir>/master.key`, created on first start
/// (`loadOrCreate(dataDirectory:)`). Losing it makes every stored key unreadable; the registry then
/// fails with `.corrupt` rather than inventing new keys.
///
/// Each key has an `id`: 8 hex digits derived from the key itself (a fingerprint, not a secret), which
/// `MasterKeySealer` writes into every sealed value. A key therefore has the same id whether it came
/// from a file, a flag or the environment, and after a rotation the sealer finds the old key that
/// opens an old value.
public struct MasterKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Length of a master key in bytes (AES-256).
    public static let byteCount = 32
    /// Length of the key id written in sealed values, in bytes.
    public static let idByteCount = 4

    /// The key id: the first 4 bytes of SHA-256("meridian master key id" ‖ 0 ‖ key), lower-case hex.
    public let id: String
    /// `id` as bytes, as written in sealed values.
    let idBytes: [UInt8]
    let key: SymmetricKey
    private let keyBytes: [UInt8]

    /// A master key from its 32 raw bytes.
    public init(bytes: [UInt8]) throws(StorageError) {
        guard bytes.count == Self.byteCount else {
            throw StorageError(.corrupt, "a master key must be \(Self.byteCount) bytes (got \(bytes.count))")
        }
        keyBytes = bytes
        key = SymmetricKey(data: bytes)
        var material = Array("meridian master key id".utf8)
        material.append(0)
        material.append(contentsOf: bytes)
        idBytes = Array(SHA256.hash(data: material).prefix(Self.idByteCount))
        id = Hex.encode(idBytes)
    }

    /// Parses a key given by flag or environment: the base64 of 32 bytes, or the `<id>:<base64>` line of a
    /// `master.key` file (then the id must match the key). Surrounding white space is ignored.
    /// `.corrupt` when it is not one of these; the message never echoes the input.
    public init(base64 text: String) throws(StorageError) {
        let trimmed = text.trimmingASCIIWhitespace()
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let encoded = parts.last else {
            throw StorageError(.corrupt, "a master key must be base64 of \(Self.byteCount) bytes, or <id>:<base64>")
        }
        guard let bytes = Base64.decode(String(encoded)), bytes.count == Self.byteCount else {
            throw StorageError(.corrupt, "a master key must be base64 of \(Self.byteCount) bytes, or <id>:<base64>")
        }
        try self.init(bytes: bytes)
        if parts.count == 2, !parts[0].utf8.elementsEqual(id.utf8) {
            throw StorageError(.corrupt, "the master key's id does not match the key (the key text is damaged)")
        }
    }

    /// A fresh key from the system's cryptographically secure generator.
    public static func generate() -> MasterKey {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return try! MasterKey(bytes: bytes)
    }

    /// The key in base64, for `MERIDIAN_MASTER_KEY` or a backup. Print it only where a secret belongs.
    public var base64: String { Base64.encode(keyBytes) }

    /// `<id>:<base64>`: the line `master.key` holds.
    public var fileLine: String { "\(id):\(base64)" }

    /// Shows the id only, never the key.
    public var description: String { "MasterKey(id: \(id))" }
    public var debugDescription: String { description }
}

/// Lower-case hex, for key ids.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    /// Without leading and trailing spaces, tabs, CRs and LFs.
    fileprivate func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        var s = Substring(self)
        while let f = s.first, isSpace(f) { s.removeFirst() }
        while let l = s.last, isSpace(l) { s.removeLast() }
        return String(s)
    }
}
