import HubCore

/// A message route's condition in the IoT Hub routing query syntax: a boolean expression over the
/// message's application properties (bare names: `processingPath = 'hot'`), its system properties
/// (`$contentType`, `$connectionDeviceId` …), its JSON body (`$body.Weather.Temperature > 50`) and the
/// sending device's twin (`$twin.tags.fleet = 'north'`, `$twin.properties.reported.firmware`).
///
/// The grammar and value rules are the twin query language's (`AND`/`OR`/`NOT`, comparisons, `IN`,
/// arithmetic, undefined for missing members), plus routing's functions: `ABS`, `EXP`, `POWER`,
/// `SQUARE`, `CEILING`, `FLOOR`, `SIGN`, `SQRT`, `AS_NUMBER`, `IS_*`, `CONCAT`, `LENGTH`, `LOWER`,
/// `UPPER`, `SUBSTRING`, `INDEX_OF`, `STARTS_WITH`, `ENDS_WITH`, `CONTAINS`. A message matches only when
/// the condition is exactly `true`; null or undefined count as false, as in Azure.
public struct RoutingCondition: Sendable, Hashable {
    /// The condition as written.
    public let text: String
    let expression: QueryExpression

    /// The longest condition accepted, in UTF-16 code units.
    public static let maximumLength = 1024

    /// Parses `text`; `true` (or an empty text) matches every message. Throws `.invalidQuery` with the
    /// line and column of the first problem.
    public init(parsing text: String) throws(TwinError) {
        let trimmed = text.trimmingSpaces
        guard trimmed.utf16.count <= Self.maximumLength else {
            throw TwinError(.invalidQuery, "a route condition is at most \(Self.maximumLength) characters", line: 1, column: 1)
        }
        self.text = trimmed.isEmpty ? "true" : trimmed
        var parser = QueryParser(tokens: try QueryLexer.tokens(of: self.text), dialect: .routing)
        expression = try parser.condition()
    }

    /// Whether the condition reads the message body (`$body…`): the body is parsed only then.
    public var readsBody: Bool { roots.contains("$body") }

    /// Whether the condition reads the device twin (`$twin…`): the twin is fetched only then.
    public var readsTwin: Bool { roots.contains("$twin") }

    /// The first name of every path in the condition (`$body`, `$twin`, `$contentType`, `level` …).
    public var roots: Set<String> {
        var names: Set<String> = []
        expression.collectRoots(into: &names)
        return names
    }

    /// Whether `document` satisfies the condition. `document` is an object whose members are the
    /// application properties (strings), the system properties under their `$` names, `$body` (when
    /// the body is JSON) and `$twin` (when the device has one).
    public func matches(_ document: JSONValue) -> Bool {
        QueryEvaluator.matches(expression, document)
    }
}

extension QueryExpression {
    fileprivate func collectRoots(into names: inout Set<String>) {
        switch self {
        case .path(let path):
            if case .name(let root)? = path.segments.first { names.insert(root) }
        case .literal, .undefined:
            break
        case .array(let items):
            for item in items { item.collectRoots(into: &names) }
        case .negate(let e), .not(let e):
            e.collectRoots(into: &names)
        case .arithmetic(_, let a, let b), .comparison(_, let a, let b), .and(let a, let b), .or(let a, let b):
            a.collectRoots(into: &names)
            b.collectRoots(into: &names)
        case .membership(let e, let items, _):
            e.collectRoots(into: &names)
            for item in items { item.collectRoots(into: &names) }
        case .function(_, let arguments):
            for argument in arguments { argument.collectRoots(into: &names) }
        case .aggregate(_, let argument):
            argument?.collectRoots(into: &names)
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
