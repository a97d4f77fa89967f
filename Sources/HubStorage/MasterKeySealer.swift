import Crypto

/// `SecretSealer` with AES-GCM-256 under a `MasterKey` (reliability plan S10).
///
/// A sealed value is
///
/// ```
/// version (1 byte, 1) | key id (4 bytes) | nonce (12 random bytes) | ciphertext | tag (16 bytes)
/// ```
///
/// and the authenticated data is `version ‖ key id ‖ context`, so the header cannot be altered and a
/// value copied into another row or slot (another `context`) does not open. New values are always
/// sealed under `current`; `previous` keys only open values sealed before a rotation. To rotate: start
/// with the new key as `current` and the old one in `previous`; every write re-seals under the new
/// key (`needsResealing` tells which stored values still use an old one).
public struct MasterKeySealer: SecretSealer {
    /// The format version written in the first byte.
    public static let formatVersion: UInt8 = 1
    static let nonceByteCount = 12
    static let tagByteCount = 16
    static let headerByteCount = 1 + MasterKey.idByteCount + nonceByteCount

    /// The key new values are sealed under.
    public let current: MasterKey
    /// Every key that may open a value: `current` first, then the previous keys (duplicates dropped).
    private let keys: [MasterKey]

    /// Seals under `current`; opens values sealed under `current` or any of `previous` (keys kept after
    /// a rotation).
    public init(current: MasterKey, previous: [MasterKey] = []) {
        self.current = current
        var keys = [current]
        for key in previous where !keys.contains(where: { $0.idBytes == key.idBytes }) {
            keys.append(key)
        }
        self.keys = keys
    }

    /// The ids of every key this sealer can open with, current first.
    public var keyIDs: [String] { keys.map(\.id) }

    public func seal(_ plaintext: [UInt8], context: String) throws(StorageError) -> [UInt8] {
        var header: [UInt8] = [Self.formatVersion]
        header.append(contentsOf: current.idBytes)
        do {
            let box = try AES.GCM.seal(
                plaintext, using: current.key, nonce: AES.GCM.Nonce(),
                authenticating: Self.authenticatedData(header: header, context: context))
            var out = header
            out.reserveCapacity(Self.headerByteCount + plaintext.count + Self.tagByteCount)
            out.append(contentsOf: box.nonce)
            out.append(contentsOf: box.ciphertext)
            out.append(contentsOf: box.tag)
            return out
        } catch {
            throw StorageError(.unavailable, "sealing a secret failed")
        }
    }

    public func open(_ sealed: [UInt8], context: String) throws(StorageError) -> [UInt8] {
        guard sealed.count >= Self.headerByteCount + Self.tagByteCount else {
            throw StorageError(.corrupt, "a sealed secret is truncated")
        }
        guard sealed[0] == Self.formatVersion else {
            throw StorageError(.corrupt, "a sealed secret has an unknown format version \(sealed[0])")
        }
        let idRange = 1..<(1 + MasterKey.idByteCount)
        let id = Array(sealed[idRange])
        guard let key = keys.first(where: { $0.idBytes == id }) else {
            throw StorageError(
                .corrupt, "a secret is sealed under an unknown master key (id \(Hex.encode(id))); supply that key as a previous key")
        }
        let header = Array(sealed[0..<idRange.upperBound])
        let nonceEnd = Self.headerByteCount
        let tagStart = sealed.count - Self.tagByteCount
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: sealed[idRange.upperBound..<nonceEnd]),
                ciphertext: sealed[nonceEnd..<tagStart], tag: sealed[tagStart...])
            let plaintext = try AES.GCM.open(
                box, using: key.key, authenticating: Self.authenticatedData(header: header, context: context))
            return Array(plaintext)
        } catch {
            throw StorageError(.corrupt, "a sealed secret failed authentication (damaged, or sealed for another record)")
        }
    }

    /// The id of the master key `sealed` was sealed under, or nil if it is not in this format.
    public static func keyID(of sealed: [UInt8]) -> String? {
        guard sealed.count >= headerByteCount + tagByteCount, sealed[0] == formatVersion else { return nil }
        return Hex.encode(Array(sealed[1..<(1 + MasterKey.idByteCount)]))
    }

    /// True when `sealed` was not sealed under `current` (so a rotation has not reached it yet).
    public func needsResealing(_ sealed: [UInt8]) -> Bool { Self.keyID(of: sealed) != current.id }

    private static func authenticatedData(header: [UInt8], context: String) -> [UInt8] {
        header + Array(context.utf8)
    }
}
