import HubCore

/// Reads the members of one JSON object strictly, for request DTOs: members not in the DTO are refused,
/// and a member of the wrong type is refused; `null` and absence both read as nil.
///
/// Every failure is a 400 `ArgumentInvalid` naming the member by its path (`authentication.type`),
/// never its value.
struct JSONReader {
    let object: JSONObject
    /// Where this object sits in the document, for messages (`""` for the root).
    let path: String

    init(_ value: JSONValue, path: String = "") throws(APIError) {
        guard case .object(let object) = value else {
            throw .invalid(path.isEmpty ? "the body must be a JSON object" : "\(path) must be an object")
        }
        self.object = object
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Refuses members other than `allowed`.
    func allowOnly(_ allowed: Set<String>) throws(APIError) {
        for key in object.keys where !allowed.contains(key) {
            throw .invalid("unknown field \(Self.printable(name(key)))")
        }
    }

    /// A member name as it may appear in a message: only short identifier-like names are echoed.
    static func printable(_ name: String) -> String {
        let ok = name.utf8.count <= 64 && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "$") || b == UInt8(ascii: "-")
        }
        return ok ? "'\(name)'" : "(name not shown)"
    }

    private func wrongType(_ key: String, _ expected: String) -> APIError {
        .invalid("\(name(key)) must be \(expected)")
    }

    func has(_ key: String) -> Bool {
        if let value = object[key], value != .null { return true }
        return false
    }

    func string(_ key: String) throws(APIError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw wrongType(key, "a string")
        }
    }

    func requiredString(_ key: String) throws(APIError) -> String {
        guard let value = try string(key) else { throw APIError(.argumentNull, "\(name(key)) is required") }
        return value
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw wrongType(key, "a boolean")
        }
    }

    /// An integer member (no fraction or exponent; within Int's range).
    func int(_ key: String) throws(APIError) -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let text)?:
            guard let value = Int(text) else { throw wrongType(key, "an integer") }
            return value
        default: throw wrongType(key, "an integer")
        }
    }

    func reader(_ key: String) throws(APIError) -> JSONReader? {
        switch object[key] {
        case nil, .null?: return nil
        case let value?: return try JSONReader(value, path: name(key))
        }
    }

    func array(_ key: String) throws(APIError) -> [JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let items)?: return items
        default: throw wrongType(key, "an array")
        }
    }

    func stringArray(_ key: String) throws(APIError) -> [String]? {
        guard let items = try array(key) else { return nil }
        var strings: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw wrongType(key, "an array of strings") }
            strings.append(s)
        }
        return strings
    }

    /// A member that is accepted and ignored (read-only fields a client echoes back), type-checked only.
    func ignored(_ key: String, _ kind: IgnoredKind) throws(APIError) {
        switch (object[key], kind) {
        case (nil, _), (.null?, _), (.string?, .string), (.number?, .number), (.object?, .object), (.array?, .array), (.bool?, .bool):
            return
        default:
            throw wrongType(key, kind.description)
        }
    }

    enum IgnoredKind: CustomStringConvertible {
        case string, number, object, array, bool
        var description: String {
            switch self {
            case .string: "a string"
            case .number: "a number"
            case .object: "an object"
            case .array: "an array"
            case .bool: "a boolean"
            }
        }
    }
}
