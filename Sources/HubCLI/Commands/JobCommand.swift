import ArgumentParser
import Foundation
import HubCore
import HubStreamSQL

/// `meridian job …`: stream processing jobs.
public struct JobCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Stream processing jobs (Stream Analytics SQL).",
        subcommands: [SQL.self])

    public init() {}

    struct SQL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sql",
            abstract: "Stream SQL jobs.",
            subcommands: [Test.self, Create.self, List.self, Show.self, Start.self, Stop.self, Delete.self, RecentRows.self])
    }

    /// `meridian job sql create NAME --query FILE [--output TARGET=TYPE[,k=v…]]…`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create (or replace) a stream job running in the hub, and start it.",
            discussion: """
                --output TARGET=TYPE[,key=value…] says where an INTO target goes: alarm (severity=, alarmType=), \
                webhook (url=, header.NAME=), fileStorage (directory=), c2d, method (methodName=, timeoutSeconds=), \
                eventLog, timeSeries (measurePrefix=) or memory. A target named alarms is an alarm output by default; others are memory \
                outputs (see `meridian job sql output`). A query that does not plan is refused with its line and column. \
                --reference NAME=FILE gives a static reference table the query may JOIN as NAME (FILE: a JSON array of objects, \
                e.g. the no-fly zones of `meridian simulate --no-fly-zones FILE`).
                """)
        @Argument(help: "The job's name.") var name: String
        @Option(help: ArgumentHelp("File with the query ('-' for standard input).", valueName: "file")) var query: String
        @Option(help: ArgumentHelp("Where a target goes: TARGET=TYPE[,key=value…] (repeatable).", valueName: "spec")) var output: [String] = []
        @Option(help: ArgumentHelp("A reference table: NAME=FILE with a JSON array of objects (repeatable).", valueName: "name=file")) var reference: [String] = []
        @Option(help: ArgumentHelp("now, earliest or an ISO 8601 time (without a checkpoint).", valueName: "from")) var startFrom = "now"
        @Option(help: ArgumentHelp("Seconds an event may arrive behind the latest one.", valueName: "seconds")) var outOfOrderTolerance: Double = 0
        @Option(help: ArgumentHelp("adjust or drop late events.", valueName: "policy")) var latePolicy = "adjust"
        @Flag(help: "Create it stopped.") var stopped = false
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let text = query == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                : try String(contentsOfFile: query, encoding: .utf8)
            var outputs: [String: Any] = [:]
            for spec in output {
                let (target, settings) = try Self.parse(spec)
                outputs[target] = settings
            }
            var body: [String: Any] = [
                "query": text, "outputs": outputs, "startFrom": startFrom, "outOfOrderToleranceSeconds": outOfOrderTolerance,
                "latePolicy": latePolicy, "enabled": !stopped,
            ]
            if !reference.isEmpty {
                var tables: [String: Any] = [:]
                for spec in reference {
                    guard let equals = spec.firstIndex(of: "="), equals != spec.startIndex else { throw ValidationError("--reference \(spec): expected NAME=FILE") }
                    let file = String(spec[spec.index(after: equals)...])
                    guard let data = FileManager.default.contents(atPath: file), let rows = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
                        throw ValidationError("--reference \(spec): \(file) is not a readable JSON array")
                    }
                    tables[String(spec[..<equals])] = rows
                }
                body["referenceData"] = tables
            }
            let job = try await options.client().request(.PUT, "/jobs/sql/\(Path.escape(name))", body: body).json as? [String: Any] ?? [:]
            JobCommand.print(job, options)
        }

        static func parse(_ spec: String) throws -> (String, [String: Any]) {
            guard let equals = spec.firstIndex(of: "=") else { throw ValidationError("--output \(spec): expected TARGET=TYPE[,key=value…]") }
            let target = String(spec[..<equals])
            var parts = spec[spec.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var settings: [String: Any] = ["type": parts.removeFirst()]
            var headers: [String: String] = [:]
            for part in parts {
                guard let eq = part.firstIndex(of: "=") else { throw ValidationError("--output \(spec): '\(part)' is not key=value") }
                let key = String(part[..<eq]), value = String(part[part.index(after: eq)...])
                if key.hasPrefix("header.") {
                    headers[String(key.dropFirst(7))] = value
                } else if key == "timeoutSeconds", let number = Double(value) {
                    settings[key] = number
                } else {
                    settings[key] = value
                }
            }
            if !headers.isEmpty { settings["headers"] = headers }
            return (target, settings)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the hub's stream jobs with their state and numbers.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let jobs = try await options.client().request(.GET, "/jobs/sql").json as? [[String: Any]] ?? []
            if options.json { return Output.json(jobs) }
            Output.table(["JOB", "STATE", "EVENTS", "ROWS", "LAG", "ERRORS", "LAST ERROR"], jobs.map { job in
                let status = job["status"] as? [String: Any] ?? [:]
                let rows = (status["rowsOut"] as? [String: Any] ?? [:]).values.compactMap { ($0 as? NSNumber)?.intValue }.reduce(0, +)
                return [Output.text(job["name"]), Output.text(status["state"]), Output.text(status["eventsIn"]), String(rows),
                        Output.text(status["lag"]), Output.text(status["errors"]), Output.text(status["lastError"])]
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a job: its query, outputs and status.")
        @Argument(help: "The job's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            JobCommand.print(try await options.client().request(.GET, "/jobs/sql/\(Path.escape(name))").json as? [String: Any] ?? [:], options)
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a job (it resumes from its checkpoint).")
        @Argument(help: "The job's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            JobCommand.print(try await options.client().request(.POST, "/jobs/sql/\(Path.escape(name))/start").json as? [String: Any] ?? [:], options)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a job (its checkpoint is kept).")
        @Argument(help: "The job's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            JobCommand.print(try await options.client().request(.POST, "/jobs/sql/\(Path.escape(name))/stop").json as? [String: Any] ?? [:], options)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a job and its checkpoint.")
        @Argument(help: "The job's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            try await options.client().request(.DELETE, "/jobs/sql/\(Path.escape(name))")
            if options.json { Output.json(["deleted": name]) } else { Swift.print("deleted job \(name)") }
        }
    }

    struct RecentRows: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "output", abstract: "The last rows of a job's memory output.")
        @Argument(help: "The job's name.") var name: String
        @Argument(help: "The INTO target.") var target: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let rows = try await options.client().request(.GET, "/jobs/sql/\(Path.escape(name))/outputs/\(Path.escape(target))").json as? [[String: Any]] ?? []
            if options.json { return Output.json(rows) }
            for row in rows {
                let data = (try? JSONSerialization.data(withJSONObject: row["row"] ?? [:], options: [.sortedKeys])) ?? Data()
                Swift.print("\(Output.text(row["time"]))\t\(String(decoding: data, as: UTF8.self))")
            }
        }
    }

    static func print(_ job: [String: Any], _ options: ClientOptions) {
        if options.json { return Output.json(job) }
        let status = job["status"] as? [String: Any] ?? [:]
        Output.fields([
            ("job", Output.text(job["name"])), ("state", Output.text(status["state"])),
            ("enabled", Output.text(job["enabled"])), ("events in", Output.text(status["eventsIn"])),
            ("rows out", (status["rowsOut"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(Output.text($0.value))" }.joined(separator: " ")),
            ("late", "\(Output.text(status["lateAdjusted"])) adjusted, \(Output.text(status["lateDropped"])) dropped"),
            ("errors", Output.text(status["errors"])), ("lag", Output.text(status["lag"])),
            ("last error", Output.text(status["lastError"])),
        ])
        Swift.print("query:\n\(Output.text(job["query"]))")
    }

    /// `meridian job sql test`: runs a query over a file of events, offline and deterministically.
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a query over a file of events and print every output row.",
            discussion: """
                The input has one JSON message per line (blank lines are skipped). Event time comes from the \
                query's TIMESTAMP BY; otherwise from the message's enqueuedTime field (ISO 8601), else the previous \
                line's. Open windows are closed at the end of the input. The same input always gives the same \
                output. A summary (events, rows, late and failed events) goes to standard error. Exit status: 0; \
                64 for a bad option; 65 for a query that does not plan or a line that is not JSON (file:line:column \
                on standard error); 66 for a file that cannot be read.
                """)

        @Option(help: ArgumentHelp("File with the query.", valueName: "file")) var query: String
        @Option(help: ArgumentHelp("Events, one JSON message per line.", valueName: "file")) var input: String?
        @Option(help: ArgumentHelp("Instead of --input: the hub's stored events from this time (ISO 8601) on.", valueName: "time")) var from: String?
        @Option(help: ArgumentHelp("With --from: up to this time (default: now).", valueName: "time")) var to: String?
        @Option(help: ArgumentHelp("Seconds an event may arrive behind the latest one without being late (default: 0).", valueName: "seconds"))
        var outOfOrderTolerance: Double = 0
        @Option(help: ArgumentHelp("What happens to a late event: adjust (to the watermark) or drop (default: adjust).", valueName: "policy"))
        var latePolicy: String = "adjust"
        @Option(help: ArgumentHelp("Reference data a JOIN reads: NAME=FILE, FILE a JSON array of objects, JSON lines, or CSV with a header (.csv). Repeat for more.", valueName: "name=file"))
        var reference: [String] = []
        @OptionGroup var options: ClientOptions
        /// One JSON object per row: output (the INTO target) plus the selected columns (`--json`).
        private var json: Bool { options.json }

        func validate() throws {
            guard (input == nil) != (from == nil) else { throw ValidationError("give --input FILE or --from TIME (with the hub's --hub and --connection-string)") }
            if to != nil && from == nil { throw ValidationError("--to goes with --from") }
            for time in [from, to].compactMap({ $0 }) where SQLDateTime.parse(time) == nil {
                throw ValidationError("\(time) is not an ISO 8601 time")
            }
            guard outOfOrderTolerance >= 0, outOfOrderTolerance <= 7 * 86_400 else { throw ValidationError("--out-of-order-tolerance must be 0…604800 seconds") }
            guard SQLJob.LatePolicy(rawValue: latePolicy) != nil else { throw ValidationError("--late-policy must be adjust or drop") }
            for item in reference {
                let parts = item.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw ValidationError("--reference takes NAME=FILE, got \(item)") }
            }
        }

        /// The reference tables, by lower-cased name.
        private func loadReferences() throws -> [String: SQLReferenceTable] {
            var tables: [String: SQLReferenceTable] = [:]
            for item in reference {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                let text = try Self.read(parts[1])
                do {
                    tables[parts[0].lowercased()] = parts[1].lowercased().hasSuffix(".csv") ? try SQLReferenceTable.csv(text) : try SQLReferenceTable.json(text)
                } catch {
                    Self.complain("\(parts[1]):\(error.location.line): \(error.message)")
                    throw ExitCode(65)
                }
            }
            return tables
        }

        func run() async throws {
            let text = try Self.read(query)
            let tables = try loadReferences()
            let plan: SQLPlan
            do {
                plan = try SQLPlan(text, references: Set(tables.keys))
            } catch {
                Self.complain("\(query):\(error.location.line):\(error.location.column): \(error.message)")
                throw ExitCode(65)
            }
            var configuration = SQLJob.Configuration()
            configuration.outOfOrderTolerance = Int64(outOfOrderTolerance * 1000)
            configuration.latePolicy = SQLJob.LatePolicy(rawValue: latePolicy)!
            configuration.reference = { tables[$0] }
            var job = SQLJob(plan: plan, configuration: configuration)
            var output = StandardOutput()
            var time: Int64 = 0
            if let from {
                // The stored log: every partition from `from` to `to`, merged by enqueued time.
                for event in try await storedEvents(from: SQLDateTime.parse(from)!, to: to.flatMap(SQLDateTime.parse) ?? Timestamp.now().rawValue) {
                    for row in job.process(event) { output.write(render(row)) }
                }
            }
            for (number, line) in try input.map(Self.read)?.split(separator: "\n", omittingEmptySubsequences: false).enumerated() ?? [].enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !trimmed.isEmpty else { continue }
                let message: JSONValue
                do {
                    message = try JSONParser.parse(Array(trimmed.utf8))
                } catch {
                    output.flush()
                    Self.complain("\(input ?? "-"):\(number + 1): not a JSON message (\(error))")
                    throw ExitCode(65)
                }
                if case .object(let object) = message, case .string(let enqueued)? = object["enqueuedTime"], let ms = SQLDateTime.parse(enqueued) {
                    time = ms
                }
                for row in job.process(SQLEvent(record: SQLValue(json: message), enqueuedTime: time)) { output.write(render(row)) }
            }
            for row in job.flush() { output.write(render(row)) }
            output.flush()
            let c = job.counters
            var summary = "\(c.eventsIn) events, \(c.rowsOut) rows; late: \(c.lateAdjusted) adjusted, \(c.lateDropped) dropped; \(c.errors) failed"
            if c.overLimit > 0 { summary += "; \(c.overLimit) over the state limits" }
            if let last = job.lastError { summary += " (last: \(query):\(last.location.line):\(last.location.column): \(last.message))" }
            Self.complain(summary)
        }

        /// Device telemetry of the hub's log with `from ≤ enqueued time ≤ to`, read through `/events/$Default`
        /// as JSON batches (partition by partition), as the in-hub runner sees them: the JSON body plus
        /// `EventEnqueuedUtcTime`, `PartitionId`, `IoTHub` and `Properties`; non-JSON bodies are skipped.
        private func storedEvents(from: Int64, to: Int64) async throws -> [SQLEvent] {
            let client = try options.client()
            let start = Timestamp(rawValue: from).iso8601
            let first = try await client.request(.GET, "/events/%24Default?limit=1&from=\(Path.escape(start))").json as? [String: Any] ?? [:]
            let partitions = (first["positions"] as? [[String: Any]] ?? []).compactMap { ($0["partition"] as? NSNumber)?.intValue }
            var collected: [(time: Int64, partition: Int, offset: Int64, event: SQLEvent)] = []
            for partition in partitions {
                var position = Path.escape(start)
                pages: while true {
                    let batch = try await client.request(.GET, "/events/%24Default?limit=1000&partition=\(partition)&from=\(position)").json as? [String: Any] ?? [:]
                    let events = batch["events"] as? [[String: Any]] ?? []
                    if events.isEmpty { break }
                    for record in events {
                        guard let enqueued = (record["enqueuedTime"] as? String).flatMap(SQLDateTime.parse) else { continue }
                        if enqueued > to { break pages }
                        // Device telemetry only, as the hub's jobs read by default (not connection or twin events).
                        let source = (record["systemProperties"] as? [String: Any])?["iothub-message-source"] as? String ?? "Telemetry"
                        guard source == "Telemetry", record["bodyEncoding"] as? String == "json", let body = record["body"] as? [String: Any],
                            let data = try? JSONSerialization.data(withJSONObject: body), case .object(let object)? = try? JSONParser.parse(Array(data)),
                            case .record(var fields) = SQLValue(json: .object(object))
                        else { continue }
                        fields.set("EventEnqueuedUtcTime", .datetime(enqueued))
                        fields.set("PartitionId", .int(Int64(partition)))
                        var hub = SQLRecord()
                        hub.set("ConnectionDeviceId", (record["deviceId"] as? String).map(SQLValue.string) ?? .null)
                        hub.set("EnqueuedTime", .datetime(enqueued))
                        fields.set("IoTHub", .record(hub))
                        var properties = SQLRecord()
                        for (key, value) in (record["properties"] as? [String: String] ?? [:]).sorted(by: { $0.key < $1.key }) { properties.set(key, .string(value)) }
                        fields.set("Properties", .record(properties))
                        let offset = (record["offset"] as? NSNumber)?.int64Value ?? 0
                        collected.append((enqueued, partition, offset, SQLEvent(record: .record(fields), enqueuedTime: enqueued)))
                    }
                    guard let next = (batch["positions"] as? [[String: Any]])?.first?["next"] as? NSNumber else { break }
                    position = next.stringValue
                }
            }
            collected.sort { ($0.time, $0.partition, $0.offset) < ($1.time, $1.partition, $1.offset) }
            return collected.map(\.event)
        }

        private func render(_ row: SQLOutputRow) -> [UInt8] {
            if json {
                var object = JSONObject()
                object["output"] = .string(row.output)
                for member in row.record.members where member.name != "output" { object[member.name] = member.value.json }
                return JSONWriter.bytes(.object(object)) + [0x0A]
            }
            let columns = row.record.members.map { member -> String in
                switch member.value.json {
                case .string(let s): return "\(member.name)=\(s)"
                case let other: return "\(member.name)=\(JSONWriter.string(other))"
                }
            }
            return Array("\(row.output)\t\(Timestamp(rawValue: row.time).iso8601)\t\(columns.joined(separator: " "))\n".utf8)
        }

        private static func read(_ path: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path) else {
                complain("cannot read \(path)")
                throw ExitCode(66)
            }
            return String(decoding: data, as: UTF8.self)
        }

        private static func complain(_ message: String) {
            FileHandle.standardError.write(Data("meridian: \(message)\n".utf8))
        }
    }
}
