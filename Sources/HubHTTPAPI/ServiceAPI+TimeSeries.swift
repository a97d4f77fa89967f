import HTTPTypes
import HubCore
import HubTimeSeries
import HubTwins
import Hummingbird
import NIOCore

/// The time-series store as the `/timeseries` routes see it.
public struct TimeSeriesEndpoint: Sendable {
    public let store: TimeSeriesStore
    /// The event-log feed's progress, nil when no feed runs.
    public var feedStatus: @Sendable () -> TimeSeriesFeedStatus?
    /// Alarms first raised in [from, to) per device id, for the daily report.
    public var alarmCounts: @Sendable (_ from: Timestamp, _ to: Timestamp) async -> [String: Int]
    /// Largest `POST /timeseries/write` body.
    public var maximumWriteBytes: Int
    /// Most points (raw points, or buckets × series) one query returns.
    public var maximumPoints: Int

    public init(
        store: TimeSeriesStore, feedStatus: @escaping @Sendable () -> TimeSeriesFeedStatus? = { nil },
        alarmCounts: @escaping @Sendable (Timestamp, Timestamp) async -> [String: Int] = { _, _ in [:] },
        maximumWriteBytes: Int = 32 << 20, maximumPoints: Int = 1_000_000
    ) {
        self.store = store
        self.feedStatus = feedStatus
        self.alarmCounts = alarmCounts
        self.maximumWriteBytes = maximumWriteBytes
        self.maximumPoints = maximumPoints
    }
}

/// `/timeseries`: the compressed time-series store (issue 7).
///
/// - `POST /timeseries/query`: raw points, bucketed aggregates or last values (see `TimeSeriesRequest`).
/// - `POST /timeseries/write?precision=ns|us|ms|s|m|h&deviceTag=deviceId&measure=field|measurement.field`:
///   InfluxDB line protocol; every line needs the device tag. All lines are parsed before anything is stored
///   (a malformed line refuses the whole body with its line and column); 204 when every point was stored,
///   200 with the counts when the store refused some (older than its out-of-order window, or too far ahead);
///   durable (the store's write-ahead log synced) before the answer.
/// - `GET /timeseries/series?deviceId=&measure=`: the series; `GET /timeseries/stats`: store and feed counters.
/// - `GET /timeseries/points?from=&to=&deviceId=&measure=&format=jsonl|csv`: raw points in long form
///   (deviceId, measure, time, value), streamed series by series, for the cold-path export.
/// - `GET /timeseries/reports/daily?date=YYYY-MM-DD[&deviceId=]`: the daily report's rows.
/// - `POST /timeseries/compact`: seal every head and compact now (maintenance, all rights).
extension ServiceAPI {
    var timeSeriesEndpoint: TimeSeriesEndpoint {
        get throws(APIError) {
            guard let timeSeries else { throw APIError(.serviceUnavailable, "the time-series store is not available") }
            return timeSeries
        }
    }

    func timeSeriesCall(_ call: APICall) async throws(APIError) -> APIResult {
        let endpoint = try timeSeriesEndpoint
        switch call.route {
        case .queryTimeSeries:
            let request = try TimeSeriesRequest(try call.jsonBody, now: WallClock.nowMillis())
            let devices = try await selectedDevices(request.deviceSelection)
            return .ok(bytes: try request.run(on: endpoint.store, devices: devices, maximumPoints: endpoint.maximumPoints))
        case .writeTimeSeries:
            return try write(call, endpoint)
        case .listTimeSeries:
            let selector = SeriesSelector(devices: call.query("deviceId").map { [$0] }, measures: call.query("measure").map { [$0] })
            let items: [JSONValue] = endpoint.store.series(selector).map {
                var item = JSONObject(["deviceId": .string($0.key.device), "measure": .string($0.key.measure), "type": .string(Self.typeName($0.type))])
                if !$0.key.tags.isEmpty {
                    var tags = JSONObject()
                    for pair in SeriesTags.pairs($0.key.tags) { tags[pair.key] = .string(pair.value) }
                    item["tags"] = .object(tags)
                }
                return .object(item)
            }
            return .ok(.array(items))
        case .timeSeriesStats:
            return .ok(Self.statsJSON(endpoint.store.statistics, feed: endpoint.feedStatus()))
        case .compactTimeSeries:
            let report = try Self.store { () throws(TimeSeriesError) in try endpoint.store.compact(sealingHeads: true) }
            return .ok(.object(JSONObject([
                "compactedPartitions": .int(report.compactedPartitions), "droppedPartitions": .int(report.droppedPartitions),
                "statistics": Self.statsJSON(endpoint.store.statistics, feed: nil),
            ])))
        case .dailyReport:
            return .ok(try await dailyReport(call, endpoint))
        default:
            throw APIError(.serverError, "not a time-series route")
        }
    }

    // MARK: write

    private func write(_ call: APICall, _ endpoint: TimeSeriesEndpoint) throws(APIError) -> APIResult {
        let precisionText = call.query("precision") ?? "ns"
        guard let precision = LineProtocolParser.Precision(parameter: precisionText) else {
            throw .invalid("precision must be ns, u, us, ms, s, m or h")
        }
        let deviceTag = call.query("deviceTag") ?? "deviceId"
        let qualified: Bool
        switch call.query("measure") ?? "field" {
        case "field": qualified = false
        case "measurement.field": qualified = true
        default: throw .invalid("measure must be field or measurement.field")
        }
        let body = call.rawBody ?? []
        let store = endpoint.store
        // Parse everything first: a malformed line stores nothing.
        var batch = PointBatch(capacity: body.count / 12)
        var refusedStrings = 0
        var measures: [(name: String, type: ValueType)] = []
        var values: [Double] = []
        var ids: [SeriesID] = []
        var tagPairs: [(key: String, value: String)] = []
        do throws(TimeSeriesError) {
            try LineProtocolParser(precision: precision).parse(body, now: WallClock.nowMillis()) { (line) throws(TimeSeriesError) in
                guard let device = line.tag(deviceTag) else {
                    throw TimeSeriesError(.invalidArgument, "a line of measurement '\(line.measurement)' has no \(deviceTag) tag")
                }
                // The line's other tags are the series' tags.
                tagPairs.removeAll(keepingCapacity: true)
                for tag in line.tags where tag.key != deviceTag { tagPairs.append(tag) }
                let tags = try SeriesTags.canonical(tagPairs)
                measures.removeAll(keepingCapacity: true)
                values.removeAll(keepingCapacity: true)
                for field in line.fields {
                    let value: Double
                    let type: ValueType
                    switch field.value {
                    case .float(let v): (value, type) = (v, .float)
                    case .integer(let v): (value, type) = (Double(v), .integer)
                    case .unsigned(let v): (value, type) = (Double(v), .integer)
                    case .boolean(let v): (value, type) = (v ? 1 : 0, .boolean)
                    case .string(let text):
                        guard let code = try store.stringValue(text) else {
                            refusedStrings += 1
                            continue
                        }
                        (value, type) = (code, .string)
                    }
                    measures.append((qualified ? line.measurement + "." + field.key : field.key, type))
                    values.append(value)
                }
                try store.seriesIDs(device: device, tags: tags, measures: measures, into: &ids)
                // (A field of the other kind than its existing series is refused by seriesIDs.)
                for (id, value) in zip(ids, values) { batch.append(id, time: line.time, value: value) }
            }
        } catch {
            throw error.code == .invalidArgument ? APIError(.argumentInvalid, error.message) : APIError(.serviceUnavailable, error.message)
        }
        let appended = try Self.store { () throws(TimeSeriesError) in
            let result = try store.append(batch)
            try store.sync()
            return result
        }
        guard appended.rejected > 0 || refusedStrings > 0 else { return .noContent }
        return .ok(.object(JSONObject([
            "accepted": .int(appended.accepted), "rejectedLate": .int(appended.rejectedLate), "rejectedFuture": .int(appended.rejectedFuture),
            "rejectedStrings": .int(refusedStrings),
        ])))
    }

    // MARK: export

    /// `GET /timeseries/points`: raw points in long form, device by device, as JSON lines or CSV.
    func pointStream(_ call: APICall) throws(APIError) -> Response {
        let endpoint = try timeSeriesEndpoint
        guard let fromText = call.query("from"), let from = Timestamp(iso8601: fromText)?.rawValue,
            let toText = call.query("to"), let to = Timestamp(iso8601: toText)?.rawValue, from < to
        else { throw .invalid("from and to are required ISO 8601 times with from before to") }
        let csv: Bool
        switch call.query("format") ?? "jsonl" {
        case "jsonl": csv = false
        case "csv": csv = true
        default: throw .invalid("format must be jsonl or csv")
        }
        let measures = call.query("measure").map { $0.split(separator: ",").map(String.init) }
        let store = endpoint.store
        let devices = call.query("deviceId").map { [$0] } ?? store.devices()
        let logger = self.logger
        var headers = HTTPFields()
        headers[.contentType] = csv ? "text/csv; charset=utf-8" : "application/x-ndjson"
        headers[.cacheControl] = "no-store"
        let body = ResponseBody { writer in
            var buffer = ByteBuffer()
            if csv { buffer.writeString("deviceId,measure,tags,time,value,text\r\n") }
            for device in devices {
                let raw: RawPointsResult
                do {
                    raw = try store.rawPoints(SeriesSelector(devices: [device], measures: measures), from: from, to: to, limit: Int.max)
                } catch {
                    logger.error("time-series export stopped: \(error)")
                    break
                }
                for series in raw.series {
                    let deviceText = csv ? CSV.field(series.key.device) : JSONWriter.string(.string(series.key.device))
                    let measureText = csv ? CSV.field(series.key.measure) : JSONWriter.string(.string(series.key.measure))
                    let tagsText = csv ? CSV.field(series.key.tags) : JSONWriter.string(.string(series.key.tags))
                    let isString = series.type == .string
                    for (i, (t, v)) in zip(series.times, series.values).enumerated() {
                        // Numbers in `value`, strings in `text`: each column keeps one type for the readers.
                        let value = isString ? "null" : TimeSeriesJSON.valueText(v, series.type)
                        let text = isString ? series.strings[i] : nil
                        let time = Timestamp(rawValue: t).iso8601
                        if csv {
                            buffer.writeString("\(deviceText),\(measureText),\(tagsText),\(time),\(value == "null" ? "" : value),\(text.map(CSV.field) ?? "")\r\n")
                        } else {
                            let textJSON = text.map { JSONWriter.string(.string($0)) } ?? "null"
                            buffer.writeString(
                                "{\"deviceId\":\(deviceText),\"measure\":\(measureText),\"tags\":\(tagsText),\"time\":\"\(time)\",\"value\":\(value),\"text\":\(textJSON)}\n")
                        }
                    }
                    if buffer.readableBytes > 1 << 20 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    // MARK: device selection

    /// The device ids a request names, or nil for all devices; a twin query or tag filter runs against the
    /// twins (every page).
    private func selectedDevices(_ selection: TimeSeriesRequest.DeviceSelection) async throws(APIError) -> [String]? {
        switch selection {
        case .all: return nil
        case .ids(let ids): return ids
        case .twinQuery(let text):
            let twins = try twinService
            let registry = self.registry
            var ids: [String] = []
            var continuation: String?
            do throws(TwinError) {
                let query = try TwinQuery(parsing: text)
                repeat {
                    let page = try await TwinQueryExecutor.execute(query, pageSize: 1000, continuation: continuation) {
                        (scope, after, limit) async throws(TwinError) -> [QueryDocument] in
                        try await Self.scan(registry: registry, twins: twins, scope: scope, after: after, limit: limit)
                    }
                    for item in page.items {
                        guard case .object(let object) = item, case .string(let id)? = object["deviceId"] else { continue }
                        if let module = object["moduleId"], module != JSONValue.null { continue }
                        ids.append(id)
                    }
                    continuation = page.continuation
                } while continuation != nil && ids.count <= 100_000
            } catch {
                throw APIError(error)
            }
            return ids
        }
    }

    // MARK: daily report

    private func dailyReport(_ call: APICall, _ endpoint: TimeSeriesEndpoint) async throws(APIError) -> JSONValue {
        guard let dateText = call.query("date"), let day = Timestamp(iso8601: dateText + "T00:00:00Z") else {
            throw .invalid("date must be YYYY-MM-DD")
        }
        let from = day.rawValue
        let to = from + 86_400_000
        let report = DailyReport()
        let store = endpoint.store
        let devices = call.query("deviceId").map { [$0] } ?? store.devices()
        let alarms = await endpoint.alarmCounts(day, Timestamp(rawValue: to))
        var rows: [JSONValue] = []
        for device in devices {
            let raw = try Self.store { () throws(TimeSeriesError) in
                try store.rawPoints(SeriesSelector(devices: [device]), from: from, to: to, limit: Int.max)
            }
            guard !raw.series.isEmpty || alarms[device] != nil else { continue }
            var samples = DailyReport.Samples()
            var byMeasure: [String: [(time: Int64, value: Double)]] = [:]
            for series in raw.series {
                samples.messageTimes += series.times
                byMeasure[series.key.measure] = zip(series.times, series.values).map { ($0, $1) }
            }
            func first(_ names: [String]) -> [(time: Int64, value: Double)] {
                for name in names { if let points = byMeasure[name] { return points } }
                return []
            }
            samples.velocity = first(report.measures.velocity)
            samples.battery = first(report.measures.battery)
            samples.latitude = first(report.measures.latitude)
            samples.longitude = first(report.measures.longitude)
            samples.altitude = first(report.measures.altitude)
            samples.flightStatus = first(report.measures.flightStatus)
            let row = report.row(deviceId: device, samples: samples, alarms: alarms[device] ?? 0)
            rows.append(.object(JSONObject([
                "deviceId": .string(row.deviceId), "messages": .int(row.messages), "flightSeconds": Self.number(row.flightSeconds),
                "distanceKm": Self.number(row.distanceKilometres), "avgVelocity": row.averageVelocity.map(Self.number) ?? .null,
                "maxVelocity": row.maximumVelocity.map(Self.number) ?? .null, "minBattery": row.minimumBattery.map(Self.number) ?? .null,
                "alarms": .int(row.alarms),
            ])))
        }
        return .object(JSONObject(["date": .string(dateText), "from": .string(day.iso8601), "to": .string(Timestamp(rawValue: to).iso8601), "rows": .array(rows)]))
    }

    // MARK: helpers

    static func store<T>(_ body: () throws(TimeSeriesError) -> T) throws(APIError) -> T {
        do {
            return try body()
        } catch {
            throw error.code == .invalidArgument ? APIError(.argumentInvalid, error.message) : APIError(.serviceUnavailable, "the time-series store failed: \(error.message)")
        }
    }

    static func typeName(_ type: ValueType) -> String {
        switch type {
        case .float: "float"
        case .integer: "integer"
        case .boolean: "boolean"
        case .string: "string"
        @unknown default: "float"
        }
    }

    /// A JSON number, or null for NaN and infinities (JSON has no such numbers).
    static func number(_ value: Double) -> JSONValue {
        value.isFinite ? .number(String(value)) : .null
    }

    static func statsJSON(_ s: TimeSeriesStatistics, feed: TimeSeriesFeedStatus?) -> JSONValue {
        var object = JSONObject([
            "series": .int(s.series), "headPoints": .int(s.headPoints), "sealedPoints": .number(String(s.sealedPoints)),
            "rejectedLate": .int(s.rejectedLate), "rejectedFuture": .int(s.rejectedFuture), "bytesOnDisk": .number(String(s.bytesOnDisk)),
            "blockBytes": .number(String(s.blockBytes)), "rollupBytes": .number(String(s.rollupBytes)), "walBytes": .number(String(s.walBytes)),
            "partitions": .int(s.partitions), "files": .int(s.files),
            "stringValues": .int(s.stringValues), "rejectedStrings": .int(s.rejectedStrings),
        ])
        if let feed {
            object["feed"] = .object(JSONObject([
                "events": .number(String(feed.events)), "mapped": .number(String(feed.mapped)), "points": .number(String(feed.points)),
                "rejected": .number(String(feed.rejected)), "droppedMeasures": .number(String(feed.droppedMeasures)),
                "unmapped": .number(String(feed.unmapped)), "lost": .number(String(feed.lost)), "lag": .number(String(feed.lag)),
                "lastError": feed.lastError.map(JSONValue.string) ?? .null,
            ]))
        }
        return .object(object)
    }
}
