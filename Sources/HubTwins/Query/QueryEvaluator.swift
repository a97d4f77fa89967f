import Foundation
import HubCore

/// Evaluates query expressions over one service-twin document.
///
/// Values are `JSONValue?`, nil standing for *undefined* (a missing property). As in Azure (and Cosmos
/// DB, whose rules twin queries follow): comparisons only relate primitives of the same kind (numbers
/// with numbers, strings with strings…), anything else is undefined; `AND`/`OR`/`NOT` treat
/// non-booleans as undefined; arithmetic needs numbers; and a `WHERE` keeps a document only when its
/// condition is exactly `true`.
enum QueryEvaluator {
    static func matches(_ condition: QueryExpression?, _ document: JSONValue) -> Bool {
        guard let condition else { return true }
        return evaluate(condition, document) == .bool(true)
    }

    static func evaluate(_ expression: QueryExpression, _ document: JSONValue) -> JSONValue? {
        switch expression {
        case .literal(let value):
            return value
        case .undefined:
            return nil
        case .path(let path):
            return resolve(path, in: document)
        case .array(let items):
            // An undefined element is left out, as Cosmos DB does.
            return .array(items.compactMap { evaluate($0, document) })
        case .negate(let operand):
            guard let x = number(evaluate(operand, document)) else { return nil }
            return QueryNumber.json(-x)
        case .not(let operand):
            guard case .bool(let b) = evaluate(operand, document) else { return nil }
            return .bool(!b)
        case .arithmetic(let op, let lhs, let rhs):
            guard let a = number(evaluate(lhs, document)), let b = number(evaluate(rhs, document)) else { return nil }
            return arithmetic(op, a, b)
        case .comparison(let op, let lhs, let rhs):
            return compare(op, evaluate(lhs, document), evaluate(rhs, document))
        case .and(let lhs, let rhs):
            let a = evaluate(lhs, document)
            let b = evaluate(rhs, document)
            if a == .bool(false) || b == .bool(false) { return .bool(false) }
            if a == .bool(true) && b == .bool(true) { return .bool(true) }
            return nil
        case .or(let lhs, let rhs):
            let a = evaluate(lhs, document)
            let b = evaluate(rhs, document)
            if a == .bool(true) || b == .bool(true) { return .bool(true) }
            if a == .bool(false) && b == .bool(false) { return .bool(false) }
            return nil
        case .membership(let operand, let items, let negated):
            guard let value = evaluate(operand, document), value.isPrimitive else { return nil }
            let found = items.contains { compare(.equal, value, evaluate($0, document)) == .bool(true) }
            return .bool(found != negated)
        case .function(let function, let arguments):
            return call(function, arguments.map { evaluate($0, document) })
        case .aggregate:
            // Aggregates are computed over groups by `QueryAggregation`; the parser keeps them out of
            // row expressions.
            return nil
        }
    }

    /// The value at `path`, or nil when any step is missing.
    static func resolve(_ path: QueryPath, in document: JSONValue) -> JSONValue? {
        var value = document
        for segment in path.segments {
            switch (segment, value) {
            case (.name(let name), .object(let object)):
                guard let member = object[name] else { return nil }
                value = member
            case (.index(let i), .array(let items)):
                guard items.indices.contains(i) else { return nil }
                value = items[i]
            default:
                return nil
            }
        }
        return value
    }

    static func number(_ value: JSONValue?) -> Double? {
        guard case .number(let text) = value else { return nil }
        return Double(text)
    }

    private static func arithmetic(_ op: ArithmeticOperator, _ a: Double, _ b: Double) -> JSONValue? {
        switch op {
        case .add: return QueryNumber.json(a + b)
        case .subtract: return QueryNumber.json(a - b)
        case .multiply: return QueryNumber.json(a * b)
        case .divide: return b == 0 ? nil : QueryNumber.json(a / b)
        case .remainder: return b == 0 ? nil : QueryNumber.json(a.truncatingRemainder(dividingBy: b))
        }
    }

    /// `true`/`false` for two primitives of the same kind, nil (undefined) otherwise. Strings compare
    /// by Unicode scalar values (byte order of UTF-8), equal only when byte-identical.
    static func compare(_ op: ComparisonOperator, _ lhs: JSONValue?, _ rhs: JSONValue?) -> JSONValue? {
        guard let lhs, let rhs else { return nil }
        let order: Int
        switch (lhs, rhs) {
        case (.number, .number):
            guard let a = number(lhs), let b = number(rhs) else { return nil }
            order = a < b ? -1 : (a > b ? 1 : 0)
        case (.string(let a), .string(let b)):
            order = a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : (a.utf8.elementsEqual(b.utf8) ? 0 : 1)
        case (.bool(let a), .bool(let b)):
            guard op == .equal || op == .notEqual else { return nil }
            order = a == b ? 0 : 1
        case (.null, .null):
            guard op == .equal || op == .notEqual else { return nil }
            order = 0
        default:
            return nil
        }
        switch op {
        case .equal: return .bool(order == 0)
        case .notEqual: return .bool(order != 0)
        case .less: return .bool(order < 0)
        case .greater: return .bool(order > 0)
        case .lessOrEqual: return .bool(order <= 0)
        case .greaterOrEqual: return .bool(order >= 0)
        }
    }

    private static func call(_ function: QueryFunction, _ arguments: [JSONValue?]) -> JSONValue? {
        let value = arguments[0]
        switch function {
        case .isDefined: return .bool(value != nil)
        case .isNull: return .bool(value == .null)
        case .isBool:
            if case .bool = value { return .bool(true) }
            return .bool(false)
        case .isNumber:
            if case .number = value { return .bool(true) }
            return .bool(false)
        case .isString:
            if case .string = value { return .bool(true) }
            return .bool(false)
        case .isObject:
            if case .object = value { return .bool(true) }
            return .bool(false)
        case .isArray:
            if case .array = value { return .bool(true) }
            return .bool(false)
        case .isPrimitive:
            return .bool(value?.isPrimitive ?? false)
        case .startsWith, .endsWith:
            guard case .string(let s) = value, case .string(let affix) = arguments[1] else { return nil }
            let bytes = Array(s.utf8)
            let affixBytes = Array(affix.utf8)
            return .bool(function == .startsWith ? bytes.starts(with: affixBytes) : bytes.reversed().starts(with: affixBytes.reversed()))
        case .abs, .exp, .square, .ceiling, .floor, .sign, .sqrt:
            guard let x = number(value) else { return nil }
            return QueryNumber.json(unary(function, x))
        case .power:
            guard let x = number(value), let y = number(arguments[1]) else { return nil }
            return QueryNumber.json(Foundation.pow(x, y))
        case .asNumber:
            switch value {
            case .number: return value
            case .string(let text):
                guard let x = Double(text.trimmingCharacters(in: .whitespaces)), x.isFinite else { return nil }
                return QueryNumber.json(x)
            default: return nil
            }
        case .concat:
            var result = ""
            for argument in arguments {
                guard case .string(let part) = argument else { return nil }
                result += part
            }
            return .string(result)
        case .length:
            guard case .string(let s) = value else { return nil }
            return .number(String(s.count))
        case .lower, .upper:
            guard case .string(let s) = value else { return nil }
            return .string(function == .lower ? s.lowercased() : s.uppercased())
        case .substring:
            guard case .string(let s) = value, let start = number(arguments[1]).flatMap(Int.init(exactly:)), start >= 0 else { return nil }
            let characters = Array(s)
            var length = characters.count
            if arguments.count == 3 {
                guard let n = number(arguments[2]).flatMap(Int.init(exactly:)), n >= 0 else { return nil }
                length = n
            }
            guard start < characters.count else { return .string("") }
            return .string(String(characters[start..<min(characters.count, start + min(length, characters.count))]))
        case .indexOf, .contains:
            guard case .string(let s) = value, case .string(let part) = arguments[1] else { return nil }
            let haystack = Array(s), needle = Array(part)
            var found: Int? = needle.isEmpty ? 0 : nil
            if found == nil, needle.count <= haystack.count {
                for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
                    found = i
                    break
                }
            }
            return function == .contains ? .bool(found != nil) : .number(String(found ?? -1))
        }
    }

    private static func unary(_ function: QueryFunction, _ x: Double) -> Double {
        switch function {
        case .abs: Swift.abs(x)
        case .exp: Foundation.exp(x)
        case .square: x * x
        case .ceiling: x.rounded(.up)
        case .floor: x.rounded(.down)
        case .sign: x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .sqrt: x < 0 ? .nan : x.squareRoot()
        default: .nan
        }
    }
}

extension JSONValue {
    /// null, a boolean, a number or a string.
    var isPrimitive: Bool {
        switch self {
        case .null, .bool, .number, .string: true
        case .array, .object: false
        }
    }
}

/// Numbers computed by a query, as JSON.
enum QueryNumber {
    /// Whole numbers within ±2^53 as integers (`3`, not `3.0`), others in Swift's shortest round-trip
    /// form (valid JSON); nil (undefined) for infinities and NaN, which JSON cannot hold.
    static func json(_ value: Double) -> JSONValue? {
        guard value.isFinite else { return nil }
        if value == value.rounded(), abs(value) <= 9_007_199_254_740_992 {
            return .number(String(Int64(value)))
        }
        return .number("\(value)")
    }
}
