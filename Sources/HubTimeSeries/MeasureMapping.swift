import HubCore
import HubStreamSQL

/// How a device message becomes time-series points (issue 7's default mapping):
///
/// - every numeric JSON field is a measure, nested objects flattened with dots (`engine.temperature`);
/// - numbers sent as strings, as in the drone scenario (`"velocity": "58.08"`), are parsed;
/// - a position field (`"position": "lat|lon|alt"`) becomes `position.lat`, `position.lon`, `position.alt`;
/// - the time comes from the first time field present (`occurrenceUtcTime`, `timestamp`, `time`; ISO 8601
///   or the scenario's `MM/dd/yyyy HH:mm:ss +00:00`, read as stream SQL reads `TIMESTAMP BY`), else the
///   message's enqueued time;
/// - JSON booleans are boolean measures (1 and 0 in aggregates);
/// - other strings (`"batteryStatus": "low"`) are string measures, up to `maximumStringBytes`, except the
///   identifier fields in `ignoredFields` (`deviceId`, `deliveryId` …: a value per message would fill the
///   string dictionary) and the fields in `tagFields`, whose values become the tags of every series of the
///   message (`"motor": "front"` → `motor=front`). Time fields, arrays and nulls are not measures.
public struct MeasureMapping: Sendable, Hashable {
    public var timeFields = ["occurrenceUtcTime", "timestamp", "time"]
    public var positionFields = ["position"]
    /// Top-level fields that are never measures (identifiers).
    public var ignoredFields: Set<String> = ["deviceId", "deliveryId", "messageId", "correlationId", "sensorType"]
    /// Top-level string fields whose values tag the message's series (none by default).
    public var tagFields: [String] = []
    /// Whether non-numeric strings become string measures.
    public var storeStrings = true
    /// Longer strings are not measures (counted as dropped).
    public var maximumStringBytes = 256
    /// Measures taken from one message at most (the rest are counted as dropped by the caller).
    public var maximumMeasures = 256
    /// Nesting followed at most.
    public var maximumDepth = 8

    public init() {}

    /// One measure of a message.
    public struct Measure: Sendable, Hashable {
        /// The measure name (`velocity`, `position.lat`, `engine.temperature`).
        public var name: String
        /// The number (1/0 for booleans; 0 for strings).
        public var value: Double
        /// The value type.
        public var type: ValueType
        /// A string measure's text (nil for the others).
        public var text: String?
    }

    /// A message's points: its time, the canonical tags of its series, and its measures in the body's order;
    /// `dropped` counts measures beyond the limits.
    public struct Mapped: Sendable, Hashable {
        public var time: Int64
        public var tags: String
        public var measures: [Measure]
        public var dropped: Int
    }

    /// The message's time, tags and measures, in the body's order.
    public func points(body: JSONValue, enqueuedTime: Int64) -> Mapped {
        guard case .object(let object) = body else { return Mapped(time: enqueuedTime, tags: "", measures: [], dropped: 0) }
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
        var tagPairs: [(key: String, value: String)] = []
        for field in tagFields {
            if case .string(let text)? = object[field], !text.isEmpty { tagPairs.append((field, text)) }
        }
        var dropped = 0
        let tags: String
        do throws(TimeSeriesError) {
            tags = try SeriesTags.canonical(tagPairs)
        } catch {
            tags = ""
            dropped += tagPairs.count
        }
        var measures: [Measure] = []
        func add(_ name: String, _ value: Double, _ type: ValueType = .float, text: String? = nil) {
            guard value.isFinite else { return }
            if measures.count < maximumMeasures { measures.append(Measure(name: name, value: value, type: type, text: text)) } else { dropped += 1 }
        }
        func walk(_ object: JSONObject, prefix: String, depth: Int) {
            for (key, value) in object.members {
                let name = prefix.isEmpty ? key : "\(prefix).\(key)"
                if prefix.isEmpty, timeFields.contains(key) || ignoredFields.contains(key) || tagFields.contains(key) { continue }
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
                    } else if storeStrings {
                        if text.utf8.count <= maximumStringBytes { add(name, 0, .string, text: text) } else { dropped += 1 }
                    }
                case .object(let inner) where depth < maximumDepth:
                    walk(inner, prefix: name, depth: depth + 1)
                default:
                    break
                }
            }
        }
        walk(object, prefix: "", depth: 0)
        return Mapped(time: time, tags: tags, measures: measures, dropped: dropped)
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
