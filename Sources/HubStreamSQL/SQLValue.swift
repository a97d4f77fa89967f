import HubCore

/// A value in the stream SQL runtime: Stream Analytics' types (bigint, float, nvarchar(max), datetime,
/// bit, record, array) plus NULL.
public enum SQLValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    /// Milliseconds since 1970, UTC.
    case datetime(Int64)
    /// A JSON object; member order is kept for output.
    case record(SQLRecord)
    case array([SQLValue])

    /// The type's name as errors and `GetType` show it.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bit"
        case .int: "bigint"
        case .float: "float"
        case .string: "nvarchar(max)"
        case .datetime: "datetime"
        case .record: "record"
        case .array: "array"
        }
    }

    public var isNull: Bool { if case .null = self { true } else { false } }

    /// A number as a Double (ints widened), else nil.
    var double: Double? {
        switch self {
        case .int(let n): Double(n)
        case .float(let x): x
        default: nil
        }
    }

    /// Three-valued truth: nil for NULL (unknown), a boolean, or a number compared with 0.
    var truth: Bool? {
        switch self {
        case .bool(let b): b
        case .int(let n): n != 0
        case .float(let x): x != 0
        default: nil
        }
    }
}

/// A record (JSON object) with ordered members and case-sensitive, then case-insensitive, lookup.
public struct SQLRecord: Sendable, Hashable {
    public private(set) var members: [(name: String, value: SQLValue)]

    public init(_ members: [(name: String, value: SQLValue)] = []) {
        self.members = members
    }

    /// The member named `name`; an exact match wins, else the first whose name matches ignoring case
    /// (Stream Analytics matches field names case-insensitively).
    public subscript(name: String) -> SQLValue? {
        if let exact = members.first(where: { $0.name == name }) { return exact.value }
        let lowered = name.lowercased()
        return members.first { $0.name.lowercased() == lowered }?.value
    }

    /// Sets `name` (replacing a member of the same name).
    public mutating func set(_ name: String, _ value: SQLValue) {
        if let index = members.firstIndex(where: { $0.name == name }) {
            members[index].value = value
        } else {
            members.append((name, value))
        }
    }

    public static func == (a: SQLRecord, b: SQLRecord) -> Bool {
        a.members.count == b.members.count && zip(a.members, b.members).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        for member in members {
            hasher.combine(member.name)
            hasher.combine(member.value)
        }
    }
}

extension SQLValue {
    /// A JSON value as SQL: numbers without a fraction or exponent that fit become bigint, other numbers
    /// float; strings stay strings (casts and `TIMESTAMP BY` parse them).
    public init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let text):
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let n = Int64(text) {
                self = .int(n)
            } else {
                self = .float(Double(text) ?? .nan)
            }
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(SQLValue.init(json:)))
        case .object(let object): self = .record(SQLRecord(object.keys.map { ($0, SQLValue(json: object[$0]!)) }))
        }
    }

    /// The value as JSON for outputs: datetimes as ISO 8601, non-finite floats as null.
    public var json: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let n): return .number(String(n))
        case .float(let x):
            return x.isFinite ? .number(String(x)) : .null
        case .string(let s): return .string(s)
        case .datetime(let ms): return .string(Timestamp(rawValue: ms).iso8601)
        case .array(let items): return .array(items.map(\.json))
        case .record(let record):
            var object = JSONObject()
            for member in record.members { object[member.name] = member.value.json }
            return .object(object)
        }
    }
}
