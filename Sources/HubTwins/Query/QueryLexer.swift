/// Splits query text into tokens, tracking line and column.
///
/// Errors are `TwinError.invalidQuery` with the position of the offending character and at most a few
/// characters of the text.
struct QueryLexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var column = 1

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    /// Every token of the text, ending with `.end`.
    static func tokens(of text: String) throws(TwinError) -> [QueryToken] {
        var lexer = QueryLexer(text)
        var tokens: [QueryToken] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if case .end = token.kind { return tokens }
        }
    }

    private var position: QueryPosition { QueryPosition(line: line, column: column) }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    private mutating func advance() {
        let scalar = scalars[index]
        index += 1
        if scalar == "\n" || (scalar == "\r" && peek() != "\n") {
            line += 1
            column = 1
        } else if scalar != "\r" {
            column += 1
        }
    }

    private func excerpt(from start: Int) -> String {
        var text = String(String.UnicodeScalarView(scalars[start..<min(index, start + QueryToken.excerptLength)]))
        if index - start > QueryToken.excerptLength { text += "…" }
        return text
    }

    private mutating func next() throws(TwinError) -> QueryToken {
        while let scalar = peek(), scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" { advance() }
        let start = index
        let startPosition = position
        guard let scalar = peek() else { return QueryToken(kind: .end, position: startPosition, excerpt: "") }
        let kind: QueryToken.Kind
        if Self.startsIdentifier(scalar) {
            while let s = peek(), Self.continuesIdentifier(s) { advance() }
            kind = .identifier(String(String.UnicodeScalarView(scalars[start..<index])))
        } else if Self.isDigit(scalar) {
            kind = .number(try number(startPosition))
        } else if scalar == "'" || scalar == "\"" {
            kind = .string(try string(quote: scalar, startPosition))
        } else {
            kind = .symbol(try symbol(startPosition))
        }
        return QueryToken(kind: kind, position: startPosition, excerpt: excerpt(from: start))
    }

    // MARK: token kinds

    static func startsIdentifier(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s == "$" || (s.isASCII ? (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") : s.properties.isAlphabetic)
    }

    static func continuesIdentifier(_ s: Unicode.Scalar) -> Bool { startsIdentifier(s) || isDigit(s) || (!s.isASCII && s.properties.numericType != nil) }

    static func isDigit(_ s: Unicode.Scalar) -> Bool { s >= "0" && s <= "9" }

    private static func isHexDigit(_ s: Unicode.Scalar) -> Bool { isDigit(s) || (s >= "a" && s <= "f") || (s >= "A" && s <= "F") }

    /// Decimal `123`, `1.5`, `2e-3`, or hex `0x1F` (returned as decimal text).
    private mutating func number(_ start: QueryPosition) throws(TwinError) -> String {
        let first = index
        if peek() == "0", let x = peek(1), x == "x" || x == "X" {
            advance()
            advance()
            let digitsStart = index
            while let s = peek(), Self.isHexDigit(s) { advance() }
            let digits = String(String.UnicodeScalarView(scalars[digitsStart..<index]))
            guard !digits.isEmpty, let value = Int64(digits, radix: 16) else {
                throw TwinError(.invalidQuery, "invalid hexadecimal number", line: start.line, column: start.column)
            }
            try checkNoTrailingName(start)
            return String(value)
        }
        while let s = peek(), Self.isDigit(s) { advance() }
        if peek() == ".", let d = peek(1), Self.isDigit(d) {
            advance()
            while let s = peek(), Self.isDigit(s) { advance() }
        }
        if let e = peek(), e == "e" || e == "E" {
            var look = 1
            if let sign = peek(1), sign == "+" || sign == "-" { look = 2 }
            if let d = peek(look), Self.isDigit(d) {
                for _ in 0..<look { advance() }
                while let s = peek(), Self.isDigit(s) { advance() }
            }
        }
        try checkNoTrailingName(start)
        var text = String(String.UnicodeScalarView(scalars[first..<index]))
        // JSON numbers have no leading zeros: 007 is 7.
        while text.count > 1, text.hasPrefix("0"), let second = text.dropFirst().first, second.isNumber { text.removeFirst() }
        return text
    }

    private func checkNoTrailingName(_ start: QueryPosition) throws(TwinError) {
        if let s = peek(), Self.continuesIdentifier(s) {
            throw TwinError(.invalidQuery, "invalid number", line: start.line, column: start.column)
        }
    }

    /// A string in `'` or `"` with `\' \" \\ \/ \b \f \n \r \t \uXXXX` escapes.
    private mutating func string(quote: Unicode.Scalar, _ start: QueryPosition) throws(TwinError) -> String {
        advance()
        var out = String.UnicodeScalarView()
        while true {
            guard let s = peek() else {
                throw TwinError(.invalidQuery, "unterminated string", line: start.line, column: start.column)
            }
            if s == quote {
                advance()
                return String(out)
            }
            guard s == "\\" else {
                out.append(s)
                advance()
                continue
            }
            let escapePosition = position
            advance()
            guard let e = peek() else { throw TwinError(.invalidQuery, "unterminated string", line: start.line, column: start.column) }
            advance()
            switch e {
            case "'", "\"", "\\", "/": out.append(e)
            case "b": out.append("\u{8}")
            case "f": out.append("\u{C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "u":
                var value = try hex4(escapePosition)
                if (0xD800...0xDBFF).contains(value) {
                    guard peek() == "\\", peek(1) == "u" else { throw Self.badEscape(escapePosition) }
                    advance()
                    advance()
                    let low = try hex4(escapePosition)
                    guard (0xDC00...0xDFFF).contains(low) else { throw Self.badEscape(escapePosition) }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(value) else { throw Self.badEscape(escapePosition) }
                out.append(scalar)
            default:
                throw Self.badEscape(escapePosition)
            }
        }
    }

    private static func badEscape(_ position: QueryPosition) -> TwinError {
        TwinError(.invalidQuery, "invalid escape in a string", line: position.line, column: position.column)
    }

    private mutating func hex4(_ escapePosition: QueryPosition) throws(TwinError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let s = peek(), Self.isHexDigit(s), let digit = UInt32(String(s), radix: 16) else { throw Self.badEscape(escapePosition) }
            value = value << 4 | digit
            advance()
        }
        return value
    }

    private mutating func symbol(_ start: QueryPosition) throws(TwinError) -> QueryToken.Symbol {
        let s = peek()!
        let twoCharacter: QueryToken.Symbol? =
            switch (s, peek(1)) {
            case ("!", "="): .notEqual
            case ("<", ">"): .angleNotEqual
            case ("<", "="): .lessOrEqual
            case (">", "="): .greaterOrEqual
            default: nil
            }
        if let twoCharacter {
            advance()
            advance()
            return twoCharacter
        }
        guard let symbol = QueryToken.Symbol(rawValue: String(s)) else {
            let shown = s.properties.generalCategory == .control || s == " " ? "a control character" : "'\(s)'"
            throw TwinError(.invalidQuery, "unexpected \(shown)", line: start.line, column: start.column)
        }
        advance()
        return symbol
    }
}
