/// A series' tags — key/value pairs that, with the device and the measure, identify a series (InfluxDB's
/// tag set: `motor=front` and `motor=rear` are two series of one measure). Kept as one canonical string:
/// pairs sorted by key (byte order), `key=value` joined by `,`, with `\`, `,` and `=` escaped by `\`, so
/// equal tag sets are equal strings.
public enum SeriesTags {
    /// Tags per series at most.
    public static let maximumTags = 32
    /// Bytes of the canonical form at most.
    public static let maximumBytes = 1024

    /// The canonical form of `pairs` (empty pairs → empty string). Keys must be unique and non-empty, values
    /// non-empty, and the result at most `maximumBytes`.
    public static func canonical(_ pairs: [(key: String, value: String)]) throws(TimeSeriesError) -> String {
        guard !pairs.isEmpty else { return "" }
        guard pairs.count <= maximumTags else { throw TimeSeriesError(.invalidArgument, "a series has at most \(maximumTags) tags") }
        let sorted = pairs.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var out = ""
        for (i, pair) in sorted.enumerated() {
            guard !pair.key.isEmpty, !pair.value.isEmpty else { throw TimeSeriesError(.invalidArgument, "tag keys and values must not be empty") }
            if i > 0 {
                guard sorted[i - 1].key != pair.key else { throw TimeSeriesError(.invalidArgument, "tag '\(pair.key)' is given twice") }
                out += ","
            }
            escape(pair.key, into: &out)
            out += "="
            escape(pair.value, into: &out)
        }
        guard out.utf8.count <= maximumBytes else { throw TimeSeriesError(.invalidArgument, "a series' tags take at most \(maximumBytes) bytes") }
        return out
    }

    /// The pairs of a canonical string, in order (a malformed string gives the pairs that parse).
    public static func pairs(_ canonical: String) -> [(key: String, value: String)] {
        guard !canonical.isEmpty else { return [] }
        var pairs: [(key: String, value: String)] = []
        var key = "", current = ""
        var escaped = false, inValue = false
        for character in canonical {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "=", !inValue {
                key = current
                current = ""
                inValue = true
            } else if character == ",", inValue {
                pairs.append((key, current))
                current = ""
                inValue = false
            } else {
                current.append(character)
            }
        }
        if inValue { pairs.append((key, current)) }
        return pairs
    }

    /// Whether the tags in `canonical` include every pair of `filter`.
    static func matches(_ canonical: String, _ filter: [String: String]) -> Bool {
        guard !filter.isEmpty else { return true }
        var found = 0
        for pair in pairs(canonical) where filter[pair.key] == pair.value { found += 1 }
        return found == filter.count
    }

    private static func escape(_ text: String, into out: inout String) {
        for character in text {
            if character == "\\" || character == "," || character == "=" { out.append("\\") }
            out.append(character)
        }
    }
}
