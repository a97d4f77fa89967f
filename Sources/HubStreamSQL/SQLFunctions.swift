import Foundation

/// The scalar functions of the language. Names are case-insensitive. Aggregates, windows and analytic
/// functions are computed by the runtime and handed to the evaluator through `SQLRow.computed`; calling
/// one where the runtime did not is an error naming it.
///
/// Unit arguments (`DATEDIFF(second, …)`, `DATEADD(minute, …)`) are written as bare words.
public enum SQLFunctions {
    /// Functions the runtime computes over several events (aggregates, windows, analytic functions).
    public static let computedByRuntime: Set<String> = [
        "COUNT", "SUM", "AVG", "MIN", "MAX", "STDEV", "STDEVP", "VAR", "VARP", "PERCENTILE_CONT", "PERCENTILE_DISC", "TOPONE", "COLLECT",
        "COLLECTTOP", "LAG", "LAST", "ISFIRST", "ANOMALYDETECTION_SPIKEANDDIP", "ANOMALYDETECTION_CHANGEPOINT", "TUMBLINGWINDOW",
        "HOPPINGWINDOW", "SLIDINGWINDOW", "SESSIONWINDOW", "SNAPSHOTWINDOW", "WINDOWS", "WINDOW",
    ]

    /// Every scalar function name (upper case), for the planner's "unknown function" check.
    public static var scalarNames: Set<String> { Set(table.keys).union(["DATEADD", "DATEDIFF", "DATEPART", "DATENAME", "SYSTEM.TIMESTAMP"]) }

    static func call(_ call: SQLCall, in row: SQLRow, at: SQLLocation) throws(SQLError) -> SQLValue {
        let name = call.name.uppercased()
        switch name {
        case "SYSTEM.TIMESTAMP":
            guard let t = row.timestamp else { throw SQLError("System.Timestamp() has no value here", at: at) }
            return .datetime(t)
        case "DATEADD", "DATEDIFF", "DATEPART":
            return try dateFunction(name, call, in: row, at: at)
        default:
            break
        }
        if computedByRuntime.contains(name) {
            throw SQLError("\(call.name) is an aggregate or analytic function and cannot be used here", at: at)
        }
        guard let function = table[name] else { throw SQLError("unknown function \(call.name)", at: at) }
        guard function.arity.contains(call.arguments.count) else {
            throw SQLError("\(call.name) takes \(describe(function.arity)) arguments, got \(call.arguments.count)", at: at)
        }
        var arguments: [SQLValue] = []
        arguments.reserveCapacity(call.arguments.count)
        for argument in call.arguments { arguments.append(try SQLEvaluator.evaluate(argument, in: row)) }
        return try function.body(arguments, at)
    }

    private static func describe(_ arity: ClosedRange<Int>) -> String {
        arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : arity.upperBound == Int.max ? "at least \(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)"
    }

    private static func dateFunction(_ name: String, _ call: SQLCall, in row: SQLRow, at: SQLLocation) throws(SQLError) -> SQLValue {
        let expected = name == "DATEPART" ? 2 : 3
        guard call.arguments.count == expected, case .path(let unitPath) = call.arguments[0].kind, unitPath.count == 1 else {
            throw SQLError("\(call.name) takes a unit (second, minute, …) and \(expected - 1) values", at: at)
        }
        let unit = unitPath[0]
        func datetime(_ e: SQLExpression) throws(SQLError) -> Int64? {
            // An input's name stands for its event time (`DATEDIFF(second, s1, s2)` in stream joins).
            if case .path(let parts) = e.kind, parts.count == 1, let time = row.time(of: parts[0]) { return time }
            switch try SQLEvaluator.evaluate(e, in: row) {
            case .null: return nil
            case .datetime(let ms): return ms
            case .string(let s):
                guard let ms = SQLDateTime.parse(s) else { throw SQLError("'\(s.prefix(40))' is not a datetime", at: e.location) }
                return ms
            case let other: throw SQLError("\(call.name) needs a datetime, got \(other.typeName)", at: e.location)
            }
        }
        switch name {
        case "DATEADD":
            let amount = try SQLEvaluator.evaluate(call.arguments[1], in: row)
            if amount.isNull { return .null }
            guard let x = amount.double, x.isFinite, Swift.abs(x) < 9e18 else {
                throw SQLError("DATEADD needs a number of units, got \(amount.typeName)", at: call.arguments[1].location)
            }
            let n = Int64(x.rounded(.towardZero))
            guard let t = try datetime(call.arguments[2]) else { return .null }
            guard let result = SQLDateTime.add(unit, n, to: t) else { throw SQLError("unknown or overflowing date unit \(unit)", at: at) }
            return .datetime(result)
        case "DATEDIFF":
            guard let a = try datetime(call.arguments[1]), let b = try datetime(call.arguments[2]) else { return .null }
            guard let d = SQLDateTime.difference(unit, from: a, to: b) else { throw SQLError("unknown date unit \(unit)", at: at) }
            return .int(d)
        default:
            guard let t = try datetime(call.arguments[1]) else { return .null }
            guard let p = SQLDateTime.part(unit, of: t) else { throw SQLError("unknown date part \(unit)", at: at) }
            return .int(p)
        }
    }

    struct Function: Sendable {
        var arity: ClosedRange<Int>
        var body: @Sendable ([SQLValue], SQLLocation) throws(SQLError) -> SQLValue
    }

    /// Math on one number; NULL stays NULL.
    private static func math(_ f: @escaping @Sendable (Double) -> Double) -> Function {
        Function(arity: 1...1) { (args, at) throws(SQLError) in
            if args[0].isNull { return .null }
            guard let x = args[0].double else { throw SQLError("a number is needed, got \(args[0].typeName)", at: at) }
            return .float(f(x))
        }
    }

    private static func string(_ arity: ClosedRange<Int>, _ f: @escaping @Sendable ([SQLValue], SQLLocation) throws(SQLError) -> SQLValue) -> Function {
        Function(arity: arity) { (args, at) throws(SQLError) in
            if args.contains(where: \.isNull) { return .null }
            return try f(args, at)
        }
    }

    private static func text(_ value: SQLValue, at: SQLLocation) throws(SQLError) -> String {
        guard case .string(let s) = value else { throw SQLError("a string is needed, got \(value.typeName)", at: at) }
        return s
    }

    private static func integer(_ value: SQLValue, at: SQLLocation) throws(SQLError) -> Int64 {
        switch value {
        case .int(let n): return n
        case .float(let x) where x.isFinite && x == x.rounded() && abs(x) < 9e18: return Int64(x)
        default: throw SQLError("a whole number is needed, got \(value.typeName)", at: at)
        }
    }

    private static func number(_ value: SQLValue, at: SQLLocation) throws(SQLError) -> Double {
        guard let x = value.double else { throw SQLError("a number is needed, got \(value.typeName)", at: at) }
        return x
    }

    /// The coordinates of point arguments.
    private static func points(_ values: [SQLValue], of function: String, at: SQLLocation) throws(SQLError) -> [SQLGeo.Coordinate] {
        var points: [SQLGeo.Coordinate] = []
        for value in values {
            guard case .point(let c) = try geo(value, at: at) else { throw SQLError("\(function) takes points", at: at) }
            points.append(c)
        }
        return points
    }

    private static func geo(_ value: SQLValue, at: SQLLocation) throws(SQLError) -> SQLGeo.Shape {
        guard let shape = SQLGeo.shape(value) else { throw SQLError("a GeoJSON point, line string or polygon is needed", at: at) }
        return shape
    }

    static let table: [String: Function] = [
        // numbers
        "ABS": Function(arity: 1...1) { (a, at) throws(SQLError) in
            switch a[0] {
            case .null: return .null
            case .int(let n): return n == .min ? .float(-Double(n)) : .int(Swift.abs(n))
            case .float(let x): return .float(Swift.abs(x))
            default: throw SQLError("a number is needed, got \(a[0].typeName)", at: at)
            }
        },
        "CEILING": math { $0.rounded(.up) }, "FLOOR": math { $0.rounded(.down) }, "SQRT": math { $0.squareRoot() },
        "EXP": math { Foundation.exp($0) }, "LOG": math { Foundation.log($0) }, "LOG10": math { Foundation.log10($0) },
        "SIGN": math { $0 > 0 ? 1 : $0 < 0 ? -1 : 0 }, "SQUARE": math { $0 * $0 },
        "SIN": math { Foundation.sin($0) }, "COS": math { Foundation.cos($0) }, "TAN": math { Foundation.tan($0) },
        "ROUND": Function(arity: 1...2) { (a, at) throws(SQLError) in
            if a.contains(where: \.isNull) { return .null }
            let x = try number(a[0], at: at)
            let digits = a.count > 1 ? try integer(a[1], at: at) : 0
            guard (-15...15).contains(digits) else { throw SQLError("ROUND's precision must be -15…15", at: at) }
            let scale = Foundation.pow(10, Double(digits))
            return .float((x * scale).rounded(.toNearestOrAwayFromZero) / scale)
        },
        "POWER": Function(arity: 2...2) { (a, at) throws(SQLError) in
            if a.contains(where: \.isNull) { return .null }
            return .float(Foundation.pow(try number(a[0], at: at), try number(a[1], at: at)))
        },
        // strings
        "LEN": string(1...1) { (a, at) throws(SQLError) in .int(Int64(try text(a[0], at: at).count)) },
        "UPPER": string(1...1) { (a, at) throws(SQLError) in .string(try text(a[0], at: at).uppercased()) },
        "LOWER": string(1...1) { (a, at) throws(SQLError) in .string(try text(a[0], at: at).lowercased()) },
        "LTRIM": string(1...1) { (a, at) throws(SQLError) in .string(String(try text(a[0], at: at).drop { $0 == " " })) },
        "RTRIM": string(1...1) { (a, at) throws(SQLError) in
            var s = try text(a[0], at: at)
            while s.last == " " { s.removeLast() }
            return .string(s)
        },
        "TRIM": string(1...1) { (a, at) throws(SQLError) in .string(try text(a[0], at: at).trimmingSQLSpaces()) },
        "SUBSTRING": string(3...3) { (a, at) throws(SQLError) in
            let s = Array(try text(a[0], at: at))
            // Clamped so that no sum below can overflow.
            let start = min(max(try integer(a[1], at: at), -1 << 40), 1 << 40), length = min(try integer(a[2], at: at), 1 << 40)
            guard length >= 0 else { throw SQLError("SUBSTRING's length must not be negative", at: at) }
            let from = max(1, start), to = min(Int64(s.count), start + length - 1)
            return .string(from > to ? "" : String(s[Int(from - 1)..<Int(to)]))
        },
        "CHARINDEX": string(2...3) { (a, at) throws(SQLError) in
            let needle = try text(a[0], at: at), hay = Array(try text(a[1], at: at))
            let start = a.count > 2 ? max(1, Int(try integer(a[2], at: at))) : 1
            guard !needle.isEmpty, start <= hay.count else { return .int(0) }
            let n = Array(needle)
            for i in (start - 1)..<hay.count where hay.count - i >= n.count && Array(hay[i..<(i + n.count)]) == n { return .int(Int64(i + 1)) }
            return .int(0)
        },
        "PATINDEX": string(2...2) { (a, at) throws(SQLError) in
            let pattern = try text(a[0], at: at), s = Array(try text(a[1], at: at))
            for i in 0...s.count where SQLLike.matches(String(s[i...]), pattern: pattern.hasPrefix("%") ? String(pattern.dropFirst()) : pattern) {
                return .int(Int64(i + 1))
            }
            return .int(0)
        },
        "REPLACE": string(3...3) { (a, at) throws(SQLError) in
            let s = try text(a[0], at: at), old = try text(a[1], at: at), new = try text(a[2], at: at)
            return .string(old.isEmpty ? s : s.replacingOccurrences(of: old, with: new))
        },
        "CONCAT": Function(arity: 1...Int.max) { (a, _) throws(SQLError) in .string(a.map(SQLCast.text).joined()) },
        "SPLIT": string(2...2) { (a, at) throws(SQLError) in
            let s = try text(a[0], at: at), separator = try text(a[1], at: at)
            guard !separator.isEmpty else { throw SQLError("SPLIT needs a separator", at: at) }
            return .array(s.components(separatedBy: separator).map { .string($0) })
        },
        "REGEXMATCH": string(2...2) { (a, at) throws(SQLError) in
            let s = try text(a[0], at: at), pattern = try text(a[1], at: at)
            guard let regex = try? NSRegularExpression(pattern: pattern) else { throw SQLError("invalid regular expression", at: at) }
            let range = NSRange(s.startIndex..., in: s)
            return .int(regex.firstMatch(in: s, range: range).map { Int64($0.range.location + 1) } ?? 0)
        },
        "NEWID": Function(arity: 0...0) { (_, _) throws(SQLError) in .string(UUID().uuidString.lowercased()) },
        // records and arrays
        "GETRECORDPROPERTYVALUE": Function(arity: 2...2) { (a, at) throws(SQLError) in
            guard case .record(let record) = a[0] else { return .null }
            guard case .string(let path) = a[1] else { throw SQLError("GetRecordPropertyValue needs a property name", at: at) }
            var value: SQLValue = .record(record)
            for part in path.split(separator: ".") {
                guard case .record(let r) = value, let next = r[String(part)] else { return .null }
                value = next
            }
            return value
        },
        "GETARRAYELEMENT": Function(arity: 2...2) { (a, at) throws(SQLError) in
            guard case .array(let items) = a[0] else { return .null }
            if a[1].isNull { return .null }
            let index = try integer(a[1], at: at)
            return index >= 0 && index < items.count ? items[Int(index)] : .null
        },
        "GETARRAYLENGTH": Function(arity: 1...1) { (a, _) throws(SQLError) in
            if case .array(let items) = a[0] { return .int(Int64(items.count)) }
            return .null
        },
        "GETTYPE": Function(arity: 1...1) { (a, _) throws(SQLError) in .string(a[0].typeName) },
        "ISNULL": Function(arity: 2...2) { (a, _) throws(SQLError) in a[0].isNull ? a[1] : a[0] },
        "COALESCE": Function(arity: 1...Int.max) { (a, _) throws(SQLError) in a.first { !$0.isNull } ?? .null },
        "NULLIF": Function(arity: 2...2) { (a, at) throws(SQLError) in
            try SQLEvaluator.compare(a[0], a[1], at: at) == 0 ? .null : a[0]
        },
        // dates
        "YEAR": datePart("year"), "MONTH": datePart("month"), "DAY": datePart("day"),
        "DATETIMEFROMPARTS": Function(arity: 7...7) { (a, at) throws(SQLError) in
            if a.contains(where: \.isNull) { return .null }
            var n: [Int64] = []
            for v in a { n.append(try integer(v, at: at)) }
            guard (1...9999).contains(n[0]), (1...12).contains(n[1]), (1...31).contains(n[2]), (0...23).contains(n[3]), (0...59).contains(n[4]), (0...59).contains(n[5]),
                (0...999).contains(n[6])
            else { throw SQLError("DATETIMEFROMPARTS: a part is out of range", at: at) }
            let days = SQLDateTime.daysFromCivil(year: Int(n[0]), month: Int(n[1]), day: Int(n[2]))
            return .datetime(Int64(days) * 86_400_000 + n[3] * 3_600_000 + n[4] * 60_000 + n[5] * 1000 + n[6])
        },
        // geospatial
        "CREATEPOINT": Function(arity: 2...2) { (a, at) throws(SQLError) in
            if a.contains(where: \.isNull) { return .null }
            let lat = try number(a[0], at: at), lon = try number(a[1], at: at)
            guard (-90...90).contains(lat), (-180...180).contains(lon) else { throw SQLError("CreatePoint needs latitude -90…90 and longitude -180…180", at: at) }
            return SQLGeo.point(lat: lat, lon: lon)
        },
        "CREATEPOLYGON": Function(arity: 3...Int.max) { (a, at) throws(SQLError) in
            SQLGeo.polygon(try points(a, of: "CreatePolygon", at: at))
        },
        "CREATELINESTRING": Function(arity: 2...Int.max) { (a, at) throws(SQLError) in
            SQLGeo.lineString(try points(a, of: "CreateLineString", at: at))
        },
        "ST_DISTANCE": Function(arity: 2...2) { (a, at) throws(SQLError) in
            if a.contains(where: \.isNull) { return .null }
            guard let d = SQLGeo.distance(try geo(a[0], at: at), try geo(a[1], at: at)) else { throw SQLError("ST_DISTANCE takes two points", at: at) }
            return .float(d)
        },
        "ST_WITHIN": Function(arity: 2...2) { (a, at) throws(SQLError) in
            if a.contains(where: \.isNull) { return .null }
            return .int(SQLGeo.within(try geo(a[0], at: at), try geo(a[1], at: at)) ? 1 : 0)
        },
        "ST_INTERSECTS": Function(arity: 2...2) { (a, at) throws(SQLError) in
            if a.contains(where: \.isNull) { return .null }
            return .int(SQLGeo.intersects(try geo(a[0], at: at), try geo(a[1], at: at)) ? 1 : 0)
        },
    ]

    private static func datePart(_ unit: String) -> Function {
        Function(arity: 1...1) { (a, at) throws(SQLError) in
            switch a[0] {
            case .null: return .null
            case .datetime(let ms): return .int(SQLDateTime.part(unit, of: ms)!)
            case .string(let s):
                guard let ms = SQLDateTime.parse(s) else { throw SQLError("'\(s.prefix(40))' is not a datetime", at: at) }
                return .int(SQLDateTime.part(unit, of: ms)!)
            default: throw SQLError("a datetime is needed, got \(a[0].typeName)", at: at)
            }
        }
    }
}
