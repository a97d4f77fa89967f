/// A place in a query's text: 1-based line and column, columns counted in Unicode scalars.
struct QueryPosition: Sendable, Hashable, CustomStringConvertible {
    var line: Int
    var column: Int

    var description: String { "\(line):\(column)" }
}

/// One token of the IoT Hub query language.
struct QueryToken: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// A name: a keyword (`SELECT`, `AND`…, matched case-insensitively by the parser), a function
        /// or a path segment.
        case identifier(String)
        /// A number as JSON text (hex literals already converted to decimal).
        case number(String)
        /// A string literal, escapes resolved.
        case string(String)
        case symbol(Symbol)
        case end
    }

    enum Symbol: String, Sendable, Hashable {
        case leftParen = "(", rightParen = ")", leftBracket = "[", rightBracket = "]", comma = ",", dot = "."
        case star = "*", plus = "+", minus = "-", slash = "/", percent = "%"
        case equal = "=", notEqual = "!=", angleNotEqual = "<>", less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">="
    }

    var kind: Kind
    /// Where the token starts.
    var position: QueryPosition
    /// At most `QueryToken.excerptLength` characters of the token's source text, for error messages.
    var excerpt: String

    /// Error messages quote at most this many characters of a query.
    static let excerptLength = 10

    /// True for an identifier equal to `keyword`, ignoring case.
    func isKeyword(_ keyword: String) -> Bool {
        guard case .identifier(let name) = kind else { return false }
        return name.count == keyword.count && name.uppercased() == keyword
    }

    func isSymbol(_ symbol: Symbol) -> Bool { kind == .symbol(symbol) }

    /// How the token appears in an error message: quoted excerpt, or "the end of the query".
    var quoted: String {
        if case .end = kind { return "the end of the query" }
        return "'\(excerpt)'"
    }
}
