import HubCore
import HubStreamSQL

/// How a device message becomes time-series points (issue 7's default mapping):
///
/// - every numeric JSON field is a measure, nested objects flattened with dots (`engine.temperature`);
/// - numbers sent as strings, as in the drone scenario (`"velocity": "58.08"`), are parsed;
/// - a position field (`"position": "lat|lon|alt"`) becomes `position.lat`, `position.lon`, `position.alt`;
/// - the time comes from the first time field present (`occurrenceUtcTime`, `timestamp`, `time`; ISO 8601
///   or the scenario's `MM/dd/yyyy HH:mm:ss +00:00`, read as stream SQL reads `TIMESTAMP BY`), else the
///   message's enqueued time. JSON booleans are boolean measures (1 and 0 in aggregates). Time fields, other
///   strings and arrays are not measures.
public struct MeasureMapping: Sendable, Hashable {
    public var timeFields = ["occurrenceUtcTime", "timestamp", "time"]
    public var positionFields = ["position"]
    /// Measures taken from one message at most (the rest are counted as dropped by the caller).
    public var maximumMeasures = 256
    /// Nesting followed at most.
    public var maximumDepth = 8

    public init() {}

    /// The message's time and its measures, in the body's order.
    public func points(body: JSONValue, enqueuedTime: Int64) -> (time: Int64, measures: [(name: String, value: Double, type: ValueType)], dropped: Int) {
        guard case .object(let object) = body else { return (enqueuedTime, [], 0) }
        var time = enqueuedTime
        for field in timeFields {
            if case .string(let text)? = object[field], let parsed = SQLDateTime.parse(text) {
                time = parsed
                break
            }
            if case .number(let text)? = object[field], let seconds = Double(text), seconds.isFinite {
                // Epoch numbers: milliseconds when large, else seconds.
                time = seconds > 100_000_000_000 ? Int64(seconds) : Int64(seconds * 1000)
                break
            }
        }
        var measures: [(name: String, value: Double, type: ValueType)] = []
        var dropped = 0
        func add(_ name: String, _ value: Double, _ type: ValueType = .float) {
            guard value.isFinite else { return }
            if measures.count < maximumMeasures { measures.append((name, value, type)) } else { dropped += 1 }
        }
        func walk(_ object: JSONObject, prefix: String, depth: Int) {
            for (key, value) in object.members {
                let name = prefix.isEmpty ? key : "\(prefix).\(key)"
                if prefix.isEmpty, timeFields.contains(key) { continue }
                switch value {
                case .number(let text):
                    if let number = Double(text) { add(name, number) }
                case .bool(let flag):
                    add(name, flag ? 1 : 0, .boolean)
                case .string(let text):
                    if prefix.isEmpty, positionFields.contains(key) {
                        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
                        if parts.count >= 2, parts.count <= 3, let lat = Double(parts[0]), let lon = Double(parts[1]) {
                            add("\(name).lat", lat)
                            add("\(name).lon", lon)
                            if parts.count == 3, let alt = Double(parts[2]) { add("\(name).alt", alt) }
                        }
                    } else if let number = Self.numeric(text) {
                        add(name, number)
                    }
                case .object(let inner) where depth < maximumDepth:
                    walk(inner, prefix: name, depth: depth + 1)
                default:
                    break
                }
            }
        }
        walk(object, prefix: "", depth: 0)
        return (time, measures, dropped)
    }

    /// A string that is a plain decimal number (`"58.08"`, `"-3"`, `"1e3"`), not `"inf"`, `"nan"` or hex.
    static func numeric(_ text: String) -> Double? {
        let trimmed = text.utf8
        guard let first = trimmed.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".")
            || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { return nil }
        guard trimmed.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || "+-.eE".utf8.contains($0) }) else { return nil }
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }
}
