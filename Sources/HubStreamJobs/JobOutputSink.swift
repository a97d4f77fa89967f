import HubCore
import HubEventLog
import HubRouting
import HubStreamSQL
import Synchronization

/// What jobs may do outside themselves, provided by the hub (tests pass their own).
public struct JobActions: Sendable {
    public var raiseAlarm: @Sendable (AlarmRaise) async throws -> Void
    /// A batch of raises at once (one transaction); by default one `raiseAlarm` after another.
    public var raiseAlarms: (@Sendable ([AlarmRaise]) async throws -> Void)?
    /// A cloud-to-device message (JSON body, application properties) to a device.
    public var sendCloudToDevice: @Sendable (_ device: String, _ body: [UInt8], _ properties: [(String, String)]) async throws -> Void
    /// A direct method call; returns the device's status code.
    public var invokeMethod: @Sendable (_ device: String, _ method: String, _ payload: JSONValue, _ timeoutSeconds: Int) async throws -> Int
    /// The live twins as a reference table (`JOIN twins t ON …`), nil when unavailable.
    public var twins: @Sendable () -> SQLReferenceTable?
    /// Appends a message to the event log (for `eventLog` outputs).
    public var append: @Sendable (_ message: DeviceMessage, _ partitionKey: String) async throws -> Void
    /// Writes points to the time-series store, durably (for `timeSeries` outputs); nil when there is none.
    public var writePoints: (@Sendable (_ points: [JobPoint]) async throws -> Void)?

    public init(
        raiseAlarm: @escaping @Sendable (AlarmRaise) async throws -> Void = { _ in },
        sendCloudToDevice: @escaping @Sendable (String, [UInt8], [(String, String)]) async throws -> Void = { _, _, _ in },
        invokeMethod: @escaping @Sendable (String, String, JSONValue, Int) async throws -> Int = { _, _, _, _ in 200 },
        twins: @escaping @Sendable () -> SQLReferenceTable? = { nil },
        append: @escaping @Sendable (DeviceMessage, String) async throws -> Void = { _, _ in }
    ) {
        self.raiseAlarm = raiseAlarm
        self.raiseAlarms = nil
        self.sendCloudToDevice = sendCloudToDevice
        self.invokeMethod = invokeMethod
        self.twins = twins
        self.append = append
        self.writePoints = nil
    }
}

/// One row of a `timeSeries` output: a device's measures at a time (ms since 1970).
public struct JobPoint: Sendable, Hashable {
    public var device: String
    public var time: Int64
    public var measures: [Measure]

    public struct Measure: Sendable, Hashable {
        public var name: String
        public var value: Double
        public init(name: String, value: Double) {
            self.name = name
            self.value = value
        }
    }

    public init(device: String, time: Int64, measures: [Measure]) {
        self.device = device
        self.time = time
        self.measures = measures
    }
}

/// Rows as time-series points: the row's time, its `deviceId`, and every numeric, numeric-text or boolean
/// column but `deviceId` as a measure. Rows without a device or without a measure are skipped and reported.
struct TimeSeriesOutputSink: JobOutputSink {
    let target: String
    let output: JobOutput
    let actions: JobActions
    let skipped: @Sendable (String) -> Void

    func deliver(_ rows: [SQLOutputRow]) async throws {
        guard let write = actions.writePoints else {
            skipped("output \(target): the hub has no time-series store")
            return
        }
        let prefix = output.measurePrefix ?? ""
        var points: [JobPoint] = []
        for row in rows {
            guard let device = column(row, "deviceId"), !device.isEmpty else {
                skipped("output \(target): a row without deviceId")
                continue
            }
            var measures: [JobPoint.Measure] = []
            for member in row.record.members where member.name.lowercased() != "deviceid" {
                let value: Double?
                switch member.value.json {
                case .number(let text): value = Double(text)
                case .bool(let flag): value = flag ? 1 : 0
                case .string(let text): value = Double(text)
                default: value = nil
                }
                if let value, value.isFinite { measures.append(JobPoint.Measure(name: prefix + member.name, value: value)) }
            }
            guard !measures.isEmpty else {
                skipped("output \(target): a row without a numeric column")
                continue
            }
            points.append(JobPoint(device: device, time: row.time, measures: measures))
        }
        if !points.isEmpty { try await write(points) }
    }

    func close() async {}
}

/// Takes the rows of one `INTO` target. `deliver` returns once they are taken for good; a throw means
/// the job retries the same rows (with back-off) before it reads on.
protocol JobOutputSink: Sendable {
    func deliver(_ rows: [SQLOutputRow]) async throws
    func close() async
}

/// The row's value of a column, by case-insensitive name, as text.
func column(_ row: SQLOutputRow, _ names: String...) -> String? {
    for member in row.record.members where names.contains(where: { $0.sameIgnoringCase(member.name) }) {
        switch member.value {
        case .null: return nil
        case .string(let s): return s
        default: return JSONWriter.string(member.value.json)
        }
    }
    return nil
}

extension String {
    fileprivate func sameIgnoringCase(_ other: String) -> Bool { lowercased() == other.lowercased() }
}

/// The row as a JSON object.
func rowJSON(_ row: SQLOutputRow) -> JSONValue { SQLValue.record(row.record).json }

struct AlarmOutputSink: JobOutputSink {
    let job: String
    let target: String
    let output: JobOutput
    let actions: JobActions
    let skipped: @Sendable (String) -> Void

    func deliver(_ rows: [SQLOutputRow]) async throws {
        let raises = rows.map { row in
            AlarmRaise(
                type: column(row, "alarmType") ?? output.alarmType ?? target, source: "job:\(job)", deviceID: column(row, "deviceId") ?? "",
                severity: column(row, "severity").flatMap { AlarmSeverity(rawValue: $0.lowercased()) } ?? output.severity ?? .warning,
                message: column(row, "message"), details: rowJSON(row), time: Timestamp(rawValue: row.time))
        }
        if let raiseAlarms = actions.raiseAlarms {
            do {
                // The whole batch in one transaction: at the seed load, one commit per row was most of the latency.
                try await raiseAlarms(raises)
                return
            } catch is JobActionError {
                // One row cannot be stored: one by one below, skipping it.
            }
        }
        for raise in raises {
            do {
                try await actions.raiseAlarm(raise)
            } catch let error as JobActionError {
                skipped("output \(target): \(error.message)")
            }
        }
    }

    func close() async {}
}

struct WebhookOutputSink: JobOutputSink {
    let job: String
    let target: String
    let sink: WebhookSink

    init(job: String, target: String, output: JobOutput) {
        self.job = job
        self.target = target
        sink = WebhookSink(
            endpoint: "\(job)/\(target)",
            settings: WebhookSettings(url: output.url ?? "", headers: output.headers ?? [:], timeoutSeconds: output.timeoutSeconds ?? 10))
    }

    func deliver(_ rows: [SQLOutputRow]) async throws {
        try await sink.post(rows.map { JSONWriter.bytes(rowJSON($0)) }, headers: [("X-Meridian-Job", job), ("X-Meridian-Output", target)])
    }

    func close() async { await sink.close() }
}

struct FileOutputSink: JobOutputSink {
    let sink: FileStorageSink

    func deliver(_ rows: [SQLOutputRow]) async throws {
        try sink.append(rows.map { (Timestamp(rawValue: $0.time), JSONWriter.bytes(rowJSON($0))) }, partition: 0)
    }

    func close() async { await sink.close() }
}

/// C2D commands and direct methods: the feedback loop. A row without a `deviceId` is counted as an error
/// and skipped (retrying cannot fix it); a device that is offline for a method call is reported the
/// same way (Azure answers 404 DeviceNotOnline), while a failure of the hub itself is retried.
struct DeviceActionSink: JobOutputSink {
    let job: String
    let target: String
    let output: JobOutput
    let actions: JobActions
    let skipped: @Sendable (String) -> Void

    func deliver(_ rows: [SQLOutputRow]) async throws {
        for row in rows {
            guard let device = column(row, "deviceId"), !device.isEmpty else {
                skipped("output \(target): a row without deviceId")
                continue
            }
            switch output.type {
            case .c2d:
                try await actions.sendCloudToDevice(device, JSONWriter.bytes(rowJSON(row)), [("job", job), ("output", target)])
            default:
                do {
                    let status = try await actions.invokeMethod(device, output.methodName ?? target, rowJSON(row), Int(output.timeoutSeconds ?? 30))
                    if !(200..<300).contains(status) { skipped("output \(target): method on \(device) answered \(status)") }
                } catch let error as JobActionError {
                    skipped("output \(target): \(error.message)")
                }
            }
        }
    }

    func close() async {}
}

/// A failure of an action that retrying will not fix (an unknown or offline device).
public struct JobActionError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

struct EventLogOutputSink: JobOutputSink {
    let job: String
    let target: String
    let actions: JobActions

    static let source = DeviceMessage.Source(rawValue: "streamJob")

    func deliver(_ rows: [SQLOutputRow]) async throws {
        for row in rows {
            let message = DeviceMessage(
                body: JSONWriter.bytes(rowJSON(row)), contentType: "application/json", contentEncoding: "utf-8",
                applicationProperties: [.init("job", job), .init("output", target)], messageSource: Self.source)
            try await actions.append(message, column(row, "deviceId") ?? job)
        }
    }

    func close() async {}
}

/// The last rows of a target, for `GET /jobs/sql/{name}/outputs/{target}`.
final class MemoryOutputSink: JobOutputSink {
    private let rows = Mutex<[SQLOutputRow]>([])

    func deliver(_ new: [SQLOutputRow]) async throws {
        rows.withLock { rows in
            rows.append(contentsOf: new)
            if rows.count > JobOutput.memoryRows { rows.removeFirst(rows.count - JobOutput.memoryRows) }
        }
    }

    var recent: [SQLOutputRow] { rows.withLock { $0 } }

    func close() async {}
}
