import Foundation
import GRDB
import HubCore
import HubStorage

/// How the registry tables turn domain values into columns and back.
///
/// - Identifiers (`DeviceID`, `ModuleID`) are validated ASCII without NUL: `TEXT`, compared with
///   SQLite's default `BINARY` collation.
/// - Every other string (names, etags, reasons, PEM, hashes…) is stored as its UTF-8 bytes in a
///   `BLOB`: GRDB binds `TEXT` as a C string (`sqlite3_bind_text(…, -1, …)`) and reads it with
///   `String(cString:)`, which would cut a string at its first NUL; a BLOB keeps every byte, and BLOB
///   `=` and `ORDER BY` are byte comparisons. Arguments go through `blob(_:)` and the `text`
///   placeholder (see there).
/// - Keys are stored only as `SecretSealer` output, with a context naming the row and slot.
enum RegistryColumns {
    /// The SQL placeholder of a string BLOB argument made by `blob(_:)`: it strips the marker byte.
    static let text = "substr(?, 2)"

    /// `string` as a statement argument for a string BLOB column: a marker byte (0) then the UTF-8 bytes,
    /// bound through `text` (`substr(?, 2)`), which drops the marker in SQL.
    ///
    /// Why: GRDB binds an empty `Data` with a NULL pointer, which SQLite stores as NULL, so `""` would
    /// come back as nil (or break a NOT NULL column). With the marker the bound value is never empty and
    /// `substr` yields the exact bytes, the empty BLOB included.
    static func blob(_ string: String) -> Data {
        var data = Data([0])
        data.append(contentsOf: string.utf8)
        return data
    }
    static func optionalBlob(_ string: String?) -> Data? { string.map { blob($0) } }

    /// The sealing context of an identity's key: `device/<id>/<slot>` or `module/<device>/<module>/<slot>`.
    static func keyContext(_ identity: IdentityID, primary: Bool) -> String {
        let slot = primary ? "primary" : "secondary"
        if let module = identity.module {
            return "module/\(identity.device.rawValue)/\(module.rawValue)/\(slot)"
        }
        return "device/\(identity.device.rawValue)/\(slot)"
    }

    /// The sealing context of a policy key: `policy/<name>/<slot>` (the slot is always the last part, so
    /// no two (name, slot) pairs share a context).
    static func policyKeyContext(_ name: String, primary: Bool) -> String {
        "policy/\(name)/\(primary ? "primary" : "secondary")"
    }

    /// The authentication columns: `auth_type, primary_key, secondary_key, primary_thumbprint,
    /// secondary_thumbprint`, keys sealed.
    static func authentication(
        _ authentication: DeviceAuthentication, of identity: IdentityID, sealer: any SecretSealer
    ) throws(StorageError) -> [(any DatabaseValueConvertible)?] {
        switch authentication {
        case .sas(let primary, let secondary):
            let p = try sealer.seal(primary.bytes, context: keyContext(identity, primary: true))
            let s = try sealer.seal(secondary.bytes, context: keyContext(identity, primary: false))
            return [authentication.type, Data(p), Data(s), nil, nil]
        case .selfSigned(let primary, let secondary):
            return [authentication.type, nil, nil, optionalBlob(primary), optionalBlob(secondary)]
        case .certificateAuthority, .none:
            return [authentication.type, nil, nil, nil, nil]
        }
    }

    /// `parent_scopes`: NULL when empty, else `count` then each scope as `length, bytes` (big-endian u32s).
    static func encodeStrings(_ strings: [String]) -> Data? {
        guard !strings.isEmpty else { return nil }
        var out = Data()
        appendUInt32(UInt32(strings.count), to: &out)
        for s in strings {
            appendUInt32(UInt32(s.utf8.count), to: &out)
            out.append(contentsOf: s.utf8)
        }
        return out
    }

    static func decodeStrings(_ data: Data?, table: String) throws(StorageError) -> [String] {
        guard let data else { return [] }
        var reader = BlobReader(bytes: Array(data), table: table)
        let count = try reader.uint32()
        var result: [String] = []
        for _ in 0..<count { result.append(try reader.string()) }
        try reader.expectEnd()
        return result
    }

    /// `rules`: `count`, then for each rule `length, pattern bytes, actions (u8), allow (u8)`.
    static func encodeRules(_ rules: [ACLRule]) -> Data {
        var out = Data()
        appendUInt32(UInt32(rules.count), to: &out)
        for rule in rules {
            appendUInt32(UInt32(rule.pattern.utf8.count), to: &out)
            out.append(contentsOf: rule.pattern.utf8)
            out.append(rule.actions.rawValue)
            out.append(rule.allow ? 1 : 0)
        }
        return out
    }

    static func decodeRules(_ data: Data, table: String) throws(StorageError) -> [ACLRule] {
        var reader = BlobReader(bytes: Array(data), table: table)
        let count = try reader.uint32()
        var rules: [ACLRule] = []
        for _ in 0..<count {
            let pattern = try reader.string()
            let actions = ACLRule.Actions(rawValue: try reader.byte())
            let allow = try reader.byte()
            guard allow <= 1 else { throw StorageError(.corrupt, "\(table): a rule has an invalid allow flag") }
            rules.append(ACLRule(pattern: pattern, actions: actions, allow: allow == 1))
        }
        try reader.expectEnd()
        return rules
    }

    private static func appendUInt32(_ value: UInt32, to data: inout Data) {
        data.append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
    }
}

/// Reads the length-prefixed BLOB formats of `RegistryColumns`, turning anything short or malformed
/// into `.corrupt`.
private struct BlobReader {
    let bytes: [UInt8]
    let table: String
    var offset = 0

    init(bytes: [UInt8], table: String) {
        self.bytes = bytes
        self.table = table
    }

    mutating func byte() throws(StorageError) -> UInt8 {
        guard offset < bytes.count else { throw StorageError(.corrupt, "\(table): a stored list is truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint32() throws(StorageError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 { value = value << 8 | UInt32(try byte()) }
        return value
    }

    mutating func string() throws(StorageError) -> String {
        let length = Int(try uint32())
        guard length <= bytes.count - offset else { throw StorageError(.corrupt, "\(table): a stored list is truncated") }
        defer { offset += length }
        guard let s = String(validating: bytes[offset..<(offset + length)], as: UTF8.self) else {
            throw StorageError(.corrupt, "\(table): a stored string is not UTF-8")
        }
        return s
    }

    func expectEnd() throws(StorageError) {
        guard offset == bytes.count else { throw StorageError(.corrupt, "\(table): a stored list has trailing bytes") }
    }
}

/// Reads a row's columns left to right, turning NULLs, wrong types, bad UTF-8 and keys that do not
/// open into `StorageError.corrupt` instead of traps.
struct RegistryRowReader {
    let row: Row
    let table: String
    var column = 0

    init(_ row: Row, table: String) {
        self.row = row
        self.table = table
    }

    mutating func next<T: DatabaseValueConvertible>() throws(StorageError) -> T {
        guard let value: T = try optional() else {
            throw StorageError(.corrupt, "\(table): unexpected NULL in column \(column - 1)")
        }
        return value
    }

    mutating func optional<T: DatabaseValueConvertible>() throws(StorageError) -> T? {
        let dbValue: DatabaseValue = row[column]
        column += 1
        if dbValue.isNull { return nil }
        guard let value = T.fromDatabaseValue(dbValue) else {
            throw StorageError(.corrupt, "\(table): column \(column - 1) holds an unexpected value")
        }
        return value
    }

    /// A string stored as UTF-8 bytes in a BLOB.
    mutating func text() throws(StorageError) -> String {
        guard let s = try optionalText() else {
            throw StorageError(.corrupt, "\(table): unexpected NULL in column \(column - 1)")
        }
        return s
    }

    mutating func optionalText() throws(StorageError) -> String? {
        guard let data: Data = try optional() else { return nil }
        guard let s = String(validating: data, as: UTF8.self) else {
            throw StorageError(.corrupt, "\(table): column \(column - 1) is not UTF-8")
        }
        return s
    }

    mutating func timestamp() throws(StorageError) -> Timestamp? {
        let millis: Int64? = try optional()
        return millis.map(Timestamp.init(rawValue:))
    }

    mutating func deviceID() throws(StorageError) -> DeviceID {
        let raw: String = try next()
        guard let id = DeviceID(rawValue: raw) else { throw StorageError(.corrupt, "\(table): an invalid device id is stored") }
        return id
    }

    mutating func moduleID() throws(StorageError) -> ModuleID {
        let raw: String = try next()
        guard let id = ModuleID(rawValue: raw) else { throw StorageError(.corrupt, "\(table): an invalid module id is stored") }
        return id
    }

    /// Reads `auth_type, primary_key, secondary_key, primary_thumbprint, secondary_thumbprint`.
    mutating func authentication(of identity: IdentityID, sealer: any SecretSealer) throws(StorageError) -> DeviceAuthentication {
        let type: String = try next()
        let primarySealed: Data? = try optional()
        let secondarySealed: Data? = try optional()
        let primaryThumbprint = try optionalText()
        let secondaryThumbprint = try optionalText()
        switch type {
        case "sas":
            guard let primarySealed, let secondarySealed else {
                throw StorageError(.corrupt, "\(table): a SAS identity has no stored keys")
            }
            return .sas(
                primaryKey: try key(primarySealed, RegistryColumns.keyContext(identity, primary: true), sealer),
                secondaryKey: try key(secondarySealed, RegistryColumns.keyContext(identity, primary: false), sealer))
        case "selfSigned":
            return .selfSigned(primaryThumbprint: primaryThumbprint, secondaryThumbprint: secondaryThumbprint)
        case "certificateAuthority":
            return .certificateAuthority
        case "none":
            return .none
        default:
            throw StorageError(.corrupt, "\(table): unknown authentication type")
        }
    }

    /// Opens a sealed key.
    func key(_ sealed: Data, _ context: String, _ sealer: any SecretSealer) throws(StorageError) -> SharedAccessKey {
        let bytes = try sealer.open(Array(sealed), context: context)
        do {
            return try SharedAccessKey(bytes: bytes)
        } catch {
            throw StorageError(.corrupt, "\(table): a stored key has an invalid length")
        }
    }
}
