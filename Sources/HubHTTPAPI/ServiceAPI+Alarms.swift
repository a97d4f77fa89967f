import HubCore
import HubStorage

/// `/alarms`: what stream jobs (and rules) raised.
///
/// - `GET /alarms?status=active|cleared|<status>&severity=&deviceId=&source=&type=&top=`: newest last
///   occurrence first (`top` 1…1000, default 100).
/// - `GET /alarms/{id}`; `POST /alarms/{id}/acknowledge`; `POST /alarms/{id}/clear` (both idempotent).
/// - `GET /statistics/alarms`: active alarms by severity (all five keys).
extension ServiceAPI {
    func alarmsCall(_ call: APICall) async throws(APIError) -> APIResult {
        guard let store = alarms else { throw APIError(.serviceUnavailable, "alarms are not available") }
        switch call.route {
        case .listAlarms:
            let filter = try Self.alarmFilter(call)
            return .ok(.array(try await Self.storage { () async throws(StorageError) in try await store.alarms(filter) }.map(Self.alarmJSON)))
        case .getAlarm:
            let id = try Self.alarmID(call)
            guard let alarm = try await Self.storage({ () async throws(StorageError) in try await store.alarm(id) }) else {
                throw APIError(.notFound, "no alarm \(id)")
            }
            return .ok(Self.alarmJSON(alarm))
        case .acknowledgeAlarm, .clearAlarm:
            let id = try Self.alarmID(call)
            let acknowledge = call.route == .acknowledgeAlarm
            let changed = try await Self.storage { () async throws(StorageError) in
                acknowledge ? try await store.acknowledge(id, at: .now()) : try await store.clear(id, at: .now())
            }
            guard let alarm = changed else { throw APIError(.notFound, "no alarm \(id)") }
            return .ok(Self.alarmJSON(alarm))
        case .alarmCounts:
            let counts = try await Self.storage { () async throws(StorageError) in try await store.counts() }
            var object = JSONObject()
            for severity in AlarmSeverity.allCases { object[severity.rawValue] = .int(counts[severity] ?? 0) }
            return .ok(.object(object))
        default:
            throw APIError(.serverError, "not an alarm route")
        }
    }

    private static func storage<T: Sendable>(_ body: () async throws(StorageError) -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch {
            throw APIError(.serverError, "the alarm store failed: \(error.message)")
        }
    }

    private static func alarmID(_ call: APICall) throws(APIError) -> Int64 {
        let text = try call.capture("alarmId")
        guard let id = Int64(text), id > 0 else { throw .invalid("an alarm id is a positive number") }
        return id
    }

    private static func alarmFilter(_ call: APICall) throws(APIError) -> AlarmFilter {
        var filter = AlarmFilter()
        if let status = call.query("status") {
            switch status {
            case "active": filter.activeOnly = true
            case "cleared": filter.clearedOnly = true
            default:
                guard let parsed = AlarmStatus(rawValue: status) else {
                    throw .invalid("status is active, cleared, active-unacknowledged, active-acknowledged, cleared-unacknowledged or cleared-acknowledged")
                }
                filter.status = parsed
            }
        }
        if let severity = call.query("severity") {
            guard let parsed = AlarmSeverity(rawValue: severity) else { throw .invalid("severity is critical, major, minor, warning or info") }
            filter.severity = parsed
        }
        filter.deviceID = call.query("deviceId")
        filter.source = call.query("source")
        filter.type = call.query("type")
        if let top = call.query("top") {
            guard let n = Int(top), (1...1000).contains(n) else { throw .invalid("top is 1 to 1000") }
            filter.limit = n
        }
        return filter
    }

    static func alarmJSON(_ alarm: Alarm) -> JSONValue {
        var object = JSONObject()
        object["id"] = .number(String(alarm.id))
        object["type"] = .string(alarm.type)
        object["source"] = .string(alarm.source)
        object["deviceId"] = .string(alarm.deviceID)
        object["severity"] = .string(alarm.severity.rawValue)
        object["status"] = .string(alarm.status.rawValue)
        object["message"] = .optional(alarm.message)
        object["details"] = alarm.details
        object["count"] = .number(String(alarm.count))
        object["firstOccurrence"] = .string(alarm.firstOccurrence.iso8601)
        object["lastOccurrence"] = .string(alarm.lastOccurrence.iso8601)
        object["acknowledgedTime"] = .optional(alarm.acknowledgedTime?.iso8601)
        object["clearedTime"] = .optional(alarm.clearedTime?.iso8601)
        return .object(object)
    }
}
