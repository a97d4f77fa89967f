import HubCore
import HubTimeSeries

/// The body of `POST /timeseries/query`:
///
///     {"deviceIds": ["drone-1"] | "query": "SELECT * FROM devices WHERE tags.fleet = 'north'" | "tags": {"fleet": "north"},
///      "measures": ["velocity"], "from": "2026-11-24T10:00:00Z", "to": "2026-11-24T11:00:00Z",
///      "interval": "PT1M", "aggregates": ["avg", "max", "p99"], "groupBy": "device" | "none", "last": false, "limit": 10000,
///      "seriesTags": {"motor": "front"}}
///
/// - devices: `deviceIds`, a twin `query`, or a `tags` filter (turned into a twin query); omitted: every device;
/// - `seriesTags`: only series whose own tags (line protocol tags, mapped tag fields) include every pair;
/// - `measures` omitted: every measure; `to` defaults to now, `from` to one hour before `to`;
/// - without `interval` and `aggregates`: raw points `{"t", "v"}`; with `interval` (ISO 8601, ≥ 1 s):
///   buckets aligned to the epoch, `{"t": bucket start, "<aggregate>": …}`, `aggregates` defaulting to
///   `["avg"]` (avg, min, max, sum, count, first, last, median, p<N> for 0 < N ≤ 100); with `aggregates` but
///   no `interval`: one bucket over the whole range; buckets without points are left out;
/// - `groupBy: "none"` merges the selected devices per measure (the fleet's mean), `device` (default) keeps
///   one series per device and measure;
/// - `last: true`: each series' newest point in the range (kept in memory, no file read when it is the
///   series' newest point overall);
/// - `limit`: most points returned (raw points, or buckets over all series); capped by the hub's
///   maximum. A result cut short says `"truncated": true`.
struct TimeSeriesRequest: Sendable {
    enum DeviceSelection: Sendable, Equatable {
        case all
        case ids([String])
        case twinQuery(String)
    }

    enum Mode: Sendable, Equatable {
        case raw
        case aggregate(interval: Int64?, [Aggregate])
        case last
    }

    var deviceSelection: DeviceSelection
    var measures: [String]?
    var from: Int64
    var to: Int64
    var mode: Mode
    var mergeDevices: Bool
    var limit: Int?
    var seriesTags: [String: String]?

    /// Most buckets one aggregate query may span per series.
    static let maximumBuckets: Int64 = 100_000

    init(_ json: JSONValue, now: Int64) throws(APIError) {
        let reader = try JSONReader(json)
        try reader.allowOnly(["deviceIds", "query", "tags", "measures", "from", "to", "interval", "aggregates", "groupBy", "last", "limit", "seriesTags"])
        let ids = try reader.stringArray("deviceIds")
        let query = try reader.string("query")
        let tags = try reader.reader("tags")
        guard [ids != nil, query != nil, tags != nil].filter({ $0 }).count <= 1 else {
            throw .invalid("give at most one of deviceIds, query and tags")
        }
        if let ids {
            guard !ids.isEmpty, ids.count <= 10_000 else { throw .invalid("deviceIds needs 1…10000 ids") }
            deviceSelection = .ids(ids)
        } else if let query {
            let trimmed = query.trimmingSpaces()
            deviceSelection = .twinQuery(trimmed.lowercased().hasPrefix("select") ? trimmed : "SELECT * FROM devices WHERE " + trimmed)
        } else if let tags {
            var conditions: [String] = []
            for (key, value) in tags.object.members {
                guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }), !key.isEmpty else {
                    throw .invalid("tag names are letters, digits, - and _")
                }
                switch value {
                case .string(let text): conditions.append("tags.\(key) = '\(text.replacingQuotes())'")
                case .number(let text): conditions.append("tags.\(key) = \(text)")
                case .bool(let flag): conditions.append("tags.\(key) = \(flag)")
                default: throw .invalid("tags.\(key) must be a string, number or boolean")
                }
            }
            guard !conditions.isEmpty else { throw .invalid("tags needs at least one tag") }
            deviceSelection = .twinQuery("SELECT * FROM devices WHERE " + conditions.joined(separator: " AND "))
        } else {
            deviceSelection = .all
        }
        if let filter = try reader.reader("seriesTags") {
            var pairs: [String: String] = [:]
            for (key, value) in filter.object.members {
                guard case .string(let text) = value, !key.isEmpty, !text.isEmpty else { throw .invalid("seriesTags.\(key) must be a non-empty string") }
                pairs[key] = text
            }
            guard !pairs.isEmpty, pairs.count <= SeriesTags.maximumTags else { throw .invalid("seriesTags needs 1…\(SeriesTags.maximumTags) tags") }
            seriesTags = pairs
        }
        if let measures = try reader.stringArray("measures") {
            guard !measures.isEmpty, measures.count <= 256 else { throw .invalid("measures needs 1…256 names") }
            self.measures = measures
        }
        to = try Self.time(reader, "to") ?? now
        from = try Self.time(reader, "from") ?? (to - 3_600_000)
        guard from < to else { throw .invalid("from must be before to") }
        switch try reader.string("groupBy") ?? "device" {
        case "device": mergeDevices = false
        case "none": mergeDevices = true
        default: throw .invalid("groupBy must be device or none")
        }
        if let limit = try reader.int("limit") {
            guard limit >= 1 else { throw .invalid("limit must be at least 1") }
            self.limit = limit
        }
        let interval = try reader.string("interval").map { (text) throws(APIError) -> Int64 in
            guard let millis = ISODuration.milliseconds(text), millis >= 1000 else {
                throw .invalid("interval must be an ISO 8601 duration of at least 1 s without years or months, like PT1M")
            }
            return millis
        }
        let aggregates = try reader.stringArray("aggregates").map { (names) throws(APIError) -> [Aggregate] in
            guard !names.isEmpty, names.count <= 16 else { throw .invalid("aggregates needs 1…16 names") }
            var parsed: [Aggregate] = []
            for name in names { parsed.append(try Self.aggregate(name)) }
            return parsed
        }
        if try reader.bool("last") == true {
            guard interval == nil, aggregates == nil else { throw .invalid("last cannot be combined with interval or aggregates") }
            guard !mergeDevices else { throw .invalid("last needs groupBy device") }
            mode = .last
        } else if interval != nil || aggregates != nil {
            if let interval {
                let first = from - ((from % interval) + interval) % interval
                guard (to - first) / interval < Self.maximumBuckets else {
                    throw .invalid("the range holds more than \(Self.maximumBuckets) intervals; use a longer interval")
                }
            }
            mode = .aggregate(interval: interval, aggregates ?? [.avg])
        } else {
            guard !mergeDevices else { throw .invalid("groupBy none needs aggregates") }
            mode = .raw
        }
    }

    private static func time(_ reader: JSONReader, _ key: String) throws(APIError) -> Int64? {
        guard let text = try reader.string(key) else { return nil }
        guard let time = Timestamp(iso8601: text) else { throw .invalid("\(key) must be an ISO 8601 time like 2026-11-24T10:00:00Z") }
        return time.rawValue
    }

    static func aggregate(_ name: String) throws(APIError) -> Aggregate {
        switch name.lowercased() {
        case "avg", "mean": return .avg
        case "min": return .min
        case "max": return .max
        case "sum": return .sum
        case "count": return .count
        case "first": return .first
        case "last": return .last
        case "median": return .p50
        default:
            let lower = name.lowercased()
            if lower.hasPrefix("p"), let p = Double(lower.dropFirst()), p > 0, p <= 100 { return .percentile(p) }
            throw .invalid("unknown aggregate \(JSONReader.printable(name)); use avg, min, max, sum, count, first, last, median or p<N>")
        }
    }

    static func name(_ aggregate: Aggregate) -> String {
        switch aggregate {
        case .avg: "avg"
        case .min: "min"
        case .max: "max"
        case .sum: "sum"
        case .count: "count"
        case .first: "first"
        case .last: "last"
        case .percentile(let p): p == p.rounded() ? "p\(Int(p))" : "p\(p)"
        }
    }

    /// Runs the request (`devices` nil means every device) and returns the answer's JSON bytes.
    func run(on store: TimeSeriesStore, devices: [String]?, maximumPoints: Int) throws(APIError) -> [UInt8] {
        let selector = SeriesSelector(devices: devices, measures: measures, tags: seriesTags)
        if let devices, devices.isEmpty { return Array(#"{"series":[],"truncated":false}"#.utf8) }
        let cap = min(limit ?? maximumPoints, maximumPoints)
        switch mode {
        case .raw:
            return Self.rawJSON(try ServiceAPI.store { () throws(TimeSeriesError) in try store.rawPoints(selector, from: from, to: to, limit: cap) })
        case .last:
            return try last(store, selector)
        case .aggregate(let interval, let aggregates):
            // Without an interval, one bucket spans the range: an epoch-aligned bucket [0, whole hours ≥ to).
            let width = interval ?? max(3_600_000, ((to + 3_599_999) / 3_600_000) * 3_600_000)
            let query = AggregateQuery(
                selector: selector, from: from, to: to, interval: width, aggregates: aggregates, grouping: mergeDevices ? .measure : .series)
            let result = try ServiceAPI.store { () throws(TimeSeriesError) in try store.aggregate(query) }
            let names = aggregates.map(Self.name)
            var remaining = cap
            var truncated = false
            var out = TimeSeriesJSON(capacity: 64 + result.groups.reduce(0) { $0 + 64 + $1.buckets.count * (40 + 24 * names.count) })
            out.raw("{\"series\":[")
            var first = true
            for group in result.groups where !group.buckets.isEmpty {
                guard remaining > 0 else {
                    truncated = true
                    break
                }
                out.raw(first ? "{" : ",{")
                first = false
                if let device = group.device {
                    out.raw("\"deviceId\":")
                    out.string(device)
                    out.raw(",")
                }
                out.raw("\"measure\":")
                out.string(group.measure)
                out.tags(group.tags)
                out.raw(",\"points\":[")
                let buckets = group.buckets.prefix(remaining)
                for (k, bucket) in buckets.enumerated() {
                    out.raw(k == 0 ? "{\"t\":" : ",{\"t\":")
                    out.time(interval == nil ? from : bucket.start)
                    for (a, value) in zip(aggregates.indices, bucket.values) {
                        out.raw(",")
                        out.string(names[a])
                        out.raw(":")
                        if aggregates[a] == .count {
                            out.integer(Int64(value))
                        } else if group.isString, let text = bucket.strings[a] {
                            out.string(text)
                        } else {
                            out.number(value)
                        }
                    }
                    out.raw("}")
                }
                out.raw("]}")
                if buckets.count < group.buckets.count { truncated = true }
                remaining -= buckets.count
            }
            out.raw(truncated ? "],\"truncated\":true}" : "],\"truncated\":false}")
            return out.bytes
        }
    }

    /// Each series' newest point in [from, to): the hot last value when it falls in the range, else the
    /// newest stored point before `to` (read from blocks).
    private func last(_ store: TimeSeriesStore, _ selector: SeriesSelector) throws(APIError) -> [UInt8] {
        var points: [LastValue] = []
        var older: [SeriesKey] = []
        for value in store.lastValues(selector) {
            if value.time >= to {
                older.append(value.key)
            } else if value.time >= from {
                points.append(value)
            }
        }
        for key in older.prefix(10_000) {
            let raw = try ServiceAPI.store { () throws(TimeSeriesError) in
                try store.rawPoints(SeriesSelector(devices: [key.device], measures: [key.measure]), from: from, to: to, limit: Int.max)
            }
            guard let series = raw.series.first(where: { $0.key == key }), let time = series.times.last, let value = series.values.last else { continue }
            points.append(LastValue(key: key, type: series.type, time: time, value: value, string: series.strings.last))
        }
        return Self.lastJSON(points, truncated: older.count > 10_000)
    }


}

extension String {
    /// The text with `'` doubled, for a string literal of the twin query language.
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for character in self {
            if character == "'" { out += "''" } else { out.append(character) }
        }
        return out
    }
}
