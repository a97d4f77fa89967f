/// A setting's value as read from a config file or a flag, before it is checked and stored.
public enum ConfigValue: Sendable, Hashable {
    case string(String)
    case integer(Int)
    case double(Double)
    case bool(Bool)
    /// A nested table (TOML) or map (YAML), in file order.
    case table([ConfigEntry])
    /// An array (TOML) or list (YAML); repeated flags give one too.
    case array([ConfigValue])
    /// Anything else (an array, a date, null); the payload names its type for error messages.
    case unsupported(String)

    /// "a string", "an integer" …, for error messages. Values themselves are never echoed, because a
    /// later setting may hold a secret.
    var typeDescription: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .double: "a number"
        case .bool: "a boolean"
        case .table: "a table"
        case .array: "a list"
        case .unsupported(let type): type
        }
    }
}

/// One `key = value` of a config file or one flag.
public struct ConfigEntry: Sendable, Hashable {
    public var key: String
    public var value: ConfigValue

    public init(_ key: String, _ value: ConfigValue) {
        self.key = key
        self.value = value
    }
}
