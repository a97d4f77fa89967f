import HubCore

extension SQLReferenceTable {
    /// A table from JSON: an array of objects, or one object per line (JSON lines).
    public static func json(_ text: String) throws(SQLError) -> SQLReferenceTable {
        let trimmed = text.trimmingSQLSpaces()
        var rows: [SQLValue] = []
        if trimmed.hasPrefix("[") {
            guard case .array(let items) = try parse(trimmed, line: 1) else { throw SQLError("expected a JSON array", at: SQLLocation(line: 1, column: 1)) }
            rows = items.map(SQLValue.init(json:))
        } else {
            for (number, line) in trimmed.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.allSatisfy(\.isWhitespace) {
                rows.append(SQLValue(json: try parse(String(line), line: number + 1)))
            }
        }
        guard rows.allSatisfy({ if case .record = $0 { true } else { false } }) else {
            throw SQLError("every reference row must be a JSON object", at: SQLLocation(line: 1, column: 1))
        }
        return SQLReferenceTable(rows: rows)
    }

    private static func parse(_ text: String, line: Int) throws(SQLError) -> JSONValue {
        do {
            return try JSONParser.parse(Array(text.utf8))
        } catch {
            throw SQLError("not JSON: \(error)", at: SQLLocation(line: line, column: 1))
        }
    }

    /// A table from CSV (RFC 4180: a header row of column names, `"` quoting with `""` for a quote,
    /// commas and line breaks inside quotes). Values are strings, as Stream Analytics reads CSV; cast them
    /// in the query.
    public static func csv(_ text: String) throws(SQLError) -> SQLReferenceTable {
        var records: [[String]] = []
        var field = "", record: [String] = []
        var quoted = false, atFieldStart = true
        var line = 1
        var chars = Array(text.unicodeScalars)[...]
        if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }
        var iterator = chars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        while let c = next() {
            if quoted {
                if c == "\"" {
                    if let following = next() {
                        if following == "\"" { field.unicodeScalars.append("\""); continue }
                        quoted = false
                        pending = following
                    } else {
                        quoted = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where atFieldStart:
                quoted = true
                atFieldStart = false
            case ",":
                record.append(field)
                field = ""
                atFieldStart = true
            case "\r":
                continue
            case "\n":
                record.append(field)
                if !(record.count == 1 && record[0].isEmpty) { records.append(record) }
                record = []
                field = ""
                atFieldStart = true
                line += 1
            default:
                field.unicodeScalars.append(c)
                atFieldStart = false
            }
        }
        if quoted { throw SQLError("a quoted CSV field is not closed", at: SQLLocation(line: line, column: 1)) }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        guard let header = records.first else { return SQLReferenceTable(rows: []) }
        var rows: [SQLValue] = []
        for (i, values) in records.dropFirst().enumerated() {
            guard values.count == header.count else {
                throw SQLError("CSV row \(i + 2) has \(values.count) fields, the header \(header.count)", at: SQLLocation(line: i + 2, column: 1))
            }
            rows.append(.record(SQLRecord(zip(header, values).map { ($0, .string($1)) })))
        }
        return SQLReferenceTable(rows: rows)
    }
}
