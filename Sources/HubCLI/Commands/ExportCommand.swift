import ArgumentParser
import Foundation
import HubCore
import HubTimeSeries

/// `meridian export`: the cold path — the time-series store's raw points as files any analytics tool reads.
public struct ExportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export raw time-series points to day-partitioned JSON-lines or CSV files.",
        discussion: """
            Writes OUT/date=YYYY-MM-DD/points.jsonl (or .csv), one row per point: deviceId, measure, time (ISO 8601 UTC), \
            value. DuckDB reads them as they are, e.g.
              SELECT deviceId, avg(value) FROM read_json_auto('OUT/*/*.jsonl', hive_partitioning = true)
              WHERE measure = 'velocity' GROUP BY ALL;
              SELECT * FROM read_csv_auto('OUT/*/*.csv', hive_partitioning = true);
            A day's file is written to a temporary name and renamed when complete, so readers never see half a file.
            """)

    @Option(help: "Start of the range (ISO 8601, a date, now, or -2h/-1d).") var from: String
    @Option(help: "End of the range, exclusive.") var to: String
    @Option(help: "jsonl or csv.") var format = "jsonl"
    @Option(help: "The folder to write into (created if needed).") var out: String
    @Option(name: .customLong("device-id"), help: "Only this device.") var deviceId: String?
    @Option(name: .customLong("measure"), help: "Only these measures (repeatable).") var measures: [String] = []
    @OptionGroup var options: ClientOptions

    public init() {}

    public func run() async throws {
        guard format == "jsonl" || format == "csv" else { throw ValidationError("--format must be jsonl or csv") }
        let start = try TimeArgument.millis(from)
        let end = try TimeArgument.millis(to)
        guard start < end else { throw ValidationError("--from must be before --to") }
        guard (end - start) / 86_400_000 <= 3660 else { throw ValidationError("export at most ten years at once") }
        let client = try options.client()
        var files = 0
        var rows = 0
        var bytes = 0
        var day = start - ((start % 86_400_000) + 86_400_000) % 86_400_000
        while day < end {
            let from = max(start, day)
            let to = min(end, day + 86_400_000)
            var path = "/timeseries/points?from=\(Timestamp(rawValue: from).iso8601)&to=\(Timestamp(rawValue: to).iso8601)&format=\(format)"
            if let deviceId { path += "&deviceId=\(Path.escape(deviceId))" }
            if !measures.isEmpty { path += "&measure=\(Path.escape(measures.joined(separator: ",")))" }
            let date = String(Timestamp(rawValue: day).iso8601.prefix(10))
            let directory = "\(out)/date=\(date)"
            let final = "\(directory)/points.\(format)"
            let temporary = final + ".partial"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: temporary, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: temporary) else { throw ValidationError("cannot write \(temporary)") }
            var written = 0
            var lines = 0
            do {
                for try await chunk in try await client.stream(path, accept: format == "csv" ? "text/csv" : "application/x-ndjson") {
                    let data = Data(chunk.readableBytesView)
                    handle.write(data)
                    written += data.count
                    lines += data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                }
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                try? FileManager.default.removeItem(atPath: temporary)
                throw error
            }
            let dataRows = format == "csv" ? max(0, lines - 1) : lines
            if dataRows == 0 {
                try? FileManager.default.removeItem(atPath: temporary)
                try? FileManager.default.removeItem(atPath: directory)  // only when empty
            } else {
                if FileManager.default.fileExists(atPath: final) { try FileManager.default.removeItem(atPath: final) }
                try FileManager.default.moveItem(atPath: temporary, toPath: final)
                files += 1
                rows += dataRows
                bytes += written
                if !options.json { print("\(final)  \(dataRows) rows") }
            }
            day += 86_400_000
        }
        if options.json {
            Output.json(["files": files, "rows": rows, "bytes": bytes, "directory": out])
        } else {
            print("exported \(rows) points in \(files) file\(files == 1 ? "" : "s") (\(bytes) bytes) to \(out)")
        }
    }
}

/// `meridian report daily`: the per-device daily batch insight.
public struct ReportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Batch reports over the time-series store.",
        subcommands: [Daily.self])

    public init() {}

    struct Daily: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per device for one UTC day: messages, flight time, distance flown, velocity, lowest battery, alarms.",
            discussion: """
                --format table (default), csv or html (one self-contained page with SVG charts); --out writes to a file.
                Flight time counts sample gaps (each at most 60 s) that start while the device flies: flightStatus = 1 when \
                it reports one, else a velocity above 0.5. Distance sums great-circle steps between positions \
                (position.lat/.lon/.alt or lat/lon/alt), altitude changes included.
                """)
        @Option(help: "The day, YYYY-MM-DD (default: yesterday, UTC).") var date: String?
        @Option(help: "table, csv or html.") var format = "table"
        @Option(help: "Write to this file instead of standard output.") var out: String?
        @Option(name: .customLong("device-id"), help: "Only this device.") var deviceId: String?
        @OptionGroup var options: ClientOptions

        func run() async throws {
            guard ["table", "csv", "html"].contains(format) else { throw ValidationError("--format must be table, csv or html") }
            let day = date ?? String(Timestamp(rawValue: WallClock.nowMillis() - 86_400_000).iso8601.prefix(10))
            guard Timestamp(iso8601: day + "T00:00:00Z") != nil else { throw ValidationError("--date must be YYYY-MM-DD") }
            var path = "/timeseries/reports/daily?date=\(day)"
            if let deviceId { path += "&deviceId=\(Path.escape(deviceId))" }
            let client = try options.client()
            let result = try await client.request(.GET, path).json as? [String: Any] ?? [:]
            if options.json { return Output.json(result) }
            let rows = (result["rows"] as? [[String: Any]] ?? []).map(Self.row)
            let text: String
            switch format {
            case "csv": text = DailyReport.csv(rows)
            case "html": text = DailyReport.html(rows, date: day, hubName: client.connectionString.hostName)
            default:
                guard out == nil else { throw ValidationError("--out needs --format csv or html") }
                Output.table(DailyReport.columns.map { $0.uppercased() }, rows.map(DailyReport.cells))
                return
            }
            if let out {
                try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
                print("wrote \(out) (\(rows.count) devices)")
            } else {
                print(text, terminator: "")
            }
        }

        static func row(_ json: [String: Any]) -> DailyReport.Row {
            func number(_ key: String) -> Double? { (json[key] as? NSNumber)?.doubleValue }
            return DailyReport.Row(
                deviceId: json["deviceId"] as? String ?? "", messages: (json["messages"] as? NSNumber)?.intValue ?? 0,
                flightSeconds: number("flightSeconds") ?? 0, distanceKilometres: number("distanceKm") ?? 0, averageVelocity: number("avgVelocity"),
                maximumVelocity: number("maxVelocity"), minimumBattery: number("minBattery"), alarms: (json["alarms"] as? NSNumber)?.intValue ?? 0)
        }
    }
}
