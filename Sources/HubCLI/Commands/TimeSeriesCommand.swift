import ArgumentParser
import Foundation
import HubCore
import HubTimeSeries
import NIOHTTP1

/// `meridian ts …`: the hub's time-series store.
public struct TimeSeriesCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ts",
        abstract: "Query and write the time-series store.",
        discussion: """
            Every numeric field of a device message becomes a measure (numbers sent as strings too; position "lat|lon|alt" \
            becomes position.lat/.lon/.alt); booleans and other strings (batteryStatus "low") are boolean and string measures. \
            Series with tags (line protocol tags) print as measure{k=v}. Times: ISO 8601 (2026-11-24T10:00:00Z), now, or relative to now (-15m, -2h, -1d).
            """,
        subcommands: [Query.self, Write.self, Series.self, Stats.self, Compact.self])

    public init() {}

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Raw points, aggregates per interval, or last values.",
            discussion: """
                Examples:
                  meridian ts query --device-id drone-01 --measure velocity --from -1h
                  meridian ts query --measure velocity --from -1h --interval PT1M --aggregate avg --aggregate max --sparkline
                  meridian ts query --measure velocity --interval PT5M --aggregate avg --group-by none --csv
                  meridian ts query --measure position.lat --measure position.lon --last
                  meridian ts query --measure batteryStatus --interval PT1H --aggregate count --aggregate last
                  meridian ts query --measure rpm --series-tag motor=front --from -15m
                """)
        @Option(name: .customLong("device-id"), help: "A device to read (repeatable; default: every device).") var deviceIds: [String] = []
        @Option(help: "A twin query choosing the devices (e.g. \"tags.fleet = 'north'\").") var query: String?
        @Option(name: .customLong("tag"), help: "Devices whose twin tag has this value, k=v (repeatable).") var tags: [String] = []
        @Option(name: .customLong("measure"), help: "A measure to read (repeatable; default: every measure).") var measures: [String] = []
        @Option(name: .customLong("series-tag"), help: "Only series with this tag, k=v (repeatable).") var seriesTags: [String] = []
        @Option(help: "Start of the range (default: an hour before --to).") var from: String?
        @Option(help: "End of the range, exclusive (default: now).") var to: String?
        @Option(help: "Bucket width, ISO 8601 (PT10S, PT1M, PT1H, P1D); without it and --aggregate: raw points.") var interval: String?
        @Option(name: .customLong("aggregate"), help: "avg, min, max, sum, count, first, last, median or p<N> (repeatable).")
        var aggregates: [String] = []
        @Option(name: .customLong("group-by"), help: "device (one series per device, default) or none (the devices together).")
        var groupBy: String?
        @Flag(help: "Each series' newest point in the range.") var last = false
        @Option(help: "Most points returned.") var limit: Int?
        @Flag(help: "CSV (deviceId, measure, time, value or aggregates) instead of a table.") var csv = false
        @Flag(help: "One line per series with a sparkline of its values.") var sparkline = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            var body: [String: Any] = [:]
            if !deviceIds.isEmpty { body["deviceIds"] = deviceIds }
            if let query { body["query"] = query }
            if !tags.isEmpty { body["tags"] = try TimeSeriesCommand.pairs(tags, option: "--tag") }
            if !measures.isEmpty { body["measures"] = measures }
            if !seriesTags.isEmpty { body["seriesTags"] = try TimeSeriesCommand.pairs(seriesTags, option: "--series-tag") }
            if let from { body["from"] = try TimeArgument.iso(from) }
            if let to { body["to"] = try TimeArgument.iso(to) }
            if let interval { body["interval"] = interval }
            if !aggregates.isEmpty { body["aggregates"] = aggregates }
            if let groupBy { body["groupBy"] = groupBy }
            if last { body["last"] = true }
            if let limit { body["limit"] = limit }
            let result = try await options.client().request(.POST, "/timeseries/query", body: body).json as? [String: Any] ?? [:]
            if options.json { return Output.json(result) }
            let series = result["series"] as? [[String: Any]] ?? []
            let columns = TimeSeriesCommand.valueColumns(series)
            if sparkline {
                TimeSeriesCommand.printSparklines(series, column: columns.first ?? "v")
            } else if csv {
                print(CSV.line(["deviceId", "measure", "time"] + columns), terminator: "")
                for row in TimeSeriesCommand.rows(series, columns) { print(CSV.line(row), terminator: "") }
            } else {
                Output.table(["DEVICE", "MEASURE", "TIME"] + columns.map { $0 == "v" ? "VALUE" : $0.uppercased() }, TimeSeriesCommand.rows(series, columns))
            }
            if result["truncated"] as? Bool == true {
                FileHandle.standardError.write(Data("meridian: the result was cut at the point limit; narrow the range or use --interval\n".utf8))
            }
        }
    }

    struct Write: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write InfluxDB line protocol (from a file or standard input).",
            discussion: "Every line needs a deviceId tag (or --device-tag): drones,deviceId=drone-01 velocity=12.5,battery=88 1764000000")
        @Option(help: "A file of line protocol; default: standard input.") var file: String?
        @Option(help: "Timestamp unit: ns, us, ms, s, m or h.") var precision = "ns"
        @Option(name: .customLong("device-tag"), help: "The tag naming the device.") var deviceTag = "deviceId"
        @Flag(name: .customLong("qualified"), help: "Name measures measurement.field instead of field.") var qualified = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let data: Data
            if let file {
                guard let contents = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                data = contents
            } else {
                data = FileHandle.standardInput.readDataToEndOfFile()
            }
            let path = "/timeseries/write?precision=\(Path.escape(precision))&deviceTag=\(Path.escape(deviceTag))"
                + (qualified ? "&measure=measurement.field" : "")
            let response = try await options.client().request(.POST, path, rawBody: data, headers: [("Content-Type", "text/plain; charset=utf-8")])
            if let counts = response.json as? [String: Any] {
                if options.json { return Output.json(counts) }
                Output.fields(["accepted", "rejectedLate", "rejectedFuture", "rejectedStrings"].map { ($0, Output.text(counts[$0])) })
            } else if !options.json {
                print("written")
            }
        }
    }

    struct Series: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the stored series.")
        @Option(name: .customLong("device-id"), help: "Only this device's series.") var deviceId: String?
        @Option(help: "Only this measure.") var measure: String?
        @OptionGroup var options: ClientOptions

        func run() async throws {
            var query: [String] = []
            if let deviceId { query.append("deviceId=\(Path.escape(deviceId))") }
            if let measure { query.append("measure=\(Path.escape(measure))") }
            let items = try await options.client().request(.GET, "/timeseries/series" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))).json
                as? [[String: Any]] ?? []
            if options.json { return Output.json(items) }
            Output.table(["DEVICE", "MEASURE", "TYPE"], items.map { [Output.text($0["deviceId"]), TimeSeriesCommand.measureName($0), Output.text($0["type"])] })
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Store and feed counters.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let stats = try await options.client().request(.GET, "/timeseries/stats").json as? [String: Any] ?? [:]
            if options.json { return Output.json(stats) }
            var pairs = stats.keys.filter { $0 != "feed" }.sorted().map { ($0, Output.text(stats[$0])) }
            if let feed = stats["feed"] as? [String: Any] { pairs += feed.keys.sorted().map { ("feed.\($0)", Output.text(feed[$0])) } }
            Output.fields(pairs)
        }
    }

    struct Compact: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Seal every in-memory head and compact now (the hub also does it by itself).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let report = try await options.client().request(.POST, "/timeseries/compact", body: [String: Any]()).json as? [String: Any] ?? [:]
            if options.json { return Output.json(report) }
            Output.fields(["compactedPartitions", "droppedPartitions"].map { ($0, Output.text(report[$0])) })
        }
    }

    /// The value columns of a result: `v` for raw points, else the aggregates in the order they appear.
    static func valueColumns(_ series: [[String: Any]]) -> [String] {
        var columns: [String] = []
        for entry in series {
            for point in entry["points"] as? [[String: Any]] ?? [] {
                for key in point.keys.sorted() where key != "t" && !columns.contains(key) { columns.append(key) }
                break
            }
        }
        return columns.isEmpty ? ["v"] : columns
    }

    /// `k=v` options as a JSON object.
    static func pairs(_ specs: [String], option: String) throws -> [String: Any] {
        var object: [String: Any] = [:]
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("\(option) takes key=value") }
            object[String(parts[0])] = String(parts[1])
        }
        return object
    }

    /// `velocity`, or `velocity{motor=front}` for a series with tags.
    static func measureName(_ entry: [String: Any]) -> String {
        let measure = entry["measure"] as? String ?? ""
        guard let tags = entry["tags"] as? [String: Any], !tags.isEmpty else { return measure }
        return measure + "{" + tags.keys.sorted().map { "\($0)=\(Output.text(tags[$0]))" }.joined(separator: ",") + "}"
    }

    static func rows(_ series: [[String: Any]], _ columns: [String]) -> [[String]] {
        var rows: [[String]] = []
        for entry in series {
            let device = entry["deviceId"] as? String ?? "*"
            let measure = measureName(entry)
            for point in entry["points"] as? [[String: Any]] ?? [] {
                rows.append([device, measure, Output.text(point["t"])] + columns.map { point[$0].map { Output.text($0) } ?? "" })
            }
        }
        return rows
    }

    /// `device  measure  ▁▂▄▆█▇▅  min … max  (n points)` per series.
    static func printSparklines(_ series: [[String: Any]], column: String) {
        var rows: [[String]] = []
        for entry in series {
            let values = (entry["points"] as? [[String: Any]] ?? []).compactMap { ($0[column] as? NSNumber)?.doubleValue }
            rows.append([
                entry["deviceId"] as? String ?? "*", measureName(entry), Sparkline.draw(values, width: 60),
                values.isEmpty ? "" : "\(DailyReport.fixed(values.min()!, 2)) … \(DailyReport.fixed(values.max()!, 2))", "\(values.count) points",
            ])
        }
        Output.table(["DEVICE", "MEASURE", column == "v" ? "VALUES" : column.uppercased(), "RANGE", "COUNT"], rows)
    }
}

/// A terminal sparkline: values scaled onto ▁▂▃▄▅▆▇█, averaged down to `width` characters.
enum Sparkline {
    static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    static func draw(_ values: [Double], width: Int) -> String {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty, width > 0 else { return "" }
        var columns: [Double] = []
        if finite.count <= width {
            columns = finite
        } else {
            for i in 0..<width {
                let slice = finite[(i * finite.count / width)..<((i + 1) * finite.count / width)]
                columns.append(slice.reduce(0, +) / Double(slice.count))
            }
        }
        let low = columns.min()!
        let high = columns.max()!
        let span = high - low
        return String(columns.map { value in
            span == 0 ? levels[3] : levels[min(levels.count - 1, Int((value - low) / span * Double(levels.count)))]
        })
    }
}

/// Times on the command line: ISO 8601, `now`, or relative to now (`-15m`, `-2h`, `-1d`, `-30s`).
enum TimeArgument {
    static func iso(_ text: String, now: Int64 = WallClock.nowMillis()) throws -> String {
        try Timestamp(rawValue: millis(text, now: now)).iso8601
    }

    static func millis(_ text: String, now: Int64 = WallClock.nowMillis()) throws -> Int64 {
        if text == "now" { return now }
        if let time = Timestamp(iso8601: text) { return time.rawValue }
        if let day = Timestamp(iso8601: text + "T00:00:00Z") { return day.rawValue }
        if text.hasPrefix("-"), let unit = text.last, let amount = Int64(text.dropFirst().dropLast()), amount >= 0 {
            let factor: Int64? = switch unit {
            case "s": 1000
            case "m": 60_000
            case "h": 3_600_000
            case "d": 86_400_000
            default: nil
            }
            if let factor { return now - amount * factor }
        }
        throw ValidationError("'\(text)' is not a time: use ISO 8601 (2026-11-24T10:00:00Z), a date, now, or -15m / -2h / -1d")
    }
}
