/// A position in query text: 1-based line and column (columns count Unicode scalars), as error messages
/// and the dashboard's editor show them.
public struct SQLLocation: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// One lexical token of the stream SQL language.
public struct SQLToken: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A bare identifier or keyword (keywords are recognised by the parser, case-insensitively).
        case word(String)
        /// `[quoted identifier]` or `"quoted identifier"`: never a keyword.
        case quotedIdentifier(String)
        /// `'text'` with `''` for a quote.
        case string(String)
        /// Digits with an optional fraction and exponent, as written.
        case number(String)
        /// Operators and punctuation: `( ) , . ; * + - / % = != <> < <= > >= ||`.
        case symbol(String)
        case end
    }

    public var kind: Kind
    public var location: SQLLocation

    public init(_ kind: Kind, at location: SQLLocation) {
        self.kind = kind
        self.location = location
    }

    /// Whether this is the keyword `keyword` (case-insensitive; `keyword` is upper case).
    func isKeyword(_ keyword: String) -> Bool {
        if case .word(let text) = kind { return text.uppercased() == keyword }
        return false
    }

    func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(let text) = kind { return text == symbol }
        return false
    }

    /// How the token reads in an error message.
    var display: String {
        switch kind {
        case .word(let text): return "'\(text)'"
        case .quotedIdentifier(let text): return "[\(text)]"
        case .string(let text): return "string '\(text.prefix(40))'"
        case .number(let text): return "number \(text)"
        case .symbol(let text): return "'\(text)'"
        case .end: return "the end of the query"
        }
    }
}

/// A query that cannot be read or planned: what is wrong and where. The message never contains more of
/// the query than the offending token.
public struct SQLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var location: SQLLocation

    public init(_ message: String, at location: SQLLocation) {
        self.message = message
        self.location = location
    }

    public var description: String { "\(location): \(message)" }
}
