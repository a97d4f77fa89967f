import HubCore

/// `CAST(x AS type)`: Stream Analytics' conversions. A conversion that cannot be made is an error
/// (`TRY_CAST` turns it into NULL).
public enum SQLCast {
    public static let types: Set<String> = ["bigint", "float", "nvarchar(max)", "datetime", "bit", "record", "array"]

    static func cast(_ value: SQLValue, to type: String, at: SQLLocation) throws(SQLError) -> SQLValue {
        if value.isNull { return .null }
        func fail() -> SQLError { SQLError("cannot cast \(value.typeName) \(preview(value)) to \(type)", at: at) }
        switch type {
        case "bigint":
            switch value {
            case .int: return value
            case .float(let x):
                guard x.isFinite, x >= -9.2e18, x <= 9.2e18 else { throw fail() }
                return .int(Int64(x.rounded(.towardZero)))
            case .bool(let b): return .int(b ? 1 : 0)
            case .string(let s):
                let t = s.trimmingSQLSpaces()
                if let n = Int64(t) { return .int(n) }
                if let x = Double(t), x.isFinite, x >= -9.2e18, x <= 9.2e18 { return .int(Int64(x.rounded(.towardZero))) }
                throw fail()
            default: throw fail()
            }
        case "float", "real":
            switch value {
            case .float: return value
            case .int(let n): return .float(Double(n))
            case .bool(let b): return .float(b ? 1 : 0)
            case .string(let s):
                guard let x = Double(s.trimmingSQLSpaces()), x.isFinite else { throw fail() }
                return .float(x)
            default: throw fail()
            }
        case "nvarchar(max)", "nvarchar", "varchar(max)", "string":
            if case .record = value { throw fail() }
            if case .array = value { throw fail() }
            return .string(text(value))
        case "datetime", "datetime2":
            switch value {
            case .datetime: return value
            case .string(let s):
                guard let ms = SQLDateTime.parse(s) else { throw fail() }
                return .datetime(ms)
            default: throw fail()
            }
        case "bit":
            switch value {
            case .bool: return value
            case .int(let n): return .bool(n != 0)
            case .float(let x): return .bool(x != 0)
            case .string(let s):
                switch s.trimmingSQLSpaces().lowercased() {
                case "true", "1": return .bool(true)
                case "false", "0": return .bool(false)
                default: throw fail()
                }
            default: throw fail()
            }
        case "record":
            if case .record = value { return value }
            throw fail()
        case "array":
            if case .array = value { return value }
            throw fail()
        default:
            throw SQLError("unknown type \(type) (bigint, float, nvarchar(max), datetime, bit, record, array)", at: at)
        }
    }

    /// The text form of a scalar (ISO 8601 for datetimes, JSON for records and arrays).
    static func text(_ value: SQLValue) -> String {
        switch value {
        case .null: return ""
        case .bool(let b): return b ? "1" : "0"
        case .int(let n): return String(n)
        case .float(let x): return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
        case .string(let s): return s
        case .datetime, .record, .array:
            if case .string(let s) = value.json { return s }
            return JSONWriter.string(value.json)
        }
    }

    private static func preview(_ value: SQLValue) -> String {
        switch value {
        case .string(let s): return "'\(s.prefix(40))'"
        case .record, .array: return ""
        default: return text(value)
        }
    }
}

/// `LIKE` with `%` (any run), `_` (one character) and `[abc]` / `[^abc]` sets, case-insensitive.
enum SQLLike {
    static func matches(_ text: String, pattern: String) -> Bool {
        let t = Array(text.lowercased()), p = Array(pattern.lowercased())
        // Iterative matcher with backtracking to the last `%`; linear memory, O(n·m) worst case.
        var ti = 0, pi = 0
        var star: (p: Int, t: Int)?
        while ti < t.count {
            if pi < p.count, p[pi] == "%" {
                star = (pi, ti)
                pi += 1
            } else if pi < p.count, let (matched, next) = single(p, pi, t[ti]), matched {
                pi = next
                ti += 1
            } else if let s = star {
                pi = s.p + 1
                ti = s.t + 1
                star = (s.p, s.t + 1)
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "%" { pi += 1 }
        return pi == p.count
    }

    /// Whether pattern element at `i` matches `c`, and the index after the element.
    private static func single(_ p: [Character], _ i: Int, _ c: Character) -> (Bool, Int)? {
        switch p[i] {
        case "_": return (true, i + 1)
        case "[":
            guard let close = p[(i + 1)...].firstIndex(of: "]"), close > i + 1 else { return (p[i] == c, i + 1) }
            var set = p[(i + 1)..<close]
            let negated = set.first == "^"
            if negated { set = set.dropFirst() }
            return (set.contains(c) != negated, close + 1)
        default: return (p[i] == c, i + 1)
        }
    }
}
