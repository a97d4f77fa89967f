import HubCore
import HubStorage

extension TwinQuery {
    /// Parses `text`. Throws `.invalidQuery` with the line and column of the first problem.
    public init(parsing text: String) throws(TwinError) {
        guard text.utf16.count <= Self.maximumLength else {
            throw TwinError(.invalidQuery, "the query is longer than \(Self.maximumLength) characters", line: 1, column: 1)
        }
        var parser = QueryParser(tokens: try QueryLexer.tokens(of: text))
        self = try parser.query(text: text)
    }
}

/// A recursive-descent parser over `QueryLexer`'s tokens. Precedence, loosest first: `OR`, `AND`,
/// `NOT`, comparisons and `IN`/`NIN`, `+ -`, `* / %`, unary `-`, then literals, paths, calls and
/// parentheses. Keywords are case-insensitive; paths into the twin's fixed members (`DeviceId`,
/// `Properties.Reported`) are too, and are rewritten to Azure's camelCase spelling.
struct QueryParser {
    private let tokens: [QueryToken]
    private var index = 0
    let dialect: QueryDialect

    init(tokens: [QueryToken], dialect: QueryDialect = .twin) {
        self.tokens = tokens
        self.dialect = dialect
    }

    /// Names that cannot start a path.
    private static let reserved: Set<String> = [
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "AS", "AND", "OR", "NOT", "IN", "NIN", "TOP", "TRUE", "FALSE", "NULL",
        "UNDEFINED",
    ]

    private var current: QueryToken { tokens[index] }

    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private func unexpected(_ expectation: String) -> TwinError {
        TwinError(.invalidQuery, "expected \(expectation), found \(current.quoted)", line: current.position.line, column: current.position.column)
    }

    private mutating func expectKeyword(_ keyword: String) throws(TwinError) {
        guard current.isKeyword(keyword) else { throw unexpected(keyword) }
        advance()
    }

    private mutating func expectSymbol(_ symbol: QueryToken.Symbol) throws(TwinError) {
        guard current.isSymbol(symbol) else { throw unexpected("'\(symbol.rawValue)'") }
        advance()
    }

    private mutating func acceptSymbol(_ symbol: QueryToken.Symbol) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        advance()
        return true
    }

    // MARK: clauses

    /// A whole text that is one expression (a route condition).
    mutating func condition() throws(TwinError) -> QueryExpression {
        let result = try expression()
        guard case .end = current.kind else { throw unexpected("the end of the condition") }
        return result
    }

    mutating func query(text: String) throws(TwinError) -> TwinQuery {
        try expectKeyword("SELECT")
        var top: Int?
        if current.isKeyword("TOP") {
            advance()
            guard case .number(let digits) = current.kind, let n = Int(digits), n >= 0 else {
                throw unexpected("a whole number after TOP")
            }
            top = n
            advance()
        }
        let selectStart = current
        let selection = try selectList()
        try expectKeyword("FROM")
        let scope = try source()
        var condition: QueryExpression?
        if current.isKeyword("WHERE") {
            advance()
            let start = current
            condition = try expression()
            try Self.checkNoAggregate(condition!, at: start)
        }
        var groupBy: [QueryPath] = []
        if current.isKeyword("GROUP") {
            advance()
            try expectKeyword("BY")
            repeat {
                guard case .path(let path) = try primary() else {
                    throw TwinError(.invalidQuery, "GROUP BY takes property paths", line: tokens[index - 1].position.line, column: tokens[index - 1].position.column)
                }
                groupBy.append(path)
            } while acceptSymbol(.comma)
        }
        guard case .end = current.kind else { throw unexpected("the end of the query") }
        try Self.checkSelection(selection, groupBy: groupBy, at: selectStart)
        return TwinQuery(text: text, selection: selection, top: top, scope: scope, condition: condition, groupBy: groupBy)
    }

    private mutating func selectList() throws(TwinError) -> TwinQuery.Selection {
        if acceptSymbol(.star) { return .all }
        var items: [TwinQuery.SelectItem] = []
        var names: Set<String> = []
        repeat {
            let start = current
            let expression = try selectExpression()
            var name: String
            if current.isKeyword("AS") {
                advance()
                guard case .identifier(let alias) = current.kind else { throw unexpected("a name after AS") }
                name = alias
                advance()
            } else if case .path(let path) = expression, let last = path.lastName {
                name = last
            } else {
                name = "$\(items.count + 1)"
            }
            guard names.insert(name).inserted else {
                throw TwinError(.invalidQuery, "two select items have the same name", line: start.position.line, column: start.position.column)
            }
            items.append(TwinQuery.SelectItem(expression: expression, name: name))
        } while acceptSymbol(.comma)
        return .items(items)
    }

    /// A select item: an aggregate call or any expression.
    private mutating func selectExpression() throws(TwinError) -> QueryExpression {
        if case .identifier(let name) = current.kind, let aggregate = QueryAggregate(rawValue: name.uppercased()),
            tokens[index + 1].isSymbol(.leftParen)
        {
            let start = current
            advance()
            advance()
            var argument: QueryExpression?
            if aggregate == .count {
                if !current.isSymbol(.rightParen) && !acceptSymbol(.star) { argument = try expression() }
            } else {
                argument = try expression()
            }
            try expectSymbol(.rightParen)
            guard current.isKeyword("AS") || current.isKeyword("FROM") || current.isSymbol(.comma) else {
                throw TwinError(.invalidQuery, "an aggregate must be a whole select item", line: start.position.line, column: start.position.column)
            }
            return .aggregate(aggregate, argument)
        }
        return try expression()
    }

    private mutating func source() throws(TwinError) -> TwinScope {
        guard current.isKeyword("DEVICES") else { throw unexpected("devices or devices.modules") }
        advance()
        guard acceptSymbol(.dot) else { return .devices }
        if current.isKeyword("MODULES") {
            advance()
            return .modules
        }
        if current.isKeyword("JOBS") {
            throw TwinError(.invalidQuery, "devices.jobs queries are not supported", line: current.position.line, column: current.position.column)
        }
        throw unexpected("modules")
    }

    // MARK: checks

    private static func checkNoAggregate(_ expression: QueryExpression, at token: QueryToken) throws(TwinError) {
        if expression.containsAggregate {
            throw TwinError(.invalidQuery, "aggregates are only allowed in the select list", line: token.position.line, column: token.position.column)
        }
    }

    /// `*` never with GROUP BY; aggregates only as whole items; without GROUP BY all items aggregate or
    /// none does; with GROUP BY every other item is one of the grouping paths.
    private static func checkSelection(_ selection: TwinQuery.Selection, groupBy: [QueryPath], at token: QueryToken) throws(TwinError) {
        func fail(_ reason: String) -> TwinError {
            TwinError(.invalidQuery, reason, line: token.position.line, column: token.position.column)
        }
        guard case .items(let items) = selection else {
            if !groupBy.isEmpty { throw fail("SELECT * cannot be grouped") }
            return
        }
        for item in items {
            if case .aggregate(_, let argument) = item.expression {
                if argument?.containsAggregate == true { throw fail("aggregates cannot be nested") }
            } else if item.expression.containsAggregate {
                throw fail("an aggregate must be a whole select item")
            }
        }
        let aggregateCount = items.count { $0.expression.isAggregate }
        if groupBy.isEmpty {
            if aggregateCount > 0 && aggregateCount < items.count { throw fail("without GROUP BY, either every select item aggregates or none does") }
        } else {
            for item in items where !item.expression.isAggregate {
                guard case .path(let path) = item.expression, groupBy.contains(path) else {
                    throw fail("with GROUP BY, select items must be aggregates or grouping paths")
                }
            }
        }
    }

    // MARK: expressions

    mutating func expression() throws(TwinError) -> QueryExpression { try or() }

    private mutating func or() throws(TwinError) -> QueryExpression {
        var left = try and()
        while current.isKeyword("OR") {
            advance()
            left = .or(left, try and())
        }
        return left
    }

    private mutating func and() throws(TwinError) -> QueryExpression {
        var left = try not()
        while current.isKeyword("AND") {
            advance()
            left = .and(left, try not())
        }
        return left
    }

    private mutating func not() throws(TwinError) -> QueryExpression {
        if current.isKeyword("NOT") {
            advance()
            return .not(try not())
        }
        return try comparison()
    }

    private mutating func comparison() throws(TwinError) -> QueryExpression {
        let left = try additive()
        let op: ComparisonOperator? =
            switch current.kind {
            case .symbol(.equal): .equal
            case .symbol(.notEqual), .symbol(.angleNotEqual): .notEqual
            case .symbol(.less): .less
            case .symbol(.greater): .greater
            case .symbol(.lessOrEqual): .lessOrEqual
            case .symbol(.greaterOrEqual): .greaterOrEqual
            default: nil
            }
        if let op {
            advance()
            return .comparison(op, left, try additive())
        }
        if current.isKeyword("IN") || current.isKeyword("NIN") {
            let negated = current.isKeyword("NIN")
            advance()
            guard current.isSymbol(.leftBracket) else { throw unexpected("'[' after \(negated ? "NIN" : "IN")") }
            advance()
            return .membership(left, try list(), negated: negated)
        }
        return left
    }

    private mutating func additive() throws(TwinError) -> QueryExpression {
        var left = try multiplicative()
        while true {
            if acceptSymbol(.plus) {
                left = .arithmetic(.add, left, try multiplicative())
            } else if acceptSymbol(.minus) {
                left = .arithmetic(.subtract, left, try multiplicative())
            } else {
                return left
            }
        }
    }

    private mutating func multiplicative() throws(TwinError) -> QueryExpression {
        var left = try unary()
        while true {
            if acceptSymbol(.star) {
                left = .arithmetic(.multiply, left, try unary())
            } else if acceptSymbol(.slash) {
                left = .arithmetic(.divide, left, try unary())
            } else if acceptSymbol(.percent) {
                left = .arithmetic(.remainder, left, try unary())
            } else {
                return left
            }
        }
    }

    private mutating func unary() throws(TwinError) -> QueryExpression {
        if acceptSymbol(.minus) {
            if case .number(let text) = current.kind {
                advance()
                return .literal(.number(text == "0" ? "0" : "-" + text))
            }
            return .negate(try unary())
        }
        if acceptSymbol(.plus) { return try unary() }
        return try primary()
    }

    /// The elements of `[a, b, …]` after the `[`, through the `]`.
    private mutating func list() throws(TwinError) -> [QueryExpression] {
        var items: [QueryExpression] = []
        if acceptSymbol(.rightBracket) { return items }
        repeat { items.append(try expression()) } while acceptSymbol(.comma)
        try expectSymbol(.rightBracket)
        return items
    }

    private mutating func primary() throws(TwinError) -> QueryExpression {
        let token = current
        switch token.kind {
        case .number(let text):
            advance()
            return .literal(.number(text))
        case .string(let text):
            advance()
            return .literal(.string(text))
        case .symbol(.leftParen):
            advance()
            let inner = try expression()
            try expectSymbol(.rightParen)
            return inner
        case .symbol(.leftBracket):
            advance()
            return .array(try list())
        case .identifier(let name):
            let upper = name.uppercased()
            switch upper {
            case "TRUE": advance(); return .literal(.bool(true))
            case "FALSE": advance(); return .literal(.bool(false))
            case "NULL": advance(); return .literal(.null)
            case "UNDEFINED": advance(); return .undefined
            default: break
            }
            if tokens[index + 1].isSymbol(.leftParen) {
                return try call(name, token)
            }
            guard !Self.reserved.contains(upper) else { throw unexpected("an expression") }
            return .path(try path())
        default:
            throw unexpected("an expression")
        }
    }

    private mutating func call(_ name: String, _ token: QueryToken) throws(TwinError) -> QueryExpression {
        let upper = name.uppercased()
        if QueryAggregate(rawValue: upper) != nil {
            throw TwinError(.invalidQuery, "aggregates are only allowed as select items", line: token.position.line, column: token.position.column)
        }
        guard let function = QueryFunction(rawValue: upper), function.available(in: dialect) else {
            throw TwinError(.invalidQuery, "unknown function \(token.quoted)", line: token.position.line, column: token.position.column)
        }
        advance()
        advance()
        var arguments: [QueryExpression] = []
        if !current.isSymbol(.rightParen) {
            repeat { arguments.append(try expression()) } while acceptSymbol(.comma)
        }
        try expectSymbol(.rightParen)
        guard function.arity.contains(arguments.count) else {
            let arity = function.arity
            let count = arity.count == 1 ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)"
            throw TwinError(
                .invalidQuery, "\(function.rawValue) takes \(count) argument\(arity.upperBound == 1 ? "" : "s")",
                line: token.position.line, column: token.position.column)
        }
        return .function(function, arguments)
    }

    /// `name(.name | ['name'] | [n])*`, fixed twin members spelled as Azure does.
    private mutating func path() throws(TwinError) -> QueryPath {
        guard case .identifier(let first) = current.kind else { throw unexpected("a property name") }
        advance()
        var segments: [QueryPath.Segment] = [.name(first)]
        while true {
            if acceptSymbol(.dot) {
                guard case .identifier(let name) = current.kind else { throw unexpected("a property name after '.'") }
                advance()
                segments.append(.name(name))
            } else if current.isSymbol(.leftBracket) {
                advance()
                switch current.kind {
                case .string(let name): segments.append(.name(name))
                case .number(let digits):
                    guard let n = Int(digits) else { throw unexpected("an array index") }
                    segments.append(.index(n))
                default: throw unexpected("a quoted name or an index")
                }
                advance()
                try expectSymbol(.rightBracket)
            } else if dialect == .twin {
                return QueryPath(segments: TwinFields.canonical(segments))
            } else {
                // Route conditions: `$twin.…` is a twin path (canonical spelling after the root); other
                // roots are the message's own names, kept byte for byte.
                guard case .name(let root) = segments[0], root.lowercased() == "$twin" else { return QueryPath(segments: segments) }
                return QueryPath(segments: [.name("$twin")] + TwinFields.canonical(Array(segments.dropFirst())))
            }
        }
    }
}

extension QueryExpression {
    var containsAggregate: Bool {
        switch self {
        case .aggregate: true
        case .literal, .undefined, .path: false
        case .array(let items): items.contains { $0.containsAggregate }
        case .negate(let e), .not(let e): e.containsAggregate
        case .arithmetic(_, let a, let b), .comparison(_, let a, let b), .and(let a, let b), .or(let a, let b):
            a.containsAggregate || b.containsAggregate
        case .membership(let e, let items, _): e.containsAggregate || items.contains { $0.containsAggregate }
        case .function(_, let arguments): arguments.contains { $0.containsAggregate }
        }
    }
}

/// The fixed members of a service twin, for case-insensitive paths: `DeviceId` reads `deviceId`.
/// Names inside tags and properties stay case-sensitive, as twin keys are.
enum TwinFields {
    private static let topLevel = [
        "deviceId", "moduleId", "etag", "deviceEtag", "status", "statusReason", "statusUpdateTime", "connectionState",
        "lastActivityTime", "cloudToDeviceMessageCount", "authenticationType", "x509Thumbprint", "modelId", "version",
        "tags", "properties", "capabilities", "deviceScope", "parentScopes",
    ]
    private static let children: [String: [String]] = [
        "properties": ["desired", "reported"],
        "capabilities": ["iotEdge"],
        "x509Thumbprint": ["primaryThumbprint", "secondaryThumbprint"],
    ]

    static func canonical(_ segments: [QueryPath.Segment]) -> [QueryPath.Segment] {
        var result = segments
        guard case .name(let first) = segments.first, let top = match(first, in: topLevel) else { return result }
        result[0] = .name(top)
        if segments.count > 1, case .name(let second) = segments[1], let names = children[top], let child = match(second, in: names) {
            result[1] = .name(child)
        }
        return result
    }

    private static func match(_ name: String, in names: [String]) -> String? {
        let lower = name.lowercased()
        return names.first { $0.lowercased() == lower }
    }
}
