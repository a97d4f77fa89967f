import HubCore
import HubStorage

/// A parsed IoT Hub twin query (protocol reference §7.1):
/// `SELECT <selection> FROM devices | devices.modules [WHERE <condition>] [GROUP BY <path>, …]`.
///
/// Parse once with `TwinQuery(parsing:)`, run with `TwinQueryExecutor`.
public struct TwinQuery: Sendable, Hashable {
    /// The query text as given (continuation tokens are bound to it).
    public let text: String
    let selection: Selection
    /// `TOP n`: at most this many items over all pages.
    let top: Int?
    /// `FROM devices` (device twins) or `FROM devices.modules` (module twins).
    public let scope: TwinScope
    let condition: QueryExpression?
    let groupBy: [QueryPath]

    /// The longest query text accepted, in UTF-16 code units as Azure counts (8 KB).
    public static let maximumLength = 8192

    /// `twin` for `SELECT *`, `raw` for projections and aggregates (the `x-ms-item-type` header).
    public var itemType: QueryItemType {
        if case .all = selection { return .twin }
        return .raw
    }

    /// Whether the query aggregates (`COUNT()` …, `GROUP BY`): it then reads every twin before the
    /// first item, and pages over its result rows.
    var aggregates: Bool {
        if !groupBy.isEmpty { return true }
        guard case .items(let items) = selection else { return false }
        return items.contains { $0.expression.isAggregate }
    }

    enum Selection: Sendable, Hashable {
        case all
        case items([SelectItem])
    }

    struct SelectItem: Sendable, Hashable {
        var expression: QueryExpression
        /// The member name in output rows: the alias, the path's last segment, or `$1`, `$2`… for
        /// other unnamed expressions.
        var name: String
    }
}

/// What a query returns, for the `x-ms-item-type` response header.
public enum QueryItemType: String, Sendable, Hashable {
    /// Whole service twins (`SELECT *`).
    case twin
    /// Projections and aggregates.
    case raw
}

/// A property path into a service-twin document: `tags.fleet`, `properties.reported['a-b'][0]`.
struct QueryPath: Sendable, Hashable {
    enum Segment: Sendable, Hashable {
        case name(String)
        case index(Int)
    }

    var segments: [Segment]

    /// The last named segment: a projection's default output name.
    var lastName: String? {
        for segment in segments.reversed() { if case .name(let name) = segment { return name } }
        return nil
    }
}

/// An expression of the query language.
indirect enum QueryExpression: Sendable, Hashable {
    case literal(JSONValue)
    case undefined
    case path(QueryPath)
    case array([QueryExpression])
    case negate(QueryExpression)
    case not(QueryExpression)
    case arithmetic(ArithmeticOperator, QueryExpression, QueryExpression)
    case comparison(ComparisonOperator, QueryExpression, QueryExpression)
    case and(QueryExpression, QueryExpression)
    case or(QueryExpression, QueryExpression)
    /// `x IN [...]` (negated: `NIN`).
    case membership(QueryExpression, [QueryExpression], negated: Bool)
    case function(QueryFunction, [QueryExpression])
    /// Only as a whole select item.
    case aggregate(QueryAggregate, QueryExpression?)

    var isAggregate: Bool {
        if case .aggregate = self { return true }
        return false
    }
}

enum ArithmeticOperator: Sendable, Hashable { case add, subtract, multiply, divide, remainder }

enum ComparisonOperator: Sendable, Hashable { case equal, notEqual, less, greater, lessOrEqual, greaterOrEqual }

/// The two languages that share this grammar: twin queries (`SELECT … FROM devices`) and the conditions
/// of message routes, which add Azure's routing functions (math, strings, `AS_NUMBER`) and `$`-rooted
/// paths (`$body`, `$twin`, system properties) next to application properties.
enum QueryDialect: Sendable, Hashable {
    case twin
    case routing
}

/// The scalar functions of twin queries and route conditions (names case-insensitive).
enum QueryFunction: String, Sendable, Hashable, CaseIterable {
    case isDefined = "IS_DEFINED", isNull = "IS_NULL", startsWith = "STARTS_WITH", endsWith = "ENDS_WITH"
    case isBool = "IS_BOOL", isNumber = "IS_NUMBER", isString = "IS_STRING", isObject = "IS_OBJECT"
    case isArray = "IS_ARRAY", isPrimitive = "IS_PRIMITIVE"
    // Routing only.
    case abs = "ABS", exp = "EXP", power = "POWER", square = "SQUARE", ceiling = "CEILING", floor = "FLOOR"
    case sign = "SIGN", sqrt = "SQRT", asNumber = "AS_NUMBER", concat = "CONCAT", length = "LENGTH"
    case lower = "LOWER", upper = "UPPER", substring = "SUBSTRING", indexOf = "INDEX_OF", contains = "CONTAINS"

    /// The numbers of arguments accepted.
    var arity: ClosedRange<Int> {
        switch self {
        case .startsWith, .endsWith, .power, .indexOf, .contains: 2...2
        case .substring: 2...3
        case .concat: 2...16
        default: 1...1
        }
    }

    /// Whether `dialect` has this function: twin queries only know the type checks and affixes.
    func available(in dialect: QueryDialect) -> Bool {
        switch self {
        case .isDefined, .isNull, .startsWith, .endsWith, .isBool, .isNumber, .isString, .isObject, .isArray, .isPrimitive:
            true
        default:
            dialect == .routing
        }
    }
}

/// The aggregates of a select list.
enum QueryAggregate: String, Sendable, Hashable, CaseIterable {
    case count = "COUNT", sum = "SUM", avg = "AVG", min = "MIN", max = "MAX"
}
