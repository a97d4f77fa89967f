/// The syntax tree of a stream SQL job, as written (names unresolved, functions unchecked): what the
/// parser produces and the planner reads. Every node that can be wrong at plan time keeps its location.

/// A whole job: `WITH` steps shared by its statements, then one or more statements separated by `;`.
public struct SQLScript: Sendable, Hashable {
    public var steps: [SQLStep]
    public var statements: [SQLQuery]
}

/// `name AS (query)` in a `WITH` clause.
public struct SQLStep: Sendable, Hashable {
    public var name: String
    public var query: SQLQuery
    public var location: SQLLocation
}

/// One `SELECT`, or several joined by `UNION` / `UNION ALL`.
public struct SQLQuery: Sendable, Hashable {
    public var selects: [SQLSelect]
    /// `unionAll[i]` joins `selects[i]` and `selects[i + 1]` (false: `UNION`, which removes duplicates
    /// within a window in Stream Analytics; Meridian treats both as `UNION ALL`, see the planner).
    public var unionAll: [Bool]
}

public struct SQLSelect: Sendable, Hashable {
    public var distinct: Bool
    /// `TOP n`.
    public var top: Int?
    public var items: [SQLSelectItem]
    /// `INTO output`: nil inside `WITH` steps and for the default output.
    public var into: String?
    public var from: SQLSource
    public var joins: [SQLJoin]
    /// `CROSS APPLY` / `OUTER APPLY` of array or record expansions, in order.
    public var applies: [SQLApply]
    public var filter: SQLExpression?
    public var groupBy: [SQLExpression]
    public var having: SQLExpression?
    public var location: SQLLocation
}

public enum SQLSelectItem: Sendable, Hashable {
    /// `*` or `alias.*`.
    case all(qualifier: String?, location: SQLLocation)
    case expression(SQLExpression, alias: String?)
}

/// An input: a stream (`events`, a `WITH` step) or reference data (`twins`, a loaded table).
public struct SQLSource: Sendable, Hashable {
    public var name: String
    public var alias: String?
    /// `TIMESTAMP BY expr`: the event time; nil = arrival (enqueued) time.
    public var timestampBy: SQLExpression?
    /// `TIMESTAMP BY … OVER key, …`: one timeline per key (substreams).
    public var timestampOver: [SQLExpression]
    public var location: SQLLocation

    /// The name the query refers to this input by.
    public var referenceName: String { alias ?? name }
}

public struct SQLJoin: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case inner, leftOuter }
    public var kind: Kind
    public var source: SQLSource
    public var condition: SQLExpression
    public var location: SQLLocation
}

public struct SQLApply: Sendable, Hashable {
    /// `CROSS APPLY` drops rows whose expansion is empty; `OUTER APPLY` keeps them with NULLs.
    public var outer: Bool
    public var function: SQLExpression
    public var alias: String
    public var location: SQLLocation
}

/// An expression with its location.
public struct SQLExpression: Sendable, Hashable {
    public indirect enum Kind: Sendable, Hashable {
        case null
        case boolean(Bool)
        /// Written without a fraction or exponent and within Int64.
        case integer(Int64)
        case float(Double)
        case string(String)
        /// A name or dotted path: `deviceId`, `e.deviceId`, `t.tags.fleet`, `[my field]`.
        case path([String])
        /// `*` as a function argument (`COUNT(*)`).
        case star
        case unary(UnaryOperator, SQLExpression)
        case binary(BinaryOperator, SQLExpression, SQLExpression)
        /// `e IS [NOT] NULL`.
        case isNull(SQLExpression, negated: Bool)
        /// `e [NOT] BETWEEN low AND high`.
        case between(SQLExpression, low: SQLExpression, high: SQLExpression, negated: Bool)
        /// `e [NOT] IN (a, b, …)`.
        case inList(SQLExpression, [SQLExpression], negated: Bool)
        /// `e [NOT] LIKE pattern`.
        case like(SQLExpression, pattern: SQLExpression, negated: Bool)
        /// `CAST(e AS type)` / `TRY_CAST(e AS type)`; the type name as written, lower-cased.
        case cast(SQLExpression, type: String, orNull: Bool)
        /// `CASE [operand] WHEN … THEN … [ELSE …] END`.
        case caseWhen(operand: SQLExpression?, branches: [SQLCaseBranch], otherwise: SQLExpression?)
        /// A function call; `name` keeps dotted prefixes (`System.Timestamp`, `udf.f`).
        case call(SQLCall)
    }

    public var kind: Kind
    public var location: SQLLocation

    public init(_ kind: Kind, at location: SQLLocation) {
        self.kind = kind
        self.location = location
    }

    /// Hashes the node's place in the query text only: `==` still compares whole trees (location
    /// included), so equal expressions hash alike, while looking a node up (the runtime's computed
    /// aggregates and analytic values, at every evaluated node) costs no walk of its subtree.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(location.line)
        hasher.combine(location.column)
    }
}

public struct SQLCaseBranch: Sendable, Hashable {
    public var when: SQLExpression
    public var then: SQLExpression
}

public struct SQLCall: Sendable, Hashable {
    public var name: String
    public var arguments: [SQLExpression]
    /// `COUNT(DISTINCT x)`.
    public var distinct: Bool
    /// `… OVER (PARTITION BY … LIMIT DURATION(…) WHEN …)` of analytic functions.
    public var over: SQLOver?
}

/// The `OVER` clause of an analytic function (`LAG`, `LAST`, `ISFIRST`, anomaly detection).
public struct SQLOver: Sendable, Hashable {
    public var partitionBy: [SQLExpression]
    /// `ORDER BY expr [ASC|DESC]` of `PERCENTILE_CONT`, `PERCENTILE_DISC` and `TopOne`.
    public var orderBy: SQLExpression?
    public var descending = false
    /// `LIMIT DURATION(unit, amount)`.
    public var limitDuration: SQLDuration?
    /// `WHEN condition`: only events meeting it count as history.
    public var when: SQLExpression?
}

/// `unit, amount` of `DURATION(…)`, windows and `ISFIRST`.
public struct SQLDuration: Sendable, Hashable {
    public var unit: String
    public var amount: SQLExpression
}

public enum UnaryOperator: String, Sendable, Hashable {
    case not = "NOT"
    case negate = "-"
    case plus = "+"
}

public enum BinaryOperator: String, Sendable, Hashable {
    case or = "OR", and = "AND"
    case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", concatenate = "||"
}
