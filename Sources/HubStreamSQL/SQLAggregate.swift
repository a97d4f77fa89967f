/// The aggregate functions of `GROUP BY` windows, as accumulators: `add` each event's argument value,
/// `result` when the window closes. NULL arguments are skipped (except by `COUNT(*)`), as in SQL.
///
/// | function | result |
/// | --- | --- |
/// | `COUNT(*)`, `COUNT(x)`, `COUNT(DISTINCT x)` | bigint: rows, non-null values, distinct non-null values |
/// | `SUM(x)`, `AVG(x)` | bigint sum while it fits, else float; AVG float; NULL over no values |
/// | `MIN(x)`, `MAX(x)` | the least/greatest value (numbers, strings, datetimes) |
/// | `STDEV`, `STDEVP`, `VAR`, `VARP` | sample / population standard deviation and variance (Welford; NULL when undefined) |
/// | `PERCENTILE_CONT(p) OVER (ORDER BY x)`, `PERCENTILE_DISC(…)` | interpolated / nearest-rank percentile of x |
/// | `TopOne() OVER (ORDER BY x [DESC])` | the whole first record in that order |
/// | `Collect(x)` | an array of every value (with `*`, of every record) |
///
/// `Collect`, the percentiles and `DISTINCT` keep values: at most `maximumRetained` per accumulator,
/// beyond which `add` throws (the runtime reports it; a window never grows without bound).
public struct SQLAccumulator: Sendable {
    public enum Kind: Sendable, Hashable {
        case countRows, count, countDistinct, sum, average, minimum, maximum
        case standardDeviation(sample: Bool), variance(sample: Bool)
        case percentile(Double, continuous: Bool, descending: Bool)
        case topOne(descending: Bool)
        case collect
    }

    public static let maximumRetained = 100_000

    public let kind: Kind
    private var rows: Int64 = 0
    private var count: Int64 = 0
    private var intSum: Int64 = 0
    private var intSumOverflowed = false
    private var floatSum = 0.0
    private var sawFloat = false
    // Welford.
    private var mean = 0.0
    private var m2 = 0.0
    private var extreme: SQLValue = .null
    private var retained: [SQLValue] = []
    private var distinct: Set<SQLValue> = []
    /// `TopOne`: the sort key of `extreme`'s record.
    private var topKey: SQLValue = .null

    public init(_ kind: Kind) {
        self.kind = kind
    }

    /// Adds one event: `value` is the argument (the ORDER BY key for percentiles and TopOne), `record`
    /// the whole event (for `TopOne` and `Collect(*)`).
    public mutating func add(_ value: SQLValue, record: SQLValue = .null, at location: SQLLocation) throws(SQLError) {
        rows += 1
        if case .countRows = kind { return }
        if case .topOne(let descending) = kind {
            guard !value.isNull else { return }
            if topKey.isNull { (topKey, extreme) = (value, record); return }
            guard let order = try SQLEvaluator.compare(value, topKey, at: location) else { return }
            if descending ? order > 0 : order < 0 { (topKey, extreme) = (value, record) }
            return
        }
        if case .collect = kind {
            try retain(value.isNull && !record.isNull ? record : value, at: location)
            return
        }
        guard !value.isNull else { return }
        count += 1
        switch kind {
        case .countRows, .count, .topOne, .collect:
            return
        case .countDistinct:
            if distinct.insert(value).inserted, distinct.count > Self.maximumRetained {
                throw SQLError("COUNT(DISTINCT) saw more than \(Self.maximumRetained) values in one window", at: location)
            }
        case .sum, .average, .standardDeviation, .variance:
            guard let x = value.double else { throw SQLError("a number is needed, got \(value.typeName)", at: location) }
            if case .int(let n) = value, !intSumOverflowed {
                let (r, o) = intSum.addingReportingOverflow(n)
                if o { intSumOverflowed = true } else { intSum = r }
            } else if case .float = value {
                sawFloat = true
            }
            floatSum += x
            let delta = x - mean
            mean += delta / Double(count)
            m2 += delta * (x - mean)
        case .minimum, .maximum:
            if extreme.isNull { extreme = value; return }
            guard let order = try SQLEvaluator.compare(value, extreme, at: location) else { return }
            if case .minimum = kind, order < 0 { extreme = value }
            if case .maximum = kind, order > 0 { extreme = value }
        case .percentile:
            guard value.double != nil else { throw SQLError("a number is needed, got \(value.typeName)", at: location) }
            try retain(value, at: location)
        }
    }

    private mutating func retain(_ value: SQLValue, at location: SQLLocation) throws(SQLError) {
        guard retained.count < Self.maximumRetained else {
            throw SQLError("an aggregate kept more than \(Self.maximumRetained) values in one window", at: location)
        }
        retained.append(value)
    }

    /// The aggregate's value for the window.
    public func result() -> SQLValue {
        switch kind {
        case .countRows: return .int(rows)
        case .count: return .int(count)
        case .countDistinct: return .int(Int64(distinct.count))
        case .sum:
            guard count > 0 else { return .null }
            return sawFloat || intSumOverflowed ? .float(floatSum) : .int(intSum)
        case .average: return count > 0 ? .float(floatSum / Double(count)) : .null
        case .minimum, .maximum, .topOne: return extreme
        case .variance(let sample):
            let n = Double(count) - (sample ? 1 : 0)
            return n > 0 ? .float(m2 / n) : .null
        case .standardDeviation(let sample):
            let n = Double(count) - (sample ? 1 : 0)
            return n > 0 ? .float((m2 / n).squareRoot()) : .null
        case .percentile(let p, let continuous, let descending):
            var sorted = retained.compactMap(\.double).sorted()
            if descending { sorted.reverse() }
            guard !sorted.isEmpty else { return .null }
            if continuous {
                // Linear interpolation between the closest ranks (PERCENTILE_CONT).
                let position = p * Double(sorted.count - 1)
                let lower = Int(position.rounded(.down)), upper = Int(position.rounded(.up))
                return .float(sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower)))
            }
            // The first value whose cumulative distribution reaches p (PERCENTILE_DISC).
            let index = max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)
            return .float(sorted[min(index, sorted.count - 1)])
        case .collect: return .array(retained)
        }
    }

    /// The accumulator for a call, or nil when the call is not an aggregate. Checks arity and the
    /// percentile's fraction.
    public static func kind(of call: SQLCall, at location: SQLLocation) throws(SQLError) -> Kind? {
        let name = call.name.uppercased()
        func one() throws(SQLError) {
            guard call.arguments.count == 1 else { throw SQLError("\(call.name) takes one argument", at: location) }
        }
        switch name {
        case "COUNT":
            try one()
            if case .star = call.arguments[0].kind { return .countRows }
            return call.distinct ? .countDistinct : .count
        case "SUM": try one(); return .sum
        case "AVG": try one(); return .average
        case "MIN": try one(); return .minimum
        case "MAX": try one(); return .maximum
        case "STDEV": try one(); return .standardDeviation(sample: true)
        case "STDEVP": try one(); return .standardDeviation(sample: false)
        case "VAR": try one(); return .variance(sample: true)
        case "VARP": try one(); return .variance(sample: false)
        case "COLLECT": try one(); return .collect
        case "PERCENTILE_CONT", "PERCENTILE_DISC":
            try one()
            guard case .float(let p) = call.arguments[0].kind.numericLiteral, (0...1).contains(p) else {
                throw SQLError("\(call.name) takes a fraction 0…1", at: location)
            }
            guard let over = call.over, over.orderBy != nil else { throw SQLError("\(call.name) needs OVER (ORDER BY …)", at: location) }
            return .percentile(p, continuous: name == "PERCENTILE_CONT", descending: over.descending)
        case "TOPONE":
            guard call.arguments.isEmpty, let over = call.over, over.orderBy != nil else {
                throw SQLError("TopOne() takes no arguments and needs OVER (ORDER BY …)", at: location)
            }
            return .topOne(descending: over.descending)
        default:
            return nil
        }
    }
}

extension SQLExpression.Kind {
    /// An integer or float literal as a float literal (for fractions written `1` or `0.5`).
    var numericLiteral: SQLExpression.Kind {
        if case .integer(let n) = self { return .float(Double(n)) }
        return self
    }
}
