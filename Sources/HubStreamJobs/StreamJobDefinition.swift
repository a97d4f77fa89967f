import HubCore
import HubRouting
import HubStreamSQL

/// A stream job: a Stream Analytics query over the event log, and where each `INTO` target goes.
///
/// JSON (`PUT /jobs/sql/{name}`):
/// ```json
/// {"query": "SELECT … INTO alarms FROM events …",
///  "outputs": {"alarms": {"type": "alarm", "severity": "critical", "alarmType": "lowBattery"},
///              "rollups": {"type": "fileStorage"}, "hook": {"type": "webhook", "url": "https://…"},
///              "command": {"type": "c2d"}, "rtb": {"type": "method", "methodName": "returnToBase"},
///              "chained": {"type": "eventLog"}, "preview": {"type": "memory"}},
///  "startFrom": "now", "outOfOrderToleranceSeconds": 5, "latePolicy": "adjust",
///  "inputSources": ["Telemetry"],
///  "referenceData": {"noFlyZones": [{"zoneId": "nfz-1", "polygon": {"type": "Polygon", "coordinates": […]}}]}}
/// ```
/// `referenceData` holds static reference tables the query may JOIN by name (as Stream Analytics jobs join
/// reference data from a blob), next to the live `twins`.
/// A target with no entry in `outputs` is an `alarm` output when it is named `alarms`, else `memory` (the
/// last rows, readable through the API: nothing is silently thrown away).
public struct StreamJobDefinition: Sendable, Hashable, Codable {
    public var name: String
    public var query: String
    public var outputs: [String: JobOutput]
    /// Where a job without a checkpoint starts: `now` (the end of the log), `earliest`, or an ISO 8601 time.
    public var startFrom: String
    public var outOfOrderToleranceSeconds: Double
    public var latePolicy: String
    /// `iothub-message-source` values the job reads (`Telemetry` for device messages; `streamJob` for
    /// rows other jobs append with an `eventLog` output).
    public var inputSources: [String]
    /// Whether the job should run (started/stopped through the API; kept across restarts).
    public var enabled: Bool
    /// The rule this job runs, when it was made from one (`PUT /rules/{name}`): its query is generated.
    public var rule: AlarmRule?
    /// Static reference tables by name: each a JSON array of rows (objects).
    public var referenceData: [String: [CodableJSON]]?

    public init(
        name: String, query: String, outputs: [String: JobOutput] = [:], startFrom: String = "now", outOfOrderToleranceSeconds: Double = 0,
        latePolicy: String = "adjust", inputSources: [String] = ["Telemetry"], enabled: Bool = true
    ) {
        self.name = name
        self.query = query
        self.outputs = outputs
        self.startFrom = startFrom
        self.outOfOrderToleranceSeconds = outOfOrderToleranceSeconds
        self.latePolicy = latePolicy
        self.inputSources = inputSources
        self.enabled = enabled
    }

    private enum CodingKeys: String, CodingKey {
        case name, query, outputs, startFrom, outOfOrderToleranceSeconds, latePolicy, inputSources, enabled, rule, referenceData
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        query = try c.decode(String.self, forKey: .query)
        outputs = try c.decodeIfPresent([String: JobOutput].self, forKey: .outputs) ?? [:]
        startFrom = try c.decodeIfPresent(String.self, forKey: .startFrom) ?? "now"
        outOfOrderToleranceSeconds = try c.decodeIfPresent(Double.self, forKey: .outOfOrderToleranceSeconds) ?? 0
        latePolicy = try c.decodeIfPresent(String.self, forKey: .latePolicy) ?? "adjust"
        inputSources = try c.decodeIfPresent([String].self, forKey: .inputSources) ?? ["Telemetry"]
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        rule = try c.decodeIfPresent(AlarmRule.self, forKey: .rule)
        referenceData = try c.decodeIfPresent([String: [CodableJSON]].self, forKey: .referenceData)
    }

    /// The output of `target`: configured, or the default for its name.
    public func output(_ target: String) -> JobOutput {
        if let configured = outputs.first(where: { $0.key.lowercased() == target.lowercased() })?.value { return configured }
        return target.lowercased() == "alarms" ? JobOutput(type: .alarm) : JobOutput(type: .memory)
    }

    /// Reference inputs every job may JOIN: the live twins.
    public static let references: Set<String> = ["twins"]
    /// Limits of `referenceData`: tables, rows over all tables.
    public static let maximumReferenceTables = 16
    public static let maximumReferenceRows = 100_000

    /// The reference tables of `referenceData`, ready for the SQL engine, by lowercased name (names in
    /// queries are case-insensitive; the engine asks in lower case).
    public var referenceTables: [String: SQLReferenceTable] {
        var tables: [String: SQLReferenceTable] = [:]
        for (name, rows) in referenceData ?? [:] {
            tables[name.lowercased()] = SQLReferenceTable(rows: rows.map { SQLValue(json: $0.value) }, version: 1)
        }
        return tables
    }

    /// Plans the query and checks the settings; the first problem as a `StreamJobError` (query errors
    /// with their line and column).
    public func validated() throws(StreamJobError) -> SQLPlan {
        guard RoutingTable.isValidName(name) else { throw StreamJobError(.invalid, "job name '\(name)': 1-64 of A-Z a-z 0-9 - _ .") }
        guard query.utf8.count <= 64 * 1024 else { throw StreamJobError(.invalid, "the query is longer than 64 KiB") }
        guard outOfOrderToleranceSeconds >= 0, outOfOrderToleranceSeconds <= 7 * 86_400 else {
            throw StreamJobError(.invalid, "outOfOrderToleranceSeconds is 0 to 604800")
        }
        guard SQLJob.LatePolicy(rawValue: latePolicy) != nil else { throw StreamJobError(.invalid, "latePolicy is adjust or drop") }
        guard startFrom == "now" || startFrom == "earliest" || SQLDateTime.parse(startFrom) != nil else {
            throw StreamJobError(.invalid, "startFrom is now, earliest or an ISO 8601 time")
        }
        guard !inputSources.isEmpty else { throw StreamJobError(.invalid, "inputSources names at least one source") }
        let data = referenceData ?? [:]
        guard data.count <= Self.maximumReferenceTables else { throw StreamJobError(.invalid, "referenceData holds at most \(Self.maximumReferenceTables) tables") }
        guard data.values.reduce(0, { $0 + $1.count }) <= Self.maximumReferenceRows else {
            throw StreamJobError(.invalid, "referenceData holds at most \(Self.maximumReferenceRows) rows in all")
        }
        guard Set(data.keys.map { $0.lowercased() }).count == data.count else {
            throw StreamJobError(.invalid, "reference table names differ only in case (names in queries are case-insensitive)")
        }
        for (table, rows) in data {
            guard RoutingTable.isValidName(table), !Self.references.contains(table), table.lowercased() != "events" else {
                throw StreamJobError(.invalid, "reference table '\(table)': a name of 1-64 of A-Z a-z 0-9 - _ ., not twins or events")
            }
            guard rows.allSatisfy({ if case .object = $0.value { return true } else { return false } }) else {
                throw StreamJobError(.invalid, "reference table '\(table)': every row is a JSON object")
            }
        }
        let plan: SQLPlan
        do {
            plan = try SQLPlan(query, references: Self.references.union(data.keys))
        } catch {
            throw StreamJobError(.invalidQuery, "line \(error.location.line), column \(error.location.column): \(error.message)")
        }
        let targets = Set(plan.outputs.map { $0.lowercased() })
        for (name, output) in outputs {
            guard targets.contains(name.lowercased()) else {
                throw StreamJobError(.invalid, "output '\(name)' is not an INTO target of the query (targets: \(plan.outputs.joined(separator: ", ")))")
            }
            try output.validate(name)
        }
        return plan
    }
}

/// Where the rows of one `INTO` target go.
public struct JobOutput: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Raise (or repeat) an alarm per row: device from the row's `deviceId`, severity from its
        /// `severity` column or the output's, type from `alarmType` column or the output's (default: the
        /// target's name), message from a `message` column; the row is the alarm's details.
        case alarm
        /// POST rows as a JSON array (retried with back-off until a 2xx).
        case webhook
        /// JSON lines under `<data-dir>/jobs/<job>/<target>/0/YYYY/MM/DD/HH/mm.jsonl` (or `directory`).
        case fileStorage
        /// A cloud-to-device message to the row's `deviceId` with the row as its JSON body.
        case c2d
        /// A direct method `methodName` on the row's `deviceId` with the row as its payload.
        case method
        /// Appended to the event log (source `streamJob`, properties `job` and `output`) for other jobs.
        case eventLog
        /// Kept in memory (the last `JobOutput.memoryRows`), readable through the API.
        case memory
        /// Points in the time-series store at the row's time: device from the row's `deviceId`, one measure
        /// per numeric (or numeric-text, or boolean) column, named `measurePrefix` + the column name.
        case timeSeries
    }

    public var type: Kind
    public var severity: AlarmSeverity?
    public var alarmType: String?
    public var url: String?
    public var headers: [String: String]?
    public var directory: String?
    public var methodName: String?
    public var timeoutSeconds: Double?
    /// Prefix of the measure names a `timeSeries` output writes (e.g. `rollup.`); none by default.
    public var measurePrefix: String?

    public static let memoryRows = 1000

    public init(type: Kind, severity: AlarmSeverity? = nil, alarmType: String? = nil, url: String? = nil, headers: [String: String]? = nil,
        directory: String? = nil, methodName: String? = nil, timeoutSeconds: Double? = nil, measurePrefix: String? = nil) {
        self.measurePrefix = measurePrefix
        self.type = type
        self.severity = severity
        self.alarmType = alarmType
        self.url = url
        self.headers = headers
        self.directory = directory
        self.methodName = methodName
        self.timeoutSeconds = timeoutSeconds
    }

    func validate(_ target: String) throws(StreamJobError) {
        switch type {
        case .webhook:
            guard let url else { throw StreamJobError(.invalid, "output '\(target)': a webhook needs a url") }
            let endpoint = RoutingEndpoint(name: "x", kind: .webhook(WebhookSettings(url: url, headers: headers ?? [:], timeoutSeconds: timeoutSeconds ?? 10)))
            do {
                _ = try RoutingTable(endpoints: [endpoint]).compiled()
            } catch {
                throw StreamJobError(.invalid, "output '\(target)': \(error.message.replacingOccurrences(of: "endpoint 'x': ", with: ""))")
            }
        case .method:
            guard let methodName, !methodName.isEmpty, methodName.utf8.count <= 128 else {
                throw StreamJobError(.invalid, "output '\(target)': a method output needs a methodName")
            }
            if let timeoutSeconds, !(5...300).contains(timeoutSeconds) { throw StreamJobError(.invalid, "output '\(target)': timeoutSeconds is 5 to 300") }
        case .alarm:
            if let alarmType, alarmType.isEmpty || alarmType.utf8.count > 128 { throw StreamJobError(.invalid, "output '\(target)': alarmType is 1 to 128 characters") }
        case .fileStorage:
            if let directory, directory.isEmpty { throw StreamJobError(.invalid, "output '\(target)': an empty directory") }
        case .timeSeries:
            if let measurePrefix, measurePrefix.utf8.count > 64 { throw StreamJobError(.invalid, "output '\(target)': measurePrefix is at most 64 bytes") }
        case .c2d, .eventLog, .memory:
            break
        }
    }
}

/// A job that cannot be created, found or run, in words fit for an API error body.
public struct StreamJobError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case invalid, invalidQuery, notFound, conflict, storage
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
