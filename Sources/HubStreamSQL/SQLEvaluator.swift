/// What an expression is evaluated against: the inputs of the current row by the names the query uses
/// (alias or input name), the row's timestamp (`System.Timestamp()`), and values the runtime computed
/// for aggregate and analytic calls (looked up by the call's expression).
public struct SQLRow: Sendable {
    public var inputs: [(name: String, value: SQLValue)]
    public var timestamp: Int64?
    public var computed: [SQLExpression: SQLValue]
    /// Event times of the inputs of a stream join, so `DATEDIFF(second, s1, s2)` can name inputs.
    public var times: [String: Int64] = [:]

    public init(inputs: [(name: String, value: SQLValue)], timestamp: Int64? = nil, computed: [SQLExpression: SQLValue] = [:]) {
        self.inputs = inputs
        self.timestamp = timestamp
        self.computed = computed
    }

    /// A row of one input.
    public init(_ name: String, _ event: SQLValue, timestamp: Int64? = nil) {
        self.init(inputs: [(name, event)], timestamp: timestamp)
    }

    /// The event time of the input `name` (stream joins), if known.
    func time(of name: String) -> Int64? {
        if times.isEmpty { return nil }
        return times[name] ?? times.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    func input(_ name: String) -> SQLValue? {
        if let exact = inputs.first(where: { $0.name == name }) { return exact.value }
        let lowered = name.lowercased()
        return inputs.first { $0.name.lowercased() == lowered }?.value
    }
}

/// Evaluates scalar expressions with SQL's NULL semantics: NULL in arithmetic or comparison gives NULL,
/// `AND`/`OR` are three-valued, and a WHERE keeps a row only when its condition is true.
///
/// Errors are `SQLError`s at the offending expression (a failed `CAST`, a type mismatch, an unknown
/// function); the runtime counts them and drops the event, never silently.
public enum SQLEvaluator {
    public static func evaluate(_ expression: SQLExpression, in row: SQLRow) throws(SQLError) -> SQLValue {
        if !row.computed.isEmpty, let value = row.computed[expression] { return value }
        let at = expression.location
        switch expression.kind {
        case .null: return .null
        case .boolean(let b): return .bool(b)
        case .integer(let n): return .int(n)
        case .float(let x): return .float(x)
        case .string(let s): return .string(s)
        case .path(let parts): return resolve(parts, in: row)
        case .star: throw SQLError("* is only an argument of COUNT", at: at)
        case .unary(let op, let operand):
            let value = try evaluate(operand, in: row)
            switch op {
            case .not: return value.truth.map { .bool(!$0) } ?? .null
            case .plus: return value
            case .negate:
                switch value {
                case .null: return .null
                case .int(let n): return n == .min ? .float(-Double(n)) : .int(-n)
                case .float(let x): return .float(-x)
                default: throw SQLError("cannot negate \(value.typeName)", at: at)
                }
            }
        case .binary(let op, let left, let right):
            return try binary(op, left, right, in: row, at: at)
        case .isNull(let operand, let negated):
            return .bool(try evaluate(operand, in: row).isNull != negated)
        case .between(let operand, let low, let high, let negated):
            let value = try evaluate(operand, in: row)
            let lowValue = try evaluate(low, in: row), highValue = try evaluate(high, in: row)
            guard let a = try compare(value, lowValue, at: at), let b = try compare(value, highValue, at: at) else { return .null }
            return .bool((a >= 0 && b <= 0) != negated)
        case .inList(let operand, let items, let negated):
            let value = try evaluate(operand, in: row)
            guard !value.isNull else { return .null }
            var sawNull = false
            for item in items {
                let candidate = try evaluate(item, in: row)
                if candidate.isNull { sawNull = true; continue }
                if try compare(value, candidate, at: at) == 0 { return .bool(!negated) }
            }
            return sawNull ? .null : .bool(negated)
        case .like(let operand, let pattern, let negated):
            let value = try evaluate(operand, in: row), patternValue = try evaluate(pattern, in: row)
            guard case .string(let text) = value, case .string(let p) = patternValue else {
                if value.isNull || patternValue.isNull { return .null }
                throw SQLError("LIKE needs strings, got \(value.typeName) and \(patternValue.typeName)", at: at)
            }
            return .bool(SQLLike.matches(text, pattern: p) != negated)
        case .cast(let operand, let type, let orNull):
            let value = try evaluate(operand, in: row)
            do {
                return try SQLCast.cast(value, to: type, at: at)
            } catch {
                if orNull { return .null }
                throw error
            }
        case .caseWhen(let operand, let branches, let otherwise):
            let subject = try operand.map { (e) throws(SQLError) in try evaluate(e, in: row) }
            for branch in branches {
                let condition = try evaluate(branch.when, in: row)
                let hit: Bool
                if let subject {
                    hit = try compare(subject, condition, at: at) == 0
                } else {
                    hit = condition.truth == true
                }
                if hit { return try evaluate(branch.then, in: row) }
            }
            return try otherwise.map { (e) throws(SQLError) in try evaluate(e, in: row) } ?? .null
        case .call(let call):
            return try SQLFunctions.call(call, in: row, at: at)
        }
    }

    /// Whether a WHERE / HAVING / ON condition holds (NULL does not).
    public static func holds(_ condition: SQLExpression, in row: SQLRow) throws(SQLError) -> Bool {
        try evaluate(condition, in: row).truth == true
    }

    /// `a.b.c`: an input named `a` then its fields, else field `a` of the first input then the rest.
    static func resolve(_ parts: [String], in row: SQLRow) -> SQLValue {
        var value: SQLValue
        var rest = parts[...]
        if parts.count > 1, let input = row.input(parts[0]) {
            value = input
            rest = parts.dropFirst()
        } else if parts.count == 1, row.inputs.count > 1, let input = row.input(parts[0]) {
            return input
        } else {
            guard let first = row.inputs.first?.value else { return .null }
            value = first
        }
        for name in rest {
            guard case .record(let record) = value, let member = record[name] else { return .null }
            value = member
        }
        return value
    }

    private static func binary(_ op: BinaryOperator, _ left: SQLExpression, _ right: SQLExpression, in row: SQLRow, at: SQLLocation) throws(SQLError) -> SQLValue {
        switch op {
        case .and:
            let a = try evaluate(left, in: row).truth
            if a == false { return .bool(false) }
            let b = try evaluate(right, in: row).truth
            if b == false { return .bool(false) }
            return a == true && b == true ? .bool(true) : .null
        case .or:
            let a = try evaluate(left, in: row).truth
            if a == true { return .bool(true) }
            let b = try evaluate(right, in: row).truth
            if b == true { return .bool(true) }
            return a == false && b == false ? .bool(false) : .null
        default:
            break
        }
        let a = try evaluate(left, in: row), b = try evaluate(right, in: row)
        switch op {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let order = try compare(a, b, at: at) else { return .null }
            switch op {
            case .equal: return .bool(order == 0)
            case .notEqual: return .bool(order != 0)
            case .less: return .bool(order < 0)
            case .lessOrEqual: return .bool(order <= 0)
            case .greater: return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case .concatenate:
            if a.isNull || b.isNull { return .null }
            return .string(SQLCast.text(a) + SQLCast.text(b))
        default:
            return try arithmetic(op, a, b, at: at)
        }
    }

    static func arithmetic(_ op: BinaryOperator, _ a: SQLValue, _ b: SQLValue, at: SQLLocation) throws(SQLError) -> SQLValue {
        if a.isNull || b.isNull { return .null }
        if op == .add, case .string(let x) = a, case .string(let y) = b { return .string(x + y) }
        if case .int(let x) = a, case .int(let y) = b {
            switch op {
            case .add: let (r, o) = x.addingReportingOverflow(y); return o ? .float(Double(x) + Double(y)) : .int(r)
            case .subtract: let (r, o) = x.subtractingReportingOverflow(y); return o ? .float(Double(x) - Double(y)) : .int(r)
            case .multiply: let (r, o) = x.multipliedReportingOverflow(by: y); return o ? .float(Double(x) * Double(y)) : .int(r)
            case .divide:
                guard y != 0 else { throw SQLError("division by zero", at: at) }
                if y == -1 { return x == .min ? .float(-Double(x)) : .int(-x) }
                return x % y == 0 ? .int(x / y) : .float(Double(x) / Double(y))
            case .modulo:
                guard y != 0 else { throw SQLError("division by zero", at: at) }
                return y == -1 ? .int(0) : .int(x % y)
            default: break
            }
        }
        guard let x = a.double, let y = b.double else {
            throw SQLError("cannot apply \(op.rawValue) to \(a.typeName) and \(b.typeName)", at: at)
        }
        switch op {
        case .add: return .float(x + y)
        case .subtract: return .float(x - y)
        case .multiply: return .float(x * y)
        case .divide:
            guard y != 0 else { throw SQLError("division by zero", at: at) }
            return .float(x / y)
        case .modulo:
            guard y != 0 else { throw SQLError("division by zero", at: at) }
            return .float(x.truncatingRemainder(dividingBy: y))
        default: throw SQLError("cannot apply \(op.rawValue) to numbers", at: at)
        }
    }

    /// The order of two values (-1, 0, 1), nil when either is NULL. Numbers compare across int and
    /// float, strings ordinally, datetimes with datetimes (or strings that parse as one), bits with bits.
    static func compare(_ a: SQLValue, _ b: SQLValue, at: SQLLocation) throws(SQLError) -> Int? {
        func order<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : x > y ? 1 : 0 }
        switch (a, b) {
        case (.null, _), (_, .null): return nil
        case (.int(let x), .int(let y)): return order(x, y)
        case (.string(let x), .string(let y)):
            if x == y { return 0 }
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars, by: { $0.value < $1.value }) ? -1 : 1
        case (.bool(let x), .bool(let y)): return order(x ? 1 : 0, y ? 1 : 0)
        case (.datetime(let x), .datetime(let y)): return order(x, y)
        case (.datetime(let x), .string(let s)):
            guard let y = SQLDateTime.parse(s) else { throw SQLError("cannot compare datetime with '\(s.prefix(40))'", at: at) }
            return order(x, y)
        case (.string, .datetime):
            return try compare(b, a, at: at).map { -$0 }
        case (.bool(let x), .int), (.bool(let x), .float):
            return order(x ? 1.0 : 0.0, b.double!)
        case (.int, .bool), (.float, .bool):
            return try compare(b, a, at: at).map { -$0 }
        default:
            if let x = a.double, let y = b.double { return order(x, y) }
            if a == b { return 0 }
            throw SQLError("cannot compare \(a.typeName) with \(b.typeName)", at: at)
        }
    }
}
