/// Splits query text into tokens, tracking line and column. Pure; never traps on any input.
///
/// Comments: `-- to end of line` and `/* block */` (unterminated blocks are an error). Identifiers:
/// letters, digits, `_` and `$` (not starting with a digit), or quoted with `[...]` (`]]` for `]`) or
/// `"..."` (`""` for `"`). Strings: `'...'` with `''` for `'`. Numbers: `12`, `1.5`, `.5`, `1e-3`.
public enum SQLLexer {
    /// The longest query text accepted (bytes), so a pasted file cannot make the parser work unbounded.
    public static let maximumLength = 256 * 1024

    public static func tokenize(_ text: String) throws(SQLError) -> [SQLToken] {
        guard text.utf8.count <= maximumLength else {
            throw SQLError("the query is longer than \(maximumLength) bytes", at: SQLLocation(line: 1, column: 1))
        }
        var scanner = Scanner(Array(text.unicodeScalars))
        var tokens: [SQLToken] = []
        while true {
            try scanner.skipSpaceAndComments()
            let start = scanner.location
            guard let c = scanner.peek() else {
                tokens.append(SQLToken(.end, at: start))
                return tokens
            }
            if isIdentifierStart(c) {
                var word = ""
                while let d = scanner.peek(), isIdentifierPart(d) {
                    word.unicodeScalars.append(d)
                    scanner.advance()
                }
                tokens.append(SQLToken(.word(word), at: start))
            } else if ("0"..."9").contains(c) || (c == "." && scanner.peek(1).map { ("0"..."9").contains($0) } == true) {
                tokens.append(SQLToken(.number(try scanner.number()), at: start))
            } else if c == "'" {
                tokens.append(SQLToken(.string(try scanner.quoted(closing: "'", what: "string")), at: start))
            } else if c == "[" {
                tokens.append(SQLToken(.quotedIdentifier(try scanner.quoted(closing: "]", what: "identifier")), at: start))
            } else if c == "\"" {
                tokens.append(SQLToken(.quotedIdentifier(try scanner.quoted(closing: "\"", what: "identifier")), at: start))
            } else if let symbol = scanner.symbol() {
                tokens.append(SQLToken(.symbol(symbol), at: start))
            } else {
                throw SQLError("unexpected character '\(c)'", at: start)
            }
        }
    }

    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c == "$" || c == "@" || c.properties.isAlphabetic
    }

    static func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || ("0"..."9").contains(c)
    }

    /// A cursor over the query's scalars.
    struct Scanner {
        let scalars: [Unicode.Scalar]
        var index = 0
        var location = SQLLocation(line: 1, column: 1)

        init(_ scalars: [Unicode.Scalar]) {
            self.scalars = scalars
        }

        func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
            index + ahead < scalars.count ? scalars[index + ahead] : nil
        }

        mutating func advance() {
            guard index < scalars.count else { return }
            if scalars[index] == "\n" {
                location.line += 1
                location.column = 1
            } else {
                location.column += 1
            }
            index += 1
        }

        mutating func skipSpaceAndComments() throws(SQLError) {
            while let c = peek() {
                if c.properties.isWhitespace {
                    advance()
                } else if c == "-" && peek(1) == "-" {
                    while let d = peek(), d != "\n" { advance() }
                } else if c == "/" && peek(1) == "*" {
                    let start = location
                    advance()
                    advance()
                    while true {
                        guard let d = peek() else { throw SQLError("unterminated /* comment", at: start) }
                        if d == "*" && peek(1) == "/" {
                            advance()
                            advance()
                            break
                        }
                        advance()
                    }
                } else {
                    return
                }
            }
        }

        /// Text between `opening` (the current scalar) and `closing`; a doubled closing character is one.
        mutating func quoted(closing: Unicode.Scalar, what: String) throws(SQLError) -> String {
            let start = location
            advance()
            var text = ""
            while true {
                guard let c = peek() else { throw SQLError("unterminated \(what)", at: start) }
                advance()
                if c == closing {
                    if peek() == closing {
                        text.unicodeScalars.append(c)
                        advance()
                        continue
                    }
                    return text
                }
                text.unicodeScalars.append(c)
            }
        }

        mutating func number() throws(SQLError) -> String {
            let start = location
            var text = ""
            func digits(_ scanner: inout Scanner, _ text: inout String) {
                while let d = scanner.peek(), ("0"..."9").contains(d) {
                    text.unicodeScalars.append(d)
                    scanner.advance()
                }
            }
            digits(&self, &text)
            if peek() == ".", let d = peek(1), ("0"..."9").contains(d) {
                text.append(".")
                advance()
                digits(&self, &text)
            }
            if let e = peek(), e == "e" || e == "E" {
                var exponent = "e"
                var ahead = 1
                if let sign = peek(1), sign == "+" || sign == "-" {
                    exponent.unicodeScalars.append(sign)
                    ahead = 2
                }
                guard let first = peek(ahead), ("0"..."9").contains(first) else {
                    throw SQLError("a number's exponent needs digits", at: start)
                }
                for _ in 0..<ahead { advance() }
                text += exponent
                digits(&self, &text)
            }
            if let next = peek(), SQLLexer.isIdentifierStart(next) {
                throw SQLError("a number runs into '\(next)'", at: start)
            }
            return text
        }

        /// The longest operator or punctuation at the cursor.
        mutating func symbol() -> String? {
            guard let c = peek() else { return nil }
            let two = peek(1).map { String(c) + String($0) }
            if let two, ["!=", "<>", "<=", ">=", "||"].contains(two) {
                advance()
                advance()
                return two
            }
            guard "(),.;*+-/%=<>".unicodeScalars.contains(c) else { return nil }
            advance()
            return String(c)
        }
    }
}
