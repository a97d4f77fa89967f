import HubCore

/// A section's size as Azure computes it for its limits: for every member, the key's UTF-8 length plus
/// the value's size, where a string counts its UTF-8 bytes, a number 8 bytes, a boolean 4 bytes, and
/// an object or array the sizes of what it holds. `$version` and `$metadata` are not part of it.
public enum TwinSize {
    /// The size of a section (or of an object in one).
    public static func of(_ object: JSONObject) -> Int {
        object.members.reduce(0) { $0 + $1.key.utf8.count + of($1.value) }
    }

    /// The size of one value.
    public static func of(_ value: JSONValue) -> Int {
        switch value {
        case .null: 0
        case .bool: 4
        case .number: 8
        case .string(let s): s.utf8.count
        case .array(let items): items.reduce(0) { $0 + of($1) }
        case .object(let object): of(object)
        }
    }
}
