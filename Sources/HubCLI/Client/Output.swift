import Foundation

/// Prints command results: pretty JSON with `--json`, otherwise aligned columns.
enum Output {
    static func json(_ value: Any) {
        guard JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
        else {
            print(value)
            return
        }
        print(String(decoding: data, as: UTF8.self))
    }

    /// A table with a header row; cells are left-aligned, columns two spaces apart.
    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    /// `key: value` lines for one object.
    static func fields(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (k, v) in pairs { print("\(k.padding(toLength: width, withPad: " ", startingAt: 0))  \(v)") }
    }

    /// A JSON value as table text (`-` for null/missing).
    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "-"
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        case let b as Bool: return b ? "true" : "false"
        default: return String(describing: value!)
        }
    }
}

/// Convenience lookups into decoded JSON.
extension Dictionary where Key == String, Value == Any {
    subscript(path path: String) -> Any? {
        var current: Any? = self
        for part in path.split(separator: ".") {
            current = (current as? [String: Any])?[String(part)]
        }
        return current
    }
}
