/// Recursive-descent parser of the Stream Analytics query language (the subset Meridian runs; the
/// planner checks names, functions and types). Errors name the offending token and its line and column.
///
/// Precedence, loosest first: `OR`; `AND`; `NOT`; comparisons with `IS [NOT] NULL`, `[NOT] BETWEEN`,
/// `[NOT] IN`, `[NOT] LIKE`; `+ - ||`; `* / %`; unary `- +`. Nesting is bounded (`maximumDepth`), so
/// adversarial input cannot exhaust the stack.
public struct SQLParser {
    /// Deepest nesting of expressions and subqueries accepted.
    public static let maximumDepth = 100

    /// Words that end an expression or clause and so cannot be bare aliases or names.
    static let reserved: Set<String> = [
        "SELECT", "DISTINCT", "TOP", "INTO", "FROM", "WHERE", "GROUP", "BY", "HAVING", "UNION", "ALL", "WITH", "AS",
        "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "APPLY", "ON", "TIMESTAMP", "OVER", "PARTITION",
        "LIMIT", "WHEN", "THEN", "ELSE", "END", "CASE", "AND", "OR", "NOT", "IS", "NULL", "BETWEEN", "IN", "LIKE",
        "ORDER", "ASC", "DESC", "TRUE", "FALSE", "CAST", "TRY_CAST",
    ]

    private let tokens: [SQLToken]
    private var position = 0
    private var depth = 0

    /// Parses a whole job.
    public static func parse(_ text: String) throws(SQLError) -> SQLScript {
        var parser = SQLParser(tokens: try SQLLexer.tokenize(text))
        return try parser.script()
    }

    /// Parses one expression (for rule conditions and tests).
    public static func parseExpression(_ text: String) throws(SQLError) -> SQLExpression {
        var parser = SQLParser(tokens: try SQLLexer.tokenize(text))
        let expression = try parser.expression()
        try parser.expectEnd()
        return expression
    }

    private init(tokens: [SQLToken]) {
        self.tokens = tokens
    }

    // MARK: statements

    private mutating func script() throws(SQLError) -> SQLScript {
        var steps: [SQLStep] = []
        if accept(keyword: "WITH") {
            repeat {
                let location = current.location
                let name = try identifier("a step name")
                try expect(keyword: "AS")
                try expect(symbol: "(")
                let query = try nested { (parser: inout SQLParser) throws(SQLError) in try parser.query() }
                try expect(symbol: ")")
                steps.append(SQLStep(name: name, query: query, location: location))
            } while accept(symbol: ",")
        }
        var statements = [try query()]
        while accept(symbol: ";") {
            if case .end = current.kind { break }
            statements.append(try query())
        }
        try expectEnd()
        return SQLScript(steps: steps, statements: statements)
    }

    private mutating func query() throws(SQLError) -> SQLQuery {
        var selects = [try select()]
        var unionAll: [Bool] = []
        while accept(keyword: "UNION") {
            unionAll.append(accept(keyword: "ALL"))
            selects.append(try select())
        }
        return SQLQuery(selects: selects, unionAll: unionAll)
    }

    private mutating func select() throws(SQLError) -> SQLSelect {
        let location = current.location
        try expect(keyword: "SELECT")
        let distinct = accept(keyword: "DISTINCT")
        var top: Int?
        if accept(keyword: "TOP") {
            guard case .number(let text) = current.kind, let n = Int(text), n > 0 else { throw unexpected("a positive whole number after TOP") }
            advance()
            top = n
        }
        var items = [try selectItem()]
        while accept(symbol: ",") { items.append(try selectItem()) }
        let into = accept(keyword: "INTO") ? try identifier("an output name") : nil
        try expect(keyword: "FROM")
        let from = try source()
        var joins: [SQLJoin] = []
        var applies: [SQLApply] = []
        while true {
            let location = current.location
            if current.isKeyword("JOIN") || current.isKeyword("INNER") {
                if accept(keyword: "INNER") { try expect(keyword: "JOIN") } else { advance() }
                let joined = try source()
                try expect(keyword: "ON")
                joins.append(SQLJoin(kind: .inner, source: joined, condition: try expression(), location: location))
            } else if accept(keyword: "LEFT") {
                _ = accept(keyword: "OUTER")
                try expect(keyword: "JOIN")
                let joined = try source()
                try expect(keyword: "ON")
                joins.append(SQLJoin(kind: .leftOuter, source: joined, condition: try expression(), location: location))
            } else if current.isKeyword("CROSS") || (current.isKeyword("OUTER") && peek(1).isKeyword("APPLY")) {
                let outer = current.isKeyword("OUTER")
                advance()
                try expect(keyword: "APPLY")
                let function = try expression()
                _ = accept(keyword: "AS")
                applies.append(SQLApply(outer: outer, function: function, alias: try identifier("an alias for the APPLY"), location: location))
            } else if current.isKeyword("RIGHT") || current.isKeyword("FULL") {
                throw SQLError("only JOIN, LEFT OUTER JOIN, CROSS APPLY and OUTER APPLY are supported", at: location)
            } else {
                break
            }
        }
        let filter = accept(keyword: "WHERE") ? try expression() : nil
        var groupBy: [SQLExpression] = []
        if accept(keyword: "GROUP") {
            try expect(keyword: "BY")
            groupBy = [try expression()]
            while accept(symbol: ",") { groupBy.append(try expression()) }
        }
        let having = accept(keyword: "HAVING") ? try expression() : nil
        if current.isKeyword("ORDER") { throw SQLError("ORDER BY is not supported in stream queries", at: current.location) }
        return SQLSelect(
            distinct: distinct, top: top, items: items, into: into, from: from, joins: joins, applies: applies, filter: filter,
            groupBy: groupBy, having: having, location: location)
    }

    private mutating func selectItem() throws(SQLError) -> SQLSelectItem {
        let location = current.location
        if accept(symbol: "*") { return .all(qualifier: nil, location: location) }
        if isName(current), peek(1).isSymbol("."), peek(2).isSymbol("*") {
            let qualifier = try identifier("an input name")
            advance()
            advance()
            return .all(qualifier: qualifier, location: location)
        }
        let value = try expression()
        if accept(keyword: "AS") { return .expression(value, alias: try identifier("an alias")) }
        if isName(current) { return .expression(value, alias: try identifier("an alias")) }
        return .expression(value, alias: nil)
    }

    private mutating func source() throws(SQLError) -> SQLSource {
        let location = current.location
        let name = try identifier("an input name")
        var alias: String?
        if accept(keyword: "AS") {
            alias = try identifier("an alias")
        } else if isName(current) {
            alias = try identifier("an alias")
        }
        var timestampBy: SQLExpression?
        var over: [SQLExpression] = []
        if accept(keyword: "TIMESTAMP") {
            try expect(keyword: "BY")
            timestampBy = try expression()
            if accept(keyword: "OVER") {
                over = [try expression()]
                while accept(symbol: ",") { over.append(try expression()) }
            }
        }
        return SQLSource(name: name, alias: alias, timestampBy: timestampBy, timestampOver: over, location: location)
    }

    // MARK: expressions

    mutating func expression() throws(SQLError) -> SQLExpression {
        try nested { (parser: inout SQLParser) throws(SQLError) in try parser.disjunction() }
    }

    private mutating func disjunction() throws(SQLError) -> SQLExpression {
        try leftAssociative(operators: { $0.isKeyword("OR") ? .or : nil }, operand: { (parser: inout SQLParser) throws(SQLError) in try parser.conjunction() })
    }

    private mutating func conjunction() throws(SQLError) -> SQLExpression {
        try leftAssociative(operators: { $0.isKeyword("AND") ? .and : nil }, operand: { (parser: inout SQLParser) throws(SQLError) in try parser.negation() })
    }

    /// `operand (op operand)*` folded to the left, for the binary operators `operators` recognises.
    private mutating func leftAssociative(
        operators: (SQLToken) -> BinaryOperator?, operand: (inout SQLParser) throws(SQLError) -> SQLExpression
    ) throws(SQLError) -> SQLExpression {
        var left = try operand(&self)
        while let op = operators(current) {
            let location = current.location
            advance()
            left = SQLExpression(.binary(op, left, try operand(&self)), at: location)
        }
        return left
    }

    private mutating func negation() throws(SQLError) -> SQLExpression {
        if current.isKeyword("NOT") {
            let location = current.location
            advance()
            let operand = try nested { (parser: inout SQLParser) throws(SQLError) in try parser.negation() }
            return SQLExpression(.unary(.not, operand), at: location)
        }
        return try comparison()
    }

    private mutating func comparison() throws(SQLError) -> SQLExpression {
        let left = try additive()
        let location = current.location
        if case .symbol(let symbol) = current.kind, let op = Self.comparisonOperators[symbol] {
            advance()
            return SQLExpression(.binary(op, left, try additive()), at: location)
        }
        if accept(keyword: "IS") {
            let negated = accept(keyword: "NOT")
            try expect(keyword: "NULL")
            return SQLExpression(.isNull(left, negated: negated), at: location)
        }
        let negated = current.isKeyword("NOT") && (peek(1).isKeyword("BETWEEN") || peek(1).isKeyword("IN") || peek(1).isKeyword("LIKE"))
        if negated { advance() }
        if accept(keyword: "BETWEEN") {
            let low = try additive()
            try expect(keyword: "AND")
            return SQLExpression(.between(left, low: low, high: try additive(), negated: negated), at: location)
        }
        if accept(keyword: "IN") {
            try expect(symbol: "(")
            var items = [try expression()]
            while accept(symbol: ",") { items.append(try expression()) }
            try expect(symbol: ")")
            return SQLExpression(.inList(left, items, negated: negated), at: location)
        }
        if accept(keyword: "LIKE") {
            return SQLExpression(.like(left, pattern: try additive(), negated: negated), at: location)
        }
        return left
    }

    private static let comparisonOperators: [String: BinaryOperator] = [
        "=": .equal, "!=": .notEqual, "<>": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
    ]

    private mutating func additive() throws(SQLError) -> SQLExpression {
        try leftAssociative(operators: { Self.symbolOperator($0, ["+": .add, "-": .subtract, "||": .concatenate]) }, operand: { (parser: inout SQLParser) throws(SQLError) in try parser.multiplicative() })
    }

    private mutating func multiplicative() throws(SQLError) -> SQLExpression {
        try leftAssociative(operators: { Self.symbolOperator($0, ["*": .multiply, "/": .divide, "%": .modulo]) }, operand: { (parser: inout SQLParser) throws(SQLError) in try parser.unary() })
    }

    private static func symbolOperator(_ token: SQLToken, _ table: [String: BinaryOperator]) -> BinaryOperator? {
        if case .symbol(let symbol) = token.kind { return table[symbol] }
        return nil
    }

    private mutating func unary() throws(SQLError) -> SQLExpression {
        let location = current.location
        if accept(symbol: "-") {
            let operand = try nested { (parser: inout SQLParser) throws(SQLError) in try parser.unary() }
            // Fold a negative literal, so `-9223372036854775808` and `-1.5` are literals.
            switch operand.kind {
            case .integer(let n): return SQLExpression(.integer(-n), at: location)
            case .float(let x): return SQLExpression(.float(-x), at: location)
            default: return SQLExpression(.unary(.negate, operand), at: location)
            }
        }
        if accept(symbol: "+") {
            return SQLExpression(.unary(.plus, try nested { (parser: inout SQLParser) throws(SQLError) in try parser.unary() }), at: location)
        }
        return try primary()
    }

    private mutating func primary() throws(SQLError) -> SQLExpression {
        let token = current
        let location = token.location
        switch token.kind {
        case .number(let text):
            advance()
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let n = Int64(text) { return SQLExpression(.integer(n), at: location) }
            guard let x = Double(text), x.isFinite else { throw SQLError("number \(text) is out of range", at: location) }
            return SQLExpression(.float(x), at: location)
        case .string(let text):
            advance()
            return SQLExpression(.string(text), at: location)
        case .symbol("("):
            advance()
            let inner = try expression()
            try expect(symbol: ")")
            return inner
        case .symbol("*"):
            throw unexpected("an expression")
        case .word(let word):
            switch word.uppercased() {
            case "NULL":
                advance()
                return SQLExpression(.null, at: location)
            case "TRUE", "FALSE":
                advance()
                return SQLExpression(.boolean(word.uppercased() == "TRUE"), at: location)
            case "CASE":
                return try caseExpression()
            case "CAST", "TRY_CAST":
                advance()
                try expect(symbol: "(")
                let value = try expression()
                try expect(keyword: "AS")
                let type = try typeName()
                try expect(symbol: ")")
                return SQLExpression(.cast(value, type: type, orNull: word.uppercased() == "TRY_CAST"), at: location)
            default:
                guard !Self.reserved.contains(word.uppercased()) else { throw unexpected("an expression") }
                return try pathOrCall()
            }
        case .quotedIdentifier:
            return try pathOrCall()
        default:
            throw unexpected("an expression")
        }
    }

    /// `a`, `a.b.c`, `[x y].z`, `f(…)`, `System.Timestamp()`, `f(…) OVER (…)`.
    private mutating func pathOrCall() throws(SQLError) -> SQLExpression {
        let location = current.location
        var parts = [try name()]
        while current.isSymbol(".") {
            advance()
            // After a dot any word is a field name, keywords included (`System.Timestamp`, `t.properties.end`).
            parts.append(try name(allowReserved: true))
        }
        guard accept(symbol: "(") else { return SQLExpression(.path(parts), at: location) }
        var arguments: [SQLExpression] = []
        var distinct = false
        if !current.isSymbol(")") {
            if current.isSymbol("*") {
                arguments.append(SQLExpression(.star, at: current.location))
                advance()
            } else {
                distinct = accept(keyword: "DISTINCT")
                arguments.append(try expression())
                while accept(symbol: ",") { arguments.append(try expression()) }
            }
        }
        try expect(symbol: ")")
        let over = accept(keyword: "OVER") ? try overClause() : nil
        return SQLExpression(.call(SQLCall(name: parts.joined(separator: "."), arguments: arguments, distinct: distinct, over: over)), at: location)
    }

    private mutating func overClause() throws(SQLError) -> SQLOver {
        try expect(symbol: "(")
        var over = SQLOver(partitionBy: [], limitDuration: nil, when: nil)
        if accept(keyword: "PARTITION") {
            try expect(keyword: "BY")
            over.partitionBy = [try expression()]
            while accept(symbol: ",") { over.partitionBy.append(try expression()) }
        }
        if accept(keyword: "ORDER") {
            try expect(keyword: "BY")
            over.orderBy = try expression()
            if current.isKeyword("ASC") || current.isKeyword("DESC") {
                over.descending = current.isKeyword("DESC")
                advance()
            }
        }
        if accept(keyword: "LIMIT") {
            guard current.isKeyword("DURATION") else { throw unexpected("DURATION after LIMIT") }
            advance()
            try expect(symbol: "(")
            let unit = try name()
            try expect(symbol: ",")
            over.limitDuration = SQLDuration(unit: unit.lowercased(), amount: try expression())
            try expect(symbol: ")")
        }
        if accept(keyword: "WHEN") { over.when = try expression() }
        try expect(symbol: ")")
        return over
    }

    private mutating func caseExpression() throws(SQLError) -> SQLExpression {
        let location = current.location
        advance()
        let operand = current.isKeyword("WHEN") || current.isKeyword("END") ? nil : try expression()
        var branches: [SQLCaseBranch] = []
        while accept(keyword: "WHEN") {
            let condition = try expression()
            try expect(keyword: "THEN")
            branches.append(SQLCaseBranch(when: condition, then: try expression()))
        }
        guard !branches.isEmpty else { throw unexpected("WHEN") }
        let otherwise = accept(keyword: "ELSE") ? try expression() : nil
        try expect(keyword: "END")
        return SQLExpression(.caseWhen(operand: operand, branches: branches, otherwise: otherwise), at: location)
    }

    /// `float`, `bigint`, `nvarchar(max)`, `datetime`, `record`, `array` … (lower-cased; the planner checks it).
    private mutating func typeName() throws(SQLError) -> String {
        var type = try name().lowercased()
        if accept(symbol: "(") {
            var inside = ""
            while !current.isSymbol(")") {
                switch current.kind {
                case .word(let w): inside += w.lowercased()
                case .number(let n): inside += n
                default: throw unexpected("a type length")
                }
                advance()
            }
            advance()
            type += "(\(inside))"
        }
        return type
    }

    // MARK: tokens

    private var current: SQLToken { tokens[position] }

    private func peek(_ ahead: Int) -> SQLToken { tokens[min(position + ahead, tokens.count - 1)] }

    private mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    private mutating func accept(keyword: String) -> Bool {
        guard current.isKeyword(keyword) else { return false }
        advance()
        return true
    }

    private mutating func accept(symbol: String) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        advance()
        return true
    }

    private mutating func expect(keyword: String) throws(SQLError) {
        guard accept(keyword: keyword) else { throw unexpected(keyword) }
    }

    private mutating func expect(symbol: String) throws(SQLError) {
        guard accept(symbol: symbol) else { throw unexpected("'\(symbol)'") }
    }

    private func expectEnd() throws(SQLError) {
        guard case .end = current.kind else { throw unexpected("the end of the query (or ';' between statements)") }
    }

    private func isName(_ token: SQLToken) -> Bool {
        switch token.kind {
        case .word(let w): return !Self.reserved.contains(w.uppercased())
        case .quotedIdentifier: return true
        default: return false
        }
    }

    private mutating func name(allowReserved: Bool = false) throws(SQLError) -> String {
        switch current.kind {
        case .word(let w) where allowReserved || !Self.reserved.contains(w.uppercased()):
            advance()
            return w
        case .quotedIdentifier(let q):
            advance()
            return q
        default:
            throw unexpected("a name")
        }
    }

    private mutating func identifier(_ what: String) throws(SQLError) -> String {
        guard isName(current) else { throw unexpected(what) }
        return try name()
    }

    private func unexpected(_ expected: String) -> SQLError {
        SQLError("expected \(expected), found \(current.display)", at: current.location)
    }

    /// Runs `body` one level deeper, refusing input nested beyond `maximumDepth`.
    private mutating func nested<T>(_ body: (inout SQLParser) throws(SQLError) -> T) throws(SQLError) -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw SQLError("the query nests deeper than \(Self.maximumDepth) levels", at: current.location) }
        return try body(&self)
    }
}
