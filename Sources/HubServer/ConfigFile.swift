import Foundation
import TOMLKit
import Yams

/// Reads a config file into entries, without interpreting them. TOML for `.toml`, YAML for `.yaml` and
/// `.yml`. Syntax errors name the file, line and column, never the offending text (which could hold a
/// secret in a later version).
enum ConfigFile {
    enum Format: Sendable { case toml, yaml }

    static func format(of path: String) -> Format? {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "toml": .toml
        case "yaml", "yml": .yaml
        default: nil
        }
    }

    static func read(_ path: String) throws(HubServerError) -> [ConfigEntry] {
        guard let format = format(of: path) else {
            throw HubServerError(
                .invalidConfiguration, "config file \(path): unknown format (name it .toml, .yaml or .yml)")
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw HubServerError(.invalidConfiguration, "cannot read config file \(path): \(Self.reason(error))")
        }
        switch format {
        case .toml: return try parseTOML(text, path: path)
        case .yaml: return try parseYAML(text, path: path)
        }
    }

    static func parseTOML(_ text: String, path: String) throws(HubServerError) -> [ConfigEntry] {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let at = error.source.begin
            throw HubServerError(
                .invalidConfiguration,
                "config file \(path): TOML syntax error at line \(at.line), column \(at.column): \(error.description)")
        } catch {
            throw HubServerError(.invalidConfiguration, "config file \(path): not valid TOML")
        }
        return entries(of: table)
    }

    private static func entries(of table: TOMLTable) -> [ConfigEntry] {
        // TOMLTable iterates in key order; sort so that error messages are deterministic.
        table.map { key, value in ConfigEntry(key, convert(value)) }.sorted { $0.key < $1.key }
    }

    private static func convert(_ value: any TOMLValueConvertible) -> ConfigValue {
        switch value.type {
        case .string: .string(value.string ?? "")
        case .int: value.int.map(ConfigValue.integer) ?? .unsupported("an integer out of range")
        case .double: .double(value.double ?? .nan)
        case .bool: .bool(value.bool ?? false)
        case .table: value.table.map { .table(entries(of: $0)) } ?? .unsupported("a table")
        case .array: value.array.map { .array($0.map { convert($0) }) } ?? .unsupported("an array")
        case .date, .time, .dateTime: .unsupported("a date or time")
        }
    }

    static func parseYAML(_ text: String, path: String) throws(HubServerError) -> [ConfigEntry] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw HubServerError(.invalidConfiguration, "config file \(path): YAML syntax error\(describe(error))")
        } catch {
            throw HubServerError(.invalidConfiguration, "config file \(path): not valid YAML")
        }
        guard let root else { return [] }
        guard case .mapping(let mapping) = root else {
            throw HubServerError(.invalidConfiguration, "config file \(path): the top level must be a map of settings")
        }
        return try entries(of: mapping, path: path, prefix: "")
    }

    private static func entries(of mapping: Node.Mapping, path: String, prefix: String) throws(HubServerError)
        -> [ConfigEntry]
    {
        var result: [ConfigEntry] = []
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                throw HubServerError(.invalidConfiguration, "config file \(path): keys must be plain names")
            }
            let key = keyScalar.string
            guard seen.insert(key).inserted else {
                throw HubServerError(.invalidConfiguration, "config file \(path): duplicate key \"\(prefix)\(key)\"")
            }
            result.append(ConfigEntry(key, try convert(valueNode, path: path, prefix: "\(prefix)\(key).")))
        }
        return result
    }

    private static func convert(_ node: Node, path: String, prefix: String) throws(HubServerError) -> ConfigValue {
        switch node {
        case .mapping(let mapping): return .table(try entries(of: mapping, path: path, prefix: prefix))
        case .sequence(let sequence):
            var items: [ConfigValue] = []
            for item in sequence { items.append(try convert(item, path: path, prefix: prefix)) }
            return .array(items)
        case .scalar(let scalar):
            // `Tag.name` is internal in Yams 5; the description is the tag's name.
            switch Tag.Name(rawValue: node.tag.description) {
            case .str: return .string(scalar.string)
            case .int: return node.int.map(ConfigValue.integer) ?? .unsupported("an integer out of range")
            case .float: return node.float.map(ConfigValue.double) ?? .unsupported("a number")
            case .bool: return node.bool.map(ConfigValue.bool) ?? .unsupported("a boolean")
            case .null: return .unsupported("null (no value)")
            default: return .unsupported("a value of type \(node.tag.description)")
            }
        }
    }

    /// " at line L, column C: problem", without the snippet of the file that Yams adds.
    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return " at line \(mark.line), column \(mark.column): \(problem)"
        case .reader(let problem, _, _, _):
            return ": \(problem)"
        default:
            return ""
        }
    }

    /// The errno text of a file error, or a generic one.
    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let posix = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code))).lowercased()
        }
        switch nsError.code {
        case CocoaError.fileReadNoSuchFile.rawValue, CocoaError.fileNoSuchFile.rawValue: return "no such file"
        case CocoaError.fileReadNoPermission.rawValue: return "permission denied"
        case CocoaError.fileReadInapplicableStringEncoding.rawValue: return "not UTF-8 text"
        default: return "unreadable"
        }
    }
}
