import Foundation
import HubCore

/// A rule in the shape of Azure's Remote Monitoring "rules and actions": *when the average temperature
/// over 1 minute is above 80 for drones, raise a critical alarm and send them `returnToBase`* — written
/// as settings, run as a stream job whose SQL the rule generates (`sql`), so rules and hand-written
/// queries share one engine, one status and one set of outputs.
///
/// JSON (`PUT /rules/{name}`):
/// ```json
/// {"field": "temperature", "aggregate": "avg", "windowSeconds": 60, "operator": ">", "threshold": 80,
///  "where": "sensorType = 'drone-state-sensor;v1'", "deviceTag": {"name": "type", "value": "drone"},
///  "severity": "critical", "message": "engine too hot",
///  "action": {"type": "method", "name": "returnToBase"}}
/// ```
/// Without `aggregate` the condition is checked on every message. Numbers that arrive as strings (the
/// drone scenario's `"74.74"`) are converted; messages whose field is not a number are skipped.
public struct AlarmRule: Sendable, Hashable, Codable {
    public enum Aggregate: String, Sendable, Hashable, Codable, CaseIterable { case avg, min, max, sum, count }
    public enum Operator: String, Sendable, Hashable, Codable, CaseIterable {
        case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<=", equal = "=", notEqual = "!="
    }

    public struct DeviceTag: Sendable, Hashable, Codable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct Action: Sendable, Hashable, Codable {
        public enum Kind: String, Sendable, Hashable, Codable { case c2d, method }
        public var type: Kind
        /// The command (a C2D message `{"deviceId", "command": name, "rule", "value"}`) or the method's name.
        public var name: String
        public init(type: Kind, name: String) {
            self.type = type
            self.name = name
        }
    }

    /// The message field the rule watches (`temperature`, `engine.temperature`).
    public var field: String
    public var aggregate: Aggregate?
    /// The tumbling window of an aggregate (1 s … 1 day).
    public var windowSeconds: Int?
    public var `operator`: Operator
    public var threshold: Double
    /// An extra condition in the query language (`sensorType = 'drone-state-sensor;v1'`).
    public var `where`: String?
    /// Only devices whose twin has this tag value (the live twin registry).
    public var deviceTag: DeviceTag?
    public var severity: AlarmSeverity
    public var message: String?
    public var action: Action?

    public init(
        field: String, aggregate: Aggregate? = nil, windowSeconds: Int? = nil, operator: Operator, threshold: Double, where: String? = nil,
        deviceTag: DeviceTag? = nil, severity: AlarmSeverity = .warning, message: String? = nil, action: Action? = nil
    ) {
        self.field = field
        self.aggregate = aggregate
        self.windowSeconds = windowSeconds
        self.operator = `operator`
        self.threshold = threshold
        self.where = `where`
        self.deviceTag = deviceTag
        self.severity = severity
        self.message = message
        self.action = action
    }

    /// Jobs that run rules are named `rule-<name>`.
    public static func jobName(_ rule: String) -> String { "rule-\(rule)" }

    /// The stream job that runs this rule under `name`.
    public func job(named name: String) throws(StreamJobError) -> StreamJobDefinition {
        try validate()
        var outputs: [String: JobOutput] = ["alarms": JobOutput(type: .alarm, severity: severity, alarmType: name)]
        if let action {
            outputs["action"] = action.type == .c2d ? JobOutput(type: .c2d) : JobOutput(type: .method, methodName: action.name)
        }
        var definition = StreamJobDefinition(name: Self.jobName(name), query: sql(name: name), outputs: outputs)
        definition.rule = self
        return definition
    }

    /// The query the rule runs.
    public func sql(name: String) -> String {
        let value = "TRY_CAST(e.\(field) AS float)"
        var conditions = ["\(value) IS NOT NULL"]
        if let extra = `where`, !extra.isEmpty { conditions.append("(\(extra))") }
        if let tag = deviceTag { conditions.append("t.tags.\(tag.name) = \(Self.quote(tag.value))") }
        let join = deviceTag == nil ? "" : "\n    JOIN twins t ON e.deviceId = t.deviceId"
        let message = message.map(Self.quote) ?? "NULL"
        let step: String
        if let aggregate {
            let measure = aggregate == .count ? "COUNT(*)" : "\(aggregate.rawValue.uppercased())(\(value))"
            step = """
                SELECT e.deviceId AS deviceId, \(measure) AS value, System.Timestamp() AS windowEnd, \(message) AS message
                    FROM events e\(join)
                    WHERE \(conditions.joined(separator: " AND "))
                    GROUP BY e.deviceId, TumblingWindow(second, \(windowSeconds ?? 60))
                    HAVING \(measure) \(self.operator.rawValue) \(Self.number(threshold))
                """
        } else {
            conditions.append("\(value) \(self.operator.rawValue) \(Self.number(threshold))")
            step = """
                SELECT e.deviceId AS deviceId, \(value) AS value, \(message) AS message
                    FROM events e\(join)
                    WHERE \(conditions.joined(separator: " AND "))
                """
        }
        var text = "-- rule \(name), generated by Meridian\nWITH hits AS (\n    \(step)\n)\nSELECT * INTO alarms FROM hits"
        if let action {
            let payload = action.type == .c2d ? "\(Self.quote(action.name)) AS command, " : ""
            text += ";\nSELECT deviceId, \(payload)\(Self.quote(name)) AS rule, value INTO action FROM hits"
        }
        return text
    }

    func validate() throws(StreamJobError) {
        guard Self.isPath(field) else { throw StreamJobError(.invalid, "field '\(field)': letters, digits and _ in dot-separated names") }
        if aggregate != nil {
            guard let windowSeconds, (1...86_400).contains(windowSeconds) else {
                throw StreamJobError(.invalid, "an aggregate needs windowSeconds from 1 to 86400")
            }
        } else if windowSeconds != nil {
            throw StreamJobError(.invalid, "windowSeconds needs an aggregate (avg, min, max, sum or count)")
        }
        guard threshold.isFinite else { throw StreamJobError(.invalid, "the threshold must be a finite number") }
        if let tag = deviceTag, !Self.isPath(tag.name) { throw StreamJobError(.invalid, "deviceTag name '\(tag.name)': letters, digits and _") }
        if let action {
            guard !action.name.isEmpty, action.name.utf8.count <= 128, !action.name.contains(where: { $0 == "'" || $0.isNewline }) else {
                throw StreamJobError(.invalid, "the action's name must be 1 to 128 characters without quotes")
            }
        }
        if let message, message.utf8.count > 512 { throw StreamJobError(.invalid, "the message is at most 512 characters") }
    }

    private static func isPath(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy { part in
            guard let first = part.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
            return part.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
        }
    }

    /// A string literal of the query language (quotes doubled).
    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
