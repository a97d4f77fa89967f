import HubCore
import HubTimeSeries

/// Writes `/timeseries/query` answers straight into bytes. A query can return a million points; building a
/// `JSONValue` tree (an object and an ISO-8601 string per point) cost more than reading the points from
/// the store, so the hot shapes are written here, byte for byte what `JSONWriter` would write for them.
struct TimeSeriesJSON {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A JSON string (escaped as `JSONWriter` does).
    mutating func string(_ text: String) {
        JSONWriter.write(.string(text), into: &bytes)
    }

    /// `"2026-11-24T10:00:00.000Z"` for ms since 1970 (the quotes included).
    mutating func time(_ ms: Int64) {
        let seconds = Self.floor(ms, 1000)
        let millis = Int(ms - seconds * 1000)
        let days = Self.floor(seconds, 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Timestamp.civilDate(daysSince1970: days)
        guard (0...9999).contains(year) else {
            string(Timestamp(rawValue: ms).iso8601)
            return
        }
        bytes.append(0x22)
        digits(year, 4)
        bytes.append(0x2D)
        digits(month, 2)
        bytes.append(0x2D)
        digits(day, 2)
        bytes.append(0x54)
        digits(secondOfDay / 3600, 2)
        bytes.append(0x3A)
        digits(secondOfDay / 60 % 60, 2)
        bytes.append(0x3A)
        digits(secondOfDay % 60, 2)
        bytes.append(0x2E)
        digits(millis, 3)
        bytes.append(0x5A)
        bytes.append(0x22)
    }

    /// ⌊a / b⌋ for b > 0 (Swift's `/` truncates toward zero).
    private static func floor(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return a % b < 0 ? q - 1 : q
    }

    private mutating func digits(_ value: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(0x30 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// A number (`null` for NaN and infinities); integers and booleans in their series' type.
    mutating func value(_ value: Double, _ type: ValueType) {
        bytes.append(contentsOf: Self.valueText(value, type).utf8)
    }

    /// `,"tags":{"k":"v",…}` for a series with tags (nothing for none).
    mutating func tags(_ canonical: String) {
        guard !canonical.isEmpty else { return }
        raw(",\"tags\":{")
        for (i, pair) in SeriesTags.pairs(canonical).enumerated() {
            if i > 0 { raw(",") }
            string(pair.key)
            raw(":")
            string(pair.value)
        }
        raw("}")
    }

    mutating func number(_ value: Double) {
        bytes.append(contentsOf: Self.valueText(value, .float).utf8)
    }

    /// A stored value as JSON text in its series' type: `true`/`false`, an integer, a number, or `null` for
    /// NaN and infinities (the export's CSV writes an empty field for `null`).
    static func valueText(_ value: Double, _ type: ValueType) -> String {
        switch type {
        case .boolean: return value != 0 ? "true" : "false"
        case .integer where value.isFinite && abs(value) < 9.2e18: return String(Int64(value))
        default: return value.isFinite ? String(value) : "null"
        }
    }

    mutating func integer(_ value: Int64) {
        bytes.append(contentsOf: String(value).utf8)
    }
}

extension TimeSeriesRequest {
    /// `{"series": [{"deviceId", "measure", "points": [{"t", "v"}, …]}, …], "truncated": …}`.
    static func rawJSON(_ result: RawPointsResult) -> [UInt8] {
        var out = TimeSeriesJSON(capacity: 64 + result.series.reduce(0) { $0 + 64 + $1.times.count * 48 })
        out.raw("{\"series\":[")
        for (i, series) in result.series.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("{\"deviceId\":")
            out.string(series.key.device)
            out.raw(",\"measure\":")
            out.string(series.key.measure)
            out.tags(series.key.tags)
            out.raw(",\"points\":[")
            let isString = series.type == .string
            for j in 0..<series.times.count {
                out.raw(j == 0 ? "{\"t\":" : ",{\"t\":")
                out.time(series.times[j])
                out.raw(",\"v\":")
                if isString { out.string(series.strings[j]) } else { out.value(series.values[j], series.type) }
                out.raw("}")
            }
            out.raw("]}")
        }
        out.raw(result.truncated ? "],\"truncated\":true}" : "],\"truncated\":false}")
        return out.bytes
    }

    /// One point per series: each series' newest point in the range.
    static func lastJSON(_ points: [LastValue], truncated: Bool) -> [UInt8] {
        var out = TimeSeriesJSON(capacity: 64 + points.count * 110)
        out.raw("{\"series\":[")
        for (i, point) in points.enumerated() {
            out.raw(i == 0 ? "{\"deviceId\":" : ",{\"deviceId\":")
            out.string(point.key.device)
            out.raw(",\"measure\":")
            out.string(point.key.measure)
            out.tags(point.key.tags)
            out.raw(",\"points\":[{\"t\":")
            out.time(point.time)
            out.raw(",\"v\":")
            if let text = point.string { out.string(text) } else { out.value(point.value, point.type) }
            out.raw("}]}")
        }
        out.raw(truncated ? "],\"truncated\":true}" : "],\"truncated\":false}")
        return out.bytes
    }
}
